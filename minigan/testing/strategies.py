"""Hypothesis strategies for testing ops: shapes, arrays, tensors, matmul operands, index arrays. Chapter 02.

Property tests state a fact for *every* input of some kind ("the gradient of any broadcast product has
its operand's shape") and let hypothesis search for a counterexample. These strategies describe the kinds
of input an op meets:

- ``shapes`` / ``broadcastable_shapes`` / ``matmul_shapes``: small shapes, tuples of shapes that broadcast
  together, and operand shapes that ``matmul`` accepts (batched, broadcast and 1-D cases);
- ``arrays`` / ``tensors``: float64 by default, values in a bounded range, optionally kept ``margin`` away
  from kinks and poles (``avoid=(0.0,)``, ``min_abs``, ``positive=True``), pairwise distinct
  (``distinct=True``, for max/min without ties), and optionally **non-contiguous**: transposed, permuted,
  strided or reversed views whose values equal the contiguous draw (``layout=``);
- ``index_arrays``: integer index arrays valid for one axis of a shape (repeats and negatives included);
  ``basic_indices`` re-exports hypothesis' slices/ints/None/Ellipsis index strategy.

``as_layout(array, kind)`` is the deterministic helper behind ``layout=``: the same values in another
memory layout, with unused buffer slots filled with NaN so that an op reading the wrong memory shows it.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..autograd.tensor import Tensor

__all__ = [
    "LAYOUTS",
    "arrays",
    "as_layout",
    "basic_indices",
    "broadcastable_shapes",
    "floats",
    "index_arrays",
    "matmul_shapes",
    "shapes",
    "tensors",
]

LAYOUTS = ("transposed", "permuted", "strided", "reversed")


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Shapes (tuples of ints) with ``min_dims..max_dims`` axes, each of length ``min_side..max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
):
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules: align right; each axis equal
    or 1; missing leading axes allowed). The broadcast result has at most ``max_dims`` axes."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda bs: tuple(bs.input_shapes))


def matmul_shapes(min_side: int = 1, max_side: int = 4, max_batch_dims: int = 2, allow_1d: bool = True):
    """Pairs ``(shape_a, shape_b)`` valid for ``a @ b`` with torch.matmul semantics: 1-D @ 1-D (dot),
    1-D @ n-D (a vector times a batch of matrices), n-D @ 1-D, and n-D @ n-D with broadcast batch axes."""

    @st.composite
    def pairs(draw):
        n, k, m = (draw(st.integers(min_side, max_side)) for _ in range(3))
        a_vec = allow_1d and draw(st.booleans()) and draw(st.booleans())  # 1-D cases: about 1 in 4 each
        b_vec = allow_1d and draw(st.booleans()) and draw(st.booleans())
        batch_a, batch_b = draw(
            hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=max_batch_dims, max_side=3)
        ).input_shapes
        a = (k,) if a_vec else tuple(batch_a) + (n, k)
        b = (k,) if b_vec else tuple(batch_b) + (k, m)
        return a, b

    return pairs()


def floats(
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid=(),
    margin: float = 0.05,
    min_abs: float | None = None,
    positive: bool = False,
):
    """Finite floats in ``[min_value, max_value]`` at least ``margin`` away from every point in ``avoid``.

    ``min_abs=m`` keeps ``|x| >= m`` (same as ``avoid=(0.0,), margin=m``); ``positive=True`` keeps
    ``x >= margin`` (domains of log, sqrt, 1/x). Values inside a forbidden band are pushed to its edge, so
    the band's edges themselves are drawn often, which is what a kink test wants.
    """
    lo, hi, bands = _domain(min_value, max_value, avoid, margin, min_abs, positive)

    def push(x):
        for p, w in bands:
            if abs(x - p) < w:
                x = p + w if x >= p else p - w
        return x

    def ok(x):
        return _in_domain(x, lo, hi, bands)

    base = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return base.map(push).filter(ok) if bands else base


def _domain(min_value, max_value, avoid, margin, min_abs, positive):
    """(lo, hi, bands): the allowed range and the forbidden bands (centre, half-width)."""
    bands = [(float(p), float(margin)) for p in avoid]
    if min_abs is not None:
        bands.append((0.0, float(min_abs)))
    lo, hi = float(min_value), float(max_value)
    if positive:
        lo = max(lo, margin)
    if lo > hi:
        raise ValueError(f"floats: empty range [{lo}, {hi}]")
    return lo, hi, bands


def _in_domain(x, lo, hi, bands) -> bool:
    return lo <= x <= hi and all(abs(x - p) >= w for p, w in bands)


def arrays(
    shape=None,
    dtype=np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid=(),
    margin: float = 0.05,
    min_abs: float | None = None,
    positive: bool = False,
    distinct: bool = False,
    min_gap: float = 0.01,
    layout: str = "contiguous",
):
    """NumPy arrays of ``dtype`` (float64 by default) with values as ``floats(...)`` describes.

    shape: a tuple, or a strategy of tuples (default ``shapes()``).
    distinct: all values pairwise at least ``min_gap`` apart (max/min without ties; values lie on a grid
        of spacing ``min_gap``, so the range must hold enough grid points for the size).
    layout: "contiguous" (C order), "noncontiguous" (a transposed, permuted, strided or reversed view;
        guaranteed not C-contiguous whenever the array has two or more elements -- an array of one element
        is contiguous whatever its strides), "any" (either), or one of ``LAYOUTS``.
    """
    if layout not in ("contiguous", "noncontiguous", "any") + LAYOUTS:
        raise ValueError(f"arrays: unknown layout {layout!r}")
    shape_st = shapes() if shape is None else (st.just(tuple(shape)) if isinstance(shape, tuple) else shape)
    elements = floats(min_value, max_value, avoid, margin, min_abs, positive)
    if distinct:
        lo, hi, bands = _domain(min_value, max_value, avoid, margin, min_abs, positive)
        grid = st.integers(math.ceil(lo / min_gap), math.floor(hi / min_gap)).map(lambda k: k * min_gap)
        elements = grid.filter(lambda x: _in_domain(x, lo, hi, bands))

    @st.composite
    def build(draw):
        shp = draw(shape_st)
        a = draw(hnp.arrays(dtype, shp, elements=elements, unique=distinct))
        kind = layout
        if layout == "any":
            kind = draw(st.sampled_from(("contiguous",) + LAYOUTS))
        elif layout == "noncontiguous":
            kind = draw(st.sampled_from(LAYOUTS))
        if kind == "contiguous":
            return a
        axis = draw(st.integers(0, max(a.ndim - 1, 0)))
        perm = tuple(draw(st.permutations(range(a.ndim))))
        step = draw(st.integers(2, 3))
        b = as_layout(a, kind, axis=axis, perm=perm, step=step)
        if layout == "noncontiguous" and a.size > 1 and b.flags.c_contiguous:
            b = as_layout(a, "strided", axis=int(np.argmax(a.shape)), step=step)
        return b

    return build()


def tensors(*args, requires_grad: bool = False, **kwargs):
    """``arrays(...)`` wrapped as minigan Tensors without copying (so a non-contiguous layout is kept)."""
    return arrays(*args, **kwargs).map(lambda a: Tensor._wrap(a, requires_grad=requires_grad))


def index_arrays(shape, dim: int = 0, min_len: int = 0, max_len: int = 6, allow_negative: bool = True):
    """1-D int64 arrays of indices valid for axis ``dim`` of ``shape`` (``-n <= i < n`` with negatives
    allowed, else ``0 <= i < n``), repeats included -- the case where a gather's backward must accumulate."""
    n = shape[dim] if isinstance(shape, tuple) else int(shape)
    if n == 0:
        raise ValueError("index_arrays: an axis of length 0 has no valid index")
    lo = -n if allow_negative else 0
    return hnp.arrays(np.int64, st.integers(min_len, max_len), elements=st.integers(lo, n - 1))


def basic_indices(shape, allow_newaxis: bool = True, allow_ellipsis: bool = True):
    """Basic indices for ``shape``: ints, slices (with steps), None and Ellipsis (hypothesis' strategy)."""
    return hnp.basic_indices(shape, allow_newaxis=allow_newaxis, allow_ellipsis=allow_ellipsis)


def as_layout(a, kind: str, axis: int = 0, perm=None, step: int = 2):
    """An array equal to ``a`` (same shape and values) stored in another memory layout.

    kind: "transposed" (Fortran order), "permuted" (axes stored in order ``perm``), "strided" (every
    ``step``-th slot of a larger NaN-filled buffer along ``axis``), "reversed" (negative stride along
    ``axis``). Whether the result is C-contiguous depends on the shape (see ``arrays``).
    """
    xp = np
    if a.ndim == 0:
        return a
    axis = axis % a.ndim
    if kind == "transposed":
        return xp.ascontiguousarray(a.T).T
    if kind == "permuted":
        perm = tuple(perm) if perm is not None else tuple(reversed(range(a.ndim)))
        return xp.ascontiguousarray(a.transpose(perm)).transpose(np.argsort(perm))
    if kind == "strided":
        big = list(a.shape)
        big[axis] = a.shape[axis] * step
        buf = xp.full(big, np.nan if a.dtype.kind == "f" else 0, dtype=a.dtype)
        sl = [slice(None)] * a.ndim
        sl[axis] = slice(None, None, step)
        view = buf[tuple(sl)]
        view[...] = a
        return view
    if kind == "reversed":
        return xp.flip(xp.flip(a, axis).copy(), axis)
    raise ValueError(f"as_layout: unknown kind {kind!r}; expected one of {LAYOUTS}")
