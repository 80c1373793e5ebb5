"""The data-parallel benchmarks of chapter 16: DCGAN throughput on 1 and on P ranks, and the bucketed
all-reduce against a raw MPI all-reduce of the same size.

    python -m minigan.gan.scaling_bench                       # both, 2 ranks, one thread per rank
    python -m minigan.gan.scaling_bench --steps 5 --quick     # seconds (the chapter's quick mode)

``throughput``: DCGAN on MNIST (the run's batch B = 64 by default, the DCGAN default), timed over
``--steps`` steps after ``--warmup``; one process with batch B, then ``--nproc`` ranks with B / P each
(SyncBatchNorm, gradients averaged), every process limited to one thread (``OMP_NUM_THREADS`` /
``NUMBA_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` = 1). Prints images/s for both and the ratio.

``allreduce``: the gradients of that DCGAN (G and D, float32), reduced the way ``DistributedDataParallel``
reduces them (``distributed.Reducer``: 25 MB buckets, the engine writing g / p into them, one all-reduce
per bucket; timed from the end of backward, both ranks starting together) against one ``comm.Allreduce`` of a
buffer of the same total size, each the median of ``--reps`` repetitions. The ratio raw / bucketed says how
much of the wire's speed the bucketing keeps.

``sweep`` (only with ``--only sweep``): raw Allreduce times from 1 KB to 16 MB, for chapter 16's cost
model t = alpha + 2 (p - 1) / p * n / beta.

Each part runs its ranks under ``mpiexec`` (the ``mpi`` extra). ``--json FILE`` writes the results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from ..distributed.launch import THREAD_VARS

ONE_THREAD = dict.fromkeys(THREAD_VARS, "1")


def _dcgan(batch: int, width: int, data_dir: str | None, world: int, rank: int, group):
    """A DCGAN trainer as ``minigan train --data mnist`` makes it, for one rank of ``world``."""
    from .. import distributed as dist
    from .. import optim
    from ..nn import SyncBatchNorm
    from ..nn.parallel import replicate
    from ..random import manual_seed
    from . import Trainer, registry

    spec = registry.get("mnist")
    model = spec.model(None)
    config = {"data": "mnist", **spec.defaults, **model.defaults, "batch_size": batch, "width": width}
    config.update(split="test", data_dir=data_dir, seed=0)
    manual_seed(0)
    samples = spec.make_data(config)
    G, D = model.make_models(config)
    if world > 1:
        G, D = SyncBatchNorm.convert_sync_batchnorm(G), SyncBatchNorm.convert_sync_batchnorm(D)
        for m in (G, D):
            replicate(m, group)
    dist.seed_ranks(0, rank, world)
    rng = dist.shard_stream(0, dist.seeding.DATA, rank, world)
    batches = model.batches(samples, config)
    betas = tuple(config["betas"])
    opt_G = optim.Adam(G.parameters(), lr=config["lr"], betas=betas)
    opt_D = optim.Adam(D.parameters(), lr=config["lr"], betas=betas)
    return Trainer(G, D, opt_G, opt_D, lambda n: batches.sample(n, rng), z_dim=config["z_dim"],
                   batch_size=batch // world, variant=model.make_variant(config), group=group)  # fmt: skip


def worker_throughput(a) -> dict:
    """Inside one process (or one rank): seconds per step of the DCGAN."""
    from .. import kernels

    kernels.tune_process()
    group = None
    if a.world > 1:
        from .. import distributed as dist

        group = dist.init_process_group("mpi")
    rank = group.rank if group else 0
    t = _dcgan(a.batch, a.width, a.data_dir, a.world, rank, group)
    for _ in range(a.warmup):
        t.step()
    if group:
        group.barrier()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        t.step()
    if group:
        group.barrier()
    seconds = (time.perf_counter() - t0) / a.steps
    return {"world": a.world, "batch": a.batch, "s_per_step": seconds, "images_per_s": a.batch / seconds}


def worker_allreduce(a) -> dict:
    """Inside each rank: the Reducer's work on DCGAN's gradients after a backward pass, vs one raw
    Allreduce of the same bytes, both started together (a barrier) so that neither times the other rank's
    lateness. The gradients are where backward leaves them: written by the engine, times 1/p, into the
    buckets (their gradient sink); what is timed is the hooks that follow (bookkeeping, one all-reduce per
    bucket, the gradient views)."""
    from .. import distributed as dist
    from ..autograd.hooks import run_with_callbacks
    from ..creation import ones_like
    from ..random import manual_seed
    from . import registry

    group = dist.init_process_group("mpi")
    spec = registry.get("mnist")
    config = {"data": "mnist", **spec.defaults, **spec.model(None).defaults, "width": a.width}
    manual_seed(0)
    G, D = spec.model(None).make_models(config)
    params = list(G.parameters()) + list(D.parameters())
    reducer = dist.Reducer(params, group=group)
    sum((p * ones_like(p)).sum() for p in params).backward()  # the gradients land in the buckets
    n = sum(p.array.size for p in params)
    raw = np.ones(n, dtype=np.float32)

    def hooks():  # what the end of that backward runs, for every parameter in the engine's order
        for b in reducer.buckets:
            b.sunk.update(range(len(b.params)))
        run_with_callbacks(lambda: [reducer._hook(p) for p in reversed(params)])

    bucketed_s = _median_seconds(group, hooks, a.reps)
    raw_s = _median_seconds(group, _raw_allreduce(group, raw), a.reps)
    return {"bytes": 4 * n, "buckets": len(reducer.buckets), "bucketed_s": bucketed_s, "raw_s": raw_s}


def worker_sweep(a) -> dict:
    """Inside each rank: raw Allreduce times of float32 buffers from 1 KB to 16 MB (the cost model's data)."""
    from .. import distributed as dist

    group = dist.init_process_group("mpi")
    sizes, seconds = [2**k for k in range(10, 25, 2)], []
    for nbytes in sizes:
        buf = np.ones(nbytes // 4, dtype=np.float32)
        seconds.append(_median_seconds(group, _raw_allreduce(group, buf), a.reps))
    return {"bytes": sizes, "seconds": seconds}


def _raw_allreduce(group, buf: np.ndarray):
    """A call of one plain mpi4py ``Allreduce`` (sum, in place) of ``buf``: the wire's own speed."""
    from mpi4py import MPI

    return lambda: group.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)


def _median_seconds(group, fn, reps: int) -> float:
    """The median time of ``fn()`` over ``reps`` calls after one untimed call, every rank starting each
    call together (a barrier), so that no rank times another's lateness."""
    fn()
    ts = []
    for _ in range(reps):
        group.barrier()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


WORKERS = {"throughput": worker_throughput, "allreduce": worker_allreduce, "sweep": worker_sweep}


def _launch(mode: str, world: int, a) -> dict:
    """Run this module's ``mode`` worker in ``world`` processes (mpiexec when world > 1); rank 0's result."""
    from ..distributed.launch import find_mpiexec

    args = ["-m", "minigan.gan.scaling_bench", "--worker", mode, "--world", str(world)]
    for flag in ("steps", "warmup", "batch", "width", "reps"):
        args += [f"--{flag}", str(getattr(a, flag))]
    if a.data_dir:
        args += ["--data-dir", a.data_dir]
    cmd = [sys.executable, *args] if world == 1 else [find_mpiexec(), "-n", str(world), sys.executable, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **ONE_THREAD}, timeout=3000)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} on {world} rank(s) failed:\n{proc.stderr[-2000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[0])


def main(argv=None) -> dict | None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--data-dir", default=os.environ.get("MINIGAN_MNIST_DIR"))
    ap.add_argument("--quick", action="store_true", help="width 16, 3 steps: seconds, for the chapter")
    ap.add_argument("--only", choices=tuple(WORKERS), default=None, help="one part (sweep: only on request)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--world", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        result = WORKERS[a.worker](a)
        if a.world == 1 or _rank() == 0:
            print(json.dumps(result), flush=True)
        return None
    if a.quick:
        a.width, a.steps, a.warmup, a.reps = 16, 3, 1, 5
    out = {"nproc": a.nproc}
    if a.only in (None, "throughput"):
        one, many = _launch("throughput", 1, a), _launch("throughput", a.nproc, a)
        out["throughput"] = {"one": one, "ranks": many, "ratio": many["images_per_s"] / one["images_per_s"]}
        print(f"DCGAN (width {a.width}), batch {a.batch}, one thread per process: 1 process "
              f"{one['images_per_s']:.1f} images/s, {a.nproc} ranks {many['images_per_s']:.1f} images/s: "
              f"{out['throughput']['ratio']:.2f} x")  # fmt: skip
    if a.only in (None, "allreduce"):
        r = _launch("allreduce", a.nproc, a)
        r["ratio"] = r["raw_s"] / r["bucketed_s"]
        out["allreduce"] = r
        print(f"all-reduce of {r['bytes'] / 2**20:.2f} MB of gradients on {a.nproc} ranks: bucketed "
              f"({r['buckets']} buckets) {1e3 * r['bucketed_s']:.2f} ms, raw Allreduce "
              f"{1e3 * r['raw_s']:.2f} ms: {100 * r['ratio']:.0f} % of raw")  # fmt: skip
    if a.only == "sweep":
        out["sweep"] = _launch("sweep", a.nproc, a)
        for n, t in zip(out["sweep"]["bytes"], out["sweep"]["seconds"]):
            print(f"Allreduce of {n:>9} bytes on {a.nproc} ranks: {1e6 * t:9.1f} us")
    if a.json:
        from .. import io

        io.atomic_write(a.json, lambda f: f.write(json.dumps(out, indent=1).encode()))
    return out


def _rank() -> int:
    from ..distributed import get_rank

    return get_rank()


if __name__ == "__main__":
    main()
