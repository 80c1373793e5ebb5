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

from . import vendor
from .conv import conv2d, conv2d_backward_input, conv2d_backward_weight
from .matmul import Tiles, matmul_blocked, matmul_naive, matmul_prefetch, matmul_tiled

# ``kernels.dispatch._load_cuda`` registers these (and ``matmul.matmul``, ``vendor``) with the switch:
# that is the one place implementations are registered.

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
