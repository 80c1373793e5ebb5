"""Tensor: an array, plus what autograd needs to know about it. Chapter 01 (autograd).

A Tensor wraps one NumPy or CuPy array (``.array``) and records where it came from: ``creator`` is the
Function that produced it (None for a leaf the user made), ``output_index`` which of that Function's
outputs it is, and ``generation`` its depth in the graph, which gives the engine a topological order
without recursion. ``grad`` is a Tensor of the same shape, filled in by ``backward()`` on leaves.

Operators (``+``, ``@``, ``x[i]``, ``x.sum()`` ...) are attached by ``minigan.ops`` when the package is
imported, so this file holds only the data structure and stays readable on its own.

**Versions.** Every Tensor carries a version counter: a one-element list shared by all Tensors that look at
the same storage (``x.data``, ``x.detach()``, views such as ``x.view(...)`` or ``x[0]``). Every in-place
write (``fill_``, ``x[i] = v``, an optimizer step, ``nn.init``, ``load_state_dict``, batch norm's running
statistics) adds one. A Function remembers the versions of its inputs when it runs; if one has moved on by
the time backward needs it, the saved value is not the value the forward used, and backward refuses
instead of returning a wrong gradient (chapter 01, section "In-place writes").
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module, as_numpy, device_of, is_cupy_array, normalize_device, to_device

DEFAULT_FLOAT = np.float32


class Tensor:
    """An n-dimensional array that can take part in automatic differentiation.

    Make one with ``minigan.tensor(data, requires_grad=False, dtype=None, device=None)``. Semantics follow
    PyTorch: ``.data`` is a Tensor sharing this one's storage that does not require grad; ``.array`` is
    the NumPy / CuPy array itself.
    """

    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, *data, requires_grad: bool = False):
        """``Tensor(data)`` as PyTorch's ``torch.Tensor``: float32 from numbers, lists, arrays or tensors;
        ``Tensor(2, 3)`` (or a shape tuple) is a float32 tensor of zeros of that shape; ``Tensor()`` is
        empty. Use ``minigan.tensor`` to keep integer or float64 data as they are."""
        from .tensor_types import float_data  # the legacy constructors' conversion rules live there

        self._init_leaf(float_data(data, np.float32, "Tensor"), requires_grad)

    def _init_leaf(self, array, requires_grad: bool) -> None:
        self.array = array
        self.grad: Tensor | None = None
        self.creator = None
        self.output_index = 0
        self.generation = 0
        self._version_counter = [0]
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array, requires_grad: bool = False) -> Tensor:
        """A leaf on ``array`` as it is (dtype kept, no copy): the internal constructor."""
        t = cls._from_array(array)
        t.requires_grad = requires_grad
        return t

    @classmethod
    def _from_array(cls, array) -> Tensor:
        """Wrap an op's output array without checks (the hot path)."""
        t = cls.__new__(cls)
        t.array = array
        t.grad = None
        t.creator = None
        t.output_index = 0
        t.generation = 0
        t._version_counter = [0]
        t._requires_grad = False
        return t

    # -- versions (see the module docstring) -----------------------------------------------------------
    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's storage has seen (PyTorch's ``x._version``)."""
        return self._version_counter[0]

    def _bump_version(self) -> Tensor:
        """Record one in-place write; every op that writes into ``.array`` calls this."""
        self._version_counter[0] += 1
        return self

    def _alias(self) -> Tensor:
        """A graph-free Tensor on the same storage that shares this one's version counter."""
        t = Tensor._from_array(self.array)
        t._version_counter = self._version_counter
        return t

    # -- autograd state ---------------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool):
        if flag and self.array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; this tensor has dtype {self.array.dtype}"
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self (PyTorch's spelling)."""
        if not flag and self.creator is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; use detach() instead")
        self.requires_grad = flag
        return self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` each time backward() has accumulated a gradient into ``self.grad`` (a leaf
        that requires grad; PyTorch's method). Returns a handle whose ``.remove()`` unregisters it.
        Data-parallel training (chapter 16) reduces gradients across processes from such hooks."""
        from collections import OrderedDict

        from .hooks import add_hook

        if self.creator is not None:
            raise RuntimeError("post-accumulate-grad hooks can only be registered on leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("post-accumulate-grad hooks need a tensor that requires grad")
        hooks = self.__dict__.setdefault("_post_accumulate_hooks", OrderedDict())
        return add_hook(hooks, hook)

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (no creator); only leaves get ``.grad`` from backward()."""
        return self.creator is None

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data (and version counter), cut off from the graph."""
        return self._alias()

    def detach_(self) -> Tensor:
        """Cut this tensor off from the graph, in place (PyTorch's ``detach_``)."""
        self.creator, self.generation, self._requires_grad = None, 0, False
        return self

    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: a Tensor on the same storage that does not require grad.

        Unlike PyTorch, it shares the version counter too, so ``x.data.fill_(0)`` or ``x.data[i] = v``
        after a forward pass that saved x is still caught by backward instead of giving a silently
        wrong gradient. ``x.array`` is the NumPy / CuPy array itself."""
        return self._alias()

    @data.setter
    def data(self, value):
        """``x.data = y`` makes x look at y's values (shape and dtype may change), as in PyTorch."""
        self.array = value.array if isinstance(value, Tensor) else value
        self._bump_version()

    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is d(loss)/d(self); it may be omitted only when self holds a single element.
        ``retain_graph`` keeps the graph for another backward; ``create_graph`` records the backward pass
        so that gradients can be differentiated again (implies ``retain_graph``).
        """
        from .engine import backward  # engine imports Tensor; imported here to keep the layering one-way

        backward([self], None if gradient is None else [gradient], retain_graph, create_graph)

    # -- array facts -------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self) -> str:
        return device_of(self.array)

    @property
    def xp(self):
        """The array module (numpy or cupy) that holds this tensor's data."""
        return array_module(self.array)

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim`` (PyTorch's ``Tensor.size``)."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.array.size)

    def dim(self) -> int:
        return self.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # -- conversions ---------------------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (a copy from the GPU; on the CPU it shares memory)."""
        if self.requires_grad:
            raise RuntimeError("numpy() of a tensor that requires grad: call .detach().numpy() instead")
        return as_numpy(self.array)

    def tolist(self):
        return as_numpy(self.array).tolist()

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return as_numpy(self.array).reshape(()).item()

    def to(self, device=None, dtype=None) -> Tensor:
        """This tensor on ``device`` and/or with ``dtype``; self when nothing changes. Differentiable."""
        if isinstance(device, (type, np.dtype)):  # x.to(np.float64)
            device, dtype = None, device
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            from ..ops.shape import astype  # ops build on autograd; imported at call time

            out = astype(out, dtype)
        if device is not None and normalize_device(device) != self.device:
            from ..ops.shape import to_device as move

            out = move(out, normalize_device(device))
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        return self.to("cuda" if device is None else device)

    @property
    def is_cuda(self) -> bool:
        return self.device == "cuda"

    # PyTorch's other accelerators; minigan runs on the CPU (NumPy) or CUDA (CuPy) only
    is_xpu = property(lambda self: False)
    is_mps = property(lambda self: False)

    def type(self, dtype=None, non_blocking: bool = False):
        """``x.type()`` names x's legacy type ("minigan.FloatTensor"); ``x.type(FloatTensor)`` (a class, its
        name, or a dtype) converts, as PyTorch's ``Tensor.type``."""
        from .tensor_types import convert

        return convert(self, dtype, non_blocking)

    def float(self) -> Tensor:
        return self.to(dtype=np.float32)

    def double(self) -> Tensor:
        return self.to(dtype=np.float64)

    def half(self) -> Tensor:
        return self.to(dtype=np.float16)

    def long(self) -> Tensor:
        return self.to(dtype=np.int64)

    def int(self) -> Tensor:
        return self.to(dtype=np.int32)

    def bool(self) -> Tensor:
        return self.to(dtype=np.bool_)

    def element_size(self) -> int:
        return self.array.itemsize

    def __repr__(self):
        a = as_numpy(self.array)
        # PyTorch's style: "1., 2." when every value is whole, else four decimals for all ("1.0100, 1.9500")
        whole = a.dtype.kind != "f" or not np.any(np.isfinite(a) & (a != np.round(a)))
        mode = "maxprec" if whole else "fixed"
        body = np.array2string(a, precision=4, floatmode=mode, separator=", ", prefix="tensor(")
        extras = []
        if self.dtype not in (DEFAULT_FLOAT, np.int64, np.bool_):  # the dtypes PyTorch does not print
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.creator is not None:
            extras.append(f"grad_fn=<{self.creator.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __bool__(self):
        if self.array.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.array.size} elements is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __array__(self, dtype=None, copy=None):
        a = as_numpy(self.array)
        if dtype is not None:
            return a.astype(dtype, copy=bool(copy))
        return a.copy() if copy else a  # np.array(t) passes copy=True and trusts us to copy

    __hash__ = object.__hash__  # tensors are graph nodes: identity, not value, makes them dict keys


def as_tensor(x) -> Tensor:
    """``x`` as a Tensor without a graph: Tensors pass through, arrays are wrapped with their dtype kept,
    Python numbers and lists go through ``to_array`` (float32 / int64 / bool)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) or is_cupy_array(x):
        return Tensor._from_array(x)
    return Tensor._from_array(to_array(x))


def to_array(x, dtype=None, device=None):
    """A new-tensor array from data (``minigan.tensor`` uses it).

    As ``torch.tensor``: an array or Tensor keeps its dtype (a float64 ndarray stays float64); Python
    numbers and lists become float32 (floats), int64 (integers) or bool, unless ``dtype`` says otherwise;
    anything else is a TypeError naming the dtype.
    """
    if isinstance(x, Tensor):
        x = x.array
    typed = isinstance(x, (np.ndarray, np.generic)) or is_cupy_array(x)  # carries its own dtype
    if device is not None and device_of(x) != normalize_device(device):
        x = to_device(np.asarray(x) if not is_cupy_array(x) else x, normalize_device(device))
    xp = array_module(x)
    try:
        a = xp.asarray(x)
    except (ValueError, TypeError) as err:
        raise TypeError(f"cannot make a tensor from {type(x).__name__}: {err}") from err
    if dtype is not None:
        return a.astype(np.dtype(dtype), copy=False)
    kind = a.dtype.kind
    if typed and kind in "fiub":
        return a
    if kind == "f":
        return a.astype(DEFAULT_FLOAT, copy=False)
    if kind in "iu":
        return a.astype(np.int64, copy=False)
    if kind == "b":
        return a
    raise TypeError(f"cannot make a tensor of dtype {a.dtype}: expected numbers or booleans")
