"""Hand-written CUDA kernels in numba-cuda: matmul ladder and implicit-GEMM convolution (chapters 03-04).

Importing this package imports ``numba.cuda`` (no GPU is touched until a kernel runs), so
``minigan.kernels`` imports it only when a CuPy array arrives. Modules:

- ``matmul``  naive -> shared-memory tiled -> register-blocked -> double-buffered SGEMM kernels;
- ``conv``    forward, input-gradient and weight-gradient convolution as one implicit-GEMM kernel;
- ``vendor``  the baseline: im2col + cuBLAS (CuPy), and ``cupy.matmul``;
- ``ptx``     compiles every kernel to PTX for a chosen GPU without needing one;
- ``bench``   timings against cuBLAS / cuDNN on a real GPU (imported only when asked for).

All kernels also run under the Numba CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) on NumPy arrays, which
is how they are tested on machines without a GPU.
"""

from .. import dispatch
from . import vendor
from .conv import conv2d, conv2d_backward_input, conv2d_backward_weight
from .matmul import Tiles, matmul_blocked, matmul_naive, matmul_prefetch, matmul_tiled
from .matmul import matmul as _matmul

# Registered explicitly: ``kernels.cuda.matmul`` is the module, so dispatch's getattr(cuda, "matmul")
# would find the module rather than the function.
for _op, _kernels, _vendor in (
    ("matmul", _matmul, vendor.matmul),
    ("conv2d", conv2d, vendor.conv2d),
    ("conv2d_backward_input", conv2d_backward_input, vendor.conv2d_backward_input),
    ("conv2d_backward_weight", conv2d_backward_weight, vendor.conv2d_backward_weight),
):
    dispatch.register(_op, "cuda", "kernels", _kernels)
    dispatch.register(_op, "cuda", "vendor", _vendor)

__all__ = [
    "Tiles",
    "conv2d",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "matmul_blocked",
    "matmul_naive",
    "matmul_prefetch",
    "matmul_tiled",
]
