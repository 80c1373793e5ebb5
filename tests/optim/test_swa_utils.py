"""AveragedModel (EMA and SWA averages of a model's weights) and update_bn, against the formulas written
out in NumPy; buffers, state dicts, errors."""

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
from minigan.optim.swa_utils import (
    AveragedModel,
    get_ema_avg_fn,
    get_ema_multi_avg_fn,
    get_swa_avg_fn,
    update_bn,
)


def model(seed=0):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def perturb(m, rng):
    """A stand-in for an optimizer step: new random values in every parameter, and a BN forward."""
    for p in m.parameters():
        p.array[...] = rng.standard_normal(p.shape).astype(p.dtype)
    m(mg.tensor(rng.standard_normal((8, 3)), dtype=np.float32))  # moves the running statistics


def snapshots(m, steps, seed=1):
    rng, out = np.random.default_rng(seed), []
    for _ in range(steps):
        perturb(m, rng)
        out.append([p.array.copy() for p in m.parameters()])
    return out


@pytest.mark.parametrize("multi", [False, True])
def test_ema_follows_the_formula(multi):
    m, decay = model(), 0.9
    fn = {"multi_avg_fn": get_ema_multi_avg_fn(decay)} if multi else {"avg_fn": get_ema_avg_fn(decay)}
    ema = AveragedModel(m, **fn)
    rng = np.random.default_rng(1)
    expected = None
    for _ in range(5):
        perturb(m, rng)
        ema.update_parameters(m)
        now = [p.array.astype(np.float64) for p in m.parameters()]
        expected = now if expected is None else [decay * e + (1 - decay) * p for e, p in zip(expected, now)]
    for got, want in zip(ema.module.parameters(), expected):
        np.testing.assert_allclose(got.array, want, rtol=1e-5, atol=1e-6)
    assert int(ema.n_averaged.array) == 5


def test_default_is_the_plain_mean_of_every_model_seen():
    m = model()
    swa = AveragedModel(m)
    snaps = []
    rng = np.random.default_rng(2)
    for _ in range(6):
        perturb(m, rng)
        snaps.append([p.array.copy() for p in m.parameters()])
        swa.update_parameters(m)
    for i, p in enumerate(swa.module.parameters()):
        np.testing.assert_allclose(p.array, np.mean([s[i] for s in snaps], axis=0), rtol=1e-5, atol=1e-6)
    f = get_swa_avg_fn()
    assert f(np.float64(1.0), np.float64(4.0), 2) == pytest.approx(2.0)


def test_first_update_copies_and_the_copy_is_independent():
    m = model()
    ema = AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    assert ema.module is not m and ema.module[0].weight is not m[0].weight
    perturb(m, np.random.default_rng(3))
    ema.update_parameters(m)
    for a, p in zip(ema.module.parameters(), m.parameters()):
        np.testing.assert_array_equal(a.array, p.array)
    m[0].weight.array[...] = 0.0  # training the model later does not write into the average
    assert np.abs(ema.module[0].weight.array).sum() > 0


def test_buffers_are_copied_or_averaged():
    m = model()
    copied = AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    averaged = AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(0.5), use_buffers=True)
    rng = np.random.default_rng(4)
    history = []
    for _ in range(3):
        perturb(m, rng)
        history.append(m[1].running_mean.array.copy())
        copied.update_parameters(m)
        averaged.update_parameters(m)
    np.testing.assert_array_equal(copied.module[1].running_mean.array, m[1].running_mean.array)
    want = 0.25 * history[0] + 0.25 * history[1] + 0.5 * history[2]
    np.testing.assert_allclose(averaged.module[1].running_mean.array, want, rtol=1e-6)
    # integer buffers are copied, not blended
    assert int(averaged.module[1].num_batches_tracked.array) == int(m[1].num_batches_tracked.array)


def test_forward_and_state_dict_round_trip():
    m = model()
    ema = AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    for _ in range(3):
        perturb(m, np.random.default_rng(5))
        ema.update_parameters(m)
    sd = ema.state_dict()
    assert "n_averaged" in sd and "module.0.weight" in sd and "module.1.running_var" in sd
    other = AveragedModel(model(seed=9), multi_avg_fn=get_ema_multi_avg_fn(0.9))
    other.load_state_dict({k: np.asarray(v) for k, v in sd.items()})
    x = mg.tensor(np.random.default_rng(6).standard_normal((5, 3)), dtype=np.float32)
    ema.eval()
    other.eval()
    np.testing.assert_array_equal(ema(x).detach().numpy(), other(x).detach().numpy())
    assert int(other.n_averaged.array) == 3


def test_update_bn_recomputes_the_statistics_of_the_averaged_weights():
    m = model()
    bn = m[1]
    bn.momentum = 0.3
    m.eval()
    rng = np.random.default_rng(7)
    batches = [rng.standard_normal((10, 3)).astype(np.float32) for _ in range(4)]
    update_bn(batches, m)
    h = [(b @ m[0].weight.array.T + m[0].bias.array).astype(np.float64) for b in batches]
    np.testing.assert_allclose(
        bn.running_mean.array, np.mean([x.mean(0) for x in h], 0), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(bn.running_var.array, np.mean([x.var(0, ddof=1) for x in h], 0), rtol=1e-5)
    assert bn.momentum == 0.3 and not m.training  # momentum and mode restored
    assert int(bn.num_batches_tracked.array) == 4
    # (data, label) batches: the first element is the input; the result is the same
    stats = bn.running_mean.array.copy()
    update_bn([(b, 0) for b in batches], m)
    np.testing.assert_array_equal(bn.running_mean.array, stats)


def test_update_bn_on_a_model_without_batch_norm_is_a_no_op():
    m = nn.Sequential(nn.Linear(3, 2))
    w = m[0].weight.array.copy()
    update_bn([np.ones((2, 3), np.float32)], m)
    np.testing.assert_array_equal(m[0].weight.array, w)


def test_errors_name_the_problem():
    m = model()
    with pytest.raises(ValueError, match="not both"):
        AveragedModel(m, avg_fn=get_ema_avg_fn(), multi_avg_fn=get_ema_multi_avg_fn())
    with pytest.raises(TypeError, match="nn.Module"):
        AveragedModel(lambda x: x)
    with pytest.raises(ValueError, match="decay"):
        get_ema_multi_avg_fn(1.5)
    ema = AveragedModel(m)
    with pytest.raises(ValueError, match="not the same architecture"):
        ema.update_parameters(nn.Sequential(nn.Linear(3, 4)))
    with pytest.raises(ValueError, match="shape"):
        ema.update_parameters(nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)))
    with pytest.raises(ValueError, match="no batches"):
        update_bn([], m)
