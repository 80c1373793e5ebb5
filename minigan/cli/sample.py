"""``minigan sample RUN --n N --out FILE``: draw from a trained generator.

``FILE.npy`` holds float32 samples: (N, 2) for 2-D toy data, (N, 1) for 1-D, (N, C, H, W) in [-1, 1] for
images. ``FILE.png`` is a picture of them (a scatter plot over the data for 2-D, a density for 1-D, an
image grid for images). The noise comes from ``--seed`` (default 0), so the same command gives the same
samples. The file is written atomically, and only after the samples were drawn.
"""

from __future__ import annotations

import io as _bytes_io
import os

import numpy as np

from ..io import atomic_write
from .common import CLIError, check_device, generate, load_run


def add_parser(sub):
    p = sub.add_parser("sample", help="draw samples from a trained run", description=__doc__.split("\n")[0])
    p.add_argument("run", help="run directory written by minigan train")
    p.add_argument("--n", type=int, default=1000, help="number of samples (default 1000)")
    p.add_argument("--out", required=True, help="output file: .npy (float32 array) or .png (picture)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run)


def check_out(path: str, suffixes=(".npy", ".png")) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in suffixes:
        raise CLIError(
            f"--out {path}: unsupported file type {ext or '(none)'!r}; use {' or '.join(suffixes)}", 2
        )
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"--out {path}: directory {parent} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"--out {path} is a directory")
    return ext


def run(args) -> int:
    if args.n < 1:
        raise CLIError(f"--n must be >= 1, got {args.n}", 2)
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}", 2)
    ext = check_out(args.out)
    device = check_device(args.device)
    config, spec, data, G, D, _ = load_run(args.run, device)
    x = generate(G, args.n, config["z_dim"], args.seed, device)
    if ext == ".npy":
        buf = _bytes_io.BytesIO()
        np.save(buf, x, allow_pickle=False)
        atomic_write(args.out, lambda f: f.write(buf.getvalue()))
    else:
        if spec.plot_samples is None:
            raise CLIError(f"dataset {config['data']} has no picture for its samples; use --out FILE.npy")
        import matplotlib.pyplot as plt

        tmp = _tmp_png(args.out)
        try:
            spec.plot_samples(x, data, tmp, title=f"{args.n} samples of {args.run}", D=None)
            plt.close("all")
            os.replace(tmp, args.out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    print(f"wrote {args.n} samples, shape {x.shape}, to {args.out}")
    return 0


def _tmp_png(path: str) -> str:
    head, tail = os.path.split(os.path.abspath(path))
    return os.path.join(head, f".{tail}.{os.getpid()}.tmp.png")
