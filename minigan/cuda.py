"""``minigan.cuda``: the ``torch.cuda`` functions GAN scripts call. Chapter 01 (where arrays live).

    if minigan.cuda.is_available(): ...      # CuPy installed and a usable GPU
    minigan.cuda.manual_seed_all(0)          # reseeds minigan's one generator, as manual_seed does
    minigan.cuda.synchronize()               # wait for the GPU's queued work (timings)

Importing this module never imports CuPy (``backend.py`` looks it up on first use), so it works on any
machine; asking for the GPU itself (``current_device``, ``synchronize``) without CuPy or a GPU raises a
DeviceError that says what to install.

Seeding differs from PyTorch in where the numbers come from, not in what a script gets: PyTorch has one
generator per GPU, minigan draws every random number on the CPU from one generator and copies it to the
GPU (``minigan/random.py``), so ``manual_seed`` and ``manual_seed_all`` both reseed that generator, and a
seed gives the same numbers on every device.
"""

from __future__ import annotations

from . import random as _random
from .backend import cuda_is_available, normalize_device, require_cupy


def is_available() -> bool:
    """True when CuPy is installed and sees a usable CUDA GPU."""
    return cuda_is_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or a GPU). minigan itself uses one: cuda:0."""
    if not cuda_is_available():
        return 0
    return int(require_cupy().cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the GPU minigan's CUDA arrays go to: CuPy's current device (0 unless changed)."""
    return int(require_cupy().cuda.runtime.getDevice())


def synchronize(device=None) -> None:
    """Wait until the GPU has finished all queued work (kernels run asynchronously, so a timer read
    without this measures only the launch). ``device``: None or index 0 / 'cuda' / 'cuda:0'."""
    if device is not None and normalize_device(device) != "cuda":
        raise ValueError(f"synchronize: expected a CUDA device, got {device!r}")
    require_cupy().cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Reseed minigan's one generator (CUDA draws are made on the CPU from it): ``minigan.manual_seed``."""
    _random.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """The same as ``manual_seed``: there is one generator for all devices."""
    _random.manual_seed(seed)


# The legacy typed constructors on the GPU, as torch.cuda.FloatTensor: ``Tensor = minigan.cuda.FloatTensor
# if cuda else minigan.FloatTensor``; calling one without a usable GPU raises the DeviceError above.
from .autograd.tensor_types import CUDA_TYPES as _CUDA_TYPES  # noqa: E402 - kept beside its comment

globals().update(_CUDA_TYPES)
