"""What a label costs: one conditional training step against one unconditional DCGAN step, side by side
in one process. Chapter 11 (and chapter 10: what a stabiliser of D costs).

    python -m minigan.gan.conditional_bench            # or: minigan bench --conditional
    python -m minigan.gan.conditional_bench --batch-size 64 --steps 20 --rounds 5 --json out.json
    python -m minigan.gan.conditional_bench --models dcgan-sn dcgan-mbstd     # chapter 10's options of D

``dcgan-sn`` is the DCGAN with ``minigan train --spectral-norm``'s D (spectral norm on every layer, no
batch norm), ``dcgan-mbstd`` with ``--mbstd``'s, ``dcgan-pac2`` with ``--pack 2``'s (at the same number
of images per batch); everything else as for dcgan.

Every model is built as ``minigan train --data mnist --model NAME`` builds it (the DCGAN networks,
Adam(2e-4, (0.5, 0.999)), non-saturating loss, R1 with gamma 1) and trained on random stand-in images
(timing does not depend on the pixels), batch ``--batch-size``. The rounds interleave the models (dcgan,
cgan, acgan, projection, dcgan, ...), so a change in the machine's load hits all of them alike; each
round times ``--steps`` steps after one untimed step. Printed: the median ms per step of each model, and
the median over the rounds of its time / dcgan's time in the same round (the paired ratio, which a load
that drifts between rounds does not bias). BLAS is held to one thread, as in ``minigan train --data mnist``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

MODELS = ("dcgan", "cgan", "acgan", "projection")
# chapter 10's options of the DCGAN discriminator, timed as models "dcgan-<name>"
OPTIONS = {"sn": {"spectral_norm": True}, "mbstd": {"mbstd": True}, "pac2": {"pack": 2}}
CHOICES = (*MODELS[1:], *(f"dcgan-{o}" for o in OPTIONS))


def build(name: str, batch_size: int):
    """A Trainer for ``name`` with the command line's MNIST recipe, on random labelled images."""
    from .. import optim
    from ..random import manual_seed
    from . import registry
    from .trainer import Trainer

    spec = registry.get("mnist")
    base, _, option = name.partition("-")
    model = spec.model(base)
    config = {**spec.defaults, **model.defaults, "loss": "nonsaturating", "penalty": "r1", "gamma": 1.0}
    config.update(OPTIONS[option] if option else {})
    manual_seed(0)
    G, D = model.make_models(config)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (512, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 512)

    def sample_real(n):
        idx = rng.integers(0, 512, n)
        return (x[idx], y[idx]) if model.conditional else x[idx]

    opt_G = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return Trainer(G, D, opt_G, opt_D, sample_real, z_dim=config["z_dim"], batch_size=batch_size,
                   variant=model.make_variant(config))  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=10, help="timed steps per model per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--models", nargs="+", default=list(MODELS[1:]), choices=CHOICES)
    p.add_argument("--json", default=None, help="also write the results here")
    args = p.parse_args(argv)
    for flag in ("batch_size", "steps", "rounds"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    from .. import kernels
    from ..cli.common import blas_threads

    kernels.tune_process()
    names = ["dcgan", *args.models]
    trainers = {name: build(name, args.batch_size) for name in names}
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
    result = {"batch_size": args.batch_size, "steps": args.steps, "rounds": args.rounds, "models": {}}
    for name in names:
        med = statistics.median(times[name])
        ratio = statistics.median(a / b for a, b in zip(times[name], times["dcgan"]))
        result["models"][name] = {"ms_per_step": times[name], "median_ms": med, "ratio_to_dcgan": ratio}
        print(f"{name:>10}: median {med:7.1f} ms per step over {args.rounds} rounds; {ratio:.3f} x dcgan "
              "(median of the per-round ratios)")  # fmt: skip
    if args.json:
        from ..io import atomic_write

        text = json.dumps(result, indent=1)
        atomic_write(args.json, lambda f: f.write(text.encode()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
