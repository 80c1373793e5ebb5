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
    dispatch._register()


@pytest.fixture
def spied():
    """Every CPU implementation wrapped in a spy that records (op, impl) and then computes as before."""
    calls = []
    saved = dict(K.IMPLEMENTATIONS)
    for (op, device, impl), fn in saved.items():
        if device == "cpu":
            K.register(op, device, impl, lambda *a, fn=fn, key=(op, impl): calls.append(key) or fn(*a))
    yield calls
    K.IMPLEMENTATIONS.clear()
    K.IMPLEMENTATIONS.update(saved)


WANT = {  # the kernel ops each layer's forward + backward must reach
    "linear": {"matmul"},
    "matmul": {"matmul"},
    "conv2d": {"conv2d", "conv2d_backward_input", "conv2d_backward_weight"},
    "conv_transpose2d": {"conv2d", "conv2d_backward_input", "conv2d_backward_weight"},
    "batch_norm": {"batch_norm_forward", "batch_norm_backward"},
}


@pytest.mark.parametrize("layer", sorted(WANT))
@pytest.mark.parametrize("impl", K.IMPLS)
def test_use_reaches_every_op_with_kernels(spied, impl, layer):
    """``with K.use(impl)`` decides every kernel call of a layer's forward and backward pass."""
    import minigan as mg
    import minigan.nn as nn
    import minigan.nn.functional as F

    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3, 4, 4)).astype(np.float32), requires_grad=True)
    wt = mg.tensor(rng.standard_normal((3, 2, 4, 4)).astype(np.float32), requires_grad=True)
    a = mg.tensor(rng.standard_normal((5, 6)).astype(np.float32), requires_grad=True)
    run = {
        "linear": lambda: nn.Linear(6, 3)(a),
        "matmul": lambda: a @ a.T,
        "conv2d": lambda: F.conv2d(x, w, stride=2, padding=1),
        "conv_transpose2d": lambda: F.conv_transpose2d(x, wt, stride=2, padding=1),
        "batch_norm": lambda: F.batch_norm(x, None, None, training=True),
    }[layer]
    with K.use(impl):
        run().sum().backward()
    assert {op for op, _ in spied} == WANT[layer]
    assert {i for _, i in spied} == {impl}


def test_set_default_reaches_linear_and_batch_norm(spied):
    """The defaults decide too: Linear's product and batch norm follow ``set_default``."""
    import minigan as mg
    import minigan.nn as nn

    saved = dict(K.DEFAULTS)
    try:
        K.set_default("reference", device="cpu", op="matmul")
        K.set_default("vendor", device="cpu", op="batch_norm_forward")
        x = mg.tensor(np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32))
        nn.BatchNorm1d(3)(nn.Linear(6, 3)(x))
    finally:
        K.DEFAULTS.clear()
        K.DEFAULTS.update(saved)
    assert spied == [("matmul", "reference"), ("batch_norm_forward", "vendor")]


def _python(code, **env):
    import os
    import subprocess
    import sys

    env = dict(os.environ, **env)
    env.pop("OMP_WAIT_POLICY", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_minigan_sets_no_process_settings():
    code = "import os, minigan, minigan.kernels; print(os.environ.get('OMP_WAIT_POLICY'))"
    assert _python(code) == "None"


@pytest.mark.parametrize("setting", ["0", "1"])
def test_tune_process(setting):
    """Before any kernel: passive OpenMP waiting, and malloc tuned unless MINIGAN_KEEP_FREED_MEMORY=0
    (where glibc allows it); after a parallel kernel ran, the wait policy is reported as not applied."""
    import platform

    code = (
        "import numpy as np, minigan.kernels as K; a = K.tune_process(); "
        "K.batch_norm_forward(np.ones((2, 3, 4), np.float32), np.ones(3, np.float32), "
        "np.zeros(3, np.float32), 1e-5); b = K.tune_process(keep_freed_memory=False); "
        "print(a['omp_wait_policy'], a['keep_freed_memory'], b['omp_wait_policy'], b['keep_freed_memory'])"
    )
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    want = f"PASSIVE {setting == '1' and glibc} None False"
    assert _python(code, MINIGAN_KEEP_FREED_MEMORY=setting) == want
