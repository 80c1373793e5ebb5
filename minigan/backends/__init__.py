"""``minigan.backends``: PyTorch's ``torch.backends`` switches, accepted and documented to do nothing.
Chapter 01 (devices); the kernels they would tune are chapters 03-04's.

GAN scripts written for PyTorch set a few of them before training, and run unchanged here:

    import minigan.backends.cudnn as cudnn
    cudnn.benchmark = True                          # cudnn.py: benchmark, deterministic, enabled, allow_tf32
    minigan.backends.cuda.matmul.allow_tf32 = True  # cuda.py

They select among cuDNN / cuBLAS algorithms in PyTorch. minigan never calls cuDNN (its convolutions are
its own kernels, or im2col + a matmul; ``kernels/dispatch.py``) and does not set cuBLAS's math mode, so
there is nothing for them to select: each is a plain attribute that keeps what you set, checked to be
True or False, and a name that is not one of them raises (a typo does not pass silently). Not to be
confused with ``minigan/backend.py`` (singular), which says whether an array lives on NumPy or CuPy.
"""

from . import cuda, cudnn

__all__ = ["cuda", "cudnn"]
