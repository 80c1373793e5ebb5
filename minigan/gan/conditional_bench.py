"""What a label costs: one conditional training step against one unconditional DCGAN step, side by side
in one process. Chapter 11 (and chapter 10: what a stabiliser of D costs).

    python -m minigan.gan.conditional_bench            # or: minigan bench --conditional
    python -m minigan.gan.conditional_bench --batch-size 64 --steps 20 --rounds 5 --json out.json
    python -m minigan.gan.conditional_bench --models dcgan-sn dcgan-mbstd     # chapter 10's options of D
    python -m minigan.gan.conditional_bench --models stylegan --own-batch      # chapter 14: the budget

``dcgan-sn`` is the DCGAN with ``minigan train --spectral-norm``'s D (spectral norm on every layer, no
batch norm), ``dcgan-mbstd`` with ``--mbstd``'s, ``dcgan-pac2`` with ``--pack 2``'s (at the same number
of images per batch); everything else as for dcgan. Since ``--spectral-norm`` also drops D's batch
norm, two more separate the changes: ``dcgan-nobn`` (no batch norm, no spectral norm) and ``dcgan-sn-bn``
(spectral norm with batch norm kept); the cost of spectral norm itself is sn / nobn (or sn-bn / dcgan).
``dcgan-r1lazy`` plays the DCGAN's game with lazy R1 (``--set r1_every=16``) and ``dcgan-nor1`` without
R1: what the penalty's double backward costs, every step and once in 16.

Every model is built as ``minigan train --data mnist --model NAME`` builds it (the DCGAN networks,
Adam(2e-4, (0.5, 0.999)), non-saturating loss, R1 with gamma 1) and trained on random stand-in images
(timing does not depend on the pixels), batch ``--batch-size``. The rounds interleave the models (dcgan,
cgan, acgan, projection, dcgan, ...), so a change in the machine's load hits all of them alike; each
round times ``--steps`` steps after one untimed step. Printed: the median ms per step of each model, and
the median over the rounds of its time / dcgan's time in the same round (the paired ratio, which a load
that drifts between rounds does not bias), and with ``--baseline NAME`` the same ratio to NAME's time
(``--models dcgan-sn dcgan-nobn --baseline dcgan-nobn``: what spectral norm itself costs). BLAS is held to
one thread, as in ``minigan train --data mnist``.

``stylegan`` (chapter 14) is timed with its own game (lazy R1, style mixing, the moving average of G).
``--own-batch`` gives every model its run's default batch (dcgan 64, stylegan 32) instead of
``--batch-size``; the ratio is then per step at those batches, which is what converts the DCGAN default's
budget of 12 000 steps into the style-based model's steps at the same wall-clock time (printed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

MODELS = ("dcgan", "cgan", "acgan", "projection")
# chapter 10's options of the DCGAN discriminator, timed as models "dcgan-<name>": arguments of
# ``dcgan.dcgan``. sn is --spectral-norm's D (no batch norm); nobn and sn-bn separate the two changes
OPTIONS = {
    "sn": {"spectral_norm": True},
    "nobn": {"batch_norm": False},
    "sn-bn": {"spectral_norm": True, "batch_norm": True},
    "mbstd": {"mbstd": True},
    "pac2": {"pack": 2},
}
# and of its game: lazy R1 (once in 16 D steps, weighted 16; ``--set r1_every=16``) and no R1 at all,
# timed as "dcgan-r1lazy" and "dcgan-nor1" (what R1's double backward costs, whole and lazy)
GAME_OPTIONS = {"r1lazy": {"r1_every": 16}, "nor1": {"penalty": None}}
CHOICES = (*MODELS[1:], "stylegan", *(f"dcgan-{o}" for o in (*OPTIONS, *GAME_OPTIONS)))
DCGAN_STEPS = 12000  # the DCGAN default's budget (``minigan train --data mnist``)


def build(name: str, batch_size: int):
    """A Trainer for ``name`` with the command line's MNIST recipe, on random labelled images."""
    from .. import optim
    from ..random import manual_seed
    from . import registry
    from .dcgan import dcgan
    from .trainer import Trainer

    spec = registry.get("mnist")
    base, _, option = name.partition("-")
    model = spec.model(base)
    config = {**spec.defaults, **model.defaults, "loss": "nonsaturating", "penalty": "r1", "gamma": 1.0}
    config.update(GAME_OPTIONS.get(option, {}))
    manual_seed(0)
    if option in OPTIONS:  # mnist's make_models with these options of D
        G, D = dcgan(28, 1, config["z_dim"], config["width"], **OPTIONS[option])
    else:
        G, D = model.make_models(config)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (512, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 512)

    def sample_real(n):
        idx = rng.integers(0, 512, n)
        return (x[idx], y[idx]) if model.conditional else x[idx]

    opt_G = optim.Adam([p for p in G.parameters() if p.requires_grad], lr=2e-4, betas=(0.5, 0.999))
    opt_D = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return Trainer(G, D, opt_G, opt_D, sample_real, z_dim=config["z_dim"], batch_size=batch_size,
                   variant=model.make_variant(config))  # fmt: skip


def own_batch(name: str) -> int:
    """The default batch size of ``minigan train --data mnist --model NAME`` (chapter 10's dcgan-* : 64)."""
    from . import registry

    spec = registry.get("mnist")
    model = spec.model(name.partition("-")[0])
    return model.defaults.get("batch_size", spec.defaults["batch_size"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--own-batch", action="store_true", help="each model at its run's default batch size")
    p.add_argument("--steps", type=int, default=10, help="timed steps per model per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--models", nargs="+", default=list(MODELS[1:]), choices=CHOICES)
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument(
        "--baseline", default="dcgan", help="also print each model's paired ratio to this one (a timed model)"
    )
    args = p.parse_args(argv)
    for flag in ("batch_size", "steps", "rounds"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    from .. import kernels
    from ..cli.common import blas_threads

    kernels.tune_process()
    names = ["dcgan", *args.models]
    if args.baseline not in names:
        p.error(f"--baseline {args.baseline} is not among the timed models: {', '.join(names)}")
    batches = {name: own_batch(name) if args.own_batch else args.batch_size for name in names}
    trainers = {name: build(name, batches[name]) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    with blas_threads(1):
        for _ in range(args.rounds):
            for name in names:
                t = trainers[name]
                t.step()
                start = time.perf_counter()
                for _ in range(args.steps):
                    t.step()
                times[name].append(1000 * (time.perf_counter() - start) / args.steps)
    result = {"batch_size": batches, "steps": args.steps, "rounds": args.rounds, "models": {}}
    for name in names:
        med = statistics.median(times[name])
        ratio = statistics.median(a / b for a, b in zip(times[name], times["dcgan"]))
        result["models"][name] = {"ms_per_step": times[name], "median_ms": med, "ratio_to_dcgan": ratio}
        line = f"{name:>11}: median {med:7.1f} ms per step of {batches[name]} over {args.rounds} rounds; "
        line += f"{ratio:.3f} x dcgan"
        if args.baseline != "dcgan":
            to_base = statistics.median(a / b for a, b in zip(times[name], times[args.baseline]))
            result["models"][name][f"ratio_to_{args.baseline}"] = to_base
            line += f", {to_base:.3f} x {args.baseline}"
        print(line + " (medians of the per-round ratios)")
        if args.own_batch and name != "dcgan":
            steps = int(DCGAN_STEPS / ratio)
            result["models"][name]["steps_at_dcgan_budget"] = steps
            print(f"{'':>13}the DCGAN default's {DCGAN_STEPS} steps take as long as {steps} {name} steps")
    if args.json:
        from ..io import atomic_write

        text = json.dumps(result, indent=1)
        atomic_write(args.json, lambda f: f.write(text.encode()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
