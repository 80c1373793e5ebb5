"""Checkpoints: nested training state to one ``.npz`` file and back, without pickle. Chapter 07 (training
runs) uses it; ``minigan train --resume`` is built on it.

A checkpoint is any nesting of dicts, lists and tuples whose leaves are arrays (NumPy, CuPy or minigan
Tensors), Python scalars (bool, int of any size, float, str) or None. ``save_checkpoint`` flattens it:

* every array becomes one named ``.npy`` entry of the zip (its name is its key path, ``model/G/0.weight``),
  moved to the CPU with its dtype and bits unchanged;
* the tree itself (key types included: optimizer states are keyed by ints, ``betas`` is a tuple) becomes a
  JSON string stored as the 0-d unicode array ``__meta__``; Python floats go through ``repr``, so they
  round-trip exactly.

Nothing is pickled and ``np.load(..., allow_pickle=False)`` reads it back, so opening a checkpoint cannot
run code. The file is written atomically: to a temporary file in the same directory, flushed and
``fsync``-ed, then ``os.replace``-d over the target, so a crash (or a full disk) mid-save leaves the
previous checkpoint intact. Loading a missing, truncated or corrupt file raises ``CheckpointError`` naming
the file and the problem.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from .autograd.tensor import Tensor
from .backend import as_numpy, is_cupy_array

FORMAT = "minigan-checkpoint"
VERSION = 1
_META = "__meta__"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, or not a minigan checkpoint."""


# -- flattening ----------------------------------------------------------------------------------------
def _flatten(obj, path: str, arrays: dict):
    """The JSON description of ``obj``; its arrays are put into ``arrays`` under unique names."""
    if isinstance(obj, Tensor):
        obj = obj.array
    if isinstance(obj, np.ndarray) or is_cupy_array(obj) or isinstance(obj, np.generic):
        name = path or "value"
        while name in arrays or name == _META:
            name += "_"
        a = np.asarray(as_numpy(obj))
        if a.dtype.kind not in "biufc":
            raise TypeError(f"save_checkpoint: {path!r} has dtype {a.dtype}; only numeric arrays are stored")
        arrays[name] = a
        return {"t": "scalar" if isinstance(obj, np.generic) else "array", "name": name}
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": str(obj)}  # as text: JSON readers may not keep 128-bit ints (PCG64 state)
    if isinstance(obj, float):
        return {"t": "float", "v": repr(obj)}
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save_checkpoint: dict keys must be str or int, got {k!r} at {path!r}")
            items.append([k, _flatten(v, f"{path}/{k}" if path else str(k), arrays)])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {"t": kind, "items": [_flatten(v, f"{path}/{i}", arrays) for i, v in enumerate(obj)]}
    raise TypeError(f"save_checkpoint: cannot store {type(obj).__name__} at {path!r}")


def _unflatten(node, arrays):
    t = node["t"]
    if t == "array":
        return arrays[node["name"]]
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
    if t == "str":
        return str(node["v"])
    if t == "dict":
        return {k: _unflatten(v, arrays) for k, v in node["items"]}
    if t == "list":
        return [_unflatten(v, arrays) for v in node["items"]]
    if t == "tuple":
        return tuple(_unflatten(v, arrays) for v in node["items"])
    raise ValueError(f"unknown node type {t!r}")


# -- files ---------------------------------------------------------------------------------------------
def atomic_write(path, write) -> None:
    """Call ``write(file_object)`` on a temporary file next to ``path``, fsync it, then rename it over
    ``path``. If anything fails, ``path`` is untouched and the temporary file is removed."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


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
    tree = _flatten(state, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[_META] = np.array(meta)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path):
    """The state saved by ``save_checkpoint``, arrays as NumPy arrays. ``CheckpointError`` if the file is
    missing, truncated, corrupt, or not a minigan checkpoint (the message names the file and the problem)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path}: no such file")
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path}: not a regular file")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}  # read all now: CRC errors surface on read
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError, zipfile.LargeZipFile) as err:
        raise CheckpointError(
            f"checkpoint {path}: corrupt or truncated, cannot be read ({type(err).__name__}: {err})"
        ) from None
    if _META not in arrays:
        raise CheckpointError(f"checkpoint {path}: not a minigan checkpoint (no {_META} entry)")
    try:
        meta = json.loads(str(arrays.pop(_META)))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, expected {FORMAT!r}")
        if meta.get("version") != VERSION:
            raise ValueError(f"version {meta.get('version')!r} is not supported (this reads {VERSION})")
        return _unflatten(meta["tree"], arrays)
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"checkpoint {path}: not a valid minigan checkpoint ({err})") from None
