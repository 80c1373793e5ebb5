"""kernels.dispatch: the implementation switch, its defaults, its registry hook and its errors."""

import minigan.kernels as K
import numpy as np
import pytest
from minigan.kernels import dispatch
from minigan.kernels import reference as R


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 4, 4)).astype(np.float32)
    return x, w


@pytest.mark.parametrize("impl", K.IMPLS)
def test_every_cpu_implementation_agrees_with_reference(impl):
    x, w = data()
    a = x.reshape(6, 64)
    with K.use(impl):
        assert K.current("conv2d") == impl
        y = K.conv2d(x, w, stride=2, padding=1)
        gx = K.conv2d_backward_input(y, w, x.shape, 2, 1)
        gw = K.conv2d_backward_weight(x, y, w.shape, (2, 2), (1, 1))
        c = K.matmul(a, a.T)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    y64 = R.conv2d_forward(x64, w64, 2, 1)
    np.testing.assert_allclose(y, y64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gx, R.conv2d_backward_input(y64, w64, x.shape, 2, 1), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(gw, R.conv2d_backward_weight(x64, y64, w.shape, 2, 1), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(c, a.astype(np.float64) @ a.T, rtol=1e-4, atol=1e-4)


def test_use_restores_and_nests():
    before = K.current("matmul")
    with K.use("reference"):
        with K.use("kernels"):
            assert K.current("matmul") == "kernels"
        assert K.current("matmul") == "reference"
    assert K.current("matmul") == before


def test_set_default_per_op_and_device():
    saved = dict(K.DEFAULTS)
    try:
        K.set_default("reference", device="cpu", op="conv2d")
        assert K.current("conv2d", "cpu") == "reference"
        assert K.current("conv2d_backward_input", "cpu") == saved[("cpu", "conv2d_backward_input")]
        K.set_default("vendor")
        assert all(v == "vendor" for v in K.DEFAULTS.values())
    finally:
        K.DEFAULTS.clear()
        K.DEFAULTS.update(saved)


def test_register_hook_replaces_an_implementation():
    calls = []
    old = K.IMPLEMENTATIONS[("matmul", "cpu", "reference")]

    def spy(a, b):
        calls.append((a.shape, b.shape))
        return old(a, b)

    try:
        K.register("matmul", "cpu", "reference", spy)
        with K.use("reference"):
            K.matmul(np.ones((2, 3)), np.ones((3, 1)))
        assert calls == [((2, 3), (3, 1))]
    finally:
        K.register("matmul", "cpu", "reference", old)


def test_conv_transpose2d_matches_reference():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 7, 7)).astype(np.float32)
    w = rng.standard_normal((4, 3, 4, 4)).astype(np.float32)
    ref = R.conv_transpose2d(x.astype(np.float64), w.astype(np.float64), 2, 1, 1)
    for impl in K.IMPLS:
        with K.use(impl):
            y = K.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
        assert y.shape == (2, 3, 15, 15)
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


def test_matmul_kernels_fall_back_to_numpy_for_other_dtypes_and_1d():
    with K.use("kernels"):
        i = K.matmul(np.arange(6).reshape(2, 3), np.arange(3))
        assert i.dtype.kind == "i" and i.tolist() == [5, 14]
        v = K.matmul(np.ones(3, np.float32), np.ones((3, 2), np.float32))
        assert v.shape == (2,)
        h = K.matmul(np.ones((2, 2), np.float16), np.ones((2, 2), np.float16))
        assert h.dtype == np.float16


def test_errors_name_the_problem():
    x, w = data()
    with pytest.raises(ValueError, match="unknown implementation"):
        with K.use("fast"):
            pass
    with pytest.raises(ValueError, match="unknown op"):
        K.set_default("vendor", op="conv3d")
    with pytest.raises(ValueError, match="channels"):
        K.conv2d(x, w[:, :2])
    with pytest.raises(ValueError, match="stride"):
        K.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(TypeError, match="float32 or float64"):
        with K.use("kernels"):
            K.conv2d(x.astype(np.int32), w.astype(np.int32))
    with pytest.raises(NotImplementedError, match="no 'kernels' implementation"):
        dispatch.implementation("matmul", "cpu", "kernels") and dispatch.IMPLEMENTATIONS.pop(
            ("matmul", "cpu", "kernels")
        ) and dispatch.implementation("matmul", "cpu", "kernels")
    dispatch._register_cpu()


@pytest.mark.parametrize("setting, want", [("0", "False"), ("1", None)])
def test_keep_freed_memory_switch(setting, want):
    """MINIGAN_KEEP_FREED_MEMORY=0 leaves malloc alone; otherwise it is tuned where glibc allows it."""
    import os
    import platform
    import subprocess
    import sys

    env = dict(os.environ, MINIGAN_KEEP_FREED_MEMORY=setting)
    code = "import minigan.kernels as K; print(K.KEEP_FREED_MEMORY)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == (want or str(glibc))
