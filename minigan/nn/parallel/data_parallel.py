"""``minigan.nn.parallel.DataParallel`` and ``data_parallel``: PyTorch's, run once, on one device.
Chapter 05 (layers); the DCGAN scripts of chapter 08 are where PyTorch code wraps its models in them.

PyTorch's DataParallel splits each batch along ``dim`` into one chunk per GPU in ``device_ids``, runs a
copy of the module on each chunk in its own thread and concatenates the outputs on ``output_device``.
minigan runs on one device in one process (``backend.py``), so here the module runs once, on the whole
batch, where its parameters are:

    G = nn.parallel.DataParallel(G, device_ids=list(range(ngpu)))   # a script written for several GPUs
    x = G(z)                                                        # = G.module(z), nothing split

What stays PyTorch's: the wrapper is a Module whose one child is ``module``, so its state_dict keys are
``module.``-prefixed ("module.0.weight") and a checkpoint saved from a DataParallel model loads into one;
the attributes ``module``, ``device_ids``, ``output_device`` and ``dim``; and the GPU-less case, where
``device_ids`` is ``[]`` and nothing is moved. With a usable GPU, the module is moved to it (as PyTorch
does when it has one GPU) and outputs are gathered on ``output_device`` (default ``device_ids[0]``; -1 or
'cpu' is the CPU). What differs: batch norm sees the whole batch, not one chunk per GPU, so its
statistics are those of a single-GPU run; ``dim`` is checked and kept but nothing is split along it.
"""

from __future__ import annotations

from ...autograd.tensor import Tensor
from ...backend import cuda_is_available
from ...cuda import device_count
from ...device import device as Device
from ..module import Module

_CPU = -1  # PyTorch's output_device for "gather on the CPU"


def _device_index(d, name: str, allow_cpu: bool = False) -> int:
    """A GPU index from an int, 'cuda:N' or a minigan.device; -1 for the CPU where ``allow_cpu``."""
    if isinstance(d, int) and not isinstance(d, bool):
        if d >= 0 or (allow_cpu and d == _CPU):
            return d
        raise ValueError(
            f"{name}={d!r}: a GPU index must be >= 0{' (or -1 for the CPU)' if allow_cpu else ''}"
        )
    if isinstance(d, (str, Device)):
        dev = Device(d)
        if dev.type == "cuda":
            return dev.index or 0
        if allow_cpu:
            return _CPU
        raise ValueError(f"{name}={d!r}: expected a GPU (an index or 'cuda:N')")
    raise TypeError(f"{name}={d!r} is a {type(d).__name__}, expected a GPU index or a device")


def _check_args(module, device_ids, output_device, dim) -> tuple:
    if not isinstance(module, Module):
        raise TypeError(f"module must be a minigan nn.Module, got {type(module).__name__}")
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim={dim!r} is a {type(dim).__name__}, expected an int")
    if device_ids is not None:
        if isinstance(device_ids, (str, Device)) or not hasattr(device_ids, "__iter__"):
            raise TypeError(f"device_ids={device_ids!r}: expected a list of GPU indices or devices")
        device_ids = [_device_index(d, f"device_ids[{i}]") for i, d in enumerate(device_ids)]
    if output_device is not None:
        output_device = _device_index(output_device, "output_device", allow_cpu=True)
    return device_ids, output_device


def _gather(out, output_device: int):
    """``out`` with every Tensor in it (nested in tuples, lists, dicts) moved to ``output_device``."""
    if isinstance(out, Tensor):
        return out.to("cpu" if output_device == _CPU else "cuda")
    if isinstance(out, (tuple, list)):
        return type(out)(_gather(o, output_device) for o in out)
    if isinstance(out, dict):
        return {k: _gather(v, output_device) for k, v in out.items()}
    return out


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``: calling it calls ``module``
    once on the inputs, on one device (see the module docstring). ``device_ids`` defaults to every GPU
    CuPy sees, and is ``[]`` when there is none (PyTorch's values)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        device_ids, output_device = _check_args(module, device_ids, output_device, dim)
        self.module = module
        self.dim = dim
        if not cuda_is_available():
            self.device_ids, self.output_device = [], None  # PyTorch's GPU-less DataParallel
            return
        self.device_ids = list(range(device_count())) if device_ids is None else device_ids
        if not self.device_ids:
            raise RuntimeError("DataParallel: device_ids is empty; give at least one GPU")
        self.output_device = self.device_ids[0] if output_device is None else output_device
        self.module.to("cuda")

    def forward(self, *inputs, **kwargs):
        out = self.module(*inputs, **kwargs)
        return _gather(out, self.output_device) if self.device_ids else out


def data_parallel(
    module: Module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None
):
    """``module(*inputs, **module_kwargs)``, run once, on one device: the functional form of DataParallel.
    ``inputs``: one input or a tuple of them (None: no inputs). The output is moved to ``output_device``
    when one is given (-1 or 'cpu': the CPU); nothing is moved or split otherwise."""
    _, output_device = _check_args(module, device_ids, output_device, dim)
    if module_kwargs is not None and not isinstance(module_kwargs, dict):
        raise TypeError(f"module_kwargs must be a dict, got {type(module_kwargs).__name__}")
    if not isinstance(inputs, tuple):
        inputs = () if inputs is None else (inputs,)
    out = module(*inputs, **(module_kwargs or {}))
    return out if output_device is None else _gather(out, output_device)
