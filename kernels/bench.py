"""Benchmark of the hand-written kernels against the vendor libraries (chapters 03-04, kernels/RESULTS.md).

    python -m minigan.kernels.bench [--quick] [--only matmul|conv] [--repeat N] [--threads T]
    minigan bench ...                                   (the CLI calls ``main``)

Prints markdown tables:

* CPU matmul, M = N = K in (256, 512, 1024): every rung of the Numba ladder against NumPy's BLAS
  (OpenBLAS), time, GFLOP/s (2 M N K / time) and speed as a fraction of BLAS.
* CPU convolution, the four DCGAN-MNIST layers at batch 64, forward + both backward passes: the
  hand-written packed batch-level GEMMs ("kernels", ``cpu/conv_packed.py``), the per-image im2col + GEMM
  it replaced, direct loops, im2col + BLAS ("vendor"), and PyTorch CPU when it is installed (imported
  here only; never a dependency), as time per pass and time / PyTorch.
* GPU rows from ``kernels.cuda.bench.gpu_rows()`` when CuPy sees a GPU.

Timing: every candidate runs once untimed (compilation, caches), then the candidates take turns, ``repeat``
rounds, and each keeps its best time, so a burst of load from other processes hits them all alike.
``--clock cpu`` (with ``--threads 1``) reads the CPU time of the calling thread instead of the wall
clock: on a machine shared with other work it measures what each kernel costs, not how long it waited.
Threads: Numba, BLAS (through threadpoolctl when installed) and PyTorch are all set to ``--threads``
(default 2); the header says what was set.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

DCGAN_LAYERS = [
    # (name, kind, C_in, C_out, H_in): all k4, s2, p1 as in the DCGAN-MNIST models
    ("Conv 1->64, 28->14", "conv", 1, 64, 28),
    ("Conv 64->128, 14->7", "conv", 64, 128, 14),
    ("ConvT 128->64, 7->14", "convT", 128, 64, 7),
    ("ConvT 64->1, 14->28", "convT", 64, 1, 14),
]


BLAS_FAMILIES = ("im2col_blas",)  # conv families whose GEMMs run in OpenBLAS
BLAS_SETTLE_S = 0.5  # pause after them: OpenBLAS threads spin for a while after their last call

CLOCK = time.perf_counter
"""The clock ``best_times`` reads: wall time, or ``time.thread_time`` with ``--clock cpu``."""


def best_times(candidates: dict, repeat: int, burst: int = 3) -> dict:
    """{name: best seconds} for zero-argument callables, run in turns after one warm-up call each.

    Each turn is a burst of ``burst`` calls, so the first call of a turn can absorb the cost of the
    previous candidate's thread pool still spinning (OpenMP, OpenBLAS and PyTorch each keep their own).
    """
    for fn in candidates.values():
        fn()
    best = {name: float("inf") for name in candidates}
    for _ in range(repeat):
        for name, fn in candidates.items():
            for _ in range(burst):
                t0 = CLOCK()
                fn()
                best[name] = min(best[name], CLOCK() - t0)
    return best


def set_threads(threads: int) -> str:
    """Set Numba's, BLAS's and PyTorch's thread counts; return a line saying what was set."""
    import numba  # noqa: PLC0415

    said = []
    n = min(threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    said.append(f"numba {n}")
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        threadpool_limits(threads, user_api="blas")
        said.append(f"BLAS {threads} (threadpoolctl)")
    except ImportError:
        if CLOCK is time.thread_time and os.environ.get("OPENBLAS_NUM_THREADS") != str(threads):
            raise SystemExit("--clock cpu needs BLAS on one thread: pip install threadpoolctl") from None
        said.append(f"BLAS default (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")
    torch = _torch()
    if torch is not None:
        torch.set_num_threads(threads)
        said.append(f"torch {threads}")
    return ", ".join(said)


def _torch():
    try:
        import torch  # noqa: PLC0415 - optional, for comparison only

        return torch
    except ImportError:
        return None


def matmul_rows(sizes, repeat, naive_max=512):
    """Table rows for the CPU matmul ladder against BLAS, one block of rows per size."""
    from .cpu.matmul import LADDER  # noqa: PLC0415

    rows = ["| n | kernel | time (ms) | GFLOP/s | speed vs BLAS |", "|---|---|---:|---:|---:|"]
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        cands = {}
        for name, fn in LADDER.items():
            if name == "naive" and n > naive_max:
                continue
            cands[name] = lambda fn=fn, a=a, b=b: fn(a, b)
        # BLAS on its own, after the ladder, then a pause: its busy-waiting threads (see conv_rows) would
        # otherwise take a core from the Numba kernel timed next
        ladder = best_times(cands, repeat)
        times = {**best_times({"numpy BLAS": lambda a=a, b=b: a @ b}, repeat), **ladder}
        time.sleep(BLAS_SETTLE_S)
        flops = 2.0 * n**3
        for name, t in times.items():
            rows.append(
                f"| {n} | {name} | {t * 1e3:.2f} | {flops / t / 1e9:.1f} | {times['numpy BLAS'] / t:.2f} |"
            )
        if "naive" not in times:
            rows.append(f"| {n} | naive | skipped (n > {naive_max}) | | |")
    return rows


def conv_passes(kind, x, w, gy, family_fns):
    """The three passes of a layer as zero-argument callables: forward, gradient of x, gradient of w.

    For a conv layer they are conv2d, backward_input, backward_weight. A transposed conv layer's forward
    is backward_input, its input gradient is conv2d and its weight gradient is backward_weight(gy, x).
    """
    f = family_fns
    s, p = (2, 2), (1, 1)
    if kind == "conv":
        return (
            lambda: f["conv2d"](x, w, s, p),
            lambda: f["conv2d_backward_input"](gy, w, x.shape, s, p),
            lambda: f["conv2d_backward_weight"](x, gy, w.shape, s, p),
        )
    return (
        lambda: f["conv2d_backward_input"](x, w, gy.shape, s, p),
        lambda: f["conv2d"](gy, w, s, p),
        lambda: f["conv2d_backward_weight"](gy, x, w.shape, s, p),
    )


def torch_passes(kind, x, w, gy):
    """The same three passes in PyTorch (its own forward and autograd backward), or None without torch."""
    torch = _torch()
    if torch is None:
        return None
    tf = torch.nn.functional
    xt, wt, gyt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(gy)
    if kind == "conv":
        return (
            lambda: tf.conv2d(xt, wt, stride=2, padding=1),
            lambda: torch.nn.grad.conv2d_input(xt.shape, wt, gyt, stride=2, padding=1),
            lambda: torch.nn.grad.conv2d_weight(xt, wt.shape, gyt, stride=2, padding=1),
        )
    return (
        lambda: tf.conv_transpose2d(xt, wt, stride=2, padding=1),
        lambda: tf.conv2d(gyt, wt, stride=2, padding=1),
        lambda: torch.nn.grad.conv2d_weight(gyt, wt.shape, xt, stride=2, padding=1),
    )


def conv_rows(batch, repeat, families=("packed", "gemm", "im2col_blas", "direct"), direct_repeat=1):
    """Table rows for the four DCGAN layers: per implementation, the three pass times and their sum."""
    from .dispatch import conv_kernels  # noqa: PLC0415

    labels = {
        "packed": "kernels: packed GEMMs (Numba)",
        "gemm": "per-image im2col+GEMM (Numba)",
        "im2col_blas": "vendor: im2col+BLAS",
        "direct": "direct",
    }
    head = "| layer | implementation | forward (ms) | grad input (ms) | grad weight (ms) | total (ms) |"
    rows = [head + " time / torch |", "|---|---|---:|---:|---:|---:|---:|"]
    rng = np.random.default_rng(0)
    for name, kind, cin, cout, h in DCGAN_LAYERS:
        x = rng.standard_normal((batch, cin, h, h)).astype(np.float32)
        if kind == "conv":
            w = rng.standard_normal((cout, cin, 4, 4)).astype(np.float32)
            out = h // 2
        else:
            w = rng.standard_normal((cin, cout, 4, 4)).astype(np.float32)
            out = 2 * h
        gy = rng.standard_normal((batch, cout, out, out)).astype(np.float32)
        cands = {}
        for fam in families:
            for i, fn in enumerate(conv_passes(kind, x, w, gy, conv_kernels(fam))):
                cands[(fam, i)] = fn
        tp = torch_passes(kind, x, w, gy)
        if tp is not None:
            for i, fn in enumerate(tp):
                cands[("torch", i)] = fn
        slow = {k: v for k, v in cands.items() if k[0] == "direct"}
        blas = {k: v for k, v in cands.items() if k[0] in BLAS_FAMILIES}
        rest = {k: v for k, v in cands.items() if k[0] != "direct" and k[0] not in BLAS_FAMILIES}
        times = best_times(rest, repeat)
        # OpenBLAS's worker threads busy-wait after every call; interleaved with the others they took a core
        # from whichever candidate ran next (2 threads: packed and PyTorch both ~2x slower, at random), so
        # the BLAS family is timed on its own, after them, and given time to fall asleep
        times.update(best_times(blas, repeat))
        times.update(best_times(slow, direct_repeat))  # direct loops are ~100x slower on big layers
        if blas:
            time.sleep(BLAS_SETTLE_S)
        torch_total = sum(times[("torch", i)] for i in range(3)) if tp is not None else None
        for fam in [*families, "torch"] if tp is not None else families:
            t = [times[(fam, i)] * 1e3 for i in range(3)]
            ratio = f"{sum(t) / (torch_total * 1e3):.2f}" if torch_total else "n/a"
            label = labels.get(fam, "PyTorch CPU")
            rows.append(
                f"| {name} | {label} | {t[0]:.2f} | {t[1]:.2f} | {t[2]:.2f} | {sum(t):.2f} | {ratio} |"
            )
    return rows


def gpu_section(quick: bool = False):
    """Rows from the CUDA helper's benchmark, when CuPy sees a GPU and ``kernels.cuda.bench`` exists."""
    try:
        import cupy  # noqa: PLC0415

        if not cupy.cuda.is_available():
            return ["(no usable CUDA GPU: GPU section skipped)"]
    except Exception:
        return ["(CuPy not installed: GPU section skipped)"]
    try:
        from .cuda.bench import gpu_rows  # noqa: PLC0415
    except ImportError as err:
        return [f"(kernels.cuda.bench unavailable: {err})"]
    from .cuda.bench import format_rows  # noqa: PLC0415

    return format_rows(gpu_rows(quick=quick)).splitlines()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="minigan bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run in seconds")
    parser.add_argument("--only", choices=["matmul", "conv", "gpu"], help="run one section")
    parser.add_argument("--repeat", type=int, default=None, help="timed rounds per candidate (best is kept)")
    parser.add_argument("--threads", type=int, default=2, help="threads for Numba, BLAS and PyTorch")
    parser.add_argument(
        "--clock", choices=["wall", "cpu"], default="wall", help="cpu: thread CPU time (needs --threads 1)"
    )
    args = parser.parse_args(argv)
    from . import tune_process  # noqa: PLC0415

    tune_process()  # before any kernel runs: passive OpenMP waiting, malloc keeps freed memory
    global CLOCK
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu measures one thread: use it with --threads 1")
    CLOCK = time.thread_time if args.clock == "cpu" else time.perf_counter
    repeat = args.repeat or (2 if args.quick else 10)
    print(f"# minigan kernels benchmark ({time.strftime('%Y-%m-%d')})")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; threads: {set_threads(args.threads)}")
    print(f"timing: {args.clock} clock, best of {repeat} rounds x 3 calls, candidates in turns\n")
    if args.only in (None, "matmul"):
        sizes = (32, 64) if args.quick else (256, 512, 1024)
        print("## CPU matmul (float32, M = N = K)\n")
        print("\n".join(matmul_rows(sizes, repeat)) + "\n")
    if args.only in (None, "conv"):
        batch = 2 if args.quick else 64
        print(f"## CPU convolution, DCGAN-MNIST layers (k4 s2 p1, float32, batch {batch})\n")
        print("\n".join(conv_rows(batch, repeat, direct_repeat=1 if not args.quick else repeat)) + "\n")
    if args.only in (None, "gpu"):
        print("## GPU\n")
        print("\n".join(gpu_section(args.quick)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
