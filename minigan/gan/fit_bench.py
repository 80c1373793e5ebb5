"""Can a generator learn z-specific images at all? Fit N fixed (z, digit) pairs by least squares, no game.
Chapter 14 (the test used while the small style-based generator collapsed here).

    python -m minigan.gan.fit_bench --models stylegan dcgan --steps 300 --data-dir DIR

A GAN's generator has to follow D's per-sample gradients: make THIS z look more like a 3, THAT one more
like a 7. The fastest check that it can is to drop D and regress G(z_i) = x_i for N fixed noise vectors
and N real digits (full batch, noise inputs of the style-based G held at 0): a G slow at memorising 32
digits is slow to follow D too. (It is a necessary check, not a sufficient one: the style-based G still
fits 7x worse than DCGAN's, yet with its output tanh it no longer collapses; QUALITY.md.) Each model
trains with its run's Adam (stylegan: 0.002, betas (0, 0.99); dcgan: 2e-4, betas (0.5, 0.999); ``--lr``
overrides both) and is built as ``minigan train --data mnist --model NAME`` builds it. Printed every
``--every`` steps: the mean squared error, next to predicting the mean digit, and the pixel std across
the N outputs ("div"; the targets' own is printed once). Measured figures: QUALITY.md, section
"Style-based generator".
"""

from __future__ import annotations

import argparse
import time

import numpy as np

OPTIMIZERS = {"stylegan": (0.002, (0.0, 0.99)), "dcgan": (2e-4, (0.5, 0.999))}


def generator(name: str, overrides: dict | None = None):
    """(module mapping z to images, z_dim) of ``--model name``, with the run's defaults and ``overrides``."""
    from ..random import manual_seed
    from . import registry

    spec = registry.get("mnist")
    model = spec.model(name)
    config = {**spec.defaults, **model.defaults, "data": "mnist", **(overrides or {})}
    manual_seed(0)
    G, _ = model.make_models(config)
    if name == "stylegan":
        G = G.G  # the trained network itself, not its moving average
        for conv in G.synthesis.convs:
            conv.noise_strength.requires_grad = False  # strengths stay 0: no noise, z alone
    return G, config["z_dim"]


def fit(G, z_dim: int, x: np.ndarray, steps: int, lr: float, betas, every: int = 50, log=print) -> list:
    """Adam on mean((G(z) - x)^2) for fixed z ~ N(0, I) (seed 0); [(step, mse, div)] every ``every``."""
    from .. import optim
    from ..creation import tensor

    z = tensor(np.random.default_rng(0).standard_normal((len(x), z_dim)).astype(np.float32))
    target = tensor(x)
    opt = optim.Adam([p for p in G.parameters() if p.requires_grad], lr=lr, betas=betas)
    G.train()
    out, t0 = [], time.perf_counter()
    for step in range(steps + 1):
        opt.zero_grad()
        y = G(z)
        loss = ((y - target) ** 2).mean()
        if step % every == 0 or step == steps:
            div = float(y.detach().numpy().std(0).mean())
            out.append((step, float(loss.item()), div))
            log(f"  step {step:4d}  MSE {out[-1][1]:.4f}  div {div:.3f}  ({time.perf_counter() - t0:.0f} s)")
        if step < steps:
            loss.backward()
            opt.step()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["stylegan", "dcgan"], choices=sorted(OPTIMIZERS))
    p.add_argument("--n", type=int, default=32, help="pairs to fit (default 32)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--lr", type=float, default=None, help="Adam's learning rate for every model")
    p.add_argument("--data-dir", default=None, help="folder of the MNIST IDX files")
    p.add_argument("--split", default="test")
    args = p.parse_args(argv)
    if args.n < 2 or args.steps < 1 or args.every < 1:
        p.error("--n must be >= 2, --steps and --every >= 1")
    from .. import kernels
    from ..data.mnist import load_mnist, to_unit_range

    kernels.tune_process()
    images, _ = load_mnist(args.split, data_dir=args.data_dir)
    x = to_unit_range(images[np.random.default_rng(0).permutation(len(images))[: args.n]])
    mean_mse = float(((x - x.mean(0)) ** 2).mean())
    print(f"{args.n} digits of the {args.split} split: predicting their mean gives MSE {mean_mse:.4f}; "
          f"their div (pixel std across them) {x.std(0).mean():.3f}")  # fmt: skip
    for name in args.models:
        lr, betas = OPTIMIZERS[name]
        print(f"{name} (Adam {args.lr or lr:g}, betas {betas}):")
        fit(*generator(name), x, args.steps, args.lr or lr, betas, args.every)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
