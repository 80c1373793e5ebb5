"""``minigan.backends.cuda``: PyTorch's ``torch.backends.cuda.matmul.allow_tf32``, kept but doing nothing.
Chapter 01 (devices); the matmul kernels are chapter 03's.

In PyTorch, ``matmul.allow_tf32 = True`` lets cuBLAS round float32 matmul inputs to TF32 on Ampere and
newer GPUs (default False). minigan's GPU matmuls are its own kernels, which compute in full float32, or
``cupy.matmul``, whose TF32 use is CuPy's own setting (the environment variable ``CUPY_TF32=1``, read by
CuPy once; see ``kernels/cuda/bench.py``), so this switch changes nothing. It must be True or False;
``matmul`` has no other setting (setting another name raises).
"""

from __future__ import annotations

from .switches import Switches


class _MatmulSwitches(Switches):
    __slots__ = ("allow_tf32",)
    _switches = ("allow_tf32",)
    _where = "minigan.backends.cuda.matmul"


matmul = _MatmulSwitches(allow_tf32=False)
