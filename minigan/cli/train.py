"""``minigan train``: play the GAN game on a named dataset and keep everything in a run directory.

    minigan train                                   # ring8, the defaults: about a minute on 2 CPU cores
    minigan train --data grid25 --steps 6000 --out runs/grid
    minigan train --out runs/grid --steps 12000 --resume          # continue the same run to step 12000

The hyper-parameters come from the dataset's defaults (``minigan.gan.registry``), overridden by the flags
given. ``--steps`` is the TOTAL number of steps: a run trained to N and resumed with ``--steps 2N`` ends
bit-identical (parameters, optimizer moments, RNG streams, metrics) to one trained to 2N in one go. That
holds because every random draw comes from two seeded generators whose states are checkpointed: minigan's
default generator (weights, noise z, WGAN-GP alphas) and the data sampler's. Pictures during training use
a fixed noise batch from a third generator that is never advanced, so plotting does not change the run.

If a loss or gradient turns NaN or infinite, training stops with a message naming the step; the last
checkpoint (written before the bad step) is kept.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from .. import io, optim
from ..gan import Trainer, losses
from ..gan.trainer import NonFiniteError
from ..optim.schedule import lr_factor, set_lr
from ..random import get_rng_state, manual_seed, set_rng_state
from .common import CLIError, blas_threads, check_device, generate, get_spec
from .rundir import RunDir, RunDirError

# flags that name a hyper-parameter of the run (stored in config.json); None = not given
GAME_KEYS = (
    "batch_size", "seed", "loss", "penalty", "gamma", "k", "lr", "betas", "lr_decay_steps", "z_dim", "hidden",
    "depth", "split",
)  # fmt: skip
# what a resumed run may change: how long it runs, how often it writes, where it computes and reads data
RESUMABLE_KEYS = ("steps", "sample_every", "ckpt_every", "log_every", "device", "data_dir")
# flags that only apply to the datasets whose defaults have them
SPEC_KEYS = ("hidden", "depth", "split", "data_dir")
# what a run has when neither its dataset's defaults nor a flag say otherwise
GENERIC_DEFAULTS = {
    "seed": 0,
    "device": "cpu",
    "loss": "nonsaturating",
    "penalty": None,
    "gamma": None,
    "k": 1,
    "lr_decay_steps": 0,
    "sample_every": 0,
    "ckpt_every": 500,
    "log_every": 10,
}
LOSS_CHOICES = ("minimax", "nonsaturating", "lsgan", "hinge", "wasserstein", "wgan-gp")
EVAL_SEED = 0  # the noise seed of the final evaluation, the same as ``minigan eval``'s default
N_FIXED = 1000  # samples in each training snapshot


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def add_parser(sub):
    p = sub.add_parser(
        "train", help="train a GAN; writes a run directory", description=__doc__.splitlines()[0]
    )
    p.add_argument("--data", default=None, help="dataset (default: ring8)")
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
    p.set_defaults(func=run)


def _given(args, known: dict) -> dict:
    """The hyper-parameters set by flags, with --loss wgan-gp spelled out as loss + penalty. ``known`` is
    the configuration they apply to (dataset defaults, or the saved config on --resume)."""
    given = {k: getattr(args, k) for k in GAME_KEYS + RESUMABLE_KEYS if getattr(args, k) is not None}
    for key in SPEC_KEYS:
        if key in given and key not in known:
            raise CLIError(f"{_flag(key)} does not apply to dataset {known['data']}", 2)
    for item in args.set:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise CLIError(f"--set {item!r}: expected KEY=VALUE", 2)
        if key not in known or key in GAME_KEYS + RESUMABLE_KEYS + ("data",):
            extra = sorted(k for k in known if k not in GAME_KEYS + RESUMABLE_KEYS + ("data",))
            raise CLIError(
                f"--set {key}: not a setting of dataset {known['data']} that has no flag of its own "
                f"(those are: {', '.join(extra) or 'none'})",
                2,
            )
        try:
            given[key] = json.loads(text)
        except ValueError:
            given[key] = text
    if given.get("loss") == "wgan-gp":
        given["loss"] = "wasserstein"
        if given.get("penalty") not in (None, "wgan-gp"):
            raise CLIError(f"--loss wgan-gp includes --penalty wgan-gp; got --penalty {given['penalty']}", 2)
        given["penalty"] = "wgan-gp"
    if given.get("penalty") == "none":
        given["penalty"] = None
    if "betas" in given:
        given["betas"] = list(given["betas"])
    return given


def _check(config: dict) -> dict:
    positive = ("steps", "batch_size", "k", "z_dim", "hidden", "depth", "ckpt_every", "log_every")
    for key in positive:
        if key in config and not (isinstance(config[key], int) and config[key] >= 1):
            raise CLIError(f"{_flag(key)} must be an integer >= 1, got {config[key]}", 2)
    for key in ("lr_decay_steps", "sample_every", "seed"):
        if config[key] < 0:
            raise CLIError(f"{_flag(key)} must be >= 0, got {config[key]}", 2)
    if not config["lr"] > 0:
        raise CLIError(f"--lr must be > 0, got {config['lr']}", 2)
    if not all(0 <= b < 1 for b in config["betas"]):
        raise CLIError(f"--betas must lie in [0, 1), got {config['betas']}", 2)
    if config["gamma"] is not None and config["gamma"] < 0:
        raise CLIError(f"--gamma must be >= 0, got {config['gamma']}", 2)
    losses.check_loss(config["loss"])
    return config


def _configure(args):
    """(config, run dir, resuming?) from the flags, the dataset defaults and, on --resume, config.json."""
    if args.resume:
        if args.force:
            raise CLIError("--resume and --force exclude each other", 2)
        if args.out is None:
            raise CLIError("--resume needs --out, the run directory to continue", 2)
        rd = RunDir(args.out)
        try:
            config = {**GENERIC_DEFAULTS, **rd.read_config()}
        except RunDirError as err:
            raise CLIError(f"cannot resume: {err}") from None
        if args.data is not None and args.data != config["data"]:
            raise CLIError(f"cannot resume: --data {args.data} differs from the run's {config['data']}", 2)
        for key, value in _given(args, config).items():
            if key not in RESUMABLE_KEYS and value != config.get(key):
                allowed = ", ".join(_flag(k) for k in RESUMABLE_KEYS)
                raise CLIError(
                    f"cannot resume: {_flag(key)} {value} differs from the run's {config.get(key)} (a "
                    f"resumed run keeps its hyper-parameters; only {allowed} may change)",
                    2,
                )
            config[key] = value
        return _check(config), rd, True
    data = args.data or "ring8"
    spec = get_spec(data)
    config = {"data": data, **GENERIC_DEFAULTS, **spec.defaults}
    config.update(_given(args, config))
    rd = RunDir(args.out or os.path.join("runs", data))
    return _check(config), rd, False


def _build(config: dict, device: str):
    """The dataset, the trainer (models, optimizers) and the data generator of a run, freshly seeded."""
    spec = get_spec(config["data"])
    manual_seed(config["seed"])
    try:
        data = spec.make_data(config)
    except (OSError, ValueError) as err:  # missing / corrupt dataset files: one line, not a traceback
        raise CLIError(str(err)) from None
    G, D = spec.make_models(config)
    G.to(device)
    D.to(device)
    betas = tuple(config["betas"])
    opt_G = optim.Adam(G.parameters(), lr=config["lr"], betas=betas)
    opt_D = optim.Adam(D.parameters(), lr=config["lr"], betas=betas)
    data_rng = np.random.default_rng([config["seed"], 1])  # the data stream's own generator
    trainer = Trainer(
        G,
        D,
        opt_G,
        opt_D,
        lambda n: data.sample(n, data_rng),
        z_dim=config["z_dim"],
        batch_size=config["batch_size"],
        loss=config["loss"],
        k=config["k"],
        penalty=config["penalty"],
        gamma=config["gamma"],
    )
    return spec, data, trainer, data_rng


def _save(rd: RunDir, trainer: Trainer, data_rng, config: dict) -> None:
    state = {
        "trainer": trainer.state_dict(),
        "rng": get_rng_state(),
        "data_rng": data_rng.bit_generator.state,
        "step": trainer.step_count,
        "config": config,
    }
    io.save_checkpoint(rd.checkpoint, state)


def _restore(rd: RunDir, trainer: Trainer, data_rng) -> None:
    try:
        state = io.load_checkpoint(rd.checkpoint)
        trainer.load_state_dict(state["trainer"])
        set_rng_state(state["rng"])
        data_rng.bit_generator.state = state["data_rng"]
    except io.CheckpointError as err:
        raise CLIError(f"cannot resume: {err}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CLIError(f"cannot resume: checkpoint {rd.checkpoint} does not fit this run ({err})") from None


def _game(config: dict) -> str:
    """'nonsaturating + r1': the loss and the penalty, for messages."""
    return config["loss"] + (f" + {config['penalty']}" if config.get("penalty") else "")


def _postfix(record: dict) -> dict:
    keys = {"loss_D": "loss_D", "loss_G": "loss_G", "D(x)": "D_x", "D(G(z))": "D_G_z"}
    return {label: f"{record[k]:.3f}" for label, k in keys.items()}


def _snapshot(spec, data, trainer, z_fixed, path, title):
    if spec.plot_samples is None:
        return
    x = trainer.sample(len(z_fixed), z=z_fixed).numpy()
    spec.plot_samples(
        x, data, path, title=title, D=trainer.D, probability=trainer.loss in losses.PROBABILISTIC
    )


def run(args) -> int:
    from tqdm import tqdm

    config, rd, resume = _configure(args)
    device = check_device(config["device"])
    if not resume:
        try:
            rd.prepare_new(force=args.force)
        except RunDirError as err:
            raise CLIError(str(err)) from None
    spec, data, trainer, data_rng = _build(config, device)
    if resume:
        _restore(rd, trainer, data_rng)
        rd.truncate_metrics(trainer.step_count)
    else:
        rd.write_json(RunDir.CONFIG, config)
        _save(rd, trainer, data_rng, config)
    rd.write_json(RunDir.CONFIG, config)  # a resume may have changed steps / intervals
    steps, start = config["steps"], trainer.step_count
    if start >= steps:
        print(f"{rd.path} is already at step {start} >= --steps {steps}: nothing to train")
        return 0

    bar = tqdm(
        total=steps,
        initial=start,
        desc=f"{config['data']} {_game(config)}",
        unit="step",
        disable=True if args.no_progress else None,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    try:
        with blas_threads(spec.blas_threads):
            _loop(rd, spec, data, trainer, data_rng, config, bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    _finish(rd, spec, data, trainer, config, seconds, steps - start)
    return 0


def _loop(rd: RunDir, spec, data, trainer: Trainer, data_rng, config: dict, bar) -> None:
    """Steps until ``config["steps"]``; metrics, snapshots and checkpoints on their intervals."""
    steps, last_ckpt, pending = config["steps"], trainer.step_count, []
    z_fixed = np.random.default_rng([config["seed"], 2]).standard_normal((N_FIXED, config["z_dim"]))
    z_fixed = z_fixed.astype(np.float32)
    while trainer.step_count < steps:
        lr = config["lr"] * lr_factor(trainer.step_count, config["lr_decay_steps"])
        set_lr([trainer.opt_G, trainer.opt_D], lr)
        try:
            record = trainer.step()
        except NonFiniteError as err:
            rd.append_metrics(pending)
            kept = f"the last good checkpoint ({rd.checkpoint}, step {last_ckpt}) is kept"
            raise CLIError(f"{err}; {kept}") from None
        s = record["step"]
        if s % config["log_every"] == 0 or s == steps:
            pending.append({**record, "lr": lr})
            bar.set_postfix(_postfix(record), refresh=False)
        bar.update(1)
        if config["sample_every"] and s % config["sample_every"] == 0:
            png = rd / RunDir.SAMPLES / f"step_{s:07d}.png"
            _snapshot(spec, data, trainer, z_fixed, png, f"step {s}")
        if s % config["ckpt_every"] == 0 or s == steps:
            rd.append_metrics(pending)
            pending = []
            _save(rd, trainer, data_rng, config)
            last_ckpt = s


def _finish(rd, spec, data, trainer, config, seconds, n_steps) -> None:
    """Final pictures and evaluation; prints a summary."""
    import matplotlib.pyplot as plt

    from ..viz import plot_training_curves

    fig = plot_training_curves(
        rd.read_metrics(),
        smooth=5,
        reference=config["loss"] in losses.PROBABILISTIC,
        title=f"{config['data']}, {_game(config)}",
        path=rd / RunDir.PLOTS / "curves.png",
    )
    plt.close(fig)
    x = generate(trainer.G, 2500, config["z_dim"], EVAL_SEED, trainer.device)
    if spec.plot_samples is not None:
        z = np.random.default_rng(EVAL_SEED).standard_normal((1000, config["z_dim"])).astype(np.float32)
        _snapshot(spec, data, trainer, z, rd / RunDir.PLOTS / "samples.png", f"step {trainer.step_count}")
    print(
        f"trained {config['data']} ({_game(config)}) for {n_steps} steps in {seconds:.1f} s "
        f"({n_steps / max(seconds, 1e-9):.0f} steps/s); run directory: {rd.path}"
    )
    if spec.evaluate is not None:
        result = spec.evaluate(data, x)
        rd.write_json(
            RunDir.EVAL, {"step": trainer.step_count, "n_samples": len(x), "seed": EVAL_SEED, **result}
        )
        print(f"step {trainer.step_count}: {result['summary']}")
