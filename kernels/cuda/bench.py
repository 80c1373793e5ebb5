"""GPU timings of the hand-written CUDA kernels against cuBLAS and cuDNN (chapters 03-04).

Needs CuPy and a CUDA GPU; PyTorch (with CUDA) is optional and adds cuDNN rows. Nothing in minigan
imports this module: run it as ``python -m minigan.kernels.cuda.bench [--quick]``, or call ``gpu_rows()``.

What is timed, with CUDA events around each call on the default stream (median of ``repeat`` calls after
``warmup`` untimed ones, so compilation and cuBLAS heuristics are excluded):

- SGEMM ``C = A @ B``, square float32, 1024..8192: every rung of ``matmul.LADDER`` against
  ``cupy.matmul`` (cuBLAS). CuPy uses full FP32 unless ``CUPY_TF32=1`` is set (read once, at the first
  GEMM), so the baseline is FP32 on the CUDA cores, like our kernels; the row records the setting.
- The three convolution passes on DCGAN discriminator layers (batch 128, 4x4 kernels, stride 2,
  padding 1): ``conv`` (implicit GEMM) against ``vendor`` (CuPy im2col + cuBLAS) and, with PyTorch,
  cuDNN with TF32 off (``ieee``, the fair comparison) and at PyTorch's default (TF32 allowed for cuDNN
  convolutions on Ampere and newer: faster, ~1e-3 relative error).

Each row has ``op, impl, shape, ms, tflops``, ``vs_ref`` (vendor time / this time, where the vendor is
cuBLAS for SGEMM and CuPy im2col + cuBLAS for the convolutions: 1.0 = as fast; the SGEMM target for
``blocked`` is >= 0.5 at 4096^3) and ``err`` (max abs difference from the vendor's FP32 result, relative
to its max abs value).
"""

from __future__ import annotations

import argparse
import os
import statistics
from functools import partial

GEMM_SIZES = (1024, 2048, 4096, 8192)
#: (N, C, H, W, O, K, stride, padding): the four strided layers of a 64x64 DCGAN discriminator
DCGAN_LAYERS = (
    (128, 3, 64, 64, 64, 4, 2, 1),
    (128, 64, 32, 32, 128, 4, 2, 1),
    (128, 128, 16, 16, 256, 4, 2, 1),
    (128, 256, 8, 8, 512, 4, 2, 1),
)


def _cupy():
    import cupy  # noqa: PLC0415 - this module only runs on a GPU machine

    if not cupy.cuda.is_available():
        raise RuntimeError("minigan.kernels.cuda.bench needs a CUDA GPU visible to CuPy")
    return cupy


def time_ms(fn, repeat=10, warmup=2) -> float:
    """Median milliseconds of ``fn()`` between two CUDA events on the (legacy) default stream, which
    numba-cuda launches, CuPy and PyTorch all use unless told otherwise."""
    cp = _cupy()
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end))
    return statistics.median(times)


def _rel_err(got, ref) -> float:
    cp = _cupy()
    return float(cp.abs(got - ref).max() / max(float(cp.abs(ref).max()), 1e-30))


def gemm_rows(sizes=GEMM_SIZES, kernels=("naive", "tiled", "blocked", "prefetch"), repeat=5, warmup=2):
    """SGEMM rows: cuBLAS then each rung at each size (``naive`` only up to 4096: seconds per call);
    ``repeat`` timed calls after ``warmup`` untimed ones (``time_ms``)."""
    cp = _cupy()
    from .matmul import LADDER  # noqa: PLC0415

    tf32 = os.environ.get("CUPY_TF32", "0")
    rows = []
    for n in sizes:
        rng = cp.random.default_rng(0)
        a = rng.standard_normal((n, n), dtype=cp.float32)
        b = rng.standard_normal((n, n), dtype=cp.float32)
        flop = 2.0 * n**3
        ref = cp.matmul(a, b)
        t_ref = time_ms(partial(cp.matmul, a, b), repeat, warmup)
        rows.append(_row("sgemm", f"cuBLAS (CUPY_TF32={tf32})", (n, n, n), t_ref, flop, t_ref, 0.0))
        for name in kernels:
            if name == "naive" and n > 4096:
                continue
            fn = LADDER[name]
            err = _rel_err(fn(a, b), ref)
            t = time_ms(partial(fn, a, b), repeat, warmup)
            rows.append(_row("sgemm", name, (n, n, n), t, flop, t_ref, err))
    return rows


def _conv_pass(module, op, x, w, gy, s, p):
    """One convolution pass computed by ``module`` (``conv`` or ``vendor``: the same signatures)."""
    if op == "conv2d":
        return module.conv2d(x, w, s, p)
    if op == "conv2d_backward_input":
        return module.conv2d_backward_input(gy, w, x.shape, s, p)
    return module.conv2d_backward_weight(x, gy, w.shape, s, p)


def _torch():
    """PyTorch with CUDA, or None."""
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _set_cudnn_tf32(torch, allow: bool):
    conv_backend = getattr(torch.backends.cudnn, "conv", None)
    if conv_backend is not None and hasattr(conv_backend, "fp32_precision"):  # PyTorch >= 2.9
        conv_backend.fp32_precision = "tf32" if allow else "ieee"
    else:
        torch.backends.cudnn.allow_tf32 = allow


def conv_rows(layers=DCGAN_LAYERS, repeat=5, warmup=2):
    """Rows for conv2d, its input gradient and its weight gradient on each layer shape (``repeat`` and
    ``warmup`` as in ``gemm_rows``)."""
    cp = _cupy()
    from . import conv, vendor  # noqa: PLC0415

    torch = _torch()
    rows = []
    for n, c, h, w, o, k, s, p in layers:
        rng = cp.random.default_rng(0)
        x = rng.standard_normal((n, c, h, w), dtype=cp.float32)
        wt = rng.standard_normal((o, c, k, k), dtype=cp.float32)
        oh, ow = conv.output_size(h, w, k, k, s, p)
        gy = rng.standard_normal((n, o, oh, ow), dtype=cp.float32)
        flop = 2.0 * n * o * oh * ow * c * k * k  # the same for all three passes
        shape = (n, c, h, w, o, k, s, p)
        for op in ("conv2d", "conv2d_backward_input", "conv2d_backward_weight"):
            ours, theirs = (partial(_conv_pass, m, op, x, wt, gy, s, p) for m in (conv, vendor))
            ref = theirs()
            t_ref = time_ms(theirs, repeat, warmup)
            rows.append(_row(op, "im2col + cuBLAS", shape, t_ref, flop, t_ref, 0.0))
            err = _rel_err(ours(), ref)
            rows.append(_row(op, "implicit GEMM", shape, time_ms(ours, repeat, warmup), flop, t_ref, err))
            if torch is not None:
                rows += _torch_rows(torch, op, x, wt, gy, s, p, shape, flop, t_ref, ref, repeat, warmup)
    return rows


def _torch_rows(torch, op, x, wt, gy, s, p, shape, flop, t_ref, ref, repeat, warmup):
    cp = _cupy()
    tx, tw, tgy = (torch.as_tensor(v, device="cuda") for v in (x, wt, gy))  # zero-copy views
    calls = {
        "conv2d": lambda: torch.nn.functional.conv2d(tx, tw, stride=s, padding=p),
        "conv2d_backward_input": lambda: torch.nn.grad.conv2d_input(tx.shape, tw, tgy, stride=s, padding=p),
        "conv2d_backward_weight": lambda: torch.nn.grad.conv2d_weight(tx, tw.shape, tgy, stride=s, padding=p),
    }
    rows = []
    for label, allow in (("cuDNN (TF32 off)", False), ("cuDNN (PyTorch default: TF32)", True)):
        _set_cudnn_tf32(torch, allow)
        err = _rel_err(cp.asarray(calls[op]()), ref)
        rows.append(_row(op, label, shape, time_ms(calls[op], repeat, warmup), flop, t_ref, err))
    _set_cudnn_tf32(torch, True)  # PyTorch's default again
    return rows


def _row(op, impl, shape, ms, flop, ref_ms, err):
    return {
        "op": op,
        "impl": impl,
        "shape": shape,
        "ms": ms,
        "tflops": flop / ms / 1e9,
        "vs_ref": ref_ms / ms,
        "err": err,
    }


def gpu_rows(quick=False):
    """All rows; ``quick`` shrinks to small sizes (a smoke test, not a measurement)."""
    if quick:
        return gemm_rows(sizes=(256, 512), repeat=2) + conv_rows(
            layers=((8, 16, 16, 16, 32, 4, 2, 1),), repeat=2
        )
    return gemm_rows() + conv_rows()


def format_rows(rows) -> str:
    """A markdown table."""
    lines = ["| op | impl | shape | ms | TFLOP/s | vs vendor | rel. err |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        shape = "x".join(str(v) for v in r["shape"])
        lines.append(
            f"| {r['op']} | {r['impl']} | {shape} | {r['ms']:.3f} | {r['tflops']:.2f} | {r['vs_ref']:.2f} "
            f"| {r['err']:.1e} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="time minigan's CUDA kernels against cuBLAS / cuDNN")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    args = parser.parse_args(argv)
    cp = _cupy()
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    print(f"device: {name.decode() if isinstance(name, bytes) else name}")
    print(format_rows(gpu_rows(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
