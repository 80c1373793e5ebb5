"""The legacy typed constructors: ``Tensor(...)``, ``FloatTensor``, ``LongTensor`` ... and ``x.type(...)``.

Chapter 01 (autograd). Older PyTorch programs (and many GAN repositories) make tensors with
``torch.FloatTensor(data)`` or ``torch.Tensor(n, 1).fill_(1.0)`` and convert with ``x.type(Tensor)``, where
``Tensor`` is ``torch.cuda.FloatTensor`` on a GPU. Each name here is a class that builds a plain minigan
Tensor of its dtype and device, and answers ``isinstance(x, FloatTensor)`` by looking at x's dtype and
device, as PyTorch's do. The argument rules are PyTorch's:

    FloatTensor(data)      data: numbers, nested lists, an ndarray or a Tensor -> converted to float32
    FloatTensor(2, 3)      integers: a shape -> zeros of that shape (PyTorch leaves them uninitialised)
    FloatTensor()          an empty tensor of shape (0,)
"""

from __future__ import annotations

import numpy as np

from ..backend import as_numpy, is_cupy_array, to_device


def float_data(args, dtype, name: str):
    """The array a legacy constructor ``name(*args)`` makes, as ``dtype`` (see the module docstring)."""
    from .tensor import Tensor

    if len(args) == 0:
        return np.zeros(0, dtype=dtype)
    if len(args) == 1 and isinstance(args[0], (tuple, list)) and _is_shape(args[0]) and not args[0]:
        return np.zeros(0, dtype=dtype)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        if len(args) == 1 and not isinstance(args[0], int):  # a NumPy integer is data, not a size
            return np.asarray(args[0], dtype=dtype)
        return np.zeros(_checked_shape(args, name), dtype=dtype)
    if len(args) != 1:
        raise TypeError(
            f"{name}(): expected one data argument (a number, list, array or tensor) or integer sizes, "
            f"got {len(args)} arguments of types {', '.join(type(a).__name__ for a in args)}"
        )
    data = args[0]
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, np.ndarray) or is_cupy_array(data):
        if data.dtype.kind not in "fiub":
            raise TypeError(f"{name}(): cannot convert an array of dtype {data.dtype}")
        return data.astype(dtype, copy=False)
    try:
        a = np.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(f"{name}(): cannot make a tensor from {type(data).__name__}: {err}") from err
    if a.dtype.kind not in "fiub":
        raise TypeError(
            f"{name}(): cannot make a tensor from {type(data).__name__} (dtype {a.dtype}): "
            "expected numbers, nested lists of numbers, an array or a tensor"
        )
    return a.astype(dtype)


def _is_shape(seq) -> bool:
    return all(isinstance(a, (int, np.integer)) for a in seq)


def _checked_shape(args, name):
    for a in args:
        if a < 0:
            raise ValueError(f"{name}(): negative dimension {a} in size {tuple(int(x) for x in args)}")
    return tuple(int(a) for a in args)


class _TypedMeta(type):
    def __instancecheck__(cls, obj):
        from .tensor import Tensor

        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device == cls.device

    def __repr__(cls):
        return f"<class '{cls.type_name}'>"


class _TypedTensor(metaclass=_TypedMeta):
    dtype = np.dtype(np.float32)
    device = "cpu"
    type_name = "minigan.FloatTensor"

    def __new__(cls, *args, requires_grad: bool = False):
        from .tensor import Tensor

        array = float_data(args, cls.dtype, cls.type_name)
        if cls.device != "cpu":
            array = to_device(as_numpy(array), cls.device)
        return Tensor._wrap(array, requires_grad=requires_grad)


def _make(name: str, dtype, device: str = "cpu"):
    prefix = "minigan.cuda." if device == "cuda" else "minigan."
    doc = (
        f"``{prefix}{name}(data or sizes)``: a {np.dtype(dtype)} tensor on {device} (PyTorch's legacy name)."
    )
    return _TypedMeta(
        name,
        (_TypedTensor,),
        {"dtype": np.dtype(dtype), "device": device, "type_name": prefix + name, "__doc__": doc},
    )


_KINDS = {
    "FloatTensor": np.float32,
    "DoubleTensor": np.float64,
    "HalfTensor": np.float16,
    "LongTensor": np.int64,
    "IntTensor": np.int32,
    "ShortTensor": np.int16,
    "ByteTensor": np.uint8,
    "CharTensor": np.int8,
    "BoolTensor": np.bool_,
}
CPU_TYPES = {name: _make(name, dtype) for name, dtype in _KINDS.items()}
CUDA_TYPES = {name: _make(name, dtype, "cuda") for name, dtype in _KINDS.items()}
_BY_NAME = {cls.type_name: cls for cls in (*CPU_TYPES.values(), *CUDA_TYPES.values())}
for _cls in list(_BY_NAME.values()):  # PyTorch's spellings work as strings too: x.type("torch.FloatTensor")
    _BY_NAME[_cls.type_name.replace("minigan.", "torch.", 1)] = _cls


def type_name(x) -> str:
    """``x.type()``: the legacy name of x's dtype and device, e.g. ``"minigan.FloatTensor"``."""
    for cls in (CUDA_TYPES if x.device == "cuda" else CPU_TYPES).values():
        if cls.dtype == x.dtype:
            return cls.type_name
    raise TypeError(f"type(): no legacy tensor type for dtype {x.dtype}")


def convert(x, target, non_blocking: bool = False):
    """``x.type(target)``: x as the legacy type ``target`` (a class such as ``FloatTensor``, its name as a
    string, or a dtype); x itself when nothing changes. Differentiable (it is ``x.to(device, dtype)``)."""
    if target is None:
        return type_name(x)
    if isinstance(target, str):
        if target not in _BY_NAME:
            raise ValueError(
                f"type(): unknown tensor type {target!r}; expected one of {sorted(_BY_NAME)[:9]} ..."
            )
        target = _BY_NAME[target]
    if isinstance(target, _TypedMeta):
        return x.to(target.device, target.dtype)
    try:
        dtype = np.dtype(target)
    except TypeError as err:
        raise TypeError(f"type(): expected a tensor type, its name or a dtype, got {target!r}") from err
    return x.to(dtype=dtype)
