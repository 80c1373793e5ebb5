"""Hand-written matmul and convolution kernels, arrays in and arrays out (chapters 03 and 04).

This folder is installed as ``minigan.kernels`` (see setup.py) and never imports minigan: it works on
NumPy arrays (Numba kernels in ``cpu/``) and CuPy arrays (numba-cuda kernels in ``cuda/``, imported only
when a CuPy array arrives). Layout:

    reference.py   the readable NumPy definitions every kernel is tested against
    cpu/matmul.py  the CPU matmul ladder: naive -> loop order -> parallel -> packed + register-tiled
    cpu/conv.py    CPU convolutions: direct loops, per-image im2col + GEMM, im2col + BLAS
    cpu/conv_packed.py  the default CPU convolutions: NHWC panels, sub-pixel input gradient,
                   one batch-level weight-gradient GEMM (chapter 04, section 6)
    cpu/batchnorm.py  fused batch-norm training kernels (used by minigan.ops.normalization)
    cuda/          the GPU kernels (same signatures)
    dispatch.py    which implementation runs: "reference", "kernels" or "vendor", per device
    bench.py       ``python -m minigan.kernels.bench`` (or ``minigan bench``): timings vs BLAS / PyTorch

The functions below are those of ``dispatch``: they pick the implementation by device and by
``use(impl)`` / ``set_default``.
"""

import os

# Numba's OpenMP threads busy-wait between parallel regions by default. Next to OpenBLAS's own threads
# (every NumPy matmul) on a 2-core machine, that turned a 0.15 ms kernel call made right after a BLAS
# call into 140 ms (kernels/RESULTS.md). Passive waiting avoids it; set OMP_WAIT_POLICY to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed memory instead of handing it back to the kernel.

    By default glibc serves allocations of more than ~128 KiB-32 MiB with fresh mmap pages and trims the
    heap when much of it is free, so every multi-MB activation or gradient array of a training step
    starts as untouched pages that the kernel faults in and zeroes one by one. Measured on the DCGAN-MNIST
    iteration: 16 000 page faults and 28 ms of system time per iteration (of ~200 ms), a batch-norm forward
    pass of 5.9 ms instead of 0.9 ms (kernels/RESULTS.md). With a high mmap threshold and trim threshold
    the freed blocks are reused: page faults drop to ~50 per iteration; the peak resident memory is
    unchanged (memory already used stays with the process, as in PyTorch's CPU caching). Linux/glibc only;
    ``MINIGAN_KEEP_FREED_MEMORY=0`` turns it off. Returns whether it was applied.
    """
    if os.environ.get("MINIGAN_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        import ctypes  # noqa: PLC0415

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, 1 << 30))


KEEP_FREED_MEMORY = _keep_freed_memory()
"""Whether glibc's malloc was told to keep freed memory for reuse (see ``_keep_freed_memory``)."""

if __name__ != "minigan.kernels":  # e.g. `import kernels` from the repository root
    # Numba's on-disk cache records the module name, so one folder must have one name.
    raise ImportError(f"import this package as minigan.kernels (pip install -e .), not as {__name__!r}")

from .dispatch import (  # noqa: E402
    DEFAULTS,
    IMPLEMENTATIONS,
    IMPLS,
    OPS,
    conv2d,
    conv2d_backward_input,
    conv2d_backward_weight,
    conv_transpose2d,
    current,
    implementation,
    matmul,
    register,
    set_default,
    use,
)

__all__ = [
    "DEFAULTS",
    "IMPLEMENTATIONS",
    "IMPLS",
    "OPS",
    "conv2d",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "conv_transpose2d",
    "current",
    "implementation",
    "matmul",
    "register",
    "set_default",
    "use",
]
