"""CPU kernels in Numba: the matmul ladder (``matmul.py``, chapter 03) and the convolutions (``conv.py``,
chapter 04)."""
