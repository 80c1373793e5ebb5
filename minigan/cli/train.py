"""``minigan train``: play the GAN game on a named dataset and keep everything in a run directory.

    minigan train                                   # ring8, the defaults: about a minute on 2 CPU cores
    minigan train --data grid25 --steps 6000 --out runs/grid
    minigan train --out runs/grid --steps 12000 --resume          # continue the same run to step 12000
    minigan train --data grid25 --unrolled 5                        # G against D 5 steps ahead (chapter 10)
    minigan train --data mnist --mbstd                              # DCGAN D with minibatch std (chapter 10)
    minigan train --data mnist-sr4 --split test                     # pix2pix, 7 x 7 -> 28 x 28 (chapter 12)
    minigan train --data mnist2mnistm --photos DIR                  # CycleGAN, MNIST <-> MNIST-M (chapter 13)

The hyper-parameters come from the dataset's defaults (``minigan.gan.registry``), overridden by the flags
given. ``--steps`` is the TOTAL number of steps: a run trained to N and resumed with ``--steps 2N`` ends
bit-identical (parameters, optimizer moments, RNG streams, metrics) to one trained to 2N in one go. That
holds because every random draw comes from two seeded generators whose states are checkpointed: minigan's
default generator (weights, noise z, WGAN-GP alphas) and the data sampler's. Pictures during training use
a fixed noise batch from a third generator that is never advanced, so plotting does not change the run.

If a loss or gradient turns NaN or infinite, training stops with a message naming the step; the last
checkpoint (written before the bad step) is kept. Nothing is ever lost (``rundir.py``): one trainer per
directory (``RUN/.lock``); a fresh run that fails before its first checkpoint removes what it made, and
``--force`` keeps the run it replaces until then. Every hyper-parameter, from a flag or from config.json,
is checked first (``config.py``), and so is the memory a step needs. A ``--resume`` with nothing left to
train writes nothing, except the final plots and eval.json if the run was stopped before them.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from .. import io, kernels, optim
from ..creation import zeros
from ..distributed import seed_ranks, shard_stream
from ..distributed.seeding import DATA, PICTURES
from ..gan import Trainer, losses, registry
from ..gan.trainer import NonFiniteError
from ..gan.variants.unrolled import Unrolled
from ..nn import SyncBatchNorm
from ..nn.parallel import replicate
from ..optim.schedule import FINAL_LR_FRACTION, lr_factor, set_lr
from ..random import get_rng_state, manual_seed, set_rng_state
from .common import (
    CLIError,
    LoadedRun,
    activation_bytes,
    blas_threads,
    check_device,
    check_memory,
    evaluate_run,
    get_model,
    get_spec,
    known_settings,
    read_run_config,
)
from .config import ConfigError, check
from .distributed import Ranks, add_flags, launch
from .rundir import RunDir, RunDirError

# flags that name a hyper-parameter of the run (stored in config.json); None = not given
GAME_KEYS = (
    "batch_size", "seed", "loss", "penalty", "gamma", "k", "lr", "betas", "lr_decay_steps", "z_dim", "hidden",
    "depth", "split", "model", "labeled", "unrolled", "unrolled_exact", "unrolled_lr", "mbstd",
    "spectral_norm", "pack", "photos",
)  # fmt: skip
# what a resumed run may change: how long it runs, how often it writes, where it computes and reads data
RESUMABLE_KEYS = ("steps", "sample_every", "ckpt_every", "log_every", "device", "data_dir")
# what no flag or --set gives: the dataset, and the world size (the launch's)
LAUNCH_KEYS = ("data", "world_size")
# flags that only apply to the datasets (or models) whose defaults have them
SPEC_KEYS = ("hidden", "depth", "split", "data_dir", "photos")
MODEL_KEYS = ("labeled", "mbstd", "spectral_norm", "pack")
_DCGAN_HINT = " (it is an option of the DCGAN discriminator: --model dcgan on image data)"
_MBSTD_HINT = " (it is an option of the DCGAN and CycleGAN discriminators: --model dcgan or cyclegan)"
HINTS = {"mbstd": _MBSTD_HINT, "spectral_norm": _DCGAN_HINT, "pack": _DCGAN_HINT}
LOSS_CHOICES = ("minimax", "nonsaturating", "lsgan", "hinge", "wasserstein", "wgan-gp")
EVAL_SEED = 0  # the noise seed of the final evaluation, the same as ``minigan eval``'s default
N_EVAL = 2500  # samples of the final evaluation (the VEEGAN / PacGAN protocol)
N_FIXED = 1000  # samples in each training snapshot
# a step keeps about this many copies of one forward pass's activations (G once, D twice: real and fake):
# the activations themselves, their gradients, and the double-backward graph of R1 / WGAN-GP
STEP_COPIES = 3


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def add_parser(sub):
    p = sub.add_parser(
        "train", help="train a GAN; writes a run directory", description=__doc__.splitlines()[0]
    )
    p.add_argument("--data", default=None, help="dataset (default: ring8)")
    p.add_argument(
        "--model", default=None, help=f"the GAN variant; the models of each dataset: {registry.models_help()}"
    )
    p.add_argument(
        "--labeled", type=int, default=None, metavar="L",
        help="sgan: labelled training images, a multiple of 10 (L / 10 per class, chosen by the seed)",
    )  # fmt: skip
    p.add_argument(
        "--unrolled", type=int, default=None, metavar="K",
        help="G's loss against D after K look-ahead D steps (unrolled GAN, chapter 10; 0: off); the "
        "surrogate: no gradient through the look-ahead, which uses the run's Adam",
    )  # fmt: skip
    p.add_argument(
        "--unrolled-exact", action="store_const", const=True, default=None,
        help="with --unrolled K: differentiate through K SGD look-ahead steps (the exact gradient; "
        "several times slower, K times the memory)",
    )  # fmt: skip
    p.add_argument(
        "--unrolled-lr", type=float, default=None, metavar="ETA",
        help="step size of the --unrolled-exact look-ahead (default: the D learning rate)",
    )  # fmt: skip
    p.add_argument(
        "--photos", default=None, metavar="DIR",
        help="mnist2mnistm: the folder of colour photos MNIST-M is cut from (default: photos that ship with "
        "installed packages; chapter 13)",
    )  # fmt: skip
    p.add_argument(
        "--mbstd", action="store_const", const=True, default=None,
        help="DCGAN and CycleGAN: a minibatch standard deviation map before D's last layer (chapters 10, 13)",
    )  # fmt: skip
    p.add_argument(
        "--spectral-norm", action="store_const", const=True, default=None,
        help="DCGAN: spectral norm on every layer of D, and no batch norm in D (chapter 10)",
    )  # fmt: skip
    p.add_argument(
        "--pack", type=int, default=None, metavar="M",
        help="DCGAN: D judges packs of M images, channels joined (PacGAN, chapter 10); --batch-size a "
        "multiple of M",
    )  # fmt: skip
    p.add_argument("--steps", type=int, default=None, help="total training steps (G updates)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=None, help="seed of every random draw (default 0)")
    p.add_argument("--out", default=None, help="run directory (default: runs/<data>)")
    p.add_argument(
        "--loss", choices=LOSS_CHOICES, default=None, help="wgan-gp: wasserstein + gradient penalty"
    )
    p.add_argument("--penalty", choices=("none", "r1", "wgan-gp"), default=None)
    p.add_argument("--gamma", type=float, default=None, help="penalty weight (wgan-gp: 10, r1: 1)")
    p.add_argument("--k", type=int, default=None, help="D steps per G step")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate of G and D")
    p.add_argument("--betas", type=float, nargs=2, default=None, metavar=("B1", "B2"), help="Adam betas")
    p.add_argument(
        "--lr-decay-steps", type=int, default=None, metavar="H",
        help="lr falls linearly to 10%% of --lr over the first H steps, then stays (0: constant lr)",
    )  # fmt: skip
    p.add_argument("--z-dim", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None, help="hidden width of the MLPs (toy data)")
    p.add_argument("--depth", type=int, default=None, help="hidden layers of the MLPs (toy data)")
    p.add_argument("--data-dir", default=None, help="folder of a real dataset's files (mnist)")
    p.add_argument("--split", default=None, help="split of a real dataset to train on (mnist: train, test)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="another entry of the dataset's defaults, e.g. --set width=32 (VALUE parsed as JSON if it can)",
    )  # fmt: skip
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--sample-every", type=int, default=None, help="sample picture every K steps (0: none)")
    p.add_argument("--ckpt-every", type=int, default=None, help="checkpoint every K steps")
    p.add_argument("--log-every", type=int, default=None, help="write a metrics line every K steps")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--force", action="store_true", help="start over in an existing --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_flags(p)
    p.set_defaults(func=run)


def _given(args, known: dict) -> dict:
    """The hyper-parameters set by flags, with --loss wgan-gp spelled out as loss + penalty. ``known`` is
    the configuration they apply to (dataset defaults, or the saved config on --resume)."""
    given = {k: getattr(args, k) for k in GAME_KEYS + RESUMABLE_KEYS if getattr(args, k) is not None}
    from_set: set[str] = set()
    for key in SPEC_KEYS + MODEL_KEYS:
        if key in given and key not in known:
            where = f"model {known['model']}" if key in MODEL_KEYS else f"dataset {known['data']}"
            raise CLIError(f"{_flag(key)} does not apply to {where}{HINTS.get(key, '')}", 2)
    for item in args.set:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise CLIError(f"--set {item!r}: expected KEY=VALUE", 2)
        if key not in known or key in GAME_KEYS + RESUMABLE_KEYS + LAUNCH_KEYS:
            extra = sorted(k for k in known if k not in GAME_KEYS + RESUMABLE_KEYS + LAUNCH_KEYS)
            raise CLIError(
                f"--set {key}: not a setting of dataset {known['data']} that has no flag of its own "
                f"(those are: {', '.join(extra) or 'none'})",
                2,
            )
        try:
            given[key] = json.loads(text)
        except ValueError:
            given[key] = text
        from_set.add(key)
    if given.get("loss") == "wgan-gp":
        given["loss"] = "wasserstein"
        if given.get("penalty") not in (None, "wgan-gp"):
            raise CLIError(f"--loss wgan-gp includes --penalty wgan-gp; got --penalty {given['penalty']}", 2)
        given["penalty"] = "wgan-gp"
    if given.get("penalty") == "none":
        given["penalty"] = None
    if "betas" in given:
        given["betas"] = list(given["betas"])
    try:  # every value given, before anything else happens
        return check(given, known, lambda k: f"--set {k}" if k in from_set else _flag(k))
    except ConfigError as err:
        raise CLIError(str(err), 2) from None


def _fresh_config(args, ranks: Ranks) -> tuple[dict, RunDir]:
    """(config, run dir) of a fresh run: the dataset's defaults, overridden by the flags given."""
    data = args.data or "ring8"
    spec = get_spec(data)
    known = known_settings(data, spec, get_model(spec, args.model).name)
    given = _given(args, known)
    config = {**known, **given}
    try:  # the defaults are valid (tests/cli check every dataset's); this only guards against edits
        config = check(config, known, lambda k: _flag(k) if k in given else f"default {k} of dataset {data}")
    except ConfigError as err:
        raise CLIError(str(err), 2) from None
    config["world_size"] = ranks.world
    ranks.check_config(config, resume=False)
    _check_stabilisers(config)
    return config, RunDir(args.out or os.path.join("runs", data))


def _variant(config: dict):
    """The run's variant; a setting it cannot take (``--loss`` for pix2pix) is a usage error (exit 2)."""
    spec = get_spec(config["data"])
    try:
        return get_model(spec, config["model"]).make_variant(config)
    except ValueError as err:
        raise CLIError(str(err), 2) from None


def _check_stabilisers(config: dict) -> None:
    """The chapter-10 options that need one another, or a batch they can split (exit 2 otherwise)."""
    if _variant(config).translation and config.get("unrolled", 0):
        raise CLIError(f"--unrolled does not apply to --model {config['model']} (a translation model)", 2)
    k = config.get("unrolled", 0)
    if config.get("unrolled_exact") and k == 0:
        raise CLIError("--unrolled-exact needs --unrolled K, K >= 1 look-ahead D steps", 2)
    if config.get("unrolled_lr") is not None and not config.get("unrolled_exact"):
        raise CLIError("--unrolled-lr is the step size of the exact look-ahead: give --unrolled-exact too", 2)
    b, m = config["batch_size"] // config.get("world_size", 1), config.get("pack", 1)  # one rank's batch
    if b % m:
        raise CLIError(f"--pack {m}: --batch-size must be a multiple of {m}, got {b}", 2)
    n = b // m  # what D sees: b images, or b / m packs of them
    if config.get("mbstd") and n % min(4, n):
        what = f"--batch-size / --pack = {n}" if m > 1 else f"--batch-size {b}"
        raise CLIError(f"--mbstd groups D's batch by 4: {what} must be below 4 or a multiple of 4", 2)


def _resume_config(args, rd: RunDir, ranks: Ranks) -> dict:
    """The saved config of the run in ``rd`` (checked entry by entry), with the flags that may change."""
    try:
        config, spec = read_run_config(rd)
    except RunDirError as err:
        raise CLIError(f"cannot resume: {err}") from None
    if args.data is not None and args.data != config["data"]:
        raise CLIError(f"cannot resume: --data {args.data} differs from the run's {config['data']}", 2)
    known = known_settings(config["data"], spec, config["model"])
    for key, value in _given(args, {**known, **config}).items():
        if key not in RESUMABLE_KEYS and value != config.get(key):
            allowed = ", ".join(_flag(k) for k in RESUMABLE_KEYS)
            raise CLIError(
                f"cannot resume: {_flag(key)} {value} differs from the run's {config.get(key)} (a "
                f"resumed run keeps its hyper-parameters; only {allowed} may change)",
                2,
            )
        config[key] = value
    ranks.check_config(config, resume=True)
    _check_stabilisers(config)
    return config


def _build(config: dict, device: str, ranks: Ranks):
    """The dataset, the trainer (models, optimizers) and the data generator of a run, freshly seeded; in
    a data-parallel run, this rank's trainer (its share of the batch, its own streams). No collective runs
    here (``_distribute`` does that), so rank 0 can still report an error to the others."""
    spec = get_spec(config["data"])
    model = get_model(spec, config["model"])
    manual_seed(config["seed"])
    try:
        data = spec.make_data(config)
        G, D = model.make_models(config)
        if ranks.world > 1 and config.get("sync_bn", True):
            G, D = SyncBatchNorm.convert_sync_batchnorm(G), SyncBatchNorm.convert_sync_batchnorm(D)
    except registry.DataUsageError as err:  # --photos naming an empty folder, a split too small
        raise CLIError(str(err), 2) from None
    except (OSError, ValueError) as err:  # missing / corrupt dataset files: one line, not a traceback
        raise CLIError(str(err)) from None
    try:
        batches = model.batches(data, config)
    except ValueError as err:  # a setting the data cannot meet (--labeled larger than the split)
        raise CLIError(str(err), 2) from None
    G.to(device)
    D.to(device)
    betas = tuple(config["betas"])
    # only what G and D train: StyleGAN's G and the semi-supervised D also hold their moving averages
    opt_G = optim.Adam([p for p in G.parameters() if p.requires_grad], lr=config["lr"], betas=betas)
    opt_D = optim.Adam([p for p in D.parameters() if p.requires_grad], lr=config["lr"], betas=betas)
    seed_ranks(config["seed"], ranks.rank, ranks.world)  # noise, labels ...: this rank's stream from here on
    data_rng = shard_stream(config["seed"], DATA, ranks.rank, ranks.world)  # the data stream's own generator
    variant = _variant(config)
    if config.get("unrolled", 0):
        exact, lr = config.get("unrolled_exact", False), config.get("unrolled_lr")
        variant = Unrolled(variant, steps=config["unrolled"], create_graph=exact, lr=lr)
    trainer = Trainer(
        G,
        D,
        opt_G,
        opt_D,
        lambda n: batches.sample(n, data_rng),
        z_dim=config.get("z_dim", 0),  # translation models take images, not noise
        batch_size=config["batch_size"] // ranks.world,
        k=config["k"],
        variant=variant,
        group=ranks.group,
    )
    return spec, data, trainer, data_rng, batches


def _distribute(trainer: Trainer, ranks: Ranks) -> None:
    """Data-parallel: every rank takes rank 0's networks and averages G's and D's gradients from now on
    (what DistributedDataParallel does, on the networks themselves: the variants reach into them)."""
    if ranks.group is None:
        return
    for side in (trainer.G, trainer.D):
        replicate(side, ranks.group)


def _check_step_memory(trainer: Trainer, config: dict, batches) -> None:
    """Refuse a --batch-size whose training step would not fit in memory (estimated from one forward pass
    of G and D on two samples)."""
    b = config["batch_size"]
    per_sample = _step_bytes_per_sample(trainer, config, batches)
    check_memory(b * per_sample, "--batch-size", b, trainer.device, f"a training step of {b} samples")


def _step_bytes_per_sample(trainer: Trainer, config: dict, batches) -> float:
    """Bytes a training step keeps per sample: G on noise (class 0 for a conditional model) and D twice on
    its output; a translation model's own list of passes (``memory_probes``) on two real pairs."""
    from ..autograd import no_grad

    if trainer.variant.translation:  # G maps images to images; the pairs come from a generator of their own
        probe = trainer._real(batches.sample(2, np.random.default_rng(0)))  # not the run's data stream
        probes = trainer.variant.memory_probes(trainer, probe)
        return STEP_COPIES * sum(activation_bytes(m, *x) for m, x in probes)
    z = zeros(2, config["z_dim"], device=trainer.device)
    labels = (zeros(2, dtype="int64", device=trainer.device),) if trainer.variant.conditional else ()
    g_bytes = activation_bytes(trainer.G, z, *labels)
    with_batch = trainer.G.training
    trainer.G.eval()
    try:
        with no_grad():
            x = trainer.variant.generate(trainer.G, z, *labels)
    finally:
        trainer.G.train(with_batch)
    d_labels = labels if trainer.variant.labels_to_D else ()
    d_bytes = activation_bytes(trainer.D, x, *d_labels)
    per_sample = STEP_COPIES * (g_bytes + 2 * d_bytes)
    if config.get("unrolled_exact"):  # G's backward needs the graphs of all K look-ahead D steps
        per_sample *= 1 + config["unrolled"]
    return per_sample


def _save(rd: RunDir | None, trainer: Trainer, data_rng, config: dict, ranks: Ranks) -> None:
    """The checkpoint (rank 0 writes it; in a data-parallel run every rank's streams go in it)."""
    mine = {
        "rng": get_rng_state(),
        "data_rng": data_rng.bit_generator.state,
        "variant": trainer.variant.state_dict(),
    }
    everyone = ranks.gather(mine)
    if not ranks.writer:
        return
    state = {
        "trainer": trainer.state_dict(),
        "rng": mine["rng"],
        "data_rng": mine["data_rng"],
        "step": trainer.step_count,
        "config": config,
    }
    if ranks.world > 1:
        state["ranks"] = {str(r): e for r, e in enumerate(everyone)}
    io.save_checkpoint(rd.checkpoint, state)
    rd.commit()  # a fresh run is kept from its first checkpoint on (a no-op afterwards)


def _restore(rd: RunDir, trainer: Trainer, data_rng, ranks: Ranks) -> dict:
    """Load the checkpoint into this (rank 0's) trainer and streams; returns it for the other ranks."""
    try:
        state = io.load_checkpoint(rd.checkpoint)
        _load(state, trainer, data_rng, ranks)
        return state
    except io.CheckpointError as err:
        raise CLIError(f"cannot resume: {err}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CLIError(f"cannot resume: checkpoint {rd.checkpoint} does not fit this run ({err})") from None


def _load(state: dict, trainer: Trainer, data_rng, ranks: Ranks) -> None:
    """The checkpoint's networks and optimizers, and this rank's own streams (and variant state)."""
    trainer.load_state_dict(state["trainer"])
    mine = state["ranks"][str(ranks.rank)] if ranks.world > 1 else state
    set_rng_state(mine["rng"])
    data_rng.bit_generator.state = mine["data_rng"]
    if ranks.world > 1:
        trainer.variant.load_state_dict(mine["variant"])


def _game(config: dict) -> str:
    """'nonsaturating + r1': the loss and the penalty (and the chapter-10 options), for messages; a
    translation model plays its paper's game: its name."""
    if get_spec(config["data"]).kind in ("paired", "unpaired"):
        return config["model"]
    game = config["loss"] + (f" + {config['penalty']}" if config.get("penalty") else "")
    if config.get("unrolled"):
        game += f", unrolled {config['unrolled']}" + (" exact" if config.get("unrolled_exact") else "")
    return game + (", mbstd" if config.get("mbstd") else "")


def _postfix(record: dict) -> dict:
    keys = {"loss_D": "loss_D", "loss_G": "loss_G", "D(x)": "D_x", "D(G(z))": "D_G_z"}
    return {label: f"{record[k]:.3f}" for label, k in keys.items()}


def _snapshot(spec, data, trainer, z_fixed, path, title):
    """A picture of G's samples for the noise ``z_fixed`` (conditional: 10 of each class, a row each)."""
    if spec.plot_samples is None:
        return
    if trainer.variant.translation:  # input | output | target rows of held-out images
        with io.atomic_path(path, ".png") as tmp:
            spec.plot_samples(None, data, tmp, title=title, G=trainer.G)
        return
    if trainer.variant.conditional:
        extra = {"labels": (np.arange(len(z_fixed)) // 10) % trainer.variant.n_classes}
    else:  # a picture of D's view is drawn for the unconditional toy GANs
        extra = {"D": trainer.D, "probability": trainer.loss in losses.PROBABILISTIC}
    x = trainer.sample(len(z_fixed), z=z_fixed, labels=extra.get("labels")).numpy()
    with io.atomic_path(path, ".png") as tmp:
        spec.plot_samples(x, data, tmp, title=title, **extra)


def _kept(rd: RunDir, last_ckpt: int | None) -> str:
    """What a failed run leaves: its last checkpoint, or (before the first one) nothing of its own."""
    if not rd.pending:
        return f"the last good checkpoint ({rd.checkpoint}, step {last_ckpt}) is kept"
    if (rd / RunDir.PREVIOUS).exists():
        return f"no checkpoint was written yet, so the run it replaced in {rd.path} is restored"
    return "no checkpoint was written yet, so nothing was kept (the same command starts afresh)"


def run(args) -> int:
    kernels.tune_process()  # allocator / OpenMP settings, before any kernel runs (kernels/__init__.py)
    if args.nproc is not None:  # run this same command as N ranks under mpiexec
        return launch(args)
    ranks = Ranks.start(args)
    if not ranks.writer:
        return _follow(args, ranks)
    try:
        return _lead(args, ranks)
    except CLIError as err:
        ranks.fail(err.code)  # the other ranks, if still waiting for the configuration, stop with its code
        ranks.stop(err)  # during training, an error of rank 0 alone ends every rank
        raise


def _lead(args, ranks: Ranks) -> int:
    """Rank 0 (or the only process): the run directory, the configuration, training, the final steps."""
    if args.resume:
        if args.force:
            raise CLIError("--resume and --force exclude each other", 2)
        if args.out is None:
            raise CLIError("--resume needs --out, the run directory to continue", 2)
        rd, config = RunDir(args.out), None
    else:
        config, rd = _fresh_config(args, ranks)
        check_device(config["device"])
    progress = {"ckpt": None}  # the step of the last checkpoint written, for messages
    try:
        with rd.session(fresh=not args.resume, force=args.force):
            if args.resume:  # read under the lock, after recovering an interrupted trainer's leftovers
                config = _resume_config(args, rd, ranks)
            try:
                return _train(args, rd, config, check_device(config["device"]), progress, ranks)
            except KeyboardInterrupt:
                if not rd.pending:
                    raise
                raise CLIError(f"interrupted; {_kept(rd, None)}", 130) from None
            except OSError as err:
                what = f"{err.strerror or err}" + (f" ({err.filename})" if err.filename else "")
                kept = _kept(rd, progress["ckpt"])
                raise CLIError(f"cannot write in run directory {rd.path}: {what}; {kept}") from None
    except RunDirError as err:
        raise CLIError(f"cannot resume: {err}" if args.resume else str(err)) from None


def _train(args, rd: RunDir, config: dict, device: str, progress: dict, ranks: Ranks) -> int:
    from tqdm import tqdm

    spec, data, trainer, data_rng, batches = _build(config, device, ranks)
    _check_step_memory(trainer, config, batches)
    state = None
    if args.resume:
        state = _restore(rd, trainer, data_rng, ranks)
        rd.truncate_metrics(trainer.step_count)
        progress["ckpt"] = trainer.step_count
    steps, start = config["steps"], trainer.step_count
    if start >= steps:
        ranks.send(("done", 0))
        print(f"{rd.path} is already at step {start} >= --steps {steps}: nothing to train")
        if not _finished(rd, spec, data, start, config):  # stopped between its last checkpoint and the end
            print(f"{rd.path}: writing the final plots and evaluation it is missing")
            _finish(rd, spec, data, trainer, config, None, 0)
        return 0
    rd.write_config(config)  # a resume may have changed steps / intervals; unchanged: not rewritten
    ranks.send(("train", config, state))  # the other ranks build the same trainer and load the same state
    _distribute(trainer, ranks)
    problem = spec.eval_problem(data) if spec.eval_problem is not None else None
    if problem is not None and _evaluates(spec, config):
        print(f"minigan: note: no final evaluation: {problem}", file=sys.stderr)

    where = f" on {ranks.world} ranks" if ranks.world > 1 else ""
    bar = tqdm(
        total=steps,
        initial=start,
        desc=f"{config['data']} {_game(config)}{where}",
        unit="step",
        disable=True if args.no_progress else None,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    try:
        with blas_threads(spec.blas_threads):
            _loop(rd, spec, data, trainer, data_rng, config, bar, progress, ranks)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    _finish(rd, spec, data, trainer, config, seconds, steps - start)
    return 0


def _follow(args, ranks: Ranks) -> int:
    """A rank other than 0: wait for rank 0's configuration (or its error), then train alongside it;
    writes nothing (``cli/distributed.py``)."""
    from tqdm import tqdm

    message = ranks.receive()
    if message[0] != "train":  # ("error", code) that rank 0 reported, or ("done", 0)
        return message[1]
    _, config, state = message
    try:
        spec, data, trainer, data_rng, _ = _build(config, check_device(config["device"]), ranks)
        if state is not None:
            _load(state, trainer, data_rng, ranks)
        _distribute(trainer, ranks)
        with blas_threads(spec.blas_threads):
            _loop(None, spec, data, trainer, data_rng, config, tqdm(disable=True), {"ckpt": None}, ranks)
    except CLIError as err:
        if err.every_rank:
            return err.code  # rank 0 reports it
        mine = CLIError(f"rank {ranks.rank}: {err}", err.code)
        ranks.stop(mine)
        raise mine from None
    return 0


def _loop(
    rd, spec, data, trainer: Trainer, data_rng, config: dict, bar, progress: dict, ranks: Ranks
) -> None:
    """Steps until ``config["steps"]``; metrics, snapshots and checkpoints on their intervals (``rd`` None:
    a rank that writes nothing)."""
    steps, pending = config["steps"], []
    z_fixed = shard_stream(config["seed"], PICTURES).standard_normal((N_FIXED, config.get("z_dim", 0)))
    z_fixed = z_fixed.astype(np.float32)
    schedule = (
        config["lr_decay_steps"],
        config.get("lr_final", FINAL_LR_FRACTION),
        config.get("lr_decay_start", 0),
    )
    while trainer.step_count < steps:
        lr = config["lr"] * lr_factor(trainer.step_count, *schedule)
        set_lr([trainer.opt_G, trainer.opt_D], lr)
        try:
            record = trainer.step()
        except NonFiniteError as err:  # every rank sees it (the records are averaged over the ranks)
            if rd is not None and not rd.pending:
                rd.append_metrics(pending)
            kept = _kept(rd, progress["ckpt"]) if rd is not None else ""
            raise CLIError(f"{err}; {kept}", every_rank=True) from None
        except MemoryError:
            kept = _kept(rd, progress["ckpt"]) if rd is not None else "rank 0 keeps the last checkpoint"
            raise CLIError(
                f"out of memory at step {trainer.step_count + 1} with --batch-size {config['batch_size']}; "
                f"use a smaller --batch-size; {kept}"
            ) from None
        s = record["step"]
        if s % config["log_every"] == 0 or s == steps:
            pending.append({**record, "lr": lr})
            bar.set_postfix(_postfix(record), refresh=False)
        bar.update(1)
        if rd is not None and config["sample_every"] and s % config["sample_every"] == 0:
            png = rd / RunDir.SAMPLES / f"step_{s:07d}.png"
            _snapshot(spec, data, trainer, z_fixed, png, f"step {s}")
        if s % config["ckpt_every"] == 0 or s == steps:
            if rd is not None:
                rd.append_metrics(pending)
            pending = []
            _save(rd, trainer, data_rng, config, ranks)
            progress["ckpt"] = s


def _evaluates(spec, config: dict) -> bool:
    """Whether a run ends with an evaluation: its dataset's, or its model's own (sgan, pix2pix)."""
    return spec.evaluate is not None or get_model(spec, config["model"]).evaluate is not None


def _finished(rd: RunDir, spec, data, step: int, config: dict) -> bool:
    """Whether the run has the final plots and evaluation of ``step``."""
    plots = ["curves.png"] + (["samples.png"] if spec.plot_samples is not None else [])
    if not all((rd / RunDir.PLOTS / name).is_file() for name in plots):
        return False
    if not _evaluates(spec, config) or (
        spec.eval_problem is not None and spec.eval_problem(data) is not None
    ):
        return True
    result = rd.read_eval()
    return result is not None and result.get("step") == step


def _finish(rd, spec, data, trainer, config, seconds, n_steps) -> None:
    """Final pictures and evaluation; prints a summary (``seconds`` None: nothing was trained now)."""
    import matplotlib.pyplot as plt

    from ..viz import plot_training_curves

    (rd / RunDir.PLOTS).mkdir(exist_ok=True)
    with io.atomic_path(rd / RunDir.PLOTS / "curves.png", ".png") as tmp:
        fig = plot_training_curves(
            rd.read_metrics(),
            smooth=5,
            reference=config["loss"] in losses.PROBABILISTIC,
            title=f"{config['data']}, {_game(config)}",
            path=tmp,
        )
        plt.close(fig)
    if spec.plot_samples is not None:
        z = (
            np.random.default_rng(EVAL_SEED)
            .standard_normal((1000, config.get("z_dim", 0)))
            .astype(np.float32)
        )
        _snapshot(spec, data, trainer, z, rd / RunDir.PLOTS / "samples.png", f"step {trainer.step_count}")
    if seconds is not None:
        print(
            f"trained {config['data']} ({_game(config)}) for {n_steps} steps in {seconds:.1f} s "
            f"({n_steps / max(seconds, 1e-9):.0f} steps/s); run directory: {rd.path}"
        )
    problem = spec.eval_problem(data) if spec.eval_problem is not None else None
    if _evaluates(spec, config) and problem is None:
        run = LoadedRun(config, spec, get_model(spec, config["model"]), trainer.variant, data, trainer.G,
                        trainer.D, {})  # fmt: skip
        n_eval = spec.eval_samples or N_EVAL  # the dataset's own number (stacked-mnist: 26 000) if it has one
        result = evaluate_run(run, n_eval, EVAL_SEED, trainer.device, trainer.step_count)
        rd.write_json(
            RunDir.EVAL, {"step": trainer.step_count, "n_samples": n_eval, "seed": EVAL_SEED, **result}
        )
        print(f"step {trainer.step_count}: {result['summary']}")
