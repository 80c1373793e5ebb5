"""Smoke test of the benchmark (never a timed test): ``bench --quick`` runs every section on tiny sizes and
prints complete markdown tables."""

import pytest
from minigan.kernels import bench


def test_quick_bench_prints_every_table(capsys):
    assert bench.main(["--quick", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "## CPU matmul" in out and "## CPU convolution" in out and "## GPU" in out
    for rung in ("numpy BLAS", "naive", "ikj", "parallel", "blocked"):
        assert f"| 32 | {rung} |" in out
    for layer, _, _, _, _ in bench.DCGAN_LAYERS:
        labels = ("kernels: packed GEMMs (Numba)", "per-image im2col+GEMM (Numba)", "vendor: im2col+BLAS")
        for label in labels:
            assert f"| {layer} | {label} |" in out


def test_cpu_clock_needs_one_thread():
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--clock", "cpu", "--threads", "2"])
