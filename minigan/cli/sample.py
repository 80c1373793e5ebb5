"""``minigan sample RUN --n N --out FILE``: draw from a trained generator.

``FILE.npy`` holds float32 samples: (N, 2) for 2-D toy data, (N, 1) for 1-D, (N, C, H, W) in [-1, 1] for
images. ``FILE.png`` is a picture of them (a scatter plot over the data for 2-D, a density for 1-D, an
image grid for images). The noise comes from ``--seed`` (default 0), so the same command gives the same
samples. The file is written atomically, and only after the samples were drawn: an ``--out`` that cannot
be written (its folder is missing, is a file, is read-only, the disk is full) or an ``--n`` too large for
memory stops the command with one line, and nothing is written.
"""

from __future__ import annotations

import io as _bytes_io
import os

import numpy as np

from ..io import atomic_path, atomic_write
from .common import CLIError, check_device, check_sample_memory, generate, load_run


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
        above = parent
        while not os.path.exists(above):
            above = os.path.dirname(above)
        if not os.path.isdir(above):
            raise CLIError(f"--out {path}: {above} is a file, not a directory")
        raise CLIError(f"--out {path}: directory {parent} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"--out {path} is a directory")
    if not os.access(parent, os.W_OK):
        raise CLIError(f"--out {path}: directory {parent} is not writable")
    return ext


def run(args) -> int:
    if args.n < 1:
        raise CLIError(f"--n must be >= 1, got {args.n}", 2)
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}", 2)
    ext = check_out(args.out)
    device = check_device(args.device)
    config, spec, data, G, D, _ = load_run(args.run, device)
    if ext == ".png" and spec.plot_samples is None:
        raise CLIError(f"dataset {config['data']} has no picture for its samples; use --out FILE.npy")
    check_sample_memory(args.n, config, data, device, 2 if ext == ".npy" else 4)
    try:
        x = generate(G, args.n, config["z_dim"], args.seed, device)
    except MemoryError:
        raise CLIError(f"out of memory drawing --n {args.n} samples; use a smaller --n") from None
    try:
        if ext == ".npy":
            buf = _bytes_io.BytesIO()
            np.save(buf, x, allow_pickle=False)
            atomic_write(args.out, lambda f: f.write(buf.getvalue()))
        else:
            import matplotlib.pyplot as plt

            with atomic_path(args.out, ".png") as tmp:
                spec.plot_samples(x, data, tmp, title=f"{args.n} samples of {args.run}", D=None)
                plt.close("all")
    except OSError as err:
        why = err.strerror or err
        raise CLIError(f"--out {args.out}: cannot write it ({why}); nothing was written") from None
    print(f"wrote {args.n} samples, shape {x.shape}, to {args.out}")
    return 0
