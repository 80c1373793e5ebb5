"""``minigan.device``: a device name as an object, PyTorch's ``torch.device``. Chapter 01 (where arrays live).

    dev = minigan.device("cuda:0")           # or device("cuda"), device("cpu"), device("cuda", 0), device(0)
    dev.type, dev.index, str(dev)            # 'cuda', 0, 'cuda:0'
    x.to(dev); minigan.zeros(3, device=dev); model.to(dev)

It is accepted wherever minigan takes a device, because ``backend.normalize_device`` reads its ``type``
and ``index``; minigan runs on one GPU, so an index other than 0 is refused there (not here: as in
PyTorch, making ``device("cuda:1")`` is fine, using it is the error).

Two differences from PyTorch, both because a minigan tensor's ``.device`` is the string 'cpu' or 'cuda'
(where its array lives): a device equals a string that names the same device (``x.device == dev``
works; in PyTorch a device never equals a string), and ``device("cuda")`` equals ``device("cuda:0")``
(in PyTorch 'cuda' means "the current GPU", which here is always GPU 0).
"""

from __future__ import annotations

from .backend import parse_device


class device:  # lower case: PyTorch's name
    """``device(type)`` from 'cpu', 'cuda', 'cuda:<index>', another device or an int (a GPU index), or
    ``device(type, index)``. Immutable and hashable."""

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # `type` shadows the builtin: PyTorch's argument name
        if isinstance(type, device):
            if index is not None:
                raise ValueError(f"device({type!r}, {index!r}): a device already has its index")
            kind, idx = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            if index is not None:
                raise TypeError(f"device({type!r}, {index!r}): give a type string with an index")
            kind, idx = "cuda", type
        elif isinstance(type, str):
            kind, idx = parse_device(type)
            if idx is not None and index is not None:
                raise ValueError(
                    f"device({type!r}, {index!r}): the type string already has an index; give one of the two"
                )
            idx = index if idx is None else idx
        else:
            raise TypeError(
                f"device() expects a str such as 'cuda:0', a device or an int, got {type.__class__.__name__} "
                f"{type!r}"
            )
        if idx is not None and (isinstance(idx, bool) or not isinstance(idx, int) or idx < 0):
            raise ValueError(f"device index must be an int >= 0, got {idx!r}")
        object.__setattr__(self, "_type", kind)
        object.__setattr__(self, "_index", idx)

    @property
    def type(self) -> str:
        """'cpu' or 'cuda'."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device's index, or None when none was given ('cuda' means GPU 0 here)."""
        return self._index

    def __setattr__(self, name, value):
        raise AttributeError(f"a minigan.device is immutable (tried to set {name!r})")

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        index = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{index})"

    def _key(self) -> tuple:
        return self._type, self._index or 0  # no index means index 0: minigan has one of each

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, RuntimeError):  # not a device string: not equal
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        # hash('cuda') for cuda and cuda:0, so that a device and the string a tensor reports hash alike
        return hash(self._type) if self._key()[1] == 0 else hash(str(self))

    def __reduce__(self):  # copy / deepcopy / pickle rebuild it through the constructor
        return device, (self._type, self._index)
