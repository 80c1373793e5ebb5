# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 16 — Scaling out: data-parallel GANs over MPI and NCCL
#
# Every chapter so far trained in one process. The first real dataset outgrows that: BigGAN was trained on
# hundreds of TPU cores, StyleGAN2 on eight GPUs. The way nearly all of them scale is **data parallelism**:
# $p$ processes (*ranks*), each with a full copy of G and D, each computing the gradient on its own shard of
# the batch, and the gradients averaged before every optimizer step. This chapter builds it from the parts
# in `minigan/distributed/` (the process group over mpi4py, the bucketed all-reduce), `minigan/nn/parallel/`
# (`DistributedDataParallel`) and `minigan/nn/sync_batchnorm.py`, and asks what it does to the GAN game:
#
# 1. why averaging gradients is the same as one big batch, and where that breaks (batch norm);
# 2. SyncBatchNorm, and a complete two-rank program;
# 3. buckets: how the gradients travel;
# 4. `minigan train --nproc 2`: the one game loop on two ranks;
# 5. what it costs: measured here, the ring all-reduce model, and projections to 8 and 64 GPUs;
# 6. how the large GAN trainings scaled.
#
# **Needs** the `mpi` extra: `pip install -e ".[mpi]"` (mpi4py and the MPICH wheel, which puts `mpiexec` in
# the virtual environment). **Run it:** `python tutorials/16_scaling_out.py`; `MINIGAN_QUICK=1` shrinks it to
# seconds. **Data:** section 5's DCGAN reads the MNIST *test* split (the only split in this project's
# sandbox), through `MINIGAN_MNIST_DIR` or minigan's download cache.

# %%
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import nn
from minigan.distributed import LocalGroup, Reducer
from minigan.distributed.launch import find_mpiexec
from minigan.gan import registry

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)
MPIEXEC = find_mpiexec()
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
print("mpiexec:", MPIEXEC, "| quick mode" if QUICK else "| full mode")

# %% [markdown]
# ## 1. Averaged gradients = one big batch
#
# A GAN's losses are means over the batch. Split a batch of $B$ into $p$ equal shards of $B/p$; rank $r$'s
# loss $L_r$ is the mean over its shard, and
#
# $$L = \frac1B \sum_{i=1}^{B} \ell_i = \frac1p \sum_{r=0}^{p-1} L_r
# \quad\Longrightarrow\quad \nabla_\theta L = \frac1p \sum_{r=0}^{p-1} \nabla_\theta L_r .$$
#
# So if every rank starts from the same $\theta$ and applies the same averaged gradient, the ranks stay
# identical and together take exactly the step one process would take on the whole batch. No weights are
# ever sent — only gradients, once per step, by an **all-reduce** (every rank ends with the sum).
#
# Checked here in one process, with the two "ranks" played by two halves of a batch:


# %%
def grads(model, x):
    model.zero_grad()
    (model(x) ** 2).mean().backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


x = mg.tensor(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))
for name, make in [
    ("MLP", lambda: nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))),
    ("MLP with BatchNorm", lambda: nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.LeakyReLU(0.2),
                                                 nn.Linear(16, 1))),
]:  # fmt: skip
    mg.manual_seed(0)
    model = make()
    whole = grads(model, x)
    halves = [grads(model, x[:4]), grads(model, x[4:])]
    averaged = [(a + b) / 2 for a, b in zip(*halves)]
    worst = max(float(np.abs(w - a).max() / (np.abs(w).max() + 1e-12)) for w, a in zip(whole, averaged))
    print(f"{name:20s} max relative difference, whole batch vs averaged halves: {worst:.1e}")

# %% [markdown]
# The plain MLP agrees to float rounding. Batch norm does not: each half is normalised with its own mean and
# variance, so the halves compute a different function than the whole batch. For a classifier that is a
# small change of regulariser; for a GAN it changes the game — DCGAN's D judges a batch by its
# statistics, and with 8 ranks of 8 images each D sees batches of 8, not 64.
#
# ## 2. SyncBatchNorm, and a whole two-rank program
#
# `nn.SyncBatchNorm` computes the statistics of the whole batch: per channel, with $M$ values over all
# ranks,
#
# $$\mu = \frac1M \sum_r \sum x_r, \qquad \sigma^2 = \frac1M \sum_r \sum (x_r - \mu)^2, \qquad
# \hat x_r = \frac{x_r - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad y_r = \gamma \hat x_r + \beta,$$
#
# one all-reduce of $2C+1$ numbers (the sums of $x$ and $x^2$, and the count). Its backward needs two more global sums,
#
# $$\frac{\partial L}{\partial x_r} = \frac{\gamma}{\sqrt{\sigma^2+\epsilon}}\Big(g_r - \frac1M\sum g
# - \hat x_r \frac1M \sum g\,\hat x\Big), \qquad g = \frac{\partial L}{\partial y},$$
#
# while $\partial L/\partial\gamma = \sum g_r \hat x_r$ and $\partial L/\partial \beta = \sum g_r$ stay on
# each rank and are averaged with every other parameter's gradient. For R1 and WGAN-GP (chapter 10) the
# backward is itself differentiated; SyncBatchNorm then rebuilds it from differentiable ops and a
# *differentiable* all-reduce, whose backward is again an all-reduce (`minigan/distributed/collectives.py`).
#
# Here is a complete data-parallel program, the way a PyTorch user writes one (`torch.distributed` →
# `minigan.distributed`); the chapter writes it to a file and starts it on two ranks with `mpiexec`.

# %%
PROGRAM = """
import numpy as np
import minigan as mg
import minigan.distributed as dist
from minigan import nn, optim

dist.init_process_group("mpi")                       # rank and world size from mpiexec
rank, world = dist.get_rank(), dist.get_world_size()
mg.manual_seed(rank)                                 # different weights on each rank on purpose:
net = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
model = nn.parallel.DistributedDataParallel(net)     # ... DDP broadcasts rank 0's
opt = optim.SGD(model.parameters(), lr=0.1)

x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)   # the whole batch
shard = mg.tensor(x[rank * 8 // world:(rank + 1) * 8 // world])          # this rank's part
for step in range(3):
    opt.zero_grad()
    loss = (model(shard) ** 2).mean()
    loss.backward()                                  # gradients averaged over the ranks here
    opt.step()
w = net[0].weight.detach().numpy()
print(f"rank {rank}: first weights after 3 steps {np.round(w[0, :3], 6).tolist()}")

if rank == 0:                                        # the same 3 steps in one process, whole batch
    mg.manual_seed(0)
    ref = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt = optim.SGD(ref.parameters(), lr=0.1)
    for step in range(3):
        opt.zero_grad()
        (ref(mg.tensor(x)) ** 2).mean().backward()
        opt.step()
    diff = max(float(np.abs(a.detach().numpy() - b.detach().numpy()).max())
               for a, b in zip(net.parameters(), ref.parameters()))
    print(f"one process, whole batch: max parameter difference {diff:.1e}")
"""
script = OUT / "16_two_ranks.py"
script.write_text(PROGRAM)
proc = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script)], capture_output=True, text=True,
                      env=ONE_THREAD, timeout=300)  # fmt: skip
print(proc.stdout + proc.stderr[-2000:])
assert proc.returncode == 0

# %% [markdown]
# Both ranks print the same weights (they started different; `DistributedDataParallel` broadcast rank 0's),
# and they equal the one-process run on the whole batch up to float rounding: the ranks add their halves'
# sums, one process adds all terms in one pass, a different rounding order. The test suite checks the same
# for the GAN itself (`tests/distributed/test_equivalence.py`): DCGAN with SyncBatchNorm, 2 ranks × 16 vs
# 1 × 32, agrees to a relative 6e-6 in the parameters after 5 steps; with plain BatchNorm G's output
# differs by 3 %.
#
# ## 3. How the gradients travel: buckets
#
# One all-reduce per parameter tensor would pay the network's latency ~20 times per network and step.
# `Reducer` (`minigan/distributed/reducer.py`) packs the gradients into flat buffers of at most 25 MB
# (PyTorch's `bucket_cap_mb`), in reverse layer order — the order backward produces them — and reduces
# each bucket with one call when its last gradient arrives (a post-accumulate-grad hook,
# `minigan/autograd/hooks.py`). The gradient tensors *are* slices of the bucket: the engine, which copies
# every fresh leaf gradient into storage of its own anyway, copies it (times $1/p$) straight into its slice,
# so the reduction costs the all-reduce and nothing more. The DCGAN of chapter 08:

# %%
spec = registry.get("mnist")
config = {"data": "mnist", **spec.defaults, **spec.model(None).defaults}
mg.manual_seed(0)
G, D = spec.model(None).make_models(config)
for name, net in (("G", G), ("D", D)):
    r = Reducer(list(net.parameters()), [n for n, _ in net.named_parameters()], LocalGroup())
    sizes = ", ".join(
        f"{b / 2**20:.2f} MB ({len(bk.params)} tensors)" for b, bk in zip(r.bucket_sizes, r.buckets)
    )
    print(f"{name}: {sum(p.numel() for p in net.parameters()):,} parameters -> buckets: {sizes}")
    r.remove()
GRAD_BYTES = 4 * sum(p.numel() for net in (G, D) for p in net.parameters())

# %% [markdown]
# ## 4. The one game loop on two ranks
#
# `minigan train --nproc 2` starts `mpiexec -n 2 ... --distributed` (or start it yourself). What changes is
# in `minigan/cli/distributed.py`: `--batch-size` stays the batch of the whole run (each rank trains on half
# of it), rank 0's networks are broadcast, G's and D's gradients are averaged, batch norm becomes
# SyncBatchNorm, each move's record (losses, $D(x)$, gradient norms) is averaged over the ranks so every
# rank takes the same NaN decision, and each rank draws its images and noise from a stream of its own
# derived from the seed (`minigan/distributed/seeding.py`). Rank 0 alone writes the run directory; a
# checkpoint holds every rank's random streams, so `--resume` continues bit-identically — with the same
# number of ranks, and says so otherwise. A rank that dies must not leave the others waiting in a
# collective forever (MPI has no timeout): a rank that meets an error of its own aborts the whole job, one
# killed by a signal is ended by the launcher, and `--nproc` reads the launcher's report to say which rank
# it was (`minigan/distributed/launch.py`).

# %%
run_dir = OUT / "16_ring8_2ranks"
steps = 60 if QUICK else 3000
cmd = [sys.executable, "-m", "minigan.cli", "train", "--data", "ring8", "--steps", str(steps), "--out",
       str(run_dir), "--force", "--no-progress", "--nproc", "2"]  # fmt: skip
proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
print(proc.stdout[-1500:], proc.stderr[-1500:])
assert proc.returncode == 0
print(
    json.loads((run_dir / "config.json").read_text())["world_size"],
    "ranks wrote",
    sorted(os.listdir(run_dir)),
)
proc = subprocess.run([sys.executable, "-m", "minigan.cli", "train", "--out", str(run_dir), "--resume", "--steps",
                       str(steps + 10)], capture_output=True, text=True, timeout=600)  # fmt: skip
print("resumed in one process:", proc.stderr.strip())

# %% [markdown]
# ## 5. What it costs
#
# **The model.** An all-reduce of $n$ bytes over $p$ ranks in a ring is a reduce-scatter then an all-gather:
# $2(p-1)$ messages of $n/p$ bytes per rank, so each rank sends and receives $2\frac{p-1}{p} n$ bytes and
#
# $$t(n, p) \approx 2(p-1)\,\alpha + 2\frac{p-1}{p}\,\frac{n}{\beta}$$
#
# with $\alpha$ the latency of one message and $\beta$ the link bandwidth. The bandwidth term hardly grows
# with $p$ (it tends to $2n/\beta$), which is why data parallelism scales; the latency term does, which is
# why gradients go in big buckets. (NCCL's *bus bandwidth* is defined exactly so that $t = 2\frac{p-1}{p}
# n / \text{busbw}$.)
#
# **Measured here**, two ranks on one 2-core machine over shared memory: the raw `Allreduce` time for
# sizes from 1 KB to 16 MB (fitting $\alpha$ and $\beta$), the bucketed reduction of the DCGAN's gradients
# against one raw all-reduce of the same size, and DCGAN training throughput on 1 process vs 2 ranks, one
# thread each (`python -m minigan.gan.scaling_bench`).

# %%
bench = [sys.executable, "-m", "minigan.gan.scaling_bench", "--nproc", "2"] + (["--quick"] if QUICK else [])
results = {}
# two runs: the sweep (only on request, with its own repetitions), then throughput and all-reduce together
for part, extra in (("sweep", ["--only", "sweep", "--reps", "30"]), ("throughput_allreduce", [])):
    path = OUT / f"16_{part}.json"
    proc = subprocess.run(bench + extra + ["--json", str(path)], capture_output=True, text=True, timeout=3000)
    print(proc.stdout.strip() or proc.stderr[-2000:])
    assert proc.returncode == 0
    results.update(json.loads(path.read_text()))

n = np.array(results["sweep"]["bytes"], dtype=float)
t = np.array(results["sweep"]["seconds"])
p = 2
# least squares for t = a + b * (2 (p - 1) / p) n, weighted by 1 / t so small and large sizes both count
A = np.stack([np.ones_like(n), 2 * (p - 1) / p * n], axis=1) / t[:, None]
(a_fit, b_fit), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
alpha, beta = a_fit / (2 * (p - 1)), 1.0 / b_fit
print(f"fit: alpha = {1e6 * alpha:.1f} us per message, beta = {beta / 1e9:.2f} GB/s")

fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(n, t * 1e6, "o", label="measured (2 ranks, shared memory)")
grid = np.logspace(np.log10(n[0]), np.log10(n[-1]), 50)
ax.loglog(grid, 1e6 * (2 * (p - 1) * alpha + 2 * (p - 1) / p * grid / beta), "-", label="ring model fit")
ax.axvline(GRAD_BYTES, color="gray", ls=":", label="DCGAN's gradients (G + D)")
ax.set(xlabel="bytes", ylabel="all-reduce time (us)", title="All-reduce cost on this machine")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "16_allreduce_cost.png", dpi=120)
plt.show()

# %% [markdown]
# **Projected.** With the fitted model on this machine and published NCCL bus bandwidths for GPU systems —
# about 460 GB/s for 8 × H100 SXM5 over NVLink 4, about 35 GB/s for 2 nodes of 8 × H200 over 4 ConnectX-7
# RoCE links (nccl-tests figures reported by cluster operators; large messages) — the time one step's
# gradients take at 8 and 64 GPUs. The GPU latency $\alpha$ is not a published constant; 10 µs per message
# is an assumption (NCCL's small-message all-reduce takes tens of µs). For a 100 M-parameter G + D
# (BigGAN's size class) the bandwidth term dominates everywhere:


# %%
def t_ring(nbytes, ranks, a, busbw):
    return 2 * (ranks - 1) * a + 2 * (ranks - 1) / ranks * nbytes / busbw


rows = [("this machine, 2 ranks (fit)", 2, alpha, beta), ("8 GPUs, NVLink (460 GB/s)", 8, 10e-6, 460e9),
        ("64 GPUs, 8 nodes, RoCE (35 GB/s)", 64, 10e-6, 35e9)]  # fmt: skip
print(f"{'':36s} {'DCGAN ' + format(GRAD_BYTES / 2**20, '.1f') + ' MB':>16s} {'100 M params (400 MB)':>22s}")
for label, ranks, a, bw in rows:
    print(
        f"{label:36s} {1e3 * t_ring(GRAD_BYTES, ranks, a, bw):13.2f} ms {1e3 * t_ring(400e6, ranks, a, bw):19.2f} ms"
    )

# %% [markdown]
# DCGAN's gradients cost well under a millisecond on GPUs — far less than a training step, so 8 GPUs give
# close to 8× the images per second. A 100 M-parameter model pays ~1.7 ms per step inside an NVLink node
# and ~22 ms across 8 RoCE-connected nodes: there the all-reduce must overlap the backward pass (PyTorch's
# reducer launches each bucket while backward still runs; minigan's engine writes leaf gradients at the end
# of backward, so it cannot overlap — one of the places where it stays a teaching engine).
#
# **Measured on this machine** (the lines printed above): the bucketed reduction against a raw all-reduce of
# the same bytes, and throughput on 2 ranks vs 1 process. On 2 cores the two ranks share the machine's
# memory bandwidth and caches, so throughput falls short of 2× even though the all-reduce is cheap.

# %%
thr, ar = results["throughput"], results["allreduce"]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.bar(
    ["1 process", "2 ranks"], [thr["one"]["images_per_s"], thr["ranks"]["images_per_s"]], color=["C0", "C1"]
)
ax.set(ylabel="images / s", title=f"DCGAN training throughput ({thr['ratio']:.2f}x)")
fig.tight_layout()
fig.savefig(OUT / "16_throughput.png", dpi=120)
plt.show()
print(
    f"throughput ratio {thr['ratio']:.2f} (goal 1.6); bucketed all-reduce at {100 * ar['ratio']:.0f} % of raw (goal 80 %)"
)

# %% [markdown]
# ## 6. How the large GAN trainings scaled
#
# - **BigGAN** (Brock, Donahue & Simonyan, 2019) trained on Google TPU v3 Pods with 128 to 512 cores and
#   batches of 2048, data-parallel across cores, with *cross-replica* batch norm in G — batch statistics
#   aggregated over all devices, which is SyncBatchNorm. The large batch was itself one of the paper's
#   findings: going from 256 to 2048 improved the Inception Score by almost half.
# - **StyleGAN2** (Karras et al., 2020) trained on one NVIDIA DGX-1 with 8 Tesla V100 GPUs. The official
#   repository's table: config F at 1024 × 1024 for 25 M images took 69 days 23 hours on 1 GPU and 9 days
#   18 hours on 8, a speed-up of 7.2× (90 % efficiency). StyleGAN2's D has no batch norm at all (minibatch
#   standard deviation works within each GPU's group), so nothing but gradients crosses the GPUs.
#
# Both choose the same structure as this chapter: identical replicas, averaged gradients, batch statistics
# either synchronised (BigGAN) or designed out (StyleGAN2).
#
# **The GPU path.** `init_process_group("nccl")` runs the same collectives through NCCL (`cupy.cuda.nccl`),
# one GPU per rank; `minigan train --device cuda --distributed` selects it. It is written but **untested**:
# no GPU was available where this chapter was made (see the README).

# %%
print(f"chapter 16 ran in {time.perf_counter() - T0:.0f} s ({'quick' if QUICK else 'full'} mode)")
