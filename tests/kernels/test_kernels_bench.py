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


def test_dcgan_bench_on_cuda_without_a_gpu_says_so_in_one_line(monkeypatch, capsys):
    """``python -m minigan.gan.dcgan_bench --device cuda`` checks for a GPU before starting any worker."""
    import minigan.backend
    from minigan.gan import dcgan_bench

    def no_gpu():
        raise minigan.backend.DeviceError("device 'cuda': no usable CUDA GPU was found")

    monkeypatch.setattr(minigan.backend, "require_cupy", no_gpu)
    monkeypatch.setattr(dcgan_bench, "_run_worker", lambda *a: pytest.fail("a worker was started"))
    assert dcgan_bench.main(["--device", "cuda", "--iters", "1", "--rounds", "1"]) == 2
    err = capsys.readouterr().err
    assert err == "dcgan_bench: device 'cuda': no usable CUDA GPU was found\n"
