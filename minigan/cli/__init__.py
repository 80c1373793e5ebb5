"""The ``minigan`` command line: ``minigan train | sample | translate | eval | bench | docs`` (chapter 07;
translate: chapter 12).

    minigan train [--data ring8] [--steps N] [--out DIR] [--resume] ...   train, keep a run directory
    minigan sample DIR --n N --out samples.npy|samples.png              draw from a trained generator
    minigan translate DIR --input X.npy --out Y.npy|Y.png               run a pix2pix / CycleGAN model
    minigan eval DIR                                                    mode coverage of a toy run
    minigan bench                                                       the matmul / conv kernel benchmark
    minigan docs build | serve                                          the book: chapters, annotated source

``main(argv)`` returns the exit status (0 on success) and can be called in-process, as the tests do. A
failure (bad arguments or hyper-parameters, an unknown dataset, a missing or corrupt checkpoint, an
unwritable ``--out``, a full disk, a size too large for memory, a diverged run) prints ONE line on stderr
and returns non-zero (2 for bad usage, 1 otherwise, 130 for Ctrl-C); it never leaves a file half-written
and never loses a run's work (``rundir.py`` says how).
"""

from __future__ import annotations

import argparse
import sys

from .common import CLIError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error raises (one line, exit 2) instead of printing the usage and exiting."""

    def error(self, message):
        raise CLIError(f"{self.prog}: {message} (see {self.prog} --help)", code=2)


def build_parser() -> argparse.ArgumentParser:
    from . import bench, docs, eval, sample, train, translate

    parser = _Parser(prog="minigan", description="GANs from scratch: train, sample, evaluate, benchmark.")
    sub = parser.add_subparsers(
        dest="command", metavar="{train,sample,translate,eval,bench,docs}", parser_class=_Parser
    )
    sub.required = True
    for module in (train, sample, translate, eval, bench, docs):
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run ``minigan`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra and args.command != "bench":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.extra, args.argv = extra, argv
        return int(args.func(args) or 0)
    except CLIError as err:
        print(f"minigan: error: {err.line()}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        print("minigan: interrupted (a --resume continues from the last checkpoint)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # python -m minigan.cli
    sys.exit(main())
