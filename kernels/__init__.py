"""Hand-written matmul and convolution kernels, arrays in and arrays out (chapters 03 and 04).

This folder is installed as ``minigan.kernels`` (see setup.py) and never imports minigan: it works on
NumPy arrays (Numba kernels in ``cpu/``) and CuPy arrays (numba-cuda kernels in ``cuda/``, imported only
when a CuPy array arrives). Layout:

    reference.py   the readable NumPy definitions every kernel is tested against
    cpu/matmul.py  the CPU matmul ladder: naive -> loop order -> parallel -> packed + register-tiled
    cpu/conv.py    CPU convolutions: direct loops, im2col + GEMM (hand-written), im2col + BLAS
    cuda/          the GPU kernels (same signatures)
    dispatch.py    which implementation runs: "reference", "kernels" or "vendor", per device
    bench.py       ``python -m minigan.kernels.bench`` (or ``minigan bench``): timings vs BLAS / PyTorch

The functions below are those of ``dispatch``: they pick the implementation by device and by
``use(impl)`` / ``set_default``.
"""

from .dispatch import (
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
