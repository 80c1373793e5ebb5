"""SGD, Adam, RMSprop: steps vs the update formulas written out in NumPy, state_dict round trips that
continue bit for bit, parameter groups, gradients left untouched, errors."""

import json

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
from minigan import optim

RNG = np.random.default_rng(11)
SHAPES = [(3, 4), (5,)]


def make_params():
    return [nn.Parameter(RNG.standard_normal(s)) for s in SHAPES]  # float64 arrays stay float64


def run(opt_cls, kwargs, grads_per_step, params=None):
    params = params or make_params()
    start = [p.array.copy() for p in params]
    opt = opt_cls(params, **kwargs)
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g, dtype=np.float64)
        opt.step()
    return start, [p.array for p in params], opt


def random_grads(steps):
    return [[RNG.standard_normal(s) for s in SHAPES] for _ in range(steps)]


# -- reference formulas, one parameter at a time -----------------------------------------------------


def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf = p.copy(), None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam_reference(p, grads, lr, betas, eps, weight_decay=0.0, amsgrad=False):
    p, m, v, vmax = p.copy(), 0.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - betas[0] ** t)
        v_hat = (vmax if amsgrad else v) / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def rmsprop_reference(p, grads, lr, alpha, eps, momentum=0.0, centered=False, weight_decay=0.0):
    p, s, a, buf = p.copy(), 0.0, 0.0, 0.0
    for g in grads:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g
        r = np.sqrt(s - a * a if centered else s) + eps
        if momentum:
            buf = momentum * buf + g / r
            p = p - lr * buf
        else:
            p = p - lr * g / r
    return p


CASES = [
    (optim.SGD, dict(lr=0.1), sgd_reference),
    (optim.SGD, dict(lr=0.05, momentum=0.9), sgd_reference),
    (optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01), sgd_reference),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True), sgd_reference),
    (optim.Adam, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8), adam_reference),
    (optim.Adam, dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.1), adam_reference),
    (optim.Adam, dict(lr=1e-3, betas=(0.0, 0.9), eps=1e-6), adam_reference),
    (optim.Adam, dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, amsgrad=True), adam_reference),
    (optim.RMSprop, dict(lr=1e-2, alpha=0.99, eps=1e-8), rmsprop_reference),
    (optim.RMSprop, dict(lr=1e-2, alpha=0.9, eps=1e-8, momentum=0.9), rmsprop_reference),
    (optim.RMSprop, dict(lr=1e-3, alpha=0.9, eps=1e-6, centered=True, weight_decay=0.1), rmsprop_reference),
]


@pytest.mark.parametrize("opt_cls, kwargs, reference", CASES)
def test_steps_match_the_update_formulas(opt_cls, kwargs, reference):
    grads = random_grads(6)
    start, final, _ = run(opt_cls, kwargs, grads)
    for i in range(len(SHAPES)):
        expected = reference(start[i], [step[i] for step in grads], **kwargs)
        np.testing.assert_allclose(final[i], expected, rtol=1e-12, atol=1e-14)


def test_first_adam_step_moves_every_coordinate_by_lr():
    """Bias correction makes m_hat = g and v_hat = g^2 at t = 1: the step is lr * g / (|g| + eps)."""
    g = [np.array([1e-4, -3.0, 250.0]), np.array([-0.5])]
    params = [nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(1))]
    opt = optim.Adam(params, lr=0.01)
    for p, gi in zip(params, g):
        p.grad = mg.tensor(gi, dtype=np.float64)
    opt.step()
    np.testing.assert_allclose(params[0].array, -0.01 * np.sign(g[0]), rtol=1e-3)
    np.testing.assert_allclose(params[1].array, [0.01], rtol=1e-6)


def test_default_hyperparameters_are_pytorchs():
    p = [nn.Parameter(np.zeros(1))]
    assert optim.Adam(p).defaults == dict(
        lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False
    )
    rms = optim.RMSprop(p).defaults
    assert (rms["lr"], rms["alpha"], rms["eps"], rms["momentum"], rms["centered"]) == (
        1e-2,
        0.99,
        1e-8,
        0.0,
        False,
    )
    sgd = optim.SGD(p, lr=0.1).defaults
    assert (sgd["momentum"], sgd["dampening"], sgd["weight_decay"], sgd["nesterov"]) == (0.0, 0.0, 0.0, False)


@pytest.mark.parametrize("opt_cls, kwargs, reference", CASES)
def test_gradients_are_never_modified(opt_cls, kwargs, reference):
    params = make_params()
    shared = RNG.standard_normal(SHAPES[0])
    params[0].grad = mg.tensor(shared, dtype=np.float64)
    params[1].grad = None  # no gradient: the parameter is skipped
    before = params[1].array.copy()
    opt = opt_cls(params, **kwargs)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(params[0].grad.array, shared)
    np.testing.assert_array_equal(params[1].array, before)


def test_float32_parameters_stay_float32_in_place():
    p = nn.Parameter(np.ones(4, dtype=np.float32))
    data = p.array
    opt = optim.Adam([p], lr=0.1)
    p.grad = mg.ones(4)
    opt.step()
    assert p.array is data and p.dtype == np.float32


def _plain_types_only(obj):
    if isinstance(obj, dict):
        return all(isinstance(k, (int, str)) and _plain_types_only(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_plain_types_only(v) for v in obj)
    return isinstance(obj, (int, float, bool, str, type(None), np.ndarray))


@pytest.mark.parametrize("opt_cls, kwargs, reference", CASES)
def test_state_dict_round_trip_continues_bit_for_bit(opt_cls, kwargs, reference):
    grads = random_grads(6)
    params = make_params()
    _, _, opt = run(opt_cls, kwargs, grads[:3], params)
    sd = opt.state_dict()
    assert _plain_types_only(sd)
    # through JSON (arrays as lists, int keys become strings), as a checkpoint file might store it
    text = json.dumps(sd, default=lambda a: {"__array__": a.tolist()})
    restored = json.loads(text, object_hook=lambda d: np.array(d["__array__"]) if "__array__" in d else d)
    clones = [nn.Parameter(p.array.copy()) for p in params]
    other = opt_cls(clones, lr=123.0)  # hyperparameters come back from the state dict too
    other.load_state_dict(restored)
    assert other.param_groups[0]["lr"] == kwargs["lr"]
    for step in grads[3:]:
        for p, q, g in zip(params, clones, step):
            p.grad = mg.tensor(g, dtype=np.float64)
            q.grad = mg.tensor(g.copy(), dtype=np.float64)
        opt.step()
        other.step()
    for p, q in zip(params, clones):
        np.testing.assert_array_equal(p.array, q.array)


def test_state_dict_layout_is_pytorchs():
    params = make_params()
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.1)
    for p in params:
        p.grad = mg.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sd["param_groups"][0]["betas"] == [0.9, 0.999]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and sd["state"][0]["step"] == 1
    assert sd["state"][0]["exp_avg"] is not opt.state[id(params[0])]["exp_avg"]  # a copy


def test_param_groups_have_their_own_learning_rates():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = mg.ones(2, dtype=np.float64), mg.ones(2, dtype=np.float64)
    opt.step()
    np.testing.assert_allclose(a.array, -0.1)
    np.testing.assert_allclose(b.array, -1.0)
    opt.param_groups[0]["lr"] = 0.01  # changing lr between steps takes effect (schedules)
    opt.step()
    np.testing.assert_allclose(a.array, -0.11)


def test_optimizers_minimise_a_quadratic():
    target = RNG.standard_normal(5)
    for opt_cls, kwargs in [
        (optim.SGD, dict(lr=0.1, momentum=0.9)),
        (optim.Adam, dict(lr=0.05)),
        (optim.RMSprop, dict(lr=0.01)),
    ]:
        w = nn.Parameter(np.zeros(5))
        opt = opt_cls([w], **kwargs)
        for _ in range(300):
            opt.zero_grad()
            ((w - mg.tensor(target, dtype=np.float64)) ** 2).sum().backward()
            opt.step()
        np.testing.assert_allclose(w.array, target, atol=0.05, err_msg=opt_cls.__name__)


def test_zero_grad_and_closure():
    w = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.array, [0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert np.all(w.grad.array == 0)
    opt.zero_grad()
    assert w.grad is None


def test_errors():
    w = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta"):
        optim.Adam([w], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    opt = optim.Adam([w])
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict(
            optim.Adam(
                [{"params": [nn.Parameter(np.zeros(1))]}, {"params": [nn.Parameter(np.zeros(1))]}]
            ).state_dict()
        )
    with pytest.raises(ValueError, match="has 2 parameters"):
        opt.load_state_dict(optim.Adam([nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))]).state_dict())
