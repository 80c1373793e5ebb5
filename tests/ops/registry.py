"""The op registry: one entry per differentiable op, driving every property test in tests/ops.

An entry names the op, calls it through minigan, gives a float64 NumPy reference, and says which inputs
to draw: a hypothesis strategy of ``Case(arrays, kwargs)``. ``arrays`` are the differentiable inputs
(float64, inside the op's valid domain: positive for log, away from the kinks of abs / relu / clamp, away
from ties for max, denominators away from 0); ``kwargs`` are everything else (dims, integer targets,
masks, indices, flags), passed to both the op and its reference. Shapes are kept to a few elements so the
whole suite (forward, gradcheck, gradgradcheck, layouts, float32) runs in well under two minutes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
import minigan.nn.functional as F
from minigan.distributed import LocalGroup
from minigan.nn.minibatch_std import minibatch_std
from minigan.nn.modulated_conv import modulated_conv2d
from minigan.nn.sync_batchnorm import sync_batch_norm
from minigan.ops.separable import axis_map
from minigan.testing import strategies as S


class Case(NamedTuple):
    arrays: tuple
    kwargs: dict


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable  # (*tensors, **kwargs) -> Tensor or tuple of Tensors
    ref: Callable  # (*float64 arrays, **kwargs) -> ndarray or tuple of ndarrays
    cases: Any  # strategy of Case
    domain: str = "all reals (bounded)"
    float32_tol: float = 2e-4
    op: str = ""  # the public minigan function this entry covers (default: name)

    def __post_init__(self):
        if not self.op:
            object.__setattr__(self, "op", self.name)

    def __repr__(self):
        return self.name


REGISTRY: list[OpSpec] = []


def register(name, fn, ref, cases, **kw):
    REGISTRY.append(OpSpec(name, fn, ref, cases, **kw))


# -- strategy helpers ------------------------------------------------------------------------------
def shp(min_dims=0, max_dims=3, min_side=1, max_side=3):
    return S.shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arr(shape=None, **kw):
    return S.arrays(shp() if shape is None else shape, **kw)


def unary(shape=None, kwargs=None, **elements):
    """Cases with one array input and kwargs drawn from ``kwargs`` (a dict of strategies)."""
    kw_st = st.fixed_dictionaries(kwargs or {})
    return st.tuples(arr(shape, **elements), kw_st).map(lambda p: Case((p[0],), p[1]))


@st.composite
def binary_broadcast(draw, a_el=None, b_el=None):
    sa, sb = draw(S.broadcastable_shapes(2, max_dims=3, max_side=3))
    return Case((draw(S.arrays(sa, **(a_el or {}))), draw(S.arrays(sb, **(b_el or {})))), {})


@st.composite
def separated_pair(draw, broadcast=True):
    """Two arrays whose values never come within 0.05 of each other: a on the grid k/10, b on k/10 + 0.05
    (for maximum / l1, whose derivative jumps where a == b)."""
    sa, sb = draw(S.broadcastable_shapes(2, max_dims=3, max_side=3)) if broadcast else (draw(shp()),) * 2
    grid = st.integers(-20, 20)
    a = draw(hnp.arrays(np.float64, sa, elements=grid.map(lambda k: k / 10)))
    b = draw(hnp.arrays(np.float64, sb, elements=grid.map(lambda k: k / 10 + 0.05)))
    return Case((a, b), {})


def dims(ndim, allow_tuple=True):
    """dim arguments for a reduction over a tensor of ``ndim`` axes: None, an int, or a non-empty tuple."""
    if ndim == 0:
        return st.sampled_from([None, 0, -1])
    options = [st.none(), st.integers(-ndim, ndim - 1)]
    if allow_tuple:
        options.append(st.sets(st.integers(0, ndim - 1), min_size=1).map(tuple))
    return st.one_of(*options)


def axes_of(dim, ndim):
    """NumPy axis for a minigan dim (0-d tensors accept dim 0 / -1 and reduce nothing)."""
    if dim is None or ndim == 0:
        return None if ndim else ()
    return dim


@st.composite
def reduction_case(draw, min_dims=0, min_side=1, **elements):
    shape = draw(shp(min_dims=min_dims, min_side=min_side))
    a = draw(S.arrays(shape, **elements))
    return Case((a,), {"dim": draw(dims(len(shape))), "keepdim": draw(st.booleans())})


def reduce_ref(np_fn):
    def ref(a, dim=None, keepdim=False, **kw):
        return np.asarray(np_fn(a, axis=axes_of(dim, a.ndim), keepdims=keepdim, **kw))

    return ref


REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def reduce_loss(loss, reduction):
    return {"mean": np.mean, "sum": np.sum}.get(reduction, lambda v: v)(loss)


# -- elementwise -----------------------------------------------------------------------------------
register("add", mg.add, np.add, binary_broadcast())
register("sub", mg.sub, np.subtract, binary_broadcast())
register("mul", mg.mul, np.multiply, binary_broadcast())
register("div", mg.div, np.divide, binary_broadcast(b_el={"min_abs": 0.5}), domain="|denominator| >= 0.5")
register("neg", mg.neg, np.negative, unary())
register(
    "pow",
    mg.pow,
    np.power,
    binary_broadcast(a_el={"min_value": 0.3, "positive": True}, b_el={"min_value": -2.0, "max_value": 2.0}),
    domain="base >= 0.3",
)
register(
    "pow_scalar",
    lambda x, c: x**c,
    lambda x, c: x**c,
    unary(kwargs={"c": st.sampled_from([2, 3, 0.5, -1.5, 0])}, min_value=0.3, positive=True),
    domain="base >= 0.3",
    op="pow",
)
register("exp", mg.exp, np.exp, unary())
register("log", mg.log, np.log, unary(positive=True, margin=0.1), domain="x >= 0.1")
register("sqrt", mg.sqrt, np.sqrt, unary(positive=True, margin=0.1), domain="x >= 0.1")
register("abs", mg.abs, np.abs, unary(min_abs=0.05), domain="|x| >= 0.05 (kink at 0)")
register(
    "clamp",
    lambda x, lo, hi: mg.clamp(x, lo, hi),
    lambda x, lo, hi: np.clip(x, lo, hi),
    unary(
        kwargs={"lo": st.sampled_from([-1.0, None, -0.5]), "hi": st.sampled_from([1.0, 0.5, None])},
        avoid=(-1.0, -0.5, 0.5, 1.0),
    ).filter(lambda c: c.kwargs["lo"] is not None or c.kwargs["hi"] is not None),
    domain="0.05 away from the bounds (kinks)",
)

# -- activations -----------------------------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _log_softmax(x, dim):
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


def _softmax_case(min_dims=1):
    @st.composite
    def case(draw):
        shape = draw(shp(min_dims=min_dims))
        return Case((draw(S.arrays(shape)),), {"dim": draw(st.integers(-len(shape), len(shape) - 1))})

    return case()


register("tanh", mg.tanh, np.tanh, unary())
register("sigmoid", mg.sigmoid, _sigmoid, unary(min_value=-6, max_value=6))
register("relu", mg.relu, lambda x: np.maximum(x, 0), unary(min_abs=0.05), domain="|x| >= 0.05")
register(
    "leaky_relu",
    lambda x, slope: mg.leaky_relu(x, slope),
    lambda x, slope: np.where(x > 0, x, slope * x),
    unary(kwargs={"slope": st.sampled_from([0.01, 0.2, 1.5])}, min_abs=0.05),
    domain="|x| >= 0.05",
)
register(
    "softplus",
    lambda x, beta: mg.softplus(x, beta=beta),
    lambda x, beta: np.log1p(np.exp(beta * x)) / beta,
    unary(kwargs={"beta": st.sampled_from([1.0, 0.5, 2.0])}),
)
register("logsigmoid", mg.logsigmoid, lambda x: -np.log1p(np.exp(-x)), unary(min_value=-6, max_value=6))
register(
    "softmax", mg.softmax, lambda x, dim: np.exp(_log_softmax(x, dim)), _softmax_case(), float32_tol=1e-3
)
register("log_softmax", mg.log_softmax, _log_softmax, _softmax_case(), float32_tol=1e-3)

# -- reductions ------------------------------------------------------------------------------------
register("sum", mg.sum, reduce_ref(np.sum), reduction_case())
register("mean", mg.mean, reduce_ref(np.mean), reduction_case())


@st.composite
def _var_case(draw):
    case = draw(reduction_case(min_dims=1, min_side=2, distinct=True))
    return Case(case.arrays, {**case.kwargs, "correction": draw(st.sampled_from([0, 1]))})


def _var_ref(a, dim=None, keepdim=False, correction=1):
    return np.asarray(np.var(a, axis=axes_of(dim, a.ndim), ddof=correction, keepdims=keepdim))


register(
    "var",
    lambda x, dim, keepdim, correction: mg.var(x, dim, keepdim=keepdim, correction=correction),
    _var_ref,
    _var_case(),
    float32_tol=1e-3,
)
register(
    "std",
    lambda x, dim, keepdim, correction: mg.std(x, dim, keepdim=keepdim, correction=correction),
    lambda a, **kw: np.sqrt(_var_ref(a, **kw)),
    _var_case(),
    domain="distinct values (std > 0)",
    float32_tol=1e-3,
)
register(
    "logsumexp",
    lambda x, dim=None, keepdim=False: mg.logsumexp(x, dim, keepdim),
    lambda a, dim=None, keepdim=False: np.log(np.sum(np.exp(a), axis=axes_of(dim, a.ndim), keepdims=keepdim)),
    reduction_case(min_dims=1),
)
register("amax", mg.amax, reduce_ref(np.max), reduction_case(distinct=True), domain="no ties")
register("amin", mg.amin, reduce_ref(np.min), reduction_case(distinct=True), domain="no ties")
register("max_all", lambda x: mg.max(x), np.max, unary(distinct=True), domain="no ties", op="max")
register("min_all", lambda x: x.min(), np.min, unary(distinct=True), domain="no ties", op="min")


@st.composite
def _dim_case(draw):
    shape = draw(shp())
    a = draw(S.arrays(shape, distinct=True))
    dim = draw(st.integers(-len(shape), len(shape) - 1)) if shape else draw(st.sampled_from([0, -1]))
    return Case((a,), {"dim": dim, "keepdim": draw(st.booleans())})


def _max_dim_ref(pick, arg):
    def ref(a, dim, keepdim):
        if a.ndim == 0:
            return a.copy(), np.asarray(0)
        return pick(a, axis=dim, keepdims=keepdim), arg(a, axis=dim, keepdims=keepdim)

    return ref


register("max_dim", mg.max, _max_dim_ref(np.max, np.argmax), _dim_case(), domain="no ties", op="max")
register("min_dim", mg.min, _max_dim_ref(np.min, np.argmin), _dim_case(), domain="no ties", op="min")
register("maximum", mg.maximum, np.maximum, separated_pair(), domain="a, b at least 0.05 apart")
register("minimum", mg.minimum, np.minimum, separated_pair(), domain="a, b at least 0.05 apart")

# -- shape -----------------------------------------------------------------------------------------


@st.composite
def _broadcast_case(draw):
    src, other = draw(S.broadcastable_shapes(2))
    return Case((draw(S.arrays(src)),), {"shape": np.broadcast_shapes(src, other)})


@st.composite
def _sum_to_case(draw):
    small, other = draw(S.broadcastable_shapes(2))
    return Case((draw(S.arrays(np.broadcast_shapes(small, other))),), {"shape": small})


def _sum_to_ref(a, shape):
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    return a.sum(axis=axes, keepdims=True).reshape(shape)


@st.composite
def _reshape_case(draw):
    shape = draw(shp())
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (-1,), (1, size), tuple(reversed(shape)), (size, 1, -1)]))
    return Case((draw(S.arrays(shape)),), {"shape": target})


@st.composite
def _permute_case(draw):
    shape = draw(shp())
    return Case((draw(S.arrays(shape)),), {"dims": tuple(draw(st.permutations(range(len(shape)))))})


@st.composite
def _transpose_case(draw):
    shape = draw(shp(min_dims=1))
    d = st.integers(-len(shape), len(shape) - 1)
    return Case((draw(S.arrays(shape)),), {"dim0": draw(d), "dim1": draw(d)})


def _transpose_ref(a, dim0, dim1):
    return np.swapaxes(a, dim0, dim1)


@st.composite
def _flatten_case(draw):
    shape = draw(shp())
    n = max(len(shape), 1)
    s, e = sorted(draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2)))
    return Case((draw(S.arrays(shape)),), {"start_dim": s - n * draw(st.booleans()), "end_dim": e})


def _flatten_ref(a, start_dim, end_dim):
    if a.ndim == 0:
        return a.reshape(1)
    s, e = start_dim % a.ndim, end_dim % a.ndim
    return a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1 :])


@st.composite
def _unsqueeze_case(draw):
    shape = draw(shp())
    return Case((draw(S.arrays(shape)),), {"dim": draw(st.integers(-len(shape) - 1, len(shape)))})


@st.composite
def _squeeze_case(draw):
    shape = draw(shp(min_side=1, max_side=2))
    dim = draw(st.none() | dims(len(shape)) if shape else st.none())
    return Case((draw(S.arrays(shape)),), {"dim": dim})


def _squeeze_ref(a, dim):
    if dim is None:
        return np.squeeze(a)
    axes = (dim,) if isinstance(dim, int) else dim
    axes = tuple(d % a.ndim for d in axes if a.shape[d] == 1)
    return np.squeeze(a, axis=axes)


@st.composite
def _expand_case(draw):
    shape = draw(shp(max_side=2))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    sizes = list(lead)
    for n in shape:
        sizes.append(draw(st.sampled_from([-1, 3] if n == 1 else [-1, n])))
    return Case((draw(S.arrays(shape)),), {"sizes": tuple(sizes)})


def _expand_ref(a, sizes):
    lead = len(sizes) - a.ndim
    target = tuple(a.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return np.broadcast_to(a, target)


register("broadcast_to", mg.broadcast_to, np.broadcast_to, _broadcast_case())
register("sum_to", mg.sum_to, _sum_to_ref, _sum_to_case())
register("reshape", lambda x, shape: mg.reshape(x, shape), lambda a, shape: a.reshape(shape), _reshape_case())
register("permute", lambda x, dims: x.permute(*dims), lambda a, dims: a.transpose(dims), _permute_case())
register("transpose", mg.transpose, _transpose_ref, _transpose_case())
register("flatten", mg.flatten, _flatten_ref, _flatten_case())
register("unsqueeze", mg.unsqueeze, lambda a, dim: np.expand_dims(a, dim % (a.ndim + 1)), _unsqueeze_case())
register("squeeze", mg.squeeze, _squeeze_ref, _squeeze_case())
register("expand", lambda x, sizes: x.expand(*sizes), _expand_ref, _expand_case())
register("clone", mg.clone, np.copy, unary())


def _norm_ref(a, p, dim=None, keepdim=False):
    axes = axes_of(dim, a.ndim)
    s = np.abs(a) ** p
    return np.sum(s, axis=axes, keepdims=keepdim) ** (1.0 / p)


@st.composite
def _norm_case(draw):
    (a,), kw = draw(reduction_case(min_dims=1, min_abs=0.1))
    return Case((a,), {**kw, "p": draw(st.sampled_from([1, 2, 3]))})


register(
    "norm",
    lambda x, p, dim=None, keepdim=False: mg.norm(x, p, dim, keepdim),
    _norm_ref,
    _norm_case(),
    domain="|x| >= 0.1 (|x| has a kink at 0)",
)

# -- indexing --------------------------------------------------------------------------------------


@st.composite
def _basic_index_case(draw):
    shape = draw(shp(min_dims=1))
    return Case((draw(S.arrays(shape)),), {"index": draw(S.basic_indices(shape))})


@st.composite
def _advanced_index_case(draw):
    shape = draw(shp(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    idx = draw(S.index_arrays(shape, dim=dim, min_len=1, max_len=5))
    index = (slice(None),) * dim + (idx,)
    if dim + 1 < len(shape) and draw(st.booleans()):  # a second array: paired (broadcast) indices
        index = index + (draw(S.index_arrays(shape, dim=dim + 1, min_len=len(idx), max_len=len(idx))),)
    return Case((draw(S.arrays(shape)),), {"index": index})


@st.composite
def _mask_index_case(draw):
    shape = draw(shp(min_dims=1))
    k = draw(st.integers(1, len(shape)))
    mask = draw(hnp.arrays(np.bool_, shape[:k]))
    index = mask if draw(st.booleans()) or k == len(shape) else (mask, slice(None, None, -1))
    return Case((draw(S.arrays(shape)),), {"index": index})


def _getitem(x, index):
    return x[index]


@st.composite
def _index_add_case(draw):
    shape = draw(shp(min_dims=1))
    idx = draw(S.index_arrays(shape, dim=0, min_len=1, max_len=5))
    g = draw(S.arrays(np.zeros(shape)[idx].shape))
    return Case((g,), {"index": idx, "shape": shape})


def _index_add_ref(g, index, shape):
    z = np.zeros(shape)
    np.add.at(z, index, g)
    return z


@st.composite
def _cat_case(draw):
    shape = draw(shp(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[dim] = draw(st.integers(1, 3))
        arrays.append(draw(S.arrays(tuple(s))))
    return Case(tuple(arrays), {"dim": dim})


@st.composite
def _stack_case(draw):
    shape = draw(shp(max_dims=2))
    n = draw(st.integers(1, 3))
    arrays = tuple(draw(S.arrays(shape)) for _ in range(n))
    return Case(arrays, {"dim": draw(st.integers(-len(shape) - 1, len(shape)))})


@st.composite
def _where_case(draw):
    sc, sa, sb = draw(S.broadcastable_shapes(3))
    cond = draw(hnp.arrays(np.bool_, sc))
    return Case((draw(S.arrays(sa)), draw(S.arrays(sb))), {"cond": cond})


register("getitem_basic", _getitem, _getitem, _basic_index_case(), domain="basic indices", op="getitem")
register("getitem_int_arrays", _getitem, _getitem, _advanced_index_case(), domain="repeats", op="getitem")
register("getitem_mask", _getitem, _getitem, _mask_index_case(), domain="boolean masks", op="getitem")
register("index_add_into", mg.index_add_into, _index_add_ref, _index_add_case())
register("cat", lambda *xs, dim: mg.cat(list(xs), dim), lambda *a, dim: np.concatenate(a, dim), _cat_case())
register("stack", lambda *xs, dim: mg.stack(list(xs), dim), lambda *a, dim: np.stack(a, dim), _stack_case())
register(
    "where", lambda a, b, cond: mg.where(cond, a, b), lambda a, b, cond: np.where(cond, a, b), _where_case()
)

# -- matmul ----------------------------------------------------------------------------------------


@st.composite
def _matmul_case(draw):
    sa, sb = draw(S.matmul_shapes(max_side=3, max_batch_dims=2))
    return Case((draw(S.arrays(sa)), draw(S.arrays(sb))), {})


register("matmul", lambda a, b: a @ b, np.matmul, _matmul_case(), float32_tol=1e-3)


def _weight_matrix(w, dim):
    return np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)


@st.composite
def _spectral_norm_case(draw):
    """A weight W (1-4 axes, |w| >= 0.1), the axis dim, and fixed u (h,), v (w,): one power-iteration step
    from the unit vector at W_mat's longest row, so sigma = u^T W_mat v = ||W_mat v|| >= that row's norm
    >= 0.1, well away from the pole of W / sigma."""
    w = draw(S.arrays(shp(min_dims=1, max_dims=4), min_abs=0.1))
    dim = draw(st.integers(0, w.ndim - 1))
    W_mat = _weight_matrix(w, dim)
    u0 = np.eye(W_mat.shape[0])[np.argmax(np.linalg.norm(W_mat, axis=1))]
    v = W_mat.T @ u0 / np.linalg.norm(W_mat.T @ u0)
    u = W_mat @ v / np.linalg.norm(W_mat @ v)
    return Case((w,), {"u": u, "v": v, "dim": dim})


register(
    "spectral_norm",
    lambda w, u, v, dim: mg.nn.utils.spectral_normalize(w, u, v, dim),
    lambda w, u, v, dim: w / (u @ _weight_matrix(w, dim) @ v),
    _spectral_norm_case(),
    domain="sigma = u^T W v >= 0.1",
    float32_tol=1e-3,
    op="spectral_normalize",
)

# -- losses ----------------------------------------------------------------------------------------


@st.composite
def _bce_logits_case(draw):
    shape = draw(shp(min_dims=1))
    x = draw(S.arrays(shape, min_value=-5, max_value=5))
    t = draw(S.arrays(shape, min_value=0.0, max_value=1.0))
    weight = draw(st.none() | S.arrays(shape[-1:], min_value=0.1, max_value=2.0))
    pos_weight = draw(st.none() | S.arrays(shape[-1:], min_value=0.1, max_value=3.0))
    kw = {"weight": weight, "pos_weight": pos_weight, "reduction": draw(REDUCTIONS)}
    return Case((x, t), kw)


def _bce_logits_ref(x, t, weight, pos_weight, reduction):
    p = _sigmoid(x)
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * t * np.log(p) + (1 - t) * np.log(1 - p))
    return reduce_loss(loss * (1.0 if weight is None else weight), reduction)


@st.composite
def _bce_case(draw):
    shape = draw(shp())
    p = draw(S.arrays(shape, min_value=0.05, max_value=0.95))
    t = draw(S.arrays(shape, min_value=0.0, max_value=1.0))
    weight = draw(st.none() | S.arrays(shape, min_value=0.1, max_value=2.0))
    return Case((p, t), {"weight": weight, "reduction": draw(REDUCTIONS)})


def _bce_ref(p, t, weight, reduction):
    loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    return reduce_loss(loss * (1.0 if weight is None else weight), reduction)


@st.composite
def _regression_case(draw):
    case = draw(separated_pair(broadcast=False))
    return Case(case.arrays, {"reduction": draw(REDUCTIONS)})


@st.composite
def _nll_case(draw, probabilities=False):
    n_classes = draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (2,), (3,), (2, 2)]))
    shape = (n_classes,) if batch == () else (batch[0], n_classes) + batch[1:]
    x = draw(S.arrays(shape))
    kw = {"reduction": draw(REDUCTIONS)}
    if probabilities:
        t = np.exp(_log_softmax(draw(S.arrays(shape)), 0 if batch == () else 1))
        return Case((x, t), kw)
    target = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, n_classes - 1)))
    if batch and draw(st.booleans()):  # some targets ignored
        target = np.where(draw(hnp.arrays(np.bool_, batch)), -100, target)
        if (target == -100).all():
            target.flat[0] = 0
    kw["target"] = target
    kw["weight"] = draw(st.none() | S.arrays((n_classes,), min_value=0.2, max_value=2.0))
    return Case((x,), kw)


def _nll_ref(log_p, target, weight, reduction, ignore_index=-100):
    class_axis = 0 if log_p.ndim == 1 else 1
    lp = np.moveaxis(log_p, class_axis, -1).reshape(-1, log_p.shape[class_axis])
    t = target.reshape(-1)
    w = np.ones(lp.shape[1]) if weight is None else weight
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    wn = w[safe] * keep
    losses = np.array([-lp[i, safe[i]] for i in range(len(t))]) * wn
    if reduction == "none":
        return losses.reshape(target.shape)
    return losses.sum() if reduction == "sum" else losses.sum() / wn.sum()


def _ce_prob_ref(x, t, reduction):
    class_axis = 0 if x.ndim == 1 else 1
    return reduce_loss(-(t * _log_softmax(x, class_axis)).sum(axis=class_axis), reduction)


register(
    "binary_cross_entropy_with_logits",
    mg.binary_cross_entropy_with_logits,
    _bce_logits_ref,
    _bce_logits_case(),
    float32_tol=1e-3,
)
register(
    "binary_cross_entropy",
    mg.binary_cross_entropy,
    _bce_ref,
    _bce_case(),
    domain="0.05 <= p <= 0.95",
    float32_tol=1e-3,
)
register(
    "mse_loss",
    mg.mse_loss,
    lambda x, t, reduction: reduce_loss((x - t) ** 2, reduction),
    _regression_case(),
)
register(
    "l1_loss",
    mg.l1_loss,
    lambda x, t, reduction: reduce_loss(np.abs(x - t), reduction),
    _regression_case(),
    domain="|x - t| >= 0.05",
)
register("nll_loss", mg.nll_loss, _nll_ref, _nll_case(), float32_tol=1e-3)
register(
    "cross_entropy",
    mg.cross_entropy,
    lambda x, **kw: _nll_ref(_log_softmax(x, 0 if x.ndim == 1 else 1), **kw),
    _nll_case(),
    float32_tol=1e-3,
)
register(
    "cross_entropy_probs",
    mg.cross_entropy,
    _ce_prob_ref,
    _nll_case(probabilities=True),
    float32_tol=1e-3,
    op="cross_entropy",
)


# -- image layers: pad, interpolate, pooling, instance norm (chapter 05) ----------------------------


def _quiet(fn):
    """fn with warnings silenced (mse / l1 broadcasting warns by design; the warning has its own test)."""

    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return call


def _image_shape(min_side=1, max_side=4):
    side = st.integers(min_side, max_side)
    return st.tuples(st.integers(1, 2), st.integers(1, 2), side, side)


@st.composite
def _pad_case(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate"]))
    shape = draw(_image_shape() if draw(st.booleans()) else _image_shape().map(lambda s: s[1:]))
    k = 2 if mode != "constant" and len(shape) == 4 else draw(st.sampled_from([1, 2]))  # PyTorch's rule
    pads = []
    for axis in range(len(shape) - 1, len(shape) - 1 - k, -1):
        n = shape[axis]
        if mode == "reflect":
            amount = st.integers(0, n - 1)
        elif mode == "replicate":
            amount = st.integers(0, 3)
        else:
            amount = st.integers(-min(n - 1, 1), 2)  # one negative amount at most: the axis keeps >= 1
        before = draw(amount)
        after = draw(amount if mode != "constant" or before >= 0 else st.integers(0, 2))
        pads += [before, after]
    value = draw(st.sampled_from([None, 0.0, 1.5])) if mode == "constant" else None
    return Case((draw(S.arrays(shape)),), {"pad": tuple(pads), "mode": mode, "value": value})


def _pad_ref(x, pad, mode, value):
    """Crop the negative amounts, then np.pad (whose 'reflect' and 'edge' are PyTorch's reflect and
    replicate) by the positive ones; ``pad`` lists the last axis first."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        axis, before, after = x.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        index = [slice(None)] * x.ndim
        index[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
        x = x[tuple(index)]
        widths[axis] = (max(before, 0), max(after, 0))
    if mode == "constant":
        return np.pad(x, widths, constant_values=0.0 if value is None else value)
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge"}[mode])


def _nearest_src(n_in, n_out, scale_factor, exact, shortcuts):
    j = np.arange(n_out)
    if shortcuts and n_out in (n_in, 2 * n_in):
        return j if n_out == n_in else j // 2
    s = np.float32(1.0 / scale_factor) if scale_factor else np.float32(np.float32(n_in) / np.float32(n_out))
    return np.minimum(np.floor((j.astype(np.float32) + np.float32(0.5 * exact)) * s).astype(int), n_in - 1)


def _linear_weights(n_in, n_out, align_corners, scale_factor):
    """(i0, i1, lambda) per output position, PyTorch's source index (float64)."""
    j = np.arange(n_out, dtype=np.float64)
    if n_in == n_out:
        src = j
    elif align_corners:
        src = j * ((n_in - 1) / (n_out - 1)) if n_out > 1 else 0 * j
    else:
        s = 1.0 / scale_factor if scale_factor else n_in / n_out
        src = np.maximum(s * (j + 0.5) - 0.5, 0.0)
    i0 = np.floor(src).astype(int)
    return i0, np.minimum(i0 + 1, n_in - 1), src - i0


@st.composite
def _interpolate_case(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "bilinear", "linear"]))
    shape = draw(_image_shape())
    if mode == "linear" or (mode != "bilinear" and draw(st.booleans())):
        shape = shape[:3]
    k = len(shape) - 2
    kw = {"mode": mode, "size": None, "scale_factor": None}
    if draw(st.booleans()):
        kw["size"] = tuple(draw(st.integers(1, 6)) for _ in range(k))
    else:
        factors = st.sampled_from([0.5, 0.75, 1.0, 1.3, 1.5, 2.0, 2.5])
        f = tuple(draw(factors) for _ in range(k))
        kw["scale_factor"] = tuple(max(fi, 1.0 / n) for fi, n in zip(f, shape[2:]))  # >= 1 output
    if mode in ("bilinear", "linear"):
        kw["align_corners"] = draw(st.booleans())
    return Case((draw(S.arrays(shape)),), kw)


def _interpolate_ref(x, mode, size, scale_factor, align_corners=None):
    k = x.ndim - 2
    y = x
    for i in range(k):
        axis, n_in = 2 + i, x.shape[2 + i]
        f = None if scale_factor is None else scale_factor[i]
        n_out = size[i] if size is not None else int(np.floor(n_in * f))
        if mode.startswith("nearest"):
            src = _nearest_src(n_in, n_out, f, mode == "nearest-exact", mode == "nearest" and x.ndim == 4)
            y = np.take(y, src, axis=axis)
        else:
            i0, i1, lam = _linear_weights(n_in, n_out, align_corners, f)
            shape = [1] * x.ndim
            shape[axis] = n_out
            lam = lam.reshape(shape)
            y = (1 - lam) * np.take(y, i0, axis=axis) + lam * np.take(y, i1, axis=axis)
    return y


@st.composite
def _pool_case(draw, distinct):
    shape = draw(_image_shape(max_side=5))
    kernel = tuple(draw(st.integers(1, min(3, n + 1))) for n in shape[2:])
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, kk // 2)) for kk in kernel)
    ceil_mode = draw(st.booleans())
    for n, kk, p in zip(shape[2:], kernel, padding):
        if n + 2 * p < kk:
            kernel = tuple(min(kk_, n_ + 2 * p_) for kk_, n_, p_ in zip(kernel, shape[2:], padding))
    kw = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    if draw(st.booleans()):
        shape = shape[1:]
    return Case((draw(S.arrays(shape, distinct=distinct, min_gap=0.05, min_value=-5, max_value=5)),), kw)


def _pool_windows(shape_hw, kernel_size, stride, padding, ceil_mode):
    """For each output (i, j): the clipped row range, column range and the padded-window sizes."""
    stride = kernel_size if stride is None else stride
    out = []
    for n, k, s, p in zip(shape_hw, kernel_size, stride, padding):
        count = (n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (count - 1) * s >= n + p:
            count -= 1
        starts = [i * s - p for i in range(count)]
        out.append([(max(a, 0), min(a + k, n), min(a + k, n + p) - a) for a in starts])
    return out


def _max_pool_ref(x, kernel_size, stride, padding, ceil_mode, return_indices=False):
    rows, cols = _pool_windows(x.shape[-2:], kernel_size, stride, padding, ceil_mode)
    y = np.empty(x.shape[:-2] + (len(rows), len(cols)))
    idx = np.empty(y.shape, dtype=np.int64)
    for i, (r0, r1, _) in enumerate(rows):
        for j, (c0, c1, _) in enumerate(cols):
            win = x[..., r0:r1, c0:c1].reshape(x.shape[:-2] + (-1,))
            k = win.argmax(axis=-1)
            y[..., i, j] = win.max(axis=-1)
            idx[..., i, j] = (r0 + k // (c1 - c0)) * x.shape[-1] + c0 + k % (c1 - c0)
    return (y, idx) if return_indices else y


@st.composite
def _avg_pool_case(draw):
    case = draw(_pool_case(distinct=False))
    kw = {**case.kwargs, "count_include_pad": draw(st.booleans())}
    kw["divisor_override"] = draw(st.sampled_from([None, None, 2, 5]))
    return Case(case.arrays, kw)


def _avg_pool_ref(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    rows, cols = _pool_windows(x.shape[-2:], kernel_size, stride, padding, ceil_mode)
    y = np.empty(x.shape[:-2] + (len(rows), len(cols)))
    for i, (r0, r1, rn) in enumerate(rows):
        for j, (c0, c1, cn) in enumerate(cols):
            total = x[..., r0:r1, c0:c1].sum(axis=(-2, -1))
            if divisor_override:
                y[..., i, j] = total / divisor_override
            else:
                y[..., i, j] = total / (rn * cn if count_include_pad else (r1 - r0) * (c1 - c0))
    return y


@st.composite
def _instance_norm_case(draw, affine):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(2,), (3,), (2, 2), (3, 2), (1, 4)]))
    x = draw(S.arrays((n, c) + spatial, distinct=True, min_gap=0.1))
    arrays = (x, draw(S.arrays((c,))), draw(S.arrays((c,)))) if affine else (x,)
    return Case(arrays, {"eps": draw(st.sampled_from([1e-5, 0.1]))})


def _instance_norm_ref(x, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    per_channel = (1, -1) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(per_channel) + bias.reshape(per_channel)
    return y


@st.composite
def _axis_map_case(draw):
    shape = draw(shp(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    matrix = draw(S.arrays((draw(st.integers(1, 4)), shape[axis])))
    return Case((draw(S.arrays(shape)),), {"matrix": matrix, "axis": axis})


def _axis_map_ref(x, matrix, axis):
    return np.moveaxis(np.tensordot(matrix, x, axes=(1, axis)), 0, axis)


@st.composite
def _broadcast_regression_case(draw):
    sa, sb = draw(S.broadcastable_shapes(2, max_dims=3, max_side=3))
    grid = st.integers(-20, 20)
    a = draw(hnp.arrays(np.float64, sa, elements=grid.map(lambda k: k / 10)))
    b = draw(hnp.arrays(np.float64, sb, elements=grid.map(lambda k: k / 10 + 0.05)))
    return Case((a, b), {"reduction": draw(REDUCTIONS)})


@st.composite
def _label_smoothing_case(draw, probabilities):
    case = draw(_nll_case(probabilities=probabilities))
    return Case(case.arrays, {**case.kwargs, "label_smoothing": draw(st.sampled_from([0.1, 0.5, 1.0]))})


def _ce_smoothing_ref(x, target, weight, reduction, label_smoothing):
    """(1 - eps) nll + eps / C * smooth, smooth = -sum_c w_c log p_c per element (ignored ones 0), "mean"
    over the same weight sum as the NLL term."""
    class_axis = 0 if x.ndim == 1 else 1
    log_p = _log_softmax(x, class_axis)
    nll = _nll_ref(log_p, target, weight, reduction)
    w = np.ones(x.shape[class_axis]) if weight is None else weight
    w_b = w.reshape((-1,) + (1,) * (x.ndim - class_axis - 1))
    keep = target != -100
    smooth = -(log_p * w_b).sum(axis=class_axis) * keep
    if reduction == "mean":
        smooth = smooth.sum() / (w[np.where(keep, target, 0)] * keep).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + label_smoothing / x.shape[class_axis] * smooth


def _ce_prob_smoothing_ref(x, t, reduction, label_smoothing):
    c = x.shape[0 if x.ndim == 1 else 1]
    return _ce_prob_ref(x, t * (1 - label_smoothing) + label_smoothing / c, reduction)


register("pad", F.pad, _pad_ref, _pad_case())
register("interpolate", F.interpolate, _interpolate_ref, _interpolate_case(), float32_tol=1e-3)
register(
    "max_pool2d",
    F.max_pool2d,
    _max_pool_ref,
    _pool_case(distinct=True),
    domain="values 0.05 apart (no ties)",
)
register(
    "max_pool2d_indices",
    lambda x, **kw: F.max_pool2d(x, **kw, return_indices=True),
    lambda x, **kw: _max_pool_ref(x, **kw, return_indices=True),
    _pool_case(distinct=True),
    domain="values 0.05 apart (no ties)",
    op="max_pool2d",
)
register("avg_pool2d", F.avg_pool2d, _avg_pool_ref, _avg_pool_case())
register(
    "instance_norm",
    lambda x, eps: F.instance_norm(x, eps=eps),
    _instance_norm_ref,
    _instance_norm_case(affine=False),
    domain="values 0.1 apart (variance > 0)",
    float32_tol=2e-3,
)
register(
    "instance_norm_affine",
    lambda x, w, b, eps: F.instance_norm(x, weight=w, bias=b, eps=eps),
    _instance_norm_ref,
    _instance_norm_case(affine=True),
    domain="values 0.1 apart (variance > 0)",
    float32_tol=2e-3,
    op="instance_norm",
)
register("axis_map", axis_map, _axis_map_ref, _axis_map_case(), float32_tol=1e-3)
register(
    "mse_loss_broadcast",
    _quiet(mg.mse_loss),
    lambda x, t, reduction: reduce_loss((x - t) ** 2, reduction),
    _broadcast_regression_case(),
    op="mse_loss",
)
register(
    "l1_loss_broadcast",
    _quiet(mg.l1_loss),
    lambda x, t, reduction: reduce_loss(np.abs(x - t), reduction),
    _broadcast_regression_case(),
    domain="|x - t| >= 0.05",
    op="l1_loss",
)
register(
    "cross_entropy_label_smoothing",
    mg.cross_entropy,
    _ce_smoothing_ref,
    _label_smoothing_case(probabilities=False),
    float32_tol=1e-3,
    op="cross_entropy",
)
register(
    "cross_entropy_probs_label_smoothing",
    mg.cross_entropy,
    _ce_prob_smoothing_ref,
    _label_smoothing_case(probabilities=True),
    float32_tol=1e-3,
    op="cross_entropy",
)


@st.composite
def _minibatch_std_case(draw):
    """N samples split into groups of G = min(group_size, N) that divide N; (N, C) or (N, C, H, W)."""
    n = draw(st.integers(1, 6))
    group_size = draw(st.sampled_from([g for g in range(1, 8) if n % min(g, n) == 0]))
    c = draw(st.integers(1, 4))
    num_channels = draw(st.sampled_from([f for f in range(1, c + 1) if c % f == 0]))
    shape = (n, c) + draw(st.sampled_from([(), (2,), (1, 2), (2, 2)]))
    x = draw(S.arrays(shape, distinct=True, min_gap=0.1))  # std > 0: sqrt away from its steep start
    return Case((x,), {"group_size": group_size, "num_channels": num_channels})


def _minibatch_std_ref(x, group_size, num_channels):
    """Sample i's group is every M-th sample from i % M (M = N / G); its std maps appended after x[i]."""
    n = x.shape[0]
    m = n // min(group_size, n)
    out = []
    for i in range(n):
        std = np.sqrt(x[i % m :: m].var(axis=0) + 1e-8)  # (C, ...) over the group
        s = std.reshape(num_channels, -1).mean(axis=1)
        maps = np.broadcast_to(s.reshape((-1,) + (1,) * (x.ndim - 2)), (num_channels,) + x.shape[2:])
        out.append(np.concatenate([x[i], maps]))
    return np.stack(out)


register(
    "minibatch_std",
    minibatch_std,
    _minibatch_std_ref,
    _minibatch_std_case(),
    domain="values 0.1 apart (group std > 0)",
    float32_tol=1e-3,
)


@st.composite
def _modulated_conv_case(draw):
    """x (N, I, H, W), weight (O, I, k, k), styles (N, I) near 1 (StyleGAN's s = A(w) + 1), k in {1, 3}."""
    n, i, o = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.sampled_from([1, 3]))
    side = draw(st.integers(k, 4))
    x = draw(S.arrays((n, i, side, side)))
    w = draw(S.arrays((o, i, k, k), min_value=-1.0, max_value=1.0, min_abs=0.2))
    s = draw(S.arrays((n, i), min_value=0.5, max_value=1.5))
    return Case((x, w, s), {"demodulate": draw(st.booleans()), "padding": draw(st.sampled_from([0, k // 2]))})


def _modulated_conv_ref(x, w, s, demodulate, padding):
    """By the definition: sample n is convolved with its own weights d[n, o] * s[n, i] * w[o, i]."""
    out = []
    for xn, sn in zip(x, s):
        wn = w * sn[None, :, None, None]
        if demodulate:
            wn = wn / np.sqrt((wn**2).sum(axis=(1, 2, 3), keepdims=True) + 1e-8)
        xp = np.pad(xn, ((0, 0), (padding, padding), (padding, padding)))
        k = w.shape[2]
        ho, wo = xp.shape[1] - k + 1, xp.shape[2] - k + 1
        yn = np.zeros((w.shape[0], ho, wo))
        for a in range(ho):
            for b in range(wo):
                yn[:, a, b] = np.einsum("cij,ocij->o", xp[:, a : a + k, b : b + k], wn)
        out.append(yn)
    return np.stack(out)


register(
    "modulated_conv2d",
    modulated_conv2d,
    _modulated_conv_ref,
    _modulated_conv_case(),
    domain="styles in [0.5, 1.5] (s = A(w) + 1), weights 0.2 <= |w| <= 1",
    float32_tol=1e-3,
)


@st.composite
def _sync_batch_norm_case(draw):
    """x (N, C) or (N, C, H, W) with values spread per channel (variance well above 0), gamma, beta."""
    shape = draw(st.sampled_from([(3, 2), (2, 2, 2, 2), (4, 1), (2, 3, 1, 2)]))
    x = draw(S.arrays(shape)) + np.arange(int(np.prod(shape))).reshape(shape) % 3  # spread: var > 0
    c = shape[1]
    return Case((x, draw(S.arrays((c,), min_value=0.5, max_value=1.5)), draw(S.arrays((c,)))), {})


def _batch_norm_ref(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


register(
    "sync_batch_norm",
    lambda x, w, b: sync_batch_norm(x, None, None, w, b, 0.1, 1e-5, LocalGroup()),
    _batch_norm_ref,
    _sync_batch_norm_case(),
    domain="per-channel variance well above 0; one rank (its collectives are identities)",
    float32_tol=1e-3,
)

BY_NAME = {spec.name: spec for spec in REGISTRY}
assert len(BY_NAME) == len(REGISTRY), "duplicate registry names"
