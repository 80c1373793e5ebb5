"""Array backends: which array module (NumPy or CuPy) and which device a value lives on.

Chapter 01 (autograd) introduces it. Every op is written once against ``xp``, the array module of its
operands, in the style of DeZero's ``get_array_module``: NumPy arrays live on ``"cpu"``, CuPy arrays on
``"cuda"``. CuPy is optional. Importing minigan never imports CuPy; it is looked up only when a CUDA
array is asked for, and a missing package or an unusable GPU gives an error that says which is missing
and what to install (after chainer's ``backends/cuda.py``).

Devices are named as in PyTorch ('cpu', 'cuda', 'cuda:0', a ``minigan.device``); ``normalize_device``
reduces every spelling to the two minigan stores arrays on. (``minigan.backends``, plural, is another
thing: PyTorch's no-op switches such as ``cudnn.benchmark``.)
"""

from __future__ import annotations

import numpy as np

CPU = "cpu"
CUDA = "cuda"


class DeviceError(RuntimeError):
    """A device was asked for that cannot be used, or devices were mixed in one operation."""


_cupy_module = None
_cupy_checked = False


def _import_cupy():
    """CuPy if it imports, else None. Imported at most once, and only on demand."""
    global _cupy_module, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # noqa: PLC0415 - optional dependency, imported on first use only

            _cupy_module = cupy
        except Exception:  # ImportError, or a broken CUDA install raising at import
            _cupy_module = None
    return _cupy_module


def cuda_is_available() -> bool:
    """True when CuPy is installed and can see a usable CUDA GPU."""
    cp = _import_cupy()
    if cp is None:
        return False
    try:
        return bool(cp.cuda.is_available())
    except Exception:
        return False


def require_cupy():
    """CuPy, or a DeviceError that says what is missing and how to get it."""
    cp = _import_cupy()
    if cp is None:
        raise DeviceError(
            "device 'cuda' needs CuPy, which is not installed. Install the extra that matches your CUDA "
            "driver: pip install 'minigan[cuda12]' (CUDA 12.x) or 'minigan[cuda13]' (CUDA 13.x)."
        )
    try:
        available = bool(cp.cuda.is_available())
    except Exception as err:  # pragma: no cover - depends on the machine's driver
        raise DeviceError(f"device 'cuda': CuPy is installed but CUDA failed to initialise: {err}") from err
    if not available:
        raise DeviceError(
            "device 'cuda': CuPy is installed but no usable CUDA GPU was found (no device, or no driver). "
            "Use device='cpu', or run on a machine with an NVIDIA GPU and driver."
        )
    return cp


_DEVICE_TYPES = (CPU, CUDA)


def parse_device(spec: str) -> tuple[str, int | None]:
    """``(type, index)`` of a PyTorch device string: 'cpu' -> ('cpu', None), 'cuda:1' -> ('cuda', 1). The
    spelling is PyTorch's (lower case, a decimal index without leading zeros); anything else is a
    DeviceError naming it."""
    if not isinstance(spec, str):
        raise TypeError(f"a device string must be a str, got {type(spec).__name__} {spec!r}")
    kind, colon, number = spec.partition(":")
    if kind not in _DEVICE_TYPES:
        raise DeviceError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:<index>'")
    if not colon:
        return kind, None
    if not number.isdigit() or not number.isascii() or (len(number) > 1 and number[0] == "0"):
        raise DeviceError(f"invalid device string {spec!r}: the index after ':' must be an int >= 0")
    return kind, int(number)


def normalize_device(device) -> str:
    """'cpu' or 'cuda', where minigan puts arrays, from any way of naming a device: None (-> 'cpu'),
    'cpu', 'cuda', 'cuda:0', 'gpu' (any case), a ``minigan.device`` (or anything with a string ``type``
    and an ``index``, such as a ``torch.device``), or an int (a GPU index, as in PyTorch).

    minigan runs on one GPU, CuPy's current device (cuda:0 unless you pick another with
    CUDA_VISIBLE_DEVICES), so an index other than 0 is a DeviceError rather than a silent move to cuda:0.
    """
    if device is None:
        return CPU
    if isinstance(device, (bool, np.bool_)):
        raise TypeError(f"a device must be a str, a minigan.device or an int, got {device!r}")
    if isinstance(device, (int, np.integer)):
        if device < 0:
            raise DeviceError(f"device index must be >= 0, got {device}")
        kind, index = CUDA, int(device)
    elif isinstance(device, str):
        name = device.lower()
        kind, index = (CUDA, None) if name == "gpu" else parse_device(name)
    elif isinstance(getattr(device, "type", None), str) and hasattr(device, "index"):
        kind, index = device.type, device.index
        if kind not in _DEVICE_TYPES:
            raise DeviceError(f"unknown device {device!r}: expected type 'cpu' or 'cuda'")
    else:
        raise TypeError(
            f"a device must be a str, a minigan.device or an int, got {type(device).__name__} {device!r}"
        )
    if index not in (None, 0):
        raise DeviceError(
            f"device {kind}:{index}: minigan uses one {'GPU' if kind == CUDA else 'CPU'}, index 0; "
            f"choose which GPU that is with CUDA_VISIBLE_DEVICES={index}"
        )
    return kind


def is_cupy_array(a) -> bool:
    """True for a CuPy ndarray, checked without importing CuPy."""
    return type(a).__module__.startswith("cupy")


def device_of(a) -> str:
    """The device an array lives on: 'cuda' for CuPy arrays, 'cpu' for anything else."""
    return CUDA if is_cupy_array(a) else CPU


def array_module(*arrays):
    """The array module (numpy or cupy) of the given arrays; numpy when none is a CuPy array."""
    for a in arrays:
        if is_cupy_array(a):
            return _import_cupy()
    return np


def xp_for(device: str):
    """The array module that holds arrays on ``device``."""
    return require_cupy() if normalize_device(device) == CUDA else np


def to_device(a, device: str):
    """A copy of array ``a`` on ``device`` (the same array if it is already there)."""
    device = normalize_device(device)
    if device_of(a) == device:
        return a
    if device == CUDA:
        return require_cupy().asarray(a)
    return a.get()  # CuPy -> NumPy


def as_numpy(a) -> np.ndarray:
    """A NumPy array with the values of ``a`` (copied from the GPU when needed)."""
    return a.get() if is_cupy_array(a) else np.asarray(a)
