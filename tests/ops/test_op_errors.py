"""Bad input gives a clear error that names what is wrong (shapes, dtypes, dims, indices), never a deep
NumPy traceback."""

import numpy as np
import pytest

import minigan as mg


def f64(*shape):
    return mg.zeros(*shape, dtype=np.float64)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: f64(2, 3).sum(dim=2), IndexError, r"dim=2 is out of range for a tensor with 2 dimensions"),
        (lambda: f64(2, 3).max(dim=-3), IndexError, r"dim=-3 is out of range"),
        (lambda: mg.softmax(f64(2, 3), dim=5), IndexError, r"dim=5 is out of range"),
        (lambda: f64(2, 3).unsqueeze(4), IndexError, r"dim=4 is out of range for a tensor with 3 dim"),
        (lambda: f64(2, 3, 4).flatten(2, 1), ValueError, r"start_dim=2 comes after end_dim=1"),
        (lambda: f64(2, 3).var(dim=(0, 0)), ValueError, r"repeats a dimension"),
        (lambda: f64(2, 3).expand(2, 4), ValueError, r"expanded size 4 must match the existing size 3"),
        (lambda: f64(2, 3).expand(3), ValueError, r"number of sizes \(1\).*shape \(2, 3\)"),
        (lambda: f64(3).expand(-1, 3), ValueError, r"-1 is not allowed for the new leading dimension"),
        (lambda: mg.cat([f64(2, 3), f64(3, 2)]), ValueError, r"tensor 1 has shape \(3, 2\).*\(2, 3\)"),
        (lambda: mg.cat([]), ValueError, r"non-empty"),
        (lambda: mg.cat([mg.tensor(1.0)]), ValueError, r"zero-dimensional"),
        (lambda: mg.stack([f64(2), f64(3)]), ValueError, r"tensor 1 has shape \(3,\) but tensor 0 has shape"),
        (lambda: mg.where(f64(2), f64(2), f64(2)), TypeError, r"condition must be a boolean tensor"),
        (lambda: mg.where(f64(2) > 0, f64(3), 1.0), ValueError, r"\(2,\), input \(3,\).*do not broadcast"),
        (lambda: f64(3)[5], IndexError, r"shape \(3,\).*index 5 is out of bounds"),
        (lambda: f64(3)[mg.tensor([0.5])], IndexError, r"integer or boolean, got dtype float32"),
        (lambda: f64(3)["a"], IndexError, r"unsupported index 'a'"),
        (
            lambda: f64(3)[np.array([True, False])],
            IndexError,
            r"boolean index of shape \(2,\) does not match the indexed shape \(3,\)",
        ),
        (
            lambda: mg.tanh(mg.tensor([1, 2])),
            TypeError,
            r"tanh: expected a floating-point tensor, got dtype int64",
        ),
        (lambda: mg.softplus(f64(2), beta=0), ValueError, r"beta must be positive"),
    ],
)
def test_shape_index_and_dim_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize(
    "loss, pattern",
    [
        (
            mg.binary_cross_entropy,
            r"Using a target size \(\(4, 1\)\) that is different to the input size \(\(4,\)\)",
        ),
        (
            mg.binary_cross_entropy_with_logits,
            r"Target size \(\(4, 1\)\) must be the same as input size \(\(4,\)\)",
        ),
    ],
)
def test_bce_target_shape_mismatch_names_both_shapes(loss, pattern):
    """BCE refuses a target of another shape, with PyTorch's words (mse / l1 broadcast with a warning:
    tests/nn/test_loss_modules.py)."""
    with pytest.raises(ValueError, match=pattern):
        loss(f64(4) * 0 + 0.5, f64(4, 1))


@pytest.mark.parametrize("loss", [mg.mse_loss, mg.l1_loss, mg.binary_cross_entropy_with_logits])
def test_losses_need_float_tensors(loss):
    with pytest.raises(TypeError, match=r"target must be a floating-point tensor, got dtype int64"):
        loss(f64(2), mg.tensor([0, 1]))
    with pytest.raises(TypeError, match=r"input must be a floating-point tensor, got dtype int64"):
        loss(mg.tensor([0, 1]), f64(2))


def test_loss_reduction_must_be_known():
    with pytest.raises(ValueError, match=r"reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        mg.mse_loss(f64(2), f64(2), reduction="avg")


def test_binary_cross_entropy_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got min -0.5.*with_logits"):
        mg.binary_cross_entropy(mg.tensor([-0.5, 0.2], dtype=np.float64), f64(2))


def test_cross_entropy_errors():
    logits = f64(3, 4)
    with pytest.raises(
        ValueError, match=r"target shape \(3, 1\) does not match input shape \(3, 4\); expected \(3,\)"
    ):
        mg.cross_entropy(logits, mg.tensor([[0], [1], [2]]))
    with pytest.raises(IndexError, match=r"target 4 is out of bounds for 4 classes"):
        mg.cross_entropy(logits, mg.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match=r"target -2 is out of bounds"):
        mg.cross_entropy(logits, mg.tensor([0, -2, 1]))
    with pytest.raises(TypeError, match=r"input must be a floating-point tensor"):
        mg.cross_entropy(mg.tensor([[1, 2]]), mg.tensor([0]))
    with pytest.raises(
        ValueError, match=r"probability target shape \(3,\) differs from input shape \(3, 4\)"
    ):
        mg.cross_entropy(logits, f64(3))
    with pytest.raises(TypeError, match=r"class indices"):
        mg.nll_loss(logits, f64(3))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        mg.cross_entropy(logits, mg.tensor([0, 1, 2]), weight=f64(3))
