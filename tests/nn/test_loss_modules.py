"""Loss modules (nn.BCELoss ... nn.CrossEntropyLoss) vs the functionals and vs hand formulas; mse / l1
broadcasting with PyTorch's warning; PyTorch's shape errors for the binary cross-entropies."""

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
import minigan.nn.functional as F

RNG = np.random.default_rng(11)


def t64(*shape, low=None, high=None):
    a = RNG.standard_normal(shape) if low is None else RNG.uniform(low, high, shape)
    return mg.tensor(a, dtype=np.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_hand_formulas(reduction):
    x, t = t64(3, 4), t64(3, 4)
    d = x.array - t.array
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    np.testing.assert_allclose(nn.MSELoss(reduction=reduction)(x, t).array, reduce(d**2), rtol=1e-12)
    np.testing.assert_allclose(nn.L1Loss(reduction=reduction)(x, t).array, reduce(np.abs(d)), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_modules_match_hand_formulas(reduction):
    logits, t = t64(4, 3), t64(4, 3, low=0.0, high=1.0)
    w, pw = t64(3, low=0.5, high=2.0), t64(3, low=0.5, high=3.0)
    p = 1 / (1 + np.exp(-logits.array))
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    expected = -w.array * (pw.array * t.array * np.log(p) + (1 - t.array) * np.log(1 - p))
    got = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)(logits, t)
    np.testing.assert_allclose(got.array, reduce(expected), rtol=1e-10)
    expected = -w.array * (t.array * np.log(p) + (1 - t.array) * np.log(1 - p))
    got = nn.BCELoss(weight=w, reduction=reduction)(mg.tensor(p), t)
    np.testing.assert_allclose(got.array, reduce(expected), rtol=1e-10)


def test_classification_modules_match_the_functionals():
    x, target = t64(5, 4), mg.tensor(RNG.integers(0, 4, 5))
    w = t64(4, low=0.5, high=2.0)
    for reduction in ("mean", "sum", "none"):
        got = nn.CrossEntropyLoss(weight=w, reduction=reduction, label_smoothing=0.2)(x, target)
        want = F.cross_entropy(x, target, w, reduction=reduction, label_smoothing=0.2)
        np.testing.assert_array_equal(got.array, want.array)
        log_p = F.log_softmax(x, dim=1)
        got = nn.NLLLoss(weight=w, ignore_index=2, reduction=reduction)(log_p, target)
        np.testing.assert_array_equal(got.array, F.nll_loss(log_p, target, w, 2, reduction).array)


def test_label_smoothing_hand_formula():
    """eps = 0.3, C = 3, no weights, mean: (1 - eps) * mean nll + eps / C * mean(-sum_c log p_c)."""
    x, target = t64(4, 3), np.array([0, 2, 1, 1])
    log_p = x.array - np.log(np.exp(x.array).sum(axis=1, keepdims=True))
    nll = -log_p[np.arange(4), target].mean()
    expected = 0.7 * nll + 0.1 * (-log_p.sum(axis=1)).mean()
    got = nn.CrossEntropyLoss(label_smoothing=0.3)(x, mg.tensor(target))
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0.0 and 1.0, got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_weights_are_buffers_in_the_state_dict():
    assert list(nn.BCEWithLogitsLoss(pos_weight=mg.ones(3)).state_dict()) == ["pos_weight"]
    assert list(nn.BCEWithLogitsLoss(weight=mg.ones(3), pos_weight=mg.ones(3)).state_dict()) == [
        "weight",
        "pos_weight",
    ]
    assert list(nn.CrossEntropyLoss(weight=mg.ones(3)).state_dict()) == ["weight"]
    assert list(nn.NLLLoss().state_dict()) == [] and list(nn.MSELoss().state_dict()) == []
    assert nn.CrossEntropyLoss().reduction == "mean" and nn.CrossEntropyLoss().ignore_index == -100


def test_legacy_size_average_and_reduce_pick_the_reduction_with_a_warning():
    with pytest.warns(UserWarning, match=r"please use reduction='sum' instead"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match=r"please use reduction='none' instead"):
        assert nn.L1Loss(reduce=False).reduction == "none"
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss])
def test_regression_losses_broadcast_with_pytorchs_warning(loss):
    x, t = t64(3, 1), t64(3)
    with pytest.warns(
        UserWarning, match=r"Using a target size \(\(3,\)\) that is different to the input size"
    ):
        y = loss(x, t, reduction="none")
    assert y.shape == (3, 3)  # the (N, 1) vs (N,) trap: every prediction against every target
    diff = x.array - t.array[None, :]
    np.testing.assert_allclose(y.array, diff**2 if loss is F.mse_loss else np.abs(diff), rtol=1e-12)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"cannot be broadcast together"):
        loss(t64(3, 2), t64(3, 4))


def test_binary_cross_entropies_raise_on_shape_mismatch_as_pytorch():
    with pytest.raises(
        ValueError, match=r"Target size \(\(3,\)\) must be the same as input size \(\(3, 1\)\)"
    ):
        F.binary_cross_entropy_with_logits(t64(3, 1), t64(3, low=0, high=1))
    with pytest.raises(
        ValueError, match=r"Using a target size \(\(3,\)\) that is different to the input size"
    ):
        F.binary_cross_entropy(t64(3, 1, low=0.1, high=0.9), t64(3, low=0, high=1))


def test_loss_modules_are_differentiable():
    x = mg.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    t = mg.tensor(RNG.integers(0, 3, 4))
    nn.CrossEntropyLoss(label_smoothing=0.1)(x, t).backward()
    p = np.exp(x.array) / np.exp(x.array).sum(axis=1, keepdims=True)
    soft = np.full((4, 3), 0.1 / 3) + 0.9 * np.eye(3)[t.array]  # the smoothed target
    np.testing.assert_allclose(x.grad.array, (p - soft) / 4, rtol=1e-10, atol=1e-14)
