"""``minigan.nn.parallel``: DataParallel (one device, run once: chapter 05) and DistributedDataParallel
(one replica per rank, gradients averaged: chapter 16), where PyTorch keeps them."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel, broadcast_module, replicate

__all__ = ["DataParallel", "DistributedDataParallel", "broadcast_module", "data_parallel", "replicate"]
