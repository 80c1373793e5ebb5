"""Resizing: ``interpolate(x, size, scale_factor, mode, align_corners)``, PyTorch's ``F.interpolate``.

Chapter 05 (the layers of image-to-image GANs). x is (N, C, L), (N, C, H, W) or (N, C, D, H, W); each
spatial axis of length n_in is resized to n_out = size, or floor(n_in * scale_factor), on its own, by a
matrix (``separable.py``): output position j reads input position(s) computed from j by PyTorch's formulas.

nearest, with s = 1 / scale_factor if one was given, else n_in / n_out (in float32, as PyTorch computes
it), so scale_factor=1.3 on a length-3 axis gives the 3 outputs [x0, x0, x1]:

    src(j) = min(floor(j * s), n_in - 1)                      ("nearest-exact": floor((j + 0.5) s))

except that, as in PyTorch's kernel for 4-D input, mode "nearest" on a 4-D input copies an axis whose
length does not change and maps j to j // 2 on an axis whose length doubles, whatever the scale factor.

linear / bilinear / trilinear, one axis at a time (bilinear is linear along H times linear along W); an
axis whose length does not change is copied, as PyTorch does:

    align_corners=True:   src(j) = j (n_in - 1) / (n_out - 1)        (0 when n_out == 1)
    align_corners=False:  src(j) = max(s (j + 0.5) - 0.5, 0)          (pixel centres line up)
    i0 = floor(src), i1 = min(i0 + 1, n_in - 1), lambda = src - i0:
    y[j] = (1 - lambda) x[i0] + lambda x[i1]

With align_corners=True the corner pixels of input and output coincide; with False (the default) the
pixel *areas* do, so the output does not depend on where an image's corners happen to fall.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor, as_tensor
from .separable import axis_map

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", *_LINEAR)


def _scale(n_in: int, n_out: int, scale_factor, dtype) -> float:
    """PyTorch's s: 1 / scale_factor when one is used, else n_in / n_out, rounded to ``dtype``."""
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(dtype(n_in) / dtype(n_out))


def nearest_matrix(
    n_in: int, n_out: int, scale_factor=None, exact: bool = False, shortcuts: bool = False
) -> np.ndarray:
    """(n_out, n_in) 0/1 matrix: row j has its 1 in column src(j). ``shortcuts``: n_out == n_in copies
    and n_out == 2 n_in gives j // 2, whatever the scale factor (PyTorch's 2-D nearest kernel does)."""
    j = np.arange(n_out)
    if shortcuts and n_out == n_in:
        src = j
    elif shortcuts and n_out == 2 * n_in:
        src = j // 2
    else:
        s = _scale(n_in, n_out, scale_factor, np.float32)  # PyTorch computes nearest indices in float32
        offset = np.float32(0.5) if exact else np.float32(0.0)
        src = np.minimum(np.floor((j.astype(np.float32) + offset) * s).astype(np.int64), n_in - 1)
    a = np.zeros((n_out, n_in))
    a[j, src] = 1.0
    return a


def linear_matrix(n_in: int, n_out: int, align_corners: bool, scale_factor=None, dtype=np.float64):
    """(n_out, n_in) matrix of linear interpolation: row j holds 1 - lambda at i0 and lambda at i1."""
    if n_in == n_out:  # PyTorch copies an axis whose length does not change, whatever the scale factor
        return np.eye(n_in)
    j = np.arange(n_out).astype(dtype)
    if align_corners:
        s = dtype(n_in - 1) / dtype(n_out - 1) if n_out > 1 else dtype(0)
        src = s * j
    else:
        s = _scale(n_in, n_out, scale_factor, dtype)
        src = np.maximum(s * (j + dtype(0.5)) - dtype(0.5), dtype(0))
    i0 = src.astype(np.int64)  # src >= 0, so truncation is floor
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = np.clip(src - i0, 0, 1).astype(np.float64)
    a = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(a, (rows, i0), 1.0 - lam)
    np.add.at(a, (rows, i1), lam)
    return a


def _per_axis(value, k: int, name: str):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * k
    if len(values) != k:
        raise ValueError(
            f"interpolate: {name} {value!r} has {len(values)} entries, but the input has {k} spatial "
            "dimensions"
        )
    return values


def _output_size(x, size, scale_factor, recompute_scale_factor):
    """(n_out per spatial axis, scale factors used for the source index or None per axis)."""
    k = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        out = _per_axis(size, k, "size")
        if not all(isinstance(n, (int, np.integer)) and n > 0 for n in out):
            raise ValueError(f"interpolate: size must be positive ints, got {size!r}")
        return tuple(int(n) for n in out), (None,) * k
    factors = _per_axis(scale_factor, k, "scale_factor")
    if not all(isinstance(f, (int, float, np.number)) and f > 0 for f in factors):
        raise ValueError(f"interpolate: scale_factor must be positive numbers, got {scale_factor!r}")
    out = tuple(math.floor(float(n) * float(f)) for n, f in zip(x.shape[2:], factors))
    if not all(n > 0 for n in out):
        raise ValueError(
            f"interpolate: scale_factor {scale_factor!r} gives an empty output {out} for input {x.shape}"
        )
    used = (None,) * k if recompute_scale_factor else tuple(float(f) for f in factors)
    return out, used


def interpolate(
    input,  # noqa: A002 - PyTorch's argument name
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias: bool = False,
) -> Tensor:
    """PyTorch's ``F.interpolate``: resize the spatial dimensions of x (N, C, *spatial).

    size: int or one int per spatial axis; scale_factor: number or one per axis (exactly one of the two).
    mode: "nearest" / "nearest-exact" (3-D to 5-D input), "linear" (3-D), "bilinear" (4-D),
    "trilinear" (5-D). align_corners: only for the linear modes (None means False).
    recompute_scale_factor=True uses scale_factor only for the output size and n_in / n_out for the
    source index. Output (N, C, *size). Twice differentiable (a linear map of x).
    """
    x = as_tensor(input)
    if mode not in _MODES:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not implemented; use one of {', '.join(map(repr, _MODES))}"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if x.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating-point input, got dtype {x.dtype}")
    if mode in _LINEAR:
        if x.ndim != _LINEAR[mode]:
            raise NotImplementedError(
                f"interpolate: got {x.ndim}-D input, but {mode} mode needs {_LINEAR[mode]}-D input"
            )
    elif align_corners is not None:
        raise ValueError(
            "interpolate: align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | trilinear"
        )
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, ...), got shape {x.shape}")
    out, factors = _output_size(x, size, scale_factor, recompute_scale_factor)
    dtype = np.float32 if x.dtype == np.float32 else np.float64  # PyTorch's opmath type for the weights
    y = x
    for axis, n_in, n_out, f in zip(range(2, x.ndim), x.shape[2:], out, factors):
        if mode in _LINEAR:
            a = linear_matrix(n_in, n_out, bool(align_corners), f, dtype)
        else:
            a = nearest_matrix(
                n_in, n_out, f, mode == "nearest-exact", shortcuts=mode == "nearest" and x.ndim == 4
            )
        y = axis_map(y, a, axis)
    return y
