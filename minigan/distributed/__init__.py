"""``minigan.distributed``: data-parallel training over MPI (CPU) and NCCL (GPU), with PyTorch's names.
Chapter 16 (scaling out) teaches it.

    import minigan.distributed as dist
    dist.init_process_group("mpi")                  # rank and world size from the mpiexec launch
    G = nn.parallel.DistributedDataParallel(G)      # same start on every rank, gradients averaged
    D = nn.SyncBatchNorm.convert_sync_batchnorm(D)  # batch statistics over every rank's shard

``process_group.py``  the ranks, the backends (mpi4py; NCCL through CuPy) and the collectives on arrays
``collectives.py``    all_reduce / broadcast / barrier on Tensors, and the differentiable all-reduce
``reducer.py``        the bucketed gradient all-reduce behind DistributedDataParallel
``seeding.py``        one stream of random numbers per rank, derived from the run's seed
``launch.py``         finding mpiexec, ``minigan train --nproc N``, and naming a rank that died

The wrapper and the layer live where PyTorch keeps them: ``minigan.nn.parallel.DistributedDataParallel``,
``minigan.nn.SyncBatchNorm``. Install the MPI library with the ``mpi`` extra: ``pip install -e ".[mpi]"``.
"""

from .collectives import all_reduce, all_reduce_sum, barrier, broadcast
from .process_group import (
    DistributedError,
    LocalGroup,
    ProcessGroup,
    ReduceOp,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_initialized,
    launched_by_mpi,
)
from .reducer import Reducer
from .seeding import seed_ranks, shard_stream

__all__ = [
    "DistributedError", "LocalGroup", "ProcessGroup", "ReduceOp", "Reducer", "all_reduce", "all_reduce_sum",
    "barrier", "broadcast", "destroy_process_group", "get_backend", "get_rank", "get_world_size", "group",
    "init_process_group", "is_initialized", "launched_by_mpi", "seed_ranks", "shard_stream",
]  # fmt: skip
