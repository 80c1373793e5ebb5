"""Spectral normalisation (nn.utils.spectral_norm) and the forward pre-hooks it is built on.

PyTorch's semantics from a stored reference (spectral_norm_reference.json, written by
make_spectral_norm_reference.py; this file reads only the JSON); sigma = 1 after enough power iterations;
eval mode; u, v constant in backward; state_dict round trips; remove_spectral_norm; the bad-input errors;
double backward through a spectrally normalised D (R1, WGAN-GP); deepcopy and .to(dtype)."""

import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
import minigan.nn as nn
from minigan.gan import penalties
from minigan.nn.utils import remove_spectral_norm, spectral_norm
from minigan.nn.utils.spectral_norm import SpectralNorm, spectral_normalize
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as S

REFERENCE = json.loads(Path(__file__).with_name("spectral_norm_reference.json").read_text())["cases"]


def t64(a, grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), dtype=np.float64, requires_grad=grad)


def np_normalize(x):
    return x / max(np.linalg.norm(x), 1e-12)


class Holder(nn.Module):
    """A module whose forward returns its (normalised) weight: spectral_norm on a weight of any shape."""

    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(np.asarray(weight, dtype=np.float64))

    def forward(self):
        return self.weight


def sn_hooks(module):
    return [h for h in module._forward_pre_hooks.values() if isinstance(h, SpectralNorm)]


# -- PyTorch's semantics, from the stored reference ------------------------------------------------------
def assert_close(got, expected, what):
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-10, atol=1e-12, err_msg=what)


def assert_state(module, expected, when):
    sd = module.state_dict()
    assert list(sd) == list(expected), when
    for k, v in expected.items():
        assert_close(sd[k], v, f"{when}: {k}")


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_matches_pytorch_reference(name):
    case = REFERENCE[name]
    layer = getattr(nn, case["layer"])(*case["args"], **case["kwargs"]).double()
    m = spectral_norm(layer, **case["spectral_norm"])
    assert list(m.state_dict()) == case["keys"] and "weight" not in m.state_dict()
    m.load_state_dict(case["init"])
    x, g = t64(case["x"]), t64(case["g"])

    y = m(x)
    (y * g).sum().backward()
    after = case["after_1"]
    assert_state(m, after["state"], "after 1 training forward")
    assert_close(m.weight.array, after["weight"], "weight after 1 forward")
    assert_close(y.array, after["y"], "output of forward 1")
    assert_close(m.weight_orig.grad.array, after["grad_weight_orig"], "d sum(g y) / d weight_orig")

    for _ in range(2):
        y = m(x)
    after = case["after_3"]
    assert_state(m, after["state"], "after 3 training forwards")
    assert_close(m.weight.array, after["weight"], "weight after 3 forwards")
    assert_close(y.array, after["y"], "output of forward 3")

    m.eval()
    y = m(x)
    after = case["eval"]
    assert_state(m, after["state"], "after an eval forward")
    assert_close(m.weight.array, after["weight"], "weight in eval mode")
    assert_close(y.array, after["y"], "output in eval mode")

    remove_spectral_norm(m)
    assert list(m.state_dict()) == case["removed"]["keys"]
    assert isinstance(m.weight, nn.Parameter)
    assert_close(m.weight.array, case["removed"]["weight"], "weight after remove_spectral_norm")


def test_vector_shapes_and_default_dim():
    lin = spectral_norm(nn.Linear(5, 3))  # weight (3, 5), dim 0
    assert lin.weight_u.shape == (3,) and lin.weight_v.shape == (5,)
    conv = spectral_norm(nn.Conv2d(2, 4, 3))  # weight (4, 2, 3, 3), dim 0
    assert conv.weight_u.shape == (4,) and conv.weight_v.shape == (18,)
    deconv = spectral_norm(nn.ConvTranspose2d(2, 4, 3))  # weight (2, 4, 3, 3): the output axis is 1
    assert deconv.weight_u.shape == (4,) and deconv.weight_v.shape == (18,)
    assert sn_hooks(deconv)[0].dim == 1
    rows = spectral_norm(nn.ConvTranspose2d(2, 4, 3), dim=0)
    assert rows.weight_u.shape == (2,) and rows.weight_v.shape == (36,)
    last = spectral_norm(nn.Linear(5, 3), dim=-1)  # a negative dim counts from the end
    assert last.weight_u.shape == (5,) and sn_hooks(last)[0].dim == 1


def test_u_v_are_normalised_draws_from_the_default_generator():
    lin = nn.Linear(4, 3)
    mg.manual_seed(5)
    spectral_norm(lin)
    mg.manual_seed(5)
    u, v = mg.randn(3).numpy(), mg.randn(4).numpy()
    np.testing.assert_allclose(lin.weight_u.array, np_normalize(u), rtol=1e-6)
    np.testing.assert_allclose(lin.weight_v.array, np_normalize(v), rtol=1e-6)
    assert lin.weight_u.dtype == lin.weight_orig.dtype == np.float32 and not lin.weight_u.requires_grad


def test_parameter_becomes_weight_orig_and_optimizers_keep_it():
    lin = nn.Linear(3, 2)
    w = lin.weight
    opt = mg.optim.SGD(lin.parameters(), lr=0.1)
    spectral_norm(lin)
    assert lin.weight_orig is w and isinstance(lin.weight_orig, nn.Parameter)
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in lin.named_buffers()] == ["weight_u", "weight_v"]
    # until the first forward, .weight is W_orig's storage: an init written into it reaches W_orig
    assert not isinstance(lin.weight, nn.Parameter)
    nn.init.constant_(lin.weight, 0.5)
    np.testing.assert_array_equal(w.array, 0.5)
    before = w.array.copy()
    lin(mg.randn(4, 3)).sum().backward()
    opt.step()
    assert not np.array_equal(w.array, before)


# -- the power iteration -------------------------------------------------------------------------------
@st.composite
def gapped_matrices(draw):
    """(W, sigma_1): W = Q1 diag(s) Q2^T of shape (h, w) whose other singular values are at most sigma_1 / 2,
    so power iteration converges by at least a factor 2 per step."""
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    k = min(h, w)
    q1, _ = np.linalg.qr(draw(S.arrays((h, h))))
    q2, _ = np.linalg.qr(draw(S.arrays((w, w))))
    top = draw(st.floats(0.2, 5.0))
    rest = draw(S.arrays((k - 1,), min_value=0.0, max_value=0.5)) * top
    s = np.concatenate([[top], rest])
    return q1[:, :k] @ np.diag(s) @ q2[:, :k].T, top


@given(gapped_matrices(), st.sampled_from([0, 1]))
def test_sigma_of_normalised_weight_is_one_after_enough_iterations(case, dim):
    W, top = case
    mg.manual_seed(0)
    holder = spectral_norm(Holder(W), n_power_iterations=40, dim=dim)
    W_sn = holder().array
    np.testing.assert_allclose(np.linalg.norm(W_sn, 2), 1.0, rtol=1e-7)
    u, v = holder.weight_u.array, holder.weight_v.array
    W_mat = W if dim == 0 else W.T
    assert np.linalg.norm(u) == pytest.approx(1.0) and np.linalg.norm(v) == pytest.approx(1.0)
    assert u @ W_mat @ v == pytest.approx(top, rel=1e-7)


def test_one_iteration_per_forward_converges_on_a_conv_weight():
    mg.manual_seed(3)
    conv = spectral_norm(nn.Conv2d(3, 8, 3).double())
    x = t64(np.zeros((1, 3, 3, 3)))
    sigmas = []
    for _ in range(60):
        conv(x)
        sigmas.append(np.linalg.norm(conv.weight.array.reshape(8, -1), 2))
    assert abs(sigmas[0] - 1.0) > 1e-3  # one step from a random start is not there yet
    assert sigmas[-1] == pytest.approx(1.0, rel=1e-6)


def test_n_power_iterations_steps_per_forward():
    mg.manual_seed(1)
    W = np.random.default_rng(1).standard_normal((4, 6))
    a = spectral_norm(Holder(W), n_power_iterations=3)
    b = copy.deepcopy(a)
    sn_hooks(b)[0].n_power_iterations = 1
    a()
    for _ in range(3):
        b()
    np.testing.assert_allclose(a.weight_u.array, b.weight_u.array, rtol=1e-12)
    np.testing.assert_allclose(a.weight.array, b.weight.array, rtol=1e-12)


def test_eval_mode_leaves_u_and_v_unchanged():
    mg.manual_seed(2)
    lin = spectral_norm(nn.Linear(4, 3).double())
    x = t64(np.ones((2, 4)))
    lin(x)  # one training step
    lin.eval()
    u, v = lin.weight_u.array.copy(), lin.weight_v.array.copy()
    versions = lin.weight_u._version, lin.weight_v._version
    for _ in range(3):
        lin(x)
    np.testing.assert_array_equal(lin.weight_u.array, u)
    np.testing.assert_array_equal(lin.weight_v.array, v)
    assert (lin.weight_u._version, lin.weight_v._version) == versions
    W = lin.weight_orig.array
    np.testing.assert_allclose(lin.weight.array, W / (u @ W @ v), rtol=1e-12)
    lin.train()
    lin(x)
    assert not np.array_equal(lin.weight_u.array, u)  # training mode iterates again


# -- gradients ----------------------------------------------------------------------------------------
def test_gradient_treats_u_and_v_as_constants():
    rng = np.random.default_rng(4)
    W, G = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    holder = spectral_norm(Holder(W))
    (holder() * t64(G)).sum().backward()
    assert holder.weight_u.grad is None and holder.weight_v.grad is None
    assert not holder.weight_u.requires_grad and not holder.weight_v.requires_grad
    u, v = holder.weight_u.array, holder.weight_v.array  # after this forward's power iteration
    sigma = u @ W @ v
    # d/dW sum(G * W / sigma) with sigma = u^T W v, u and v held fixed
    expected = G / sigma - (G * W).sum() / sigma**2 * np.outer(u, v)
    np.testing.assert_allclose(holder.weight_orig.grad.array, expected, rtol=1e-10)


def test_two_forwards_then_one_backward():
    # D(real) and D(fake) in training mode before one backward: the second forward's in-place update of
    # u and v must not invalidate the first forward's graph
    mg.manual_seed(0)
    D = nn.Sequential(spectral_norm(nn.Linear(3, 4)), nn.LeakyReLU(0.2), spectral_norm(nn.Linear(4, 1)))
    real, fake = mg.randn(5, 3), mg.randn(5, 3)
    loss = D(real).mean() - D(fake).mean()
    loss.backward()
    assert all(np.all(np.isfinite(p.grad.array)) for p in D.parameters())


def tiny_d():
    """Conv2d -> tanh -> Flatten -> Linear, both spectrally normalised, float64, in eval mode: u and v
    fixed, so D is a function of its input and weights that finite differences can probe. Smooth (tanh),
    so its second derivatives exist everywhere."""
    mg.manual_seed(7)
    D = nn.Sequential(
        spectral_norm(nn.Conv2d(1, 2, 3)), nn.Tanh(), nn.Flatten(), spectral_norm(nn.Linear(8, 1))
    ).double()
    D(t64(np.zeros((1, 1, 4, 4))))  # one training forward moves u, v off their random start
    return D.eval()


def with_weights(D, fn):
    """fn(*inputs) with D's two weight_orig Parameters replaced by the last inputs (gradcheck perturbs
    copies of its inputs, so the weights must be arguments)."""
    layers = (D[0], D[3])

    def call(*args):
        *rest, w1, w2 = args
        saved = [m._parameters["weight_orig"] for m in layers]
        for m, w in zip(layers, (w1, w2)):
            m._parameters["weight_orig"] = w
        try:
            return fn(*rest)
        finally:
            for m, w in zip(layers, saved):
                m._parameters["weight_orig"] = w

    return call, [t64(m.weight_orig.array, grad=True) for m in layers]


def test_gradgradcheck_through_spectral_normed_d():
    D = tiny_d()
    x = t64(np.random.default_rng(0).standard_normal((2, 1, 4, 4)), grad=True)
    call, weights = with_weights(D, D)
    assert gradgradcheck(call, [x] + weights)


def test_r1_and_wgan_gp_gradients_wrt_weights():
    D = tiny_d()
    rng = np.random.default_rng(1)
    real, fake = t64(rng.standard_normal((2, 1, 4, 4))), t64(rng.standard_normal((2, 1, 4, 4)))
    alpha = t64(rng.random((2, 1, 1, 1)))
    r1, weights = with_weights(D, lambda: penalties.r1_penalty(D, real, gamma=2.0))
    assert gradcheck(r1, weights)
    gp, weights = with_weights(D, lambda: penalties.gradient_penalty(D, real, fake, alpha=alpha))
    assert gradcheck(gp, weights)


def test_r1_in_training_mode_differentiates_the_normalised_weight():
    # training mode: the forward inside R1 iterates u, v, then R1's output is reused for the loss and a
    # second forward runs on fakes; the gradient is that of eval mode with the updated u, v
    D = tiny_d().train()
    rng = np.random.default_rng(2)
    real, fake = t64(rng.standard_normal((2, 1, 4, 4))), t64(rng.standard_normal((2, 1, 4, 4)))
    penalty, out = penalties.r1_penalty(D, real, gamma=2.0, return_output=True)
    (penalty + out.mean()).backward()
    D(fake)  # moves u, v after the backward: must not matter to what was computed
    grads = [p.grad.array.copy() for p in D.parameters()]
    assert D[0].weight_u.grad is None
    # replay the same step in eval mode with the u, v that step used
    E = tiny_d().train()
    E(real)  # the iteration R1's forward did
    E.eval()
    penalty, out = penalties.r1_penalty(E, real, gamma=2.0, return_output=True)
    (penalty + out.mean()).backward()
    for g, p in zip(grads, E.parameters()):
        np.testing.assert_allclose(g, p.grad.array, rtol=1e-10, atol=1e-14)


# -- state_dict, copies, devices ----------------------------------------------------------------------
def test_state_dict_round_trip_into_a_fresh_module():
    mg.manual_seed(0)
    a = spectral_norm(nn.Conv2d(2, 3, 3))
    x = mg.randn(2, 2, 5, 5)
    for _ in range(2):
        a(x)
    arrays = {k: np.array(v) for k, v in a.state_dict().items()}  # plain NumPy, as in an npz
    assert list(arrays) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert arrays["weight_u"].shape == (3,) and arrays["weight_v"].shape == (18,)
    mg.manual_seed(1)
    b = spectral_norm(nn.Conv2d(2, 3, 3))
    a.eval(), b.eval()
    assert not np.allclose(b(x).array, a(x).array)
    result = b.load_state_dict(arrays)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(b(x).array, a(x).array)
    buf = io.BytesIO()
    mg.save(a.state_dict(), buf)
    buf.seek(0)
    c = spectral_norm(nn.Conv2d(2, 3, 3)).eval()
    c.load_state_dict(mg.load(buf))
    np.testing.assert_array_equal(c(x).array, a(x).array)
    with pytest.raises(RuntimeError, match="Missing key"):  # a plain layer's keys do not fit
        b.load_state_dict(nn.Conv2d(2, 3, 3).state_dict())


def test_deepcopy_after_a_training_forward():
    mg.manual_seed(0)
    D = nn.Sequential(spectral_norm(nn.Linear(3, 4)), nn.LeakyReLU(0.2), spectral_norm(nn.Linear(4, 1)))
    x = mg.randn(2, 3)
    D(x).sum().backward()
    C = copy.deepcopy(D)
    for (k, a), (k2, b) in zip(D.state_dict().items(), C.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a.array, b.array)
        assert a.array is not b.array
    assert C[0].weight_orig is not D[0].weight_orig and len(sn_hooks(C[0])) == 1
    C.zero_grad()
    D.zero_grad()
    C(x).sum().backward()
    assert D[0].weight_orig.grad is None and C[0].weight_orig.grad is not None
    u_copy = C[0].weight_u.array.copy()
    D(x)
    np.testing.assert_array_equal(C[0].weight_u.array, u_copy)  # the copy's buffers are its own
    np.testing.assert_allclose(D[0].weight_u.array, u_copy, rtol=1e-6)  # same step from the same state
    remove_spectral_norm(C[0])
    assert len(sn_hooks(D[0])) == 1


def test_to_float64_converts_orig_u_v_and_the_next_weight():
    lin = spectral_norm(nn.Linear(3, 2))
    lin(mg.randn(1, 3))
    u = lin.weight_u.array.copy()
    lin.to(np.float64)
    assert lin.weight_orig.dtype == lin.weight_u.dtype == lin.weight_v.dtype == np.float64
    np.testing.assert_array_equal(lin.weight_u.array, u.astype(np.float64))
    y = lin.eval()(mg.randn(1, 3, dtype=np.float64))
    assert y.dtype == np.float64 and lin.weight.dtype == np.float64
    lin.to("cpu")
    assert lin(mg.randn(1, 3, dtype=np.float64)).shape == (1, 2)


# -- remove_spectral_norm ------------------------------------------------------------------------------
def test_remove_spectral_norm_keeps_the_current_normalised_weight():
    mg.manual_seed(0)
    lin = spectral_norm(nn.Linear(4, 3).double())
    x = t64(np.random.default_rng(0).standard_normal((2, 4)))
    for _ in range(3):
        lin(x)
    u, v, W = lin.weight_u.array.copy(), lin.weight_v.array.copy(), lin.weight_orig.array.copy()
    y_eval = lin.eval()(x).array
    assert remove_spectral_norm(lin) is lin
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    np.testing.assert_allclose(lin.weight.array, W / (u @ W @ v), rtol=1e-12)  # no further iteration
    assert list(lin.state_dict()) == ["bias", "weight"]
    assert not sn_hooks(lin) and not hasattr(lin, "weight_orig") and not hasattr(lin, "weight_u")
    np.testing.assert_allclose(lin.train()(x).array, y_eval, rtol=1e-12)
    spectral_norm(lin)  # can be applied again
    assert list(lin.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]


# -- bad input -----------------------------------------------------------------------------------------
def test_missing_parameter_names_module_parameter_and_what_it_has():
    lin = nn.Linear(2, 2)
    with pytest.raises(
        KeyError, match=r"Linear has no parameter 'weigth' \(its parameters: 'weight', 'bias'\)"
    ):
        spectral_norm(lin, name="weigth")
    with pytest.raises(KeyError, match=r"Tanh has no parameter 'weight' \(its parameters: none\)"):
        spectral_norm(nn.Tanh())
    with pytest.raises(KeyError, match="no parameter 'running_mean'"):  # a buffer is not a parameter
        spectral_norm(nn.BatchNorm1d(2), name="running_mean")
    assert list(lin.state_dict()) == ["weight", "bias"]


def test_twice_on_the_same_parameter_is_a_runtime_error():
    lin = spectral_norm(nn.Linear(2, 2))
    with pytest.raises(
        RuntimeError, match="Cannot register two spectral_norm hooks on the same parameter weight of Linear"
    ):
        spectral_norm(lin)
    spectral_norm(lin, name="bias")  # another parameter of the same module is fine
    assert len(sn_hooks(lin)) == 2


@pytest.mark.parametrize("n", [0, -1])
def test_n_power_iterations_below_one_is_a_value_error(n):
    lin = nn.Linear(2, 2)
    with pytest.raises(
        ValueError, match=f"Expected n_power_iterations to be positive, but got n_power_iterations={n}"
    ):
        spectral_norm(lin, n_power_iterations=n)
    assert list(lin.state_dict()) == ["weight", "bias"] and not sn_hooks(lin)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="parameter `bias` is None"):
        spectral_norm(nn.Linear(2, 2, bias=False), name="bias")
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(TypeError, match="n_power_iterations must be an int"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=1.5)
    with pytest.raises(TypeError, match="expected a minigan nn.Module"):
        spectral_norm(lambda x: x)


def test_remove_where_none_is_applied_is_a_value_error():
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in Linear"):
        remove_spectral_norm(nn.Linear(2, 2))
    lin = spectral_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found"):
        remove_spectral_norm(lin, name="bias")
    remove_spectral_norm(lin)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        remove_spectral_norm(lin)


# -- the function behind the hook -------------------------------------------------------------------------
def test_spectral_normalize_moves_dim_first():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((2, 3, 4))
    u, v = np_normalize(rng.standard_normal(3)), np_normalize(rng.standard_normal(8))
    W_mat = np.moveaxis(W, 1, 0).reshape(3, -1)
    out = spectral_normalize(t64(W), u, v, dim=1)
    np.testing.assert_allclose(out.array, W / (u @ W_mat @ v), rtol=1e-12)


# -- forward pre-hooks (Module) ----------------------------------------------------------------------------
class Echo(nn.Module):
    def forward(self, *args, **kwargs):
        return args, kwargs


def test_forward_pre_hooks_see_and_may_replace_args():
    m = Echo()
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: seen.append(("first", mod, args)))
    h2 = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,) + args[1:])
    h3 = m.register_forward_pre_hook(lambda mod, args: args[0] * 10)  # one value: becomes a 1-tuple
    assert m(1, 2, key="k") == ((20,), {"key": "k"})
    assert seen == [("first", m, (1, 2))]
    h3.remove()
    h3.remove()  # a second remove does nothing
    assert m(1, 2) == ((2, 2), {})
    h2.remove()
    with h1:
        pass
    assert m(1, 2) == ((1, 2), {}) and len(seen) == 2
    assert not m._forward_pre_hooks and list(m.state_dict()) == []


def test_a_hook_may_remove_itself_while_hooks_run():
    m = Echo()
    calls = []
    handle = None

    def once(mod, args):
        calls.append(args)
        handle.remove()

    handle = m.register_forward_pre_hook(once)
    m.register_forward_pre_hook(lambda mod, args: calls.append("second"))
    m(1)
    m(2)
    assert calls == [(1,), "second", "second"]
    with pytest.raises(TypeError, match="must be callable"):
        m.register_forward_pre_hook("not a function")


def test_user_hooks_run_alongside_spectral_norm_in_order():
    lin = nn.Linear(3, 2)
    order = []
    lin.register_forward_pre_hook(lambda mod, args: order.append(isinstance(mod.weight, nn.Parameter)))
    spectral_norm(lin)
    lin.register_forward_pre_hook(lambda mod, args: order.append(mod.weight.creator is not None))
    lin(mg.randn(1, 3))
    assert order == [False, True]  # the first hook runs before the weight is recomputed, the last after
