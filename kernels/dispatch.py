"""Which implementation computes a matmul, a convolution or a batch norm: one documented switch (chapters
03-05).

Every operation has up to three implementations per device:

    "reference"  the readable NumPy definition (``kernels/reference.py``; on CuPy arrays it runs on the GPU).
    "kernels"    the hand-written kernels: Numba on the CPU (``kernels/cpu/``; convolutions from
                 ``cpu/conv_packed.py``, batch norm from ``cpu/batchnorm.py``), numba-cuda on the GPU
                 (``kernels/cuda/``: matmul and the convolutions; there is no CUDA batch-norm kernel).
    "vendor"     the vendor library doing the arithmetic: NumPy's BLAS (OpenBLAS) on the CPU, with the
                 convolutions as Numba im2col/col2im + BLAS; cuBLAS through CuPy on the GPU. Batch norm has
                 no vendor library here: its "vendor" is the array formula of "reference" (NumPy / CuPy).

The device is read off the arrays (NumPy -> "cpu", CuPy -> "cuda"); the implementation is, in order,
the one selected with ``use(impl)`` (a context manager), else the default for (device, op) set with
``set_default``. The defaults are the fastest correct path measured by ``kernels/bench.py`` on the
machine in ``kernels/RESULTS.md`` (see ``DEFAULTS``). Every op of minigan that has kernels (``ops/matmul.py``,
``ops/linear.py``, ``ops/conv.py``, ``ops/normalization.py``) computes through the functions below, so
the switch reaches all of them.

The public functions (arrays in, arrays out; stride and padding are ints or (h, w) pairs):

    matmul(a, b)                                              NumPy matmul semantics
    conv2d(x, w, stride=1, padding=0)                         x (N, C, H, W), w (O, C, kh, kw) -> y
    conv2d_backward_input(gy, w, x_shape, stride, padding)    -> gx (x_shape); = conv_transpose2d forward
    conv2d_backward_weight(x, gy, w_shape, stride, padding)   -> gw (w_shape)
    conv_transpose2d(x, w, stride, padding, output_padding)   w (C_in, C_out, kh, kw), PyTorch's semantics
    batch_norm_forward(x, gamma, beta, eps)                   -> (y, x_hat, mean, var, invstd), training mode
    batch_norm_backward(gy, x_hat, gamma, invstd, need_gx)    -> (gx or None, g_gamma, g_beta)

The registry ``IMPLEMENTATIONS[(op, device, impl)]`` maps to a function with the op's implementation
signature (stride and padding arrive as (h, w) tuples; batch norm's arrays as (N, C, L)). ``register``
adds to it. Everything minigan provides is registered in this file, once: the CPU functions and the GPU
references at import (``_register``), the numba-cuda kernels and the CuPy vendor functions when the first
CuPy array arrives (``_load_cuda``: ``kernels.cuda`` is imported only then), unless the user registered
their own first.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from . import reference
from .cpu import batchnorm as cpu_batchnorm
from .cpu import conv as cpu_conv
from .cpu import conv_packed as cpu_conv_packed
from .cpu import matmul as cpu_matmul

CONV_OPS = ("conv2d", "conv2d_backward_input", "conv2d_backward_weight")
BATCH_NORM_OPS = ("batch_norm_forward", "batch_norm_backward")
OPS = ("matmul", *CONV_OPS, *BATCH_NORM_OPS)
IMPLS = ("reference", "kernels", "vendor")
DEVICES = ("cpu", "cuda")

IMPLEMENTATIONS: dict[tuple[str, str, str], object] = {}
"""(op, device, impl) -> function with the op's public signature."""

DEFAULTS: dict[tuple[str, str], str] = {
    # CPU matmul: OpenBLAS; the blocked Numba kernel is close to it on big squares only, and behind on
    # the small, skinny products of the Linear layers (RESULTS.md).
    ("cpu", "matmul"): "vendor",
    # CPU convolutions: the hand-written packed batch-level GEMMs of cpu/conv_packed.py (NHWC forward,
    # sub-pixel input gradient, one batch-wide weight-gradient GEMM); fastest measured, RESULTS.md.
    ("cpu", "conv2d"): "kernels",
    ("cpu", "conv2d_backward_input"): "kernels",
    ("cpu", "conv2d_backward_weight"): "kernels",
    # CPU batch norm: the fused Numba passes of cpu/batchnorm.py (RESULTS.md).
    ("cpu", "batch_norm_forward"): "kernels",
    ("cpu", "batch_norm_backward"): "kernels",
    # CUDA: cuBLAS through CuPy until the hand-written kernels are measured on a GPU; batch norm as CuPy
    # array arithmetic (there is no CUDA batch-norm kernel).
    ("cuda", "matmul"): "vendor",
    ("cuda", "conv2d"): "vendor",
    ("cuda", "conv2d_backward_input"): "vendor",
    ("cuda", "conv2d_backward_weight"): "vendor",
    ("cuda", "batch_norm_forward"): "vendor",
    ("cuda", "batch_norm_backward"): "vendor",
}
"""(device, op) -> the implementation used when no ``use(...)`` is active."""

_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("minigan_kernels_impl", default=None)
_cuda_loaded = False


def register(op: str, device: str, impl: str, fn) -> None:
    """Make ``fn`` the implementation ``impl`` of ``op`` on ``device`` (replacing any earlier one)."""
    _check_names(op=op, device=device, impl=impl)
    IMPLEMENTATIONS[(op, device, impl)] = fn


def set_default(impl: str, device: str | None = None, op: str | None = None) -> None:
    """Use ``impl`` by default for ``op`` (every op when None) on ``device`` (every device when None)."""
    _check_names(op=op, device=device, impl=impl)
    for dev in DEVICES if device is None else (device,):
        for name in OPS if op is None else (op,):
            DEFAULTS[(dev, name)] = impl


@contextlib.contextmanager
def use(impl: str):
    """``with use("reference"): ...`` computes every op inside the block with ``impl`` (on any device)."""
    _check_names(impl=impl)
    token = _override.set(impl)
    try:
        yield
    finally:
        _override.reset(token)


def current(op: str, device: str = "cpu") -> str:
    """The implementation ``op`` on ``device`` would use right now."""
    return _override.get() or DEFAULTS[(device, op)]


def implementation(op: str, device: str, impl: str | None = None):
    """The function registered for (op, device, impl), ``impl`` defaulting to ``current(op, device)``."""
    if device == "cuda":
        _load_cuda()
    impl = impl or current(op, device)
    try:
        return IMPLEMENTATIONS[(op, device, impl)]
    except KeyError:
        have = sorted(i for (o, d, i) in IMPLEMENTATIONS if o == op and d == device)
        raise NotImplementedError(
            f"no {impl!r} implementation of {op} on {device}; available there: {have or 'none'}"
        ) from None


def _check_names(op=None, device=None, impl=None):
    if op is not None and op not in OPS:
        raise ValueError(f"unknown op {op!r}; expected one of {OPS}")
    if device is not None and device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {DEVICES}")
    if impl is not None and impl not in IMPLS:
        raise ValueError(f"unknown implementation {impl!r}; expected one of {IMPLS}")


def _device(*arrays) -> str:
    """'cuda' if any operand is a CuPy array (checked without importing CuPy), else 'cpu'."""
    return "cuda" if any(type(a).__module__.startswith("cupy") for a in arrays) else "cpu"


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or any(int(v) != v or v < 0 for v in pair):
        raise ValueError(f"{name} must be a non-negative int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _load_cuda() -> None:
    """Import ``kernels.cuda`` on first use and register its kernels ("kernels") and the CuPy vendor
    functions of ``kernels.cuda.vendor`` ("vendor"), unless an implementation is already registered."""
    global _cuda_loaded
    if _cuda_loaded:
        return
    _cuda_loaded = True
    try:
        from . import cuda  # noqa: PLC0415 - imports numba.cuda; only when a CuPy array arrives
        from .cuda import matmul as cuda_matmul  # noqa: PLC0415
        from .cuda import vendor  # noqa: PLC0415
    except ImportError:  # pragma: no cover - CuPy without numba-cuda: keep CuPy's own matmul usable
        IMPLEMENTATIONS.setdefault(("matmul", "cuda", "vendor"), lambda a, b: a @ b)
        return
    found = {
        ("matmul", "kernels"): cuda_matmul.matmul,
        ("matmul", "vendor"): vendor.matmul,
        **{(op, "kernels"): getattr(cuda, op) for op in CONV_OPS},
        **{(op, "vendor"): getattr(vendor, op) for op in CONV_OPS},
    }
    for (op, impl), fn in found.items():
        IMPLEMENTATIONS.setdefault((op, "cuda", impl), fn)


# -- the public functions -----------------------------------------------------------------------------


def matmul(a, b):
    """``a @ b`` with NumPy's semantics (1-D operands, broadcast batch dimensions) on a's device."""
    return implementation("matmul", _device(a, b))(a, b)


def conv2d(x, w, stride=1, padding=0):
    """y (N, O, Ho, Wo) = conv(x (N, C, H, W), w (O, C, kh, kw)), Ho = (H + 2 ph - kh) // sh + 1."""
    _check_conv("conv2d", x, w, 1)
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    return implementation("conv2d", _device(x, w))(x, w, stride, padding)


def conv2d_backward_input(gy, w, x_shape, stride=1, padding=0):
    """gx (x_shape) = conv^T(gy (N, O, Ho, Wo), w (O, C, kh, kw)): the gradient of conv2d in x."""
    _check_conv("conv2d_backward_input", gy, w, 1, batch_first=False)
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    x_shape = tuple(int(s) for s in x_shape)
    return implementation("conv2d_backward_input", _device(gy, w))(gy, w, x_shape, stride, padding)


def conv2d_backward_weight(x, gy, w_shape, stride=1, padding=0):
    """gw (w_shape) = corr(x (N, C, H, W), gy (N, O, Ho, Wo)): the gradient of conv2d in w."""
    if x.ndim != 4 or gy.ndim != 4 or x.shape[0] != gy.shape[0]:
        raise ValueError(f"conv2d_backward_weight: x {x.shape} and gy {gy.shape} must be 4-D with equal N")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    w_shape = tuple(int(s) for s in w_shape)
    return implementation("conv2d_backward_weight", _device(x, gy))(x, gy, w_shape, stride, padding)


def conv_transpose2d(x, w, stride=1, padding=0, output_padding=0):
    """PyTorch's ``conv_transpose2d``: x (N, C_in, H, W), w (C_in, C_out, kh, kw) -> (N, C_out, Hout, Wout),
    Hout = (H - 1) sh - 2 ph + kh + oph: ``conv2d_backward_input`` with w read as a conv weight."""
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    oph, opw = _pair(output_padding, "output_padding")
    n, _, h, wd = x.shape
    _, cout, kh, kw = w.shape
    x_shape = (n, cout, (h - 1) * sh - 2 * ph + kh + oph, (wd - 1) * sw - 2 * pw + kw + opw)
    return conv2d_backward_input(x, w, x_shape, (sh, sw), (ph, pw))


def batch_norm_forward(x, gamma, beta, eps):
    """Batch norm in training mode for x (N, C, *): per channel c, over its M = N * prod(*) numbers,
    mean, biased var, invstd = 1 / sqrt(var + eps), x_hat = (x - mean) invstd, y = gamma x_hat + beta.
    Returns (y, x_hat) in x's shape and (mean, var, invstd) of shape (C,), all in x's dtype."""
    if x.ndim < 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError(f"batch_norm_forward: x {x.shape} needs gamma and beta of shape (C,), got "
                         f"{gamma.shape} and {beta.shape}")  # fmt: skip
    x3 = x.reshape(x.shape[0], x.shape[1], -1)
    y, x_hat, mean, var, invstd = implementation("batch_norm_forward", _device(x))(x3, gamma, beta, eps)
    return y.reshape(x.shape), x_hat.reshape(x.shape), mean, var, invstd


def batch_norm_backward(gy, x_hat, gamma, invstd, need_gx=True):
    """The gradient of ``batch_norm_forward`` given the x_hat and invstd it returned: g_beta = sum(gy),
    g_gamma = sum(gy x_hat) per channel, gx = gamma invstd / M * (M gy - g_beta - x_hat g_gamma).
    Returns (gx in gy's shape, or None unless ``need_gx``; g_gamma; g_beta)."""
    if gy.shape != x_hat.shape:
        raise ValueError(f"batch_norm_backward: gy {gy.shape} and x_hat {x_hat.shape} differ")
    shape3 = (gy.shape[0], gy.shape[1], -1)
    fn = implementation("batch_norm_backward", _device(gy))
    gx, g_gamma, g_beta = fn(gy.reshape(shape3), x_hat.reshape(shape3), gamma, invstd, bool(need_gx))
    return (gx.reshape(gy.shape) if need_gx else None), g_gamma, g_beta


def _check_conv(name, x, w, channel_axis, batch_first=True):
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"{name}: expected 4-D operands, got shapes {x.shape} and {w.shape}")
    want = w.shape[1] if batch_first else w.shape[0]
    if x.shape[channel_axis] != want:
        got = x.shape[channel_axis]
        raise ValueError(f"{name}: {got} channels in shape {x.shape}, but weight {w.shape} wants {want}")


# -- CPU implementations --------------------------------------------------------------------------------


def _float_operands(*arrays):
    """The operands as C-contiguous arrays of one float dtype (float32 or float64), or None when they are
    not all float32/float64 (those go to NumPy / the reference)."""
    dtype = np.result_type(*arrays)
    if dtype not in (np.float32, np.float64):
        return None
    return [np.ascontiguousarray(a, dtype=dtype) for a in arrays]


def _cpu_matmul_kernels(a, b):
    ops = _float_operands(a, b)
    if ops is None or a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b)  # 1-D operands and integer / half dtypes: not what the kernels are for
    return cpu_matmul.matmul(*ops)


def _cpu_conv(family: str, pass_: str):
    """The CPU function for ``pass_`` of kernel family ``family`` (one of ``CONV_FAMILIES``)."""
    module = cpu_conv_packed if family == "packed" else cpu_conv
    fwd = getattr(module, f"conv2d_{family}")
    bwd_in = getattr(module, f"conv2d_backward_input_{family}")
    bwd_w = getattr(module, f"conv2d_backward_weight_{family}")

    def conv2d_cpu(x, w, stride, padding):
        x, w = _conv_operands(x, w)
        return fwd(x, w, *stride, *padding)

    def conv2d_backward_input_cpu(gy, w, x_shape, stride, padding):
        gy, w = _conv_operands(gy, w)
        return bwd_in(gy, w, x_shape[2], x_shape[3], *stride, *padding)

    def conv2d_backward_weight_cpu(x, gy, w_shape, stride, padding):
        x, gy = _conv_operands(x, gy)
        return bwd_w(x, gy, w_shape[2], w_shape[3], *stride, *padding)

    return {
        "conv2d": conv2d_cpu,
        "conv2d_backward_input": conv2d_backward_input_cpu,
        "conv2d_backward_weight": conv2d_backward_weight_cpu,
    }[pass_]


def _conv_operands(*arrays):
    ops = _float_operands(*arrays)
    if ops is None:
        dtypes = [str(a.dtype) for a in arrays]
        raise TypeError(f"convolution kernels need float32 or float64 arrays, got {dtypes}")
    return ops


CONV_FAMILIES = ("packed", "gemm", "direct", "im2col_blas")
"""The CPU convolution kernel families; ``conv_kernels(family)`` gives one as a dict of the three passes."""


def conv_kernels(family: str) -> dict:
    """The three CPU passes of a kernel family, with the public signatures (for benchmarks and tests)."""
    if family not in CONV_FAMILIES:
        raise ValueError(f"unknown CPU conv family {family!r}; expected one of {CONV_FAMILIES}")
    return {op: _cpu_conv(family, op) for op in CONV_OPS}


def _cpu_batch_norm_forward_kernels(x3, gamma, beta, eps):
    ops = _float_operands(x3, gamma, beta)
    if ops is None or x3.dtype != gamma.dtype or x3.dtype != beta.dtype:
        return reference.batch_norm_forward(x3, gamma, beta, eps)  # half / mixed dtypes: not for the kernels
    return cpu_batchnorm.batch_norm_forward(*ops, eps)


def _cpu_batch_norm_backward_kernels(gy3, x_hat3, gamma, invstd, need_gx):
    ops = _float_operands(gy3, x_hat3, gamma, invstd)
    if ops is None or len({a.dtype for a in (gy3, x_hat3, gamma, invstd)}) != 1:
        return reference.batch_norm_backward(gy3, x_hat3, gamma, invstd, need_gx)
    gx, g_gamma, g_beta = cpu_batchnorm.batch_norm_backward(*ops, need_gx)
    return (gx if need_gx else None), g_gamma, g_beta


def _register() -> None:
    """Every implementation available without CuPy: all CPU ones, and the references on the GPU."""
    register("matmul", "cpu", "reference", reference.matmul)
    register("matmul", "cpu", "kernels", _cpu_matmul_kernels)
    register("matmul", "cpu", "vendor", np.matmul)
    register("conv2d", "cpu", "reference", reference.conv2d_forward)
    register("conv2d_backward_input", "cpu", "reference", reference.conv2d_backward_input)
    register("conv2d_backward_weight", "cpu", "reference", reference.conv2d_backward_weight)
    for impl, family in (("kernels", "packed"), ("vendor", "im2col_blas")):
        for op in CONV_OPS:
            register(op, "cpu", impl, _cpu_conv(family, op))
    register("batch_norm_forward", "cpu", "kernels", _cpu_batch_norm_forward_kernels)
    register("batch_norm_backward", "cpu", "kernels", _cpu_batch_norm_backward_kernels)
    for device in DEVICES:  # the references are array-module generic: NumPy on the CPU, CuPy on the GPU
        if device == "cuda":
            register("matmul", "cuda", "reference", reference.matmul)
            register("conv2d", "cuda", "reference", reference.conv2d_forward)
            register("conv2d_backward_input", "cuda", "reference", reference.conv2d_backward_input)
            register("conv2d_backward_weight", "cuda", "reference", reference.conv2d_backward_weight)
        for impl in ("reference", "vendor"):  # batch norm has no vendor library: the array formula
            register("batch_norm_forward", device, impl, reference.batch_norm_forward)
            register("batch_norm_backward", device, impl, reference.batch_norm_backward)


_register()
