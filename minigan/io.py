"""Checkpoints: nested training state to one ``.npz`` file and back, without pickle. Chapter 07 (training
runs) uses it; ``minigan train --resume`` and ``minigan.save`` / ``minigan.load`` are built on it.

A checkpoint is any nesting of dicts (``OrderedDict`` too), lists and tuples whose leaves are arrays
(NumPy, CuPy or minigan Tensors), Python scalars (bool, int of any size, float, complex, str), NumPy
scalars or None. ``save_checkpoint`` flattens it:

* every array becomes one named ``.npy`` entry of the zip (its name is its key path, ``model/G/0.weight``),
  moved to the CPU with its dtype and bits unchanged; the same object met twice is stored once;
* the tree itself (key types included: optimizer states are keyed by ints, ``betas`` is a tuple) becomes a
  JSON string stored as the 0-d unicode array ``__meta__``; Python floats go through ``repr``, so they
  round-trip exactly (NaN and infinities too).

Nothing is pickled and ``np.load(..., allow_pickle=False)`` reads it back, so opening a checkpoint cannot
run code. Files are written atomically (``atomic_write`` / ``atomic_path``): to a temporary file in the
same directory, flushed and ``fsync``-ed, then ``os.replace``-d over the target, so a crash (or a full
disk) mid-save leaves the previous file intact. A process killed mid-write can leave its temporary file
(``.NAME.XXXXXXXX.tmp``); ``temp_files`` finds them so the next start can remove them. Loading a missing,
truncated or corrupt file raises ``CheckpointError`` naming the file and the problem.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .autograd.tensor import Tensor
from .backend import as_numpy, is_cupy_array

FORMAT = "minigan-checkpoint"
VERSION = 1
_META = "__meta__"
_ZIP_MAGIC = b"PK\x03\x04"  # every .npz starts with a zip local-file header
# what ``atomic_path`` names its temporary files: "." + target name + "." + 8 random chars + ".tmp" [+ ext]
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp(\.[A-Za-z0-9]+)?$")


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, or not a minigan checkpoint."""


# -- flattening ----------------------------------------------------------------------------------------
def key_path(keys) -> str:
    """``obj['G']['0.weight']``: how a value inside a saved object is named in messages."""
    return "obj" + "".join(f"[{k!r}]" for k in keys)


def _unstorable(obj, keys, who: str) -> TypeError:
    kind = type(obj).__name__
    if callable(getattr(obj, "state_dict", None)):  # a Module or an Optimizer
        noun = "optimizer" if hasattr(obj, "param_groups") else "module"
        hint = f"save {noun}.state_dict() instead"
    else:
        hint = (
            "only Tensors, arrays, numbers, str, None and dicts / lists / tuples of them can be stored "
            "(for a model, save module.state_dict() instead)"
        )
    return TypeError(f"{who}: cannot store {key_path(keys)} of type {kind}: {hint}")


def flatten(obj, arrays: dict, who: str = "save_checkpoint", tensor_node=None):
    """The JSON tree describing ``obj``; its arrays are put into ``arrays`` under unique entry names.

    ``tensor_node(tensor) -> dict`` adds fields to a Tensor's node (``minigan.save`` keeps Tensors as
    Tensors); without it a Tensor is stored as its array. ``who`` starts the TypeError raised for a value
    that cannot be stored (it names the value's key path and type)."""
    return _flatten(obj, (), arrays, who, tensor_node, {}, set())


def _flatten(obj, keys, arrays, who, tensor_node, seen: dict, open_containers: set):
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray) or is_cupy_array(obj):
        if id(obj) in seen:  # the same object again (a tied weight): store it once, load it once
            return dict(seen[id(obj)])
        a = np.asarray(as_numpy(obj.array if isinstance(obj, Tensor) else obj))
        if a.dtype.hasobject:
            raise TypeError(f"{who}: cannot store {key_path(keys)}: dtype {a.dtype} holds Python objects")
        node = {"t": "array", "name": _entry_name(keys, arrays)}
        arrays[node["name"]] = a
        if isinstance(obj, Tensor) and tensor_node is not None:
            node.update(t="tensor", **tensor_node(obj))
        seen[id(obj)] = node
        return dict(node)
    if isinstance(obj, np.generic):
        if np.asarray(obj).dtype.hasobject:
            raise _unstorable(obj, keys, who)
        name = _entry_name(keys, arrays)
        arrays[name] = np.asarray(obj)
        return {"t": "scalar", "name": name}
    kind = type(obj)
    if obj is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": obj}
    if kind is int:
        return {"t": "int", "v": str(obj)}  # as text: JSON readers may not keep 128-bit ints (PCG64 state)
    if kind is float:
        return {"t": "float", "v": repr(obj)}
    if kind is complex:
        return {"t": "complex", "v": [repr(obj.real), repr(obj.imag)]}
    if kind is str:
        return {"t": "str", "v": obj}
    if kind in (dict, OrderedDict, list, tuple):
        if id(obj) in open_containers:
            raise TypeError(f"{who}: cannot store {key_path(keys)}: it contains itself")
        open_containers.add(id(obj))
        try:
            if kind in (dict, OrderedDict):
                items = []
                for k, v in obj.items():
                    if type(k) not in (str, int):
                        raise TypeError(
                            f"{who}: dict keys must be str or int, got {k!r} of type {type(k).__name__} "
                            f"in {key_path(keys)}"
                        )
                    node = _flatten(v, (*keys, k), arrays, who, tensor_node, seen, open_containers)
                    items.append([k, node])
                return {"t": "dict" if kind is dict else "odict", "items": items}
            children = [
                _flatten(v, (*keys, i), arrays, who, tensor_node, seen, open_containers)
                for i, v in enumerate(obj)
            ]
            return {"t": kind.__name__, "items": children}
        finally:
            open_containers.discard(id(obj))
    raise _unstorable(obj, keys, who)


def _entry_name(keys, arrays) -> str:
    name = "/".join(str(k) for k in keys) or "value"
    while name in arrays or name == _META:
        name += "_"
    return name


def unflatten(node, arrays, make_tensor=None):
    """The object a ``flatten`` tree describes. ``make_tensor(array, node)`` rebuilds a Tensor node (the
    same saved Tensor met twice is rebuilt once); without it a Tensor comes back as its NumPy array."""
    return _unflatten(node, arrays, make_tensor, {})


def _unflatten(node, arrays, make_tensor, tensors: dict):
    t = node["t"]
    if t == "array":
        return arrays[node["name"]]
    if t == "tensor":
        if make_tensor is None:
            return arrays[node["name"]]
        if node["name"] not in tensors:
            tensors[node["name"]] = make_tensor(arrays[node["name"]], node)
        return tensors[node["name"]]
    if t == "scalar":
        return arrays[node["name"]][()]
    if t == "none":
        return None
    if t == "bool":
        return bool(node["v"])
    if t == "int":
        return int(node["v"])
    if t == "float":
        return float(node["v"])
    if t == "complex":
        return complex(float(node["v"][0]), float(node["v"][1]))
    if t == "str":
        return str(node["v"])
    if t in ("dict", "odict"):
        pairs = [(k, _unflatten(v, arrays, make_tensor, tensors)) for k, v in node["items"]]
        return dict(pairs) if t == "dict" else OrderedDict(pairs)
    if t == "list":
        return [_unflatten(v, arrays, make_tensor, tensors) for v in node["items"]]
    if t == "tuple":
        return tuple(_unflatten(v, arrays, make_tensor, tensors) for v in node["items"])
    raise ValueError(f"unknown node type {t!r}")


def encode(arrays: dict, tree) -> dict:
    """The entries of the ``.npz`` file: the arrays plus the ``__meta__`` JSON string."""
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    return {**arrays, _META: np.array(meta)}


# -- files ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(path, ext: str = ""):
    """Yield the name of a fresh temporary file next to ``path`` (ending in ``.tmp`` + ``ext``, so that
    writers which read the format off the name, such as matplotlib's ``.png``, can write it); when the
    block ends, rename it over ``path``. If the block raises, ``path`` is untouched and the temporary file
    is removed."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp" + ext)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def atomic_write(path, write) -> None:
    """Call ``write(file_object)`` on a temporary file next to ``path``, fsync it, then rename it over
    ``path``. If anything fails, ``path`` is untouched and the temporary file is removed."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())


def temp_files(directory, targets=None) -> list[Path]:
    """The temporary files of interrupted atomic writes into ``directory`` (only those whose target name is
    in ``targets``, when given). Only a process that owns the directory's files should remove them: a
    running writer's temporary file looks the same."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for p in sorted(directory.iterdir()):
        m = _TEMP_NAME.match(p.name)
        if m and p.is_file() and (targets is None or m["target"] in targets):
            out.append(p)
    return out


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def save_checkpoint(path, state) -> None:
    """Write ``state`` (nested dicts / lists / tuples of arrays, Tensors, scalars) to ``path`` atomically."""
    arrays: dict[str, np.ndarray] = {}
    tree = flatten(state, arrays)
    entries = encode(arrays, tree)
    atomic_write(path, lambda f: np.savez(f, **entries))


def read_entries(source, label: str, noun: str = "checkpoint") -> dict:
    """Every entry of the ``.npz`` file ``source`` (a path, or a binary file object named ``label`` in
    messages), read without pickle. ``CheckpointError`` for a missing, empty, non-zip, truncated or
    damaged file, or one that holds pickled objects."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise CheckpointError(f"{noun} {label}: no such file")
        if not os.path.isfile(path):
            raise CheckpointError(f"{noun} {label}: not a regular file")
        try:
            with open(path, "rb") as f:
                return _read_entries(f, label, noun)
        except OSError as err:
            raise CheckpointError(f"{noun} {label}: cannot be read ({err.strerror or err})") from None
    return _read_entries(source, label, noun)


def _read_entries(f, label: str, noun: str) -> dict:
    start = f.tell()
    head = f.read(len(_ZIP_MAGIC))
    f.seek(start)
    if head != _ZIP_MAGIC:  # np.load would take it for a pickle and say "contains pickled data"
        what = "the file is empty" if not head else f"not a zip archive (it starts with {head.hex(' ')})"
        raise CheckpointError(f"corrupt {noun} {label}: {what}; it is damaged or not a minigan {noun}")
    arrays, name = {}, None
    try:
        with np.load(f, allow_pickle=False) as z:
            for name in z.files:
                arrays[name] = z[name]  # read all now: CRC errors surface on read
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise CheckpointError(
                f"{noun} {label}: not a minigan {noun} (entry {name!r} holds pickled Python objects, "
                "which minigan never writes and never loads)"
            ) from None
        raise CheckpointError(f"corrupt {noun} {label}: truncated or damaged (ValueError: {err})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, zipfile.LargeZipFile) as err:
        raise CheckpointError(
            f"corrupt {noun} {label}: truncated or damaged ({type(err).__name__}: {err})"
        ) from None
    return arrays


def decode(arrays: dict, label: str, noun: str = "checkpoint", make_tensor=None):
    """The object stored in the entries ``arrays`` of a minigan file (see ``read_entries``)."""
    if _META not in arrays:
        raise CheckpointError(f"{noun} {label}: not a minigan {noun} (no {_META} entry)")
    arrays = dict(arrays)
    try:
        meta = json.loads(str(arrays.pop(_META)))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, expected {FORMAT!r}")
        if meta.get("version") != VERSION:
            raise ValueError(f"version {meta.get('version')!r} is not supported (this reads {VERSION})")
        return unflatten(meta["tree"], arrays, make_tensor)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{noun} {label}: not a valid minigan {noun} ({err})") from None


def load_checkpoint(path):
    """The state saved by ``save_checkpoint``, arrays as NumPy arrays. ``CheckpointError`` if the file is
    missing, truncated, corrupt, or not a minigan checkpoint (the message names the file and the problem)."""
    label = os.fspath(path)
    return decode(read_entries(path, label), label)
