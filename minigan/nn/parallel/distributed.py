"""``minigan.nn.parallel.DistributedDataParallel``: one replica of a model per rank, kept identical.
Chapter 16 (scaling out).

    dist.init_process_group("mpi")
    model = DistributedDataParallel(model)      # rank 0's parameters and buffers broadcast to every rank
    loss = loss_fn(model(x_shard), y_shard)     # each rank: its own B / p samples
    loss.backward()                             # ... and here the gradients are averaged over the ranks
    opt.step()                                  # the same step on every rank

What it does, as PyTorch's does: at construction, broadcast the module's parameters and buffers from rank
0 (so the replicas start equal even if each rank initialised its own); on every backward, average the
gradients of the parameters that require grad over the ranks, in buckets of ``bucket_cap_mb``
(``minigan.distributed.reducer``); before every forward, with ``broadcast_buffers=True``, copy rank 0's
buffers (batch norm's running statistics) to the other ranks. ``no_sync()`` suspends the averaging for
gradient accumulation. The state_dict keys get the ``module.`` prefix, like DataParallel's.

What differs: the averaging does not overlap the backward computation (minigan's engine writes the leaf
gradients at its end; see reducer.py); ``device_ids`` is accepted and checked against the device the
module is on, and nothing is moved. Hooks are on the parameters, so the module itself (``model.module``)
may be called directly and still be averaged; ``replicate(module, group)`` does the same setup with no
wrapper at all. ``minigan train --distributed`` uses it, because the GAN variants reach into their networks
(StyleGAN's mapping network, CycleGAN's two generators).
"""

from __future__ import annotations

from contextlib import contextmanager

from ...distributed import process_group as pg
from ...distributed.reducer import DEFAULT_BUCKET_MB, Reducer
from ..module import Module


def broadcast_module(module: Module, group, src: int = 0, parameters: bool = True,
                     buffers: bool = True) -> None:  # fmt: skip
    """Every parameter and / or buffer of ``module`` <- rank ``src``'s, in a fixed order (state_dict's)."""
    tensors = [p for _, p in module.named_parameters()] if parameters else []
    if buffers:
        tensors += [b for _, b in module.named_buffers()]
    for t in tensors:
        group.broadcast(t.array, src)
        t._bump_version()


def replicate(module: Module, group, bucket_cap_mb: float = DEFAULT_BUCKET_MB,
              find_unused_parameters: bool = False) -> Reducer:  # fmt: skip
    """Make ``module`` this rank's replica without wrapping it: rank 0's parameters and buffers broadcast,
    then a ``Reducer`` that averages the gradients of its parameters that require grad (what
    DistributedDataParallel does when it is made). For code that calls a model's parts directly, as the
    GAN variants do (``minigan train --distributed``). Returns the Reducer."""
    params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    if not params:
        raise RuntimeError("DistributedDataParallel: the module has no parameter that requires grad")
    broadcast_module(module, group)
    names = [n for n, _ in params]
    return Reducer([p for _, p in params], names, group, bucket_cap_mb, find_unused_parameters)


class DistributedDataParallel(Module):
    """``DistributedDataParallel(module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
    process_group=None, bucket_cap_mb=25, find_unused_parameters=False)`` (see the module docstring)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float = DEFAULT_BUCKET_MB,
                 find_unused_parameters: bool = False):  # fmt: skip
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"module must be a minigan nn.Module, got {type(module).__name__}")
        group = process_group or pg.group()  # a clear error when init_process_group was not called
        if device_ids is not None:
            on = next(iter(module.parameters())).device
            if on == "cpu":  # PyTorch: device_ids must be None for a CPU module
                raise ValueError(f"device_ids={device_ids!r} names GPUs, but the module is on {on}")
        self.module = module
        self.dim, self.device_ids, self.output_device = dim, device_ids, output_device
        self.broadcast_buffers, self.process_group = broadcast_buffers, group
        self.reducer = replicate(module, group, bucket_cap_mb, find_unused_parameters)

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.process_group.world_size > 1:
            broadcast_module(self.module, self.process_group, parameters=False)
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self):
        """Backward passes inside the block keep their gradients local (accumulation)."""
        with self.reducer.no_sync():
            yield
