"""``minigan.save(obj, f)`` and ``minigan.load(f, map_location=None)``: PyTorch's ``torch.save`` /
``torch.load``, without pickle. They store what chapter 05 (layers and optimizers) calls a state_dict.

``obj`` is a Tensor, an ndarray, a number, a str, None, or dicts (``OrderedDict`` too) / lists / tuples
nesting these: a module's or an optimizer's ``state_dict()``, or ``{"G": G.state_dict(),
"opt": opt.state_dict(), "epoch": 3}``. The file is one ``.npz`` in ``minigan.io``'s checkpoint format
(each array an entry, the structure a JSON entry), written atomically when ``f`` is a path, read back with
``allow_pickle=False``, so loading a file never runs code.

What comes back is what went in: Tensors as Tensors (``nn.Parameter`` as Parameter) with their dtype,
``requires_grad`` and device, ndarrays as NumPy arrays, ints of any size, floats bit for bit, tuples as
tuples, int dict keys as ints; the same Tensor saved twice (tied weights) comes back as one Tensor.
``.grad`` is not saved (as in PyTorch), and distinct Tensors that are views of one array come back as
separate copies. Anything else (a lambda, a Module itself, a custom class) is a TypeError naming its key
path and type, raised before anything is written.

``map_location`` (as in PyTorch): None keeps each Tensor's saved device; "cpu" / "cuda" (or a device)
puts every Tensor there; a dict maps saved devices to new ones, ``{"cuda": "cpu"}``.
"""

from __future__ import annotations

import io as _bytes
import os

import numpy as np

from . import io
from .autograd.tensor import Tensor
from .backend import DeviceError, normalize_device, to_device
from .creation import tensor
from .nn.parameter import Parameter


def save(obj, f) -> None:
    """Write ``obj`` to ``f``: a path (str or PathLike; replaced atomically) or a binary file object."""
    arrays: dict[str, np.ndarray] = {}
    tree = io.flatten(obj, arrays, who="minigan.save", tensor_node=_tensor_node)
    entries = io.encode(arrays, tree)
    if isinstance(f, (str, os.PathLike)):
        parent = os.path.dirname(os.path.abspath(os.fspath(f)))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"minigan.save: {os.fspath(f)}: parent directory {parent} does not exist")
        io.atomic_write(f, lambda out: np.savez(out, **entries))
    elif callable(getattr(f, "write", None)):
        buf = _bytes.BytesIO()  # build it whole first: a failure leaves nothing half-written in f
        np.savez(buf, **entries)
        try:
            f.write(buf.getvalue())
        except TypeError:
            raise TypeError(f"minigan.save: {f!r} is not a binary file (open it with mode 'wb')") from None
    else:
        raise TypeError(f"minigan.save: f must be a path or a binary file object, got {type(f).__name__}")


def load(f, map_location=None):
    """The object ``save`` wrote to ``f`` (a path or a binary file object), Tensors on the devices that
    ``map_location`` gives. ``minigan.io.CheckpointError`` names the file if it is missing, truncated,
    corrupt or not a minigan file."""
    if isinstance(f, (str, os.PathLike)):
        label = os.fspath(f)
    elif callable(getattr(f, "read", None)) and callable(getattr(f, "seek", None)):
        label = str(getattr(f, "name", f"<{type(f).__name__}>"))
    else:
        raise TypeError(
            f"minigan.load: f must be a path or a seekable binary file object, got {type(f).__name__}"
        )
    place = _placement(map_location)
    try:
        arrays = io.read_entries(f, label, noun="file")
    except io.CheckpointError as err:
        raise io.CheckpointError(f"minigan.load: {err}") from None

    def make_tensor(array, node):
        device = place(node.get("device", "cpu"))
        try:
            array = to_device(array, device)  # np.load gave a private array
        except DeviceError as err:
            raise DeviceError(
                f"minigan.load: {label} holds a tensor saved on {node.get('device')!r}, which cannot be "
                f"used here ({err}); pass map_location='cpu'"
            ) from None
        requires_grad = bool(node.get("requires_grad"))
        if node.get("parameter"):
            return Parameter(array, requires_grad=requires_grad)
        return tensor(array, requires_grad=requires_grad)  # dtype kept

    try:
        return io.decode(arrays, label, noun="file", make_tensor=make_tensor)
    except io.CheckpointError as err:
        raise io.CheckpointError(f"minigan.load: {err}") from None


def _tensor_node(t: Tensor) -> dict:
    return {"device": t.device, "requires_grad": t.requires_grad, "parameter": isinstance(t, Parameter)}


def _placement(map_location):
    """saved device -> device to load on."""
    if map_location is None:
        return normalize_device
    if isinstance(map_location, dict):
        table = {normalize_device(k): normalize_device(v) for k, v in map_location.items()}
        return lambda saved: table.get(normalize_device(saved), normalize_device(saved))
    if callable(map_location):
        raise TypeError(
            "minigan.load: map_location as a function is not supported (minigan has no storages); "
            "pass a device such as 'cpu', or a dict such as {'cuda': 'cpu'}"
        )
    device = normalize_device(map_location)  # DeviceError for an unknown name
    return lambda saved: device
