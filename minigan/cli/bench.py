"""``minigan bench``: the matmul / convolution kernel benchmark of chapters 03-04.

The benchmark itself lives with the kernels (``minigan.kernels.bench``, which never imports minigan);
this subcommand only hands its arguments over. Flags after ``bench`` go to the benchmark unchanged
(``minigan bench --help`` shows them).
"""

from __future__ import annotations

import importlib

from .common import CLIError


def add_parser(sub):
    p = sub.add_parser(
        "bench",
        help="benchmark the matmul / conv kernels (--dcgan: a DCGAN training iteration; --conditional: "
        "a conditional step against a DCGAN step)",
        add_help=False,
    )
    p.set_defaults(func=run)


def run(args) -> int:
    if args.extra[:1] == ["--dcgan"]:  # the DCGAN training-iteration benchmark of chapter 08
        from ..gan import dcgan_bench

        return int(dcgan_bench.main(list(args.extra[1:])) or 0)
    if args.extra[:1] == ["--conditional"]:  # what a label costs per step (chapter 11)
        from ..gan import conditional_bench

        return int(conditional_bench.main(list(args.extra[1:])) or 0)
    try:
        bench = importlib.import_module("minigan.kernels.bench")
    except ModuleNotFoundError as err:
        if err.name not in ("minigan.kernels", "minigan.kernels.bench"):
            raise
        raise CLIError(
            "minigan bench: the kernel benchmark (minigan.kernels.bench) is not part of this install"
        ) from None
    if not hasattr(bench, "main"):
        raise CLIError("minigan bench: minigan.kernels.bench has no main() to run")
    status = bench.main(list(args.extra))
    return int(status or 0)
