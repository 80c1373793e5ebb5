"""``minigan translate RUN --input X.npy --out Y.npy|Y.png``: run a trained translation model (pix2pix,
chapter 12; CycleGAN) on images of your own.

``X.npy`` holds float32 (N, C, H, W) images in [-1, 1] (``np.save``; no pickles are read): C and the
sizes the run's generator takes are checked first (a pix2pix U-Net on 28 x 28 digits takes sides s with
s + 4 divisible by 32; the sr4 model takes its 7 x 7 inputs). ``Y.npy`` gets float32 (N, C', H', W') in
[-1, 1]; ``Y.png`` a picture, one column per image: input, output and, with ``--targets T.npy``, the
targets below. A CycleGAN run translates ``--direction AtoB`` (the default: MNIST -> MNIST-M for
mnist2mnistm) or ``BtoA``; a pix2pix run has one direction and refuses the flag.

Bad input (a missing or unreadable file, a pickled or non-float array, the wrong number of channels or
dimensions, a size the generator cannot take, values outside [-1, 1], targets that do not match) stops the
command with one line and exit code 2; ``Y`` is written atomically after the translation, so nothing is
overwritten by a failed command.
"""

from __future__ import annotations

import numpy as np

from ..io import atomic_path, atomic_write
from .common import CLIError, check_device, load_run
from .sample import check_out

N_PICTURE = 16  # images drawn in a .png
RANGE_SLACK = 1e-3  # [-1, 1] up to rounding


def add_parser(sub):
    p = sub.add_parser(
        "translate", help="translate images with a pix2pix / CycleGAN run", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "run", help="run directory of a translation model (minigan train --model pix2pix | cyclegan)"
    )
    p.add_argument("--input", required=True, help="float32 (N, C, H, W) images in [-1, 1], a .npy file")
    p.add_argument("--out", required=True, help="output: .npy (float32 array) or .png (input | output rows)")
    p.add_argument("--targets", default=None, help="optional .npy of the expected outputs, drawn in the .png")
    p.add_argument("--direction", default=None, choices=("AtoB", "BtoA"), help="CycleGAN: which generator")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run)


def load_images(path: str, flag: str) -> np.ndarray:
    """float32 (N, C, H, W) in [-1, 1] from a .npy file; CLIError (exit 2) naming what is wrong."""
    try:
        x = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise CLIError(f"{flag} {path}: no such file", 2) from None
    except (OSError, ValueError, EOFError) as err:  # not .npy, truncated, a pickle
        raise CLIError(f"{flag} {path}: not a readable .npy array ({err})", 2) from None
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise CLIError(f"{flag} {path}: expected images (N, C, H, W), got shape {np.shape(x)}", 2)
    if not np.issubdtype(x.dtype, np.floating):
        raise CLIError(f"{flag} {path}: expected float images in [-1, 1], got dtype {x.dtype}", 2)
    if len(x) == 0:
        raise CLIError(f"{flag} {path}: holds no images (shape {x.shape})", 2)
    if not np.isfinite(x).all() or np.abs(x).max() > 1 + RANGE_SLACK:
        lo, hi = np.nanmin(x), np.nanmax(x)
        raise CLIError(f"{flag} {path}: values must be finite and in [-1, 1], got [{lo:.3g}, {hi:.3g}]", 2)
    return x.astype(np.float32)


def run(args) -> int:
    ext = check_out(args.out, (".npy", ".png"))
    device = check_device(args.device)
    run_ = load_run(args.run, device)
    variant = run_.variant
    if not variant.translation:
        raise CLIError(
            f"{args.run} is a {run_.config['model']} run, not a translation model; use minigan sample", 2
        )
    if args.direction is not None and not variant.directions:
        raise CLIError(f"--direction: {args.run} is a {run_.config['model']} run, which has one direction", 2)
    direction = args.direction or (variant.directions[0] if variant.directions else None)
    a = load_images(args.input, "--input")
    problem = variant.input_problem(run_.G, a.shape, direction)
    if problem:
        raise CLIError(f"--input {args.input}: {problem}", 2)
    from ..gan.paired_run import translate_batches

    G = variant.generator(run_.G, direction)
    try:
        b = translate_batches(G, a)
    except MemoryError:
        raise CLIError(f"out of memory translating {len(a)} images; split --input") from None
    targets = None
    if args.targets is not None:
        targets = load_images(args.targets, "--targets")
        if targets.shape != b.shape:
            raise CLIError(
                f"--targets {args.targets}: shape {targets.shape} differs from the outputs' {b.shape}", 2
            )
    try:
        if ext == ".npy":
            atomic_write(args.out, lambda f: np.save(f, b, allow_pickle=False))
        else:
            with atomic_path(args.out, ".png") as tmp:
                _picture(
                    a,
                    b,
                    targets,
                    tmp,
                    f"{args.run}: input | output" + (" | target" if targets is not None else ""),
                )
    except OSError as err:
        raise CLIError(
            f"--out {args.out}: cannot write it ({err.strerror or err}); nothing was written"
        ) from None
    print(f"translated {len(a)} images {a.shape[1:]} -> {b.shape[1:]} to {args.out}")
    return 0


def _picture(a, b, targets, path, title) -> None:
    """Rows input | output [| target] of the first images (an inpainting input: its image channel)."""
    import matplotlib.pyplot as plt

    from ..viz import plot_image_rows

    n = min(N_PICTURE, len(a))
    rows = [a[:n] if a.shape[1] == 3 else a[:n, :1], b[:n]] + ([] if targets is None else [targets[:n]])
    fig = plot_image_rows(rows, ["input", "output", "target"][: len(rows)], title, path)
    plt.close(fig)
