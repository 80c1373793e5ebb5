"""``minigan sample RUN --n N --out FILE``: draw from a trained generator.

``FILE.npy`` holds float32 samples: (N, 2) for 2-D toy data, (N, 1) for 1-D, (N, C, H, W) in [-1, 1] for
images. ``FILE.png`` is a picture of them (a scatter plot over the data for 2-D, a density for 1-D, an
image grid for images). The noise comes from ``--seed`` (default 0), so the same command gives the same
samples.

A conditional run (``--model cgan``, ``acgan``, ``projection``; chapter 11) draws for ``--labels L``: a
digit (``3``), a comma-separated list (``1,7``: N / 2 of each, in that order) or ``all`` (the default: N / 10
of each class, 0 first). It writes ``FILE.npz`` with ``images`` float32 (N, C, H, W) in [-1, 1] and
``labels`` int64 (N,), loadable with ``np.load(FILE, allow_pickle=False)``; ``FILE.png`` draws one row per
class. ``--labels`` on an unconditional run, a label outside 0-9, or an N that the labels do not divide
is refused with one line.

A style-based run (``--model stylegan``, chapter 14) also takes ``--truncation PSI`` (psi in [0, 1]: each w
pulled towards the average w, w' = w_avg + psi (w - w_avg); 1: none) and ``--mix``, which draws the
style-mixing figure instead of samples: ``--out grid.png`` (or ``.npy``, the images (6, 7, C, 28, 28)),
the top row 6 column sources, the left column 5 row sources, and each cell the coarse styles (the 4 x 4
and 7 x 7 layers) of its row's source with the fine styles (14 x 14, 28 x 28) of its column's source.
``--seed`` picks the latents (and the noise maps). Either flag on a run that is not style-based, or a psi
outside [0, 1], is refused with one line.

The file is written atomically, and only after the samples were drawn: an ``--out`` that cannot be
written (its folder is missing, is a file, is read-only, the disk is full) or an ``--n`` too large for
memory stops the command with one line, and nothing is written.
"""

from __future__ import annotations

import os

import numpy as np

from ..io import atomic_path, atomic_write
from .common import CLIError, check_device, check_sample_memory, generate, load_run


def add_parser(sub):
    p = sub.add_parser("sample", help="draw samples from a trained run", description=__doc__.split("\n")[0])
    p.add_argument("run", help="run directory written by minigan train")
    p.add_argument("--n", type=int, default=None, help="number of samples (default 1000)")
    p.add_argument(
        "--out", required=True,
        help="output file: .npy (float32 array), .npz (conditional: images and labels) or .png (picture)",
    )  # fmt: skip
    p.add_argument(
        "--labels", default=None, metavar="L",
        help="conditional runs: the classes to draw, a digit, a list 1,7 or all (default: all)",
    )  # fmt: skip
    p.add_argument(
        "--truncation", type=float, default=None, metavar="PSI",
        help="style-based runs: truncation psi in [0, 1] (1: none; smaller: more typical, less varied)",
    )  # fmt: skip
    p.add_argument(
        "--mix", action="store_true",
        help="style-based runs: draw the style-mixing figure (coarse styles by row, fine by column)",
    )  # fmt: skip
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


def parse_labels(text: str, n: int, n_classes: int = 10) -> np.ndarray:
    """int64 (n,) for ``--labels`` ``text``: one class, a comma-separated list or ``all``, n / k of each of
    the k classes in the order given; CLIError (exit 2) naming what is wrong otherwise."""
    words = [w.strip() for w in text.split(",")]
    if words == ["all"]:
        classes = list(range(n_classes))
    else:
        classes = []
        for w in words:
            if not (w.lstrip("-").isdigit() and 0 <= int(w) < n_classes):
                raise CLIError(
                    f"--labels {text}: {w or '(empty)'!r} is not a class; use digits 0-{n_classes - 1}, "
                    "a comma-separated list of them, or all",
                    2,
                )
            classes.append(int(w))
    if n % len(classes):
        raise CLIError(
            f"--n {n} cannot be split evenly over the {len(classes)} classes of --labels {text}", 2
        )
    return np.repeat(np.asarray(classes, dtype=np.int64), n // len(classes))


def check_style(args, run_) -> None:
    """--truncation / --mix: only for a style-based run, --mix without --n (psi's range is checked first)."""
    if args.truncation is None and not args.mix:
        return
    flag = "--mix" if args.mix else "--truncation"
    if not run_.variant.style_based:
        raise CLIError(
            f"{flag}: {args.run} is a {run_.config['model']} run, not style-based (train one with --model "
            "stylegan)",
            2,
        )
    if args.mix and args.n is not None:
        raise CLIError("--mix draws a fixed 5 x 6 grid of mixes; --n does not apply", 2)


def write_mix(args, run_, ext: str) -> int:
    """The style-mixing figure (or its images, .npy) of a style-based run, written atomically."""
    from ..gan.style_eval import mixing_grid

    if ext == ".npz":
        raise CLIError(f"--out {args.out}: --mix writes FILE.png (the figure) or FILE.npy (its images)", 2)
    run_.G.noise_seed = args.seed
    grid = mixing_grid(run_.G, seed=args.seed, psi=1.0 if args.truncation is None else args.truncation)
    try:
        if ext == ".npy":
            atomic_write(args.out, lambda f: np.save(f, grid, allow_pickle=False))
        else:
            import matplotlib.pyplot as plt

            from ..viz import plot_image_grid

            rows, cols = grid.shape[:2]
            title = "style mixing: coarse styles from each row, fine styles from each column"
            with atomic_path(args.out, ".png") as tmp:
                fig = plot_image_grid(grid.reshape(rows * cols, *grid.shape[2:]), nrow=cols, title=title,
                                      path=tmp)  # fmt: skip
                plt.close(fig)
    except OSError as err:
        why = err.strerror or err
        raise CLIError(f"--out {args.out}: cannot write it ({why}); nothing was written") from None
    print(f"wrote the style-mixing figure of {args.run} ({grid.shape[0] - 1} x {grid.shape[1] - 1} mixes) to "
          f"{args.out}")  # fmt: skip
    return 0


def run(args) -> int:
    if args.truncation is not None and not (0.0 <= args.truncation <= 1.0):  # also refuses nan
        raise CLIError(f"--truncation {args.truncation}: psi must be in [0, 1] (1: no truncation)", 2)
    if args.n is not None and args.n < 1:
        raise CLIError(f"--n must be >= 1, got {args.n}", 2)
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}", 2)
    ext = check_out(args.out, (".npy", ".npz", ".png"))
    device = check_device(args.device)
    run_ = load_run(args.run, device)
    config, spec, data = run_.config, run_.spec, run_.data
    check_style(args, run_)
    if args.mix:
        return write_mix(args, run_, ext)
    args.n = 1000 if args.n is None else args.n
    if run_.variant.translation:
        raise CLIError(
            f"{args.run} is a translation model ({config['model']}): it maps images to images; use "
            f"minigan translate {args.run} --input X.npy --out Y.npy",
            2,
        )
    labels = None
    if run_.model.conditional:
        if ext == ".npy":
            raise CLIError(
                f"--out {args.out}: {args.run} is conditional; use FILE.npz (images and labels)", 2
            )
        labels = parse_labels(args.labels or "all", args.n)
    elif args.labels is not None:
        raise CLIError(
            f"--labels: {args.run} is an unconditional run ({config['model']}); it takes no labels", 2
        )
    elif ext == ".npz":
        raise CLIError(f"--out {args.out}: .npz is for conditional runs; use FILE.npy", 2)
    if ext == ".png" and spec.plot_samples is None:
        raise CLIError(f"dataset {config['data']} has no picture for its samples; use --out FILE.npy")
    check_sample_memory(args.n, config, data, device, 4 if ext == ".png" else 2)
    try:
        if run_.variant.style_based:
            run_.G.noise_seed = args.seed
        x = generate(run_.G, args.n, config["z_dim"], args.seed, device, variant=run_.variant, labels=labels,
                     truncation=args.truncation)  # fmt: skip
    except MemoryError:
        raise CLIError(f"out of memory drawing --n {args.n} samples; use a smaller --n") from None
    try:
        if ext in (".npy", ".npz"):
            if ext == ".npy":
                atomic_write(args.out, lambda f: np.save(f, x, allow_pickle=False))
            else:
                atomic_write(args.out, lambda f: np.savez(f, images=x, labels=labels))
        else:
            import matplotlib.pyplot as plt

            with atomic_path(args.out, ".png") as tmp:
                title = f"{args.n} samples of {args.run}"
                spec.plot_samples(x, data, tmp, title=title, **({} if labels is None else {"labels": labels}))
                plt.close("all")
    except OSError as err:
        why = err.strerror or err
        raise CLIError(f"--out {args.out}: cannot write it ({why}); nothing was written") from None
    what = "" if labels is None else f" for labels {args.labels or 'all'}"
    what += "" if args.truncation is None else f" at truncation psi {args.truncation:g}"
    print(f"wrote {args.n} samples{what}, shape {x.shape}, to {args.out}")
    return 0
