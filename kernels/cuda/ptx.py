"""Compile every CUDA kernel to PTX for a chosen GPU, without a GPU (chapter 03).

The CUDA simulator runs kernels as Python threads and accepts code that the real compiler rejects, so
the tests also compile each kernel with ``numba.cuda.compile_ptx`` for the H100 (compute capability
9.0). That needs NVIDIA's NVVM compiler library (libNVVM + libdevice), not a GPU or a driver.

Reading the PTX is also how to check a kernel does what its docstring claims without running it::

    python -m minigan.kernels.cuda.ptx --cc 9.0 --out /tmp/ptx     # writes one .ptx per kernel

prints, per kernel, the FMAs in the compiled loop body, the shared and global loads, the barriers, the
atomics and the bytes of local memory (0 means the accumulators live in registers).

Where the toolchain comes from (``toolchain_problem()`` says what is missing):

- numba's built-in ``numba.cuda`` (numba 0.68, no numba-cuda installed) finds ``/usr/local/cuda``
  (libNVVM via the loader path, libdevice under ``nvvm/libdevice``): nothing to install where a CUDA
  toolkit is present.
- numba-cuda 0.30 (``pip install minigan[cuda12]``) also needs NVRTC and the CUDA runtime, which it finds
  in pip wheels by itself: ``pip install numba-cuda==0.30.4 "cuda-bindings>=12.9,<13"
  nvidia-cuda-nvcc-cu12 nvidia-cuda-nvrtc-cu12 nvidia-cuda-runtime-cu12`` (about 150 MB of wheels; no
  environment variables; works without /usr/local/cuda). With a CUDA 13 toolkit in /usr/local/cuda,
  adding ``nvidia-cuda-nvrtc`` (58 MB) is enough. Note: numba-cuda without any CUDA runtime library
  fails even to import its simulator.

One constraint this module enforces on the kernels: they call no other jitted function (no
``@cuda.jit(device=True)`` helpers, and no builtins such as ``min`` that numba implements by overload),
because compiling a callee asks the driver for the current GPU, which fails without one.
"""

from __future__ import annotations

import argparse
import re
import sys
from functools import cache
from pathlib import Path

import numpy as np

H100 = (9, 0)


def _cuda():
    from numba import cuda  # noqa: PLC0415

    if getattr(cuda, "compile_ptx", None) is None:
        raise RuntimeError(
            "compile_ptx is unavailable: the CUDA simulator is on (unset NUMBA_ENABLE_CUDASIM)"
        )
    return cuda


def kernels(dtype=np.float32):
    """``{name: (kernel, signature)}`` for every kernel at its default tiles, for ``dtype`` arrays."""
    from numba import from_dtype, int64, types  # noqa: PLC0415

    from . import conv, matmul  # noqa: PLC0415

    dtype = np.dtype(dtype)
    t = from_dtype(dtype)
    a3 = t[:, :, ::1]
    a4 = t[:, :, :, ::1]
    mm_sig = (a3, a3, a3)
    conv_sig = (a4, a4, a4, types.UniTuple(int64, 13), int64)
    return {
        "matmul_naive": (matmul.naive_kernel(dtype), mm_sig),
        "matmul_tiled": (matmul.tiled_kernel(32, dtype), mm_sig),
        "matmul_blocked": (matmul.blocked_kernel(matmul.Tiles(), dtype), mm_sig),
        "matmul_prefetch": (matmul.prefetch_kernel(matmul.Tiles(), dtype), mm_sig),
        "conv2d": (conv.conv_gemm_kernel(conv.FORWARD, conv.CONV_TILES, dtype), conv_sig),
        "conv2d_backward_input": (conv.conv_gemm_kernel(conv.GRAD_INPUT, conv.CONV_TILES, dtype), conv_sig),
        "conv2d_backward_weight": (conv.conv_gemm_kernel(conv.GRAD_WEIGHT, conv.CONV_TILES, dtype), conv_sig),
        "conv2d_backward_weight_splitk": (
            conv.conv_gemm_kernel(conv.GRAD_WEIGHT, conv.CONV_TILES, dtype, True),
            conv_sig,
        ),
    }


def compile_kernel(kernel, signature, cc=H100) -> str:
    """The PTX text of one kernel (a numba CUDA dispatcher) for compute capability ``cc``."""
    ptx, _ = _cuda().compile_ptx(kernel.py_func, signature, cc=cc)
    return ptx


def compile_all(cc=H100, dtype=np.float32) -> dict[str, str]:
    """``{name: ptx}`` for every kernel (compiled once per (cc, dtype) and process)."""
    return dict(_compile_all(tuple(cc), np.dtype(dtype).name))


@cache
def _compile_all(cc, dtype_name):
    return {name: compile_kernel(k, sig, cc) for name, (k, sig) in kernels(dtype_name).items()}


def toolchain_problem(cc=H100) -> str | None:
    """None when PTX can be compiled here, else a one-line reason (what is missing)."""
    try:
        cuda = _cuda()

        def probe(a):
            a[cuda.grid(1)] = 1.0

        from numba import float32  # noqa: PLC0415

        cuda.compile_ptx(probe, (float32[::1],), cc=cc)
    except Exception as err:  # NvvmSupportError, CudaSupportError, pathfinder's DynamicLibNotFoundError...
        lines = [s for s in str(err).splitlines() if s.strip()]
        return f"{type(err).__name__}: {lines[0] if lines else ''}"
    return None


def stats(ptx: str) -> dict[str, int]:
    """Instruction counts that say what a kernel does (static counts in the text, not executions)."""
    depot = re.search(r"__local_depot\d+\[(\d+)\]", ptx)
    return {
        "fma": len(re.findall(r"\bfma\.rn\.f(?:32|64)", ptx)),
        "ld.shared": len(re.findall(r"\bld\.shared\.", ptx)),
        "ld.global": len(re.findall(r"\bld\.global\.", ptx)),
        "st.global": len(re.findall(r"\bst\.global\.", ptx)),
        "atomics": len(re.findall(r"\b(?:atom|red)\.global\.", ptx)),
        "bar.sync": len(re.findall(r"\bbar\.sync\b", ptx)),
        "local_bytes": int(depot.group(1)) if depot else 0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cc", default="9.0", help="compute capability, e.g. 9.0 (H100) or 8.0 (A100)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--out", type=Path, help="folder to write <kernel>.ptx files into")
    args = parser.parse_args(argv)
    cc = tuple(int(v) for v in args.cc.split("."))
    problem = toolchain_problem(cc)
    if problem:
        print(f"cannot compile PTX here: {problem}", file=sys.stderr)
        return 1
    ptxs = compile_all(cc, args.dtype)
    names = list(stats("").keys())
    print(f"{'kernel':32s}" + "".join(f"{n:>12s}" for n in names))
    for name, ptx in ptxs.items():
        print(f"{name:32s}" + "".join(f"{v:12d}" for v in stats(ptx).values()))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}.ptx").write_text(ptx)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
