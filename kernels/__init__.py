"""Hand-written matmul and convolution kernels, arrays in and arrays out (chapters 03 and 04).

This folder is installed as ``minigan.kernels`` (see setup.py) and never imports minigan: it works on
NumPy arrays (Numba kernels in ``cpu/``) and CuPy arrays (numba-cuda kernels in ``cuda/``, imported only
when a CuPy array arrives). Layout:

    reference.py   the readable NumPy definitions every kernel is tested against
    cpu/matmul.py  the CPU matmul ladder: naive -> loop order -> parallel -> packed + register-tiled
    cpu/conv.py    CPU convolutions: direct loops, per-image im2col + GEMM, im2col + BLAS
    cpu/conv_packed.py  the default CPU convolutions: NHWC panels, sub-pixel input gradient,
                   one batch-level weight-gradient GEMM (chapter 04, section 6)
    cpu/batchnorm.py  fused batch-norm training kernels (chapter 05)
    cuda/          the GPU kernels (same signatures)
    dispatch.py    which implementation runs: "reference", "kernels" or "vendor", per device and op
    bench.py       ``python -m minigan.kernels.bench`` (or ``minigan bench``): timings vs BLAS / PyTorch
    warm.py        ``python -m minigan.kernels.warm --jobs 2``: compile the CPU kernels into Numba's cache

The functions below are those of ``dispatch``: they pick the implementation by device and by
``use(impl)`` / ``set_default``. ``tune_process()`` holds the process-wide settings (thread waiting,
malloc) that training entry points apply; importing this package sets nothing.
"""

import os

TUNED_OMP_WAIT_POLICY = "PASSIVE"


def tune_process(keep_freed_memory: bool | None = None) -> dict:
    """Process-wide settings that make training fast here; training entry points call it (``minigan
    train``, ``Trainer``, the benchmarks). Importing minigan changes nothing. Returns what is in effect.

    * ``OMP_WAIT_POLICY=PASSIVE`` (unless you set the variable; the test suite applies it too, and quick-mode
      chapter runs get ``TUNED_OMP_WAIT_POLICY`` through their environment). Numba's OpenMP threads busy-wait
      between parallel regions by default; next to OpenBLAS's own threads (every NumPy matmul) on a 2-core
      machine that made a kernel called right after a BLAS call wait for the spinning threads
      (kernels/RESULTS.md). The OpenMP runtime reads the variable once, when it starts: at the first parallel
      Numba kernel, not at import. So this takes effect when called before any kernel ran, and
      ``"omp_wait_policy"`` in the result is None when it came too late (the runtime already started with its
      own setting).
    * glibc's malloc keeps freed memory for reuse instead of handing it back to the kernel. By default
      glibc serves big allocations (above its mmap threshold) with fresh mmap pages and trims the heap when
      much of it is free, so every multi-MB activation or gradient of a training step starts as untouched
      pages that the kernel faults in and zeroes one by one (page faults and system time per iteration,
      and a batch-norm pass several times slower: kernels/RESULTS.md). With high mmap and trim thresholds
      the freed blocks are reused; the peak resident memory is unchanged (memory already used stays with
      the process, as in PyTorch's CPU caching). Linux/glibc only; applies to allocations from then on.
      ``keep_freed_memory=False``, or ``MINIGAN_KEEP_FREED_MEMORY=0`` when it is None, skips it.

    Returns {"omp_wait_policy": the policy the OpenMP runtime will use or uses (None if unknown: it
    started before this call), "keep_freed_memory": whether malloc was tuned}.
    """
    from numba.np.ufunc import parallel  # noqa: PLC0415

    started = parallel._is_initialized  # Numba's threading layer (and its OpenMP runtime) is running
    if not started:
        os.environ.setdefault("OMP_WAIT_POLICY", TUNED_OMP_WAIT_POLICY)
    if keep_freed_memory is None:
        keep_freed_memory = os.environ.get("MINIGAN_KEEP_FREED_MEMORY", "1") != "0"
    return {
        "omp_wait_policy": None if started else os.environ["OMP_WAIT_POLICY"],
        "keep_freed_memory": bool(keep_freed_memory) and _keep_freed_memory(),
    }


def _keep_freed_memory() -> bool:
    """Raise glibc malloc's mmap and trim thresholds to 1 GiB (see ``tune_process``); whether it could."""
    try:
        import ctypes  # noqa: PLC0415

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, 1 << 30))


if __name__ != "minigan.kernels":  # e.g. `import kernels` from the repository root
    # Numba's on-disk cache records the module name, so one folder must have one name.
    raise ImportError(f"import this package as minigan.kernels (pip install -e .), not as {__name__!r}")

from .dispatch import (  # noqa: E402
    DEFAULTS,
    IMPLEMENTATIONS,
    IMPLS,
    OPS,
    batch_norm_backward,
    batch_norm_forward,
    conv2d,
    conv2d_backward_input,
    conv2d_backward_weight,
    conv_transpose2d,
    current,
    implementation,
    matmul,
    register,
    set_default,
    use,
)

__all__ = [
    "DEFAULTS",
    "IMPLEMENTATIONS",
    "IMPLS",
    "OPS",
    "batch_norm_backward",
    "batch_norm_forward",
    "conv2d",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "conv_transpose2d",
    "current",
    "implementation",
    "matmul",
    "register",
    "set_default",
    "tune_process",
    "use",
]
