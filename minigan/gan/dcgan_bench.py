"""Benchmark one DCGAN training iteration on MNIST-sized data: minigan vs PyTorch. Chapter 08.

    python -m minigan.gan.dcgan_bench                    # CPU, 2 threads, 20 timed iterations each
    python -m minigan.gan.dcgan_bench --profile          # + cProfile of the minigan iteration
    python -m minigan.gan.dcgan_bench --device cuda      # CuPy vs PyTorch CUDA (needs a GPU)

With ``--device cuda`` and no usable GPU (no CuPy, no device or driver) it prints one line saying what
is missing and exits with status 2 before starting any worker.

One iteration is what ``Trainer.step()`` does with k = 1 and the non-saturating loss, for the exact MNIST
configuration of ``dcgan.py`` (G 778 305 and D 138 817 parameters, batch 64, Adam(2e-4, (0.5, 0.999))):

    D step: fake = G(z) under no_grad; L_D = BCE(D(x), 1) + BCE(D(fake), 0); backward; Adam step on D
    G step: L_G = BCE(D(G(z)), 1); backward (D's weights frozen); Adam step on G

written out the same way in both frameworks (the loop below and ``_torch_iteration``), on a fixed real
batch, so data loading is not timed. The PyTorch nets are built from the minigan nets' state_dicts (same
keys, same arrays), and the first forward pass of both is compared as a correctness check.

Each framework runs in its own fresh subprocess, one after the other and alternating for ``--rounds``
rounds (so a burst of load from other jobs on a shared machine hits both), with the thread count pinned
(``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``NUMBA_NUM_THREADS`` and ``torch.set_num_threads``), so
neither sees the other's threads, caches or memory. minigan's NumPy BLAS (OpenBLAS), which only serves the
small Linear layers here, gets ``--blas-threads`` (default 1, the cap ``minigan train --data mnist`` uses:
OpenBLAS's second thread spins on these small products and slowed the whole iteration on a busy 2-core
machine). Reported per framework: wall-clock median and best, and the median process CPU time per
iteration (less sensitive to other jobs than wall time). Memory, per framework:

- ``peak RSS``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the worker at the end minus the value
  after imports and before the models exist: what the training iterations added to the process's peak
  resident set (it includes allocator caches, thread stacks, and for minigan Numba's compiled code).
- ``tracemalloc peak`` (minigan only): the peak of Python-tracked allocations during two extra
  iterations; NumPy reports its array buffers to tracemalloc, PyTorch's C++ allocator does not, so this
  number exists for minigan only (and tracemalloc slows those two iterations, which are not timed).
- on CUDA: ``torch.cuda.max_memory_allocated`` and CuPy's memory-pool ``total_bytes()``.

PyTorch is imported only inside the worker that needs it; it is never a dependency of minigan. The
minigan worker calls ``minigan.kernels.tune_process()`` first, as ``minigan train`` does; the PyTorch
worker runs with PyTorch's own defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH, Z_DIM, LR, BETAS = 64, 100, 2e-4, (0.5, 0.999)
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _maxrss_mb() -> float:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


# -- minigan -------------------------------------------------------------------------------------------------
def build_minigan(seed: int, device: str = "cpu", batch: int = BATCH):
    """(G, D, opt_G, opt_D, x_real, one_iteration) for minigan, models on ``device``."""
    import numpy as np

    import minigan as mg
    import minigan.nn.functional as F
    from minigan.gan.dcgan import dcgan

    mg.manual_seed(seed)
    G, D = dcgan(generator=np.random.default_rng(seed))
    G.to(device)
    D.to(device)
    opt_G = mg.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_D = mg.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    rng = np.random.default_rng(seed + 1)
    x_real = mg.tensor(rng.uniform(-1, 1, (batch, 1, 28, 28)).astype(np.float32), device=device)
    ones, zeros = mg.ones(batch, 1, device=device), mg.zeros(batch, 1, device=device)
    d_params = list(D.parameters())

    def iteration():
        opt_D.zero_grad()
        with mg.no_grad():
            fake = G(mg.randn(batch, Z_DIM, device=device))
        loss_d = F.binary_cross_entropy_with_logits(D(x_real), ones) + F.binary_cross_entropy_with_logits(
            D(fake), zeros
        )
        loss_d.backward()
        opt_D.step()
        opt_G.zero_grad()
        for p in d_params:
            p.requires_grad = False
        loss_g = F.binary_cross_entropy_with_logits(D(G(mg.randn(batch, Z_DIM, device=device))), ones)
        loss_g.backward()
        for p in d_params:
            p.requires_grad = True
        opt_G.step()
        return loss_d, loss_g

    return G, D, x_real, iteration


def _sync_minigan(device: str):
    if device == "cuda":
        from minigan.backend import require_cupy

        require_cupy().cuda.Device().synchronize()


# -- PyTorch -------------------------------------------------------------------------------------------------
def build_torch(state_G: dict, state_D: dict, device: str, batch: int = BATCH, seed: int = 0):
    """The same nets in PyTorch, loaded from minigan's state_dicts; (G, D, iteration)."""
    import numpy as np
    import torch
    import torch.nn as tnn
    import torch.nn.functional as TF

    G = tnn.Sequential(
        tnn.Linear(Z_DIM, 128 * 7 * 7), tnn.BatchNorm1d(128 * 7 * 7), tnn.ReLU(),
        tnn.Unflatten(1, (128, 7, 7)),
        tnn.ConvTranspose2d(128, 64, 4, 2, 1), tnn.BatchNorm2d(64), tnn.ReLU(),
        tnn.ConvTranspose2d(64, 1, 4, 2, 1), tnn.Tanh(),
    )  # fmt: skip
    D = tnn.Sequential(
        tnn.Conv2d(1, 64, 4, 2, 1), tnn.LeakyReLU(0.2),
        tnn.Conv2d(64, 128, 4, 2, 1), tnn.BatchNorm2d(128), tnn.LeakyReLU(0.2),
        tnn.Flatten(), tnn.Linear(128 * 7 * 7, 1),
    )  # fmt: skip
    G.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state_G.items()})
    D.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state_D.items()})
    G.to(device)
    D.to(device)
    opt_G = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_D = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    rng = np.random.default_rng(seed + 1)
    x_real = torch.from_numpy(rng.uniform(-1, 1, (batch, 1, 28, 28)).astype(np.float32)).to(device)
    ones, zeros = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)

    def iteration():
        opt_D.zero_grad()
        with torch.no_grad():
            fake = G(torch.randn(batch, Z_DIM, device=device))
        loss_d = TF.binary_cross_entropy_with_logits(D(x_real), ones) + TF.binary_cross_entropy_with_logits(
            D(fake), zeros
        )
        loss_d.backward()
        opt_D.step()
        opt_G.zero_grad()
        D.requires_grad_(False)
        loss_g = TF.binary_cross_entropy_with_logits(D(G(torch.randn(batch, Z_DIM, device=device))), ones)
        loss_g.backward()
        D.requires_grad_(True)
        opt_G.step()
        return loss_d, loss_g

    return G, D, x_real, iteration


# -- workers -------------------------------------------------------------------------------------------------
def _time(iteration, sync, iters: int, warmup: int) -> tuple[list[float], list[float]]:
    """(wall-clock seconds, process CPU seconds) of each of ``iters`` iterations after ``warmup``."""
    for _ in range(warmup):
        iteration()
    sync()
    wall, cpu = [], []
    for _ in range(iters):
        t0, c0 = time.perf_counter(), time.process_time()
        iteration()
        sync()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def worker(framework: str, args) -> dict:
    """Time ``framework`` in this process; returns the result dict (printed as JSON by ``--worker``)."""
    import numpy as np

    import minigan as mg

    if framework == "minigan":
        from minigan.kernels import tune_process

        tune_process()  # as minigan train does: before any kernel runs
    rss0 = _maxrss_mb()
    G, D, x_real, iteration = build_minigan(args.seed, "cpu" if framework == "torch" else args.device)
    out = {"framework": framework, "device": args.device, "threads": args.threads}
    if framework == "minigan":
        sync = lambda: _sync_minigan(args.device)
        out["times_s"], out["cpu_s"] = _time(iteration, sync, args.iters, args.warmup)
        out["peak_rss_delta_mb"] = _maxrss_mb() - rss0
        if args.device == "cpu":
            import tracemalloc

            tracemalloc.start()
            for _ in range(2):
                iteration()
            out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            out["cupy_pool_total_mb"] = __import__("cupy").get_default_memory_pool().total_bytes() / 2**20
        if args.profile:
            out["profile"] = profile_minigan(iteration, args.profile_iters)
        return out
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tdev = "cuda" if args.device == "cuda" else "cpu"
    G.eval()
    D.eval()  # both nets in eval mode for the forward check: no batch statistics
    z = np.random.default_rng(7).standard_normal((BATCH, Z_DIM)).astype(np.float32)
    with mg.no_grad():
        ref = D(G(mg.tensor(z))).numpy()
    state_G = {k: v.numpy() for k, v in G.state_dict().items()}
    state_D = {k: v.numpy() for k, v in D.state_dict().items()}
    del G, D, iteration
    rss0 = _maxrss_mb()
    tG, tD, _, titer = build_torch(state_G, state_D, tdev, seed=args.seed)
    tG.eval()
    tD.eval()
    with torch.no_grad():
        got = tD(tG(torch.from_numpy(z).to(tdev))).cpu().numpy()
    tG.train()
    tD.train()
    out["forward_max_abs_diff_vs_minigan"] = float(np.abs(got - ref).max())
    sync = (lambda: torch.cuda.synchronize()) if tdev == "cuda" else (lambda: None)
    if tdev == "cuda":
        torch.cuda.reset_peak_memory_stats()
    out["times_s"], out["cpu_s"] = _time(titer, sync, args.iters, args.warmup)
    out["peak_rss_delta_mb"] = _maxrss_mb() - rss0
    if tdev == "cuda":
        out["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    out["torch_version"] = torch.__version__
    return out


def profile_minigan(iteration, iters: int, top: int = 25) -> str:
    """cProfile of ``iters`` minigan iterations: the top functions by own time and by cumulative time."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(iters):
        iteration()
    prof.disable()
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()


def _run_worker(framework: str, argv: list[str], threads: int, blas_threads: int | None = None) -> dict:
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    if blas_threads is not None and framework == "minigan":  # NumPy's BLAS only (minigan's Linear layers)
        env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(blas_threads)
    cmd = [sys.executable, "-m", "minigan.gan.dcgan_bench", "--worker", framework, *argv]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"framework": framework, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _merge(runs: list[dict]) -> dict:
    """One result from several rounds of a framework: times pooled, memory the largest seen."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]
    out = dict(good[0])
    out["times_s"] = [t for r in good for t in r["times_s"]]
    out["cpu_s"] = [t for r in good for t in r["cpu_s"]]
    for key in ("peak_rss_delta_mb", "tracemalloc_peak_mb", "cuda_max_allocated_mb", "cupy_pool_total_mb"):
        if key in out:
            out[key] = max(r[key] for r in good)
    out["rounds"] = len(good)
    return out


def _summary(r: dict) -> str:
    if "error" in r:
        return f"{r['framework']:>8}: failed: {' '.join(r['error'])}"
    t, c = r["times_s"], r["cpu_s"]
    mem = f"peak RSS +{r['peak_rss_delta_mb']:.0f} MB"
    if "tracemalloc_peak_mb" in r:
        mem += f", tracemalloc peak {r['tracemalloc_peak_mb']:.0f} MB"
    if "cuda_max_allocated_mb" in r:
        mem += f", CUDA max allocated {r['cuda_max_allocated_mb']:.0f} MB"
    if "cupy_pool_total_mb" in r:
        mem += f", CuPy pool {r['cupy_pool_total_mb']:.0f} MB"
    return (
        f"{r['framework']:>8}: wall median {1e3 * statistics.median(t):7.1f} ms/iter, "
        f"min {1e3 * min(t):7.1f}; "
        f"CPU median {1e3 * statistics.median(c):7.1f} ms/iter ({len(t)} iterations); {mem}"
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m minigan.gan.dcgan_bench", description=__doc__.split("\n")[0])
    p.add_argument(
        "--iters", type=int, default=20, help="timed iterations per framework and round (default 20)"
    )
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations first (JIT, caches; default 3)")
    p.add_argument(
        "--rounds", type=int, default=2, help="alternate the frameworks this many times (default 2)"
    )
    p.add_argument("--threads", type=int, default=2, help="CPU threads for both frameworks (default 2)")
    p.add_argument(
        "--blas-threads", type=int, default=1,
        help="threads of NumPy's BLAS in the minigan worker (default 1, as minigan train --data mnist uses)",
    )  # fmt: skip
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frameworks", default="minigan,torch", help="comma-separated: minigan,torch")
    p.add_argument("--profile", action="store_true", help="print a cProfile of the minigan iteration")
    p.add_argument("--profile-iters", type=int, default=5)
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--worker", choices=("minigan", "torch"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return 0
    if args.device == "cuda":
        from minigan.backend import DeviceError, require_cupy

        try:
            require_cupy()
        except DeviceError as err:
            print(f"dcgan_bench: {err}", file=sys.stderr)
            return 2
    passthrough = [
        f"--iters={args.iters}", f"--warmup={args.warmup}", f"--threads={args.threads}",
        f"--device={args.device}", f"--seed={args.seed}", f"--profile-iters={args.profile_iters}",
    ]  # fmt: skip
    blas_note = "" if args.blas_threads is None else f" (minigan's NumPy BLAS: {args.blas_threads})"
    print(
        f"DCGAN MNIST iteration (D step + G step, batch {BATCH}), device {args.device}, "
        f"{args.threads} threads{blas_note}, "
        f"{args.rounds} round(s) of {args.iters} timed iterations after {args.warmup} warm-up, per framework"
    )
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    if "torch" in frameworks:
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            print("   torch: not installed; skipped (pip install torch to compare)")
            frameworks.remove("torch")
    runs: dict[str, list] = {fw: [] for fw in frameworks}
    for rnd in range(args.rounds):  # alternate, so a burst of load on a shared machine hits both
        for fw in frameworks:
            extra = ["--profile"] if args.profile and fw == "minigan" and rnd == 0 else []
            runs[fw].append(_run_worker(fw, passthrough + extra, args.threads, args.blas_threads))
    results = {fw: _merge(r) for fw, r in runs.items()}
    for fw in frameworks:
        print(_summary(results[fw]), flush=True)
    m, t = results.get("minigan", {}), results.get("torch", {})
    if "times_s" in m and "times_s" in t:
        med = statistics.median(m["times_s"]) / statistics.median(t["times_s"])
        best = min(m["times_s"]) / min(t["times_s"])
        cpu = statistics.median(m["cpu_s"]) / statistics.median(t["cpu_s"])
        results["ratio_minigan_over_torch"] = {"wall_median": med, "wall_min": best, "cpu_median": cpu}
        print(f"   ratio minigan / torch: {med:.2f}x (wall, median), {best:.2f}x (wall, best), "
              f"{cpu:.2f}x (CPU time, median)")  # fmt: skip
        print(f"   forward check (same weights, eval mode): max |D(G(z)) minigan - torch| = "
              f"{t['forward_max_abs_diff_vs_minigan']:.2e}")  # fmt: skip
    if "profile" in m:
        print(m["profile"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if any("error" in results[fw] for fw in frameworks) else 0  # a failed worker fails the run


if __name__ == "__main__":
    raise SystemExit(main())
