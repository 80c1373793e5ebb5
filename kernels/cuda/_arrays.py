"""Host-side helpers shared by the CUDA kernels: which kind of array arrived, and where to put the result.

Chapter 03 (matmul kernels) uses them. A numba-cuda kernel accepts three kinds of arrays, and the host
wrappers return a result of the kind they were given:

- a CuPy array (the normal case on a GPU): passed to the kernel without a copy through
  ``__cuda_array_interface__``; the result is a CuPy array;
- a numba device array (``numba.cuda.to_device``; under the CUDA simulator, a ``FakeCUDAArray``);
- a NumPy array: numba copies it to the GPU and back around the launch (under the simulator it is used
  in place). Fine for tests, slow on a real GPU.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def kind(a) -> str:
    """'cupy', 'numba' (a numba device array, real or simulated) or 'numpy'."""
    if type(a).__module__.startswith("cupy"):
        return "cupy"
    if hasattr(a, "copy_to_host"):
        return "numba"
    return "numpy"


def _cupy():
    import cupy  # noqa: PLC0415 - only reached with a CuPy array in hand

    return cupy


def contiguous(a):
    """``a`` as a C-contiguous array of the same kind (a copy only when it is not already)."""
    k = kind(a)
    if k == "cupy":
        return _cupy().ascontiguousarray(a)
    if k == "numba":
        if not a.is_c_contiguous():
            raise ValueError("numba device arrays passed to minigan kernels must be C-contiguous")
        return a
    return np.ascontiguousarray(a)


def empty(like, shape, dtype):
    """An uninitialised array of ``shape`` on the same kind of memory as ``like``."""
    k = kind(like)
    if k == "cupy":
        return _cupy().empty(shape, dtype=dtype)
    if k == "numba":
        from numba import cuda  # noqa: PLC0415

        return cuda.device_array(shape, dtype=dtype)
    return np.empty(shape, dtype=dtype)


def zeros(like, shape, dtype):
    """A zero-filled array of ``shape`` on the same kind of memory as ``like`` (atomic-add targets)."""
    k = kind(like)
    if k == "cupy":
        return _cupy().zeros(shape, dtype=dtype)
    if k == "numba":
        from numba import cuda  # noqa: PLC0415

        return cuda.to_device(np.zeros(shape, dtype=dtype))
    return np.zeros(shape, dtype=dtype)


def check_float_pair(name, a, b):
    """The common dtype of ``a`` and ``b``; a TypeError naming ``name`` unless both are float32 or float64."""
    da, db = np.dtype(a.dtype), np.dtype(b.dtype)
    if da != db or da not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected two float32 or two float64 arrays, got {da} and {db}")
    if kind(a) != kind(b):
        raise TypeError(
            f"{name}: both arrays must live on the same device, got {kind(a)} and {kind(b)} arrays"
        )
    return da


def promote(name, *arrays):
    """The arrays in their common float dtype (float32 or float64), as NumPy's type promotion picks it;
    a TypeError naming ``name`` and the dtypes when that is not float32/float64 (ints, float16)."""
    kinds = {kind(a) for a in arrays}
    if len(kinds) > 1:
        raise TypeError(f"{name}: the arrays must live on one device, got {sorted(kinds)} arrays")
    dtype = np.result_type(*(np.dtype(a.dtype) for a in arrays))
    if dtype not in FLOAT_DTYPES:
        got = ", ".join(str(np.dtype(a.dtype)) for a in arrays)
        raise TypeError(f"{name}: the CUDA kernels compute in float32 or float64, got {got}")
    out = []
    for a in arrays:
        if np.dtype(a.dtype) != dtype:
            if kind(a) == "numba":
                raise TypeError(f"{name}: numba device arrays must already share one dtype")
            a = a.astype(dtype)
        out.append(a)
    return out


def cdiv(n: int, d: int) -> int:
    """ceil(n / d) for positive integers: how many tiles of size d cover n."""
    return -(-n // d)
