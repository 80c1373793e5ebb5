"""The ``stacked-mnist`` dataset: its sampler (shape, range, independent channels, reproducible and
resumable draws), its models, its picture and its evaluation with a stand-in classifier."""

import math

import numpy as np
import pytest

from minigan.data.idx import write_idx
from minigan.data.mnist import to_unit_range
from minigan.gan import registry, stacked_run
from minigan.metrics import stacked as S


def constant_digits(n):
    """n uint8 images, image i filled with the value 20 * (i % 10) and labelled i % 10."""
    labels = np.arange(n) % 10
    return np.repeat((20 * labels).astype(np.uint8), 28 * 28).reshape(n, 28, 28), labels


def digit_of(x):
    """The digit that a constant image of ``constant_digits`` encodes, from its [-1, 1] pixels."""
    return np.rint((np.asarray(x) + 1) * 127.5 / 20).astype(np.int64)


@pytest.fixture
def sampler():
    return stacked_run.StackedSampler(*constant_digits(10), split="test")


def test_samples_are_three_channel_images_in_range(sampler):
    x = sampler.sample(7, np.random.default_rng(0))
    assert x.shape == (7, 3, 28, 28) and x.dtype == np.float32
    assert x.min() >= -1 and x.max() <= 1
    assert sampler.shape == (3, 28, 28) and len(sampler) == 10
    real = stacked_run.StackedSampler(*constant_digits(10)).sample(1, np.random.default_rng(0))
    assert np.isin(real, to_unit_range(constant_digits(10)[0])).all()


def test_sample_digits_is_the_same_draw_with_its_labels(sampler):
    x, digits = sampler.sample_digits(50, np.random.default_rng(3))
    np.testing.assert_array_equal(x, sampler.sample(50, np.random.default_rng(3)))
    np.testing.assert_array_equal(digit_of(x[:, :, 0, 0]), digits)
    assert digits.shape == (50, 3) and digits.dtype == np.int64


def test_channels_are_independent_draws(sampler):
    _, digits = sampler.sample_digits(20000, np.random.default_rng(1))
    result = S.stacked_modes(digits)
    assert result.modes_covered == 1000  # every triple appears
    assert result.kl < 2 * 999 / (2 * 20000)  # sampling noise only, ~0.025; a shared digit would give log 100
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        assert abs((digits[:, a] == digits[:, b]).mean() - 0.1) < 0.01
        assert abs(np.corrcoef(digits[:, a], digits[:, b])[0, 1]) < 0.03


def test_draws_are_reproducible_by_seed_and_resume_from_the_generator_state(sampler):
    a = sampler.sample(8, np.random.default_rng(5))
    np.testing.assert_array_equal(a, sampler.sample(8, np.random.default_rng(5)))
    assert not np.array_equal(a, sampler.sample(8, np.random.default_rng(6)))
    rng = np.random.default_rng(9)
    sampler.sample(4, rng)
    state = rng.bit_generator.state  # what a checkpoint keeps
    expected = sampler.sample(4, rng)
    resumed = np.random.default_rng()
    resumed.bit_generator.state = state
    np.testing.assert_array_equal(sampler.sample(4, resumed), expected)


def test_registered_with_a_three_channel_dcgan(tmp_path):
    spec = registry.get("stacked-mnist")
    assert "stacked-mnist" in registry.names() and spec.kind == "image"
    assert spec.model_names() == ["dcgan"] and not spec.model().conditional
    assert spec.eval_samples == 26000 and spec.min_eval_samples == 1000
    images, labels = constant_digits(30)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels.astype(np.uint8))
    config = {**spec.defaults, "data": "stacked-mnist", "split": "test", "data_dir": str(tmp_path)}
    config.update(z_dim=4, width=4)
    data = spec.make_data(config)
    np.testing.assert_array_equal(data.images, images)
    assert "only 30 images" in spec.eval_problem(data)
    G, D = spec.model().make_models(config)
    from minigan.creation import tensor

    x = G(tensor(np.zeros((2, 4), np.float32)))
    assert x.shape == (2, 3, 28, 28) and D(x).shape == (2, 1)
    with pytest.raises(ValueError, match="image_size 32 does not fit"):
        spec.model().make_models({**config, "image_size": 32})


def test_side_by_side_lays_the_channels_out_left_to_right(tmp_path):
    x = np.stack([np.full((2, 5, 4), v, np.float32) for v in (-1.0, 0.5, 1.0)], axis=1)  # (2, 3, 5, 4)
    y = stacked_run.side_by_side(x, gap_value=0.0)
    assert y.shape == (2, 1, 5, 14)
    np.testing.assert_array_equal(y[0, 0, 0], [-1] * 4 + [0] + [0.5] * 4 + [0] + [1] * 4)
    stacked_run.plot_samples(np.zeros((70, 3, 28, 28), np.float32), None, tmp_path / "s.png", title="t")
    assert (tmp_path / "s.png").stat().st_size > 0


class ReadsTheValue:
    """A stand-in classifier: the digit of a constant image of ``constant_digits``, always right."""

    accuracy = 1.0

    def __init__(self, holdout_idx):
        self.holdout_idx = holdout_idx

    def predict_proba(self, images):
        x = np.asarray(images)
        x = to_unit_range(x) if x.dtype == np.uint8 else x
        assert x.shape[1:] in ((1, 28, 28),), x.shape  # one channel at a time
        p = np.zeros((len(x), 10))
        p[np.arange(len(x)), digit_of(x.reshape(len(x), -1).mean(1))] = 1.0
        return p


@pytest.fixture
def big(monkeypatch):
    """2 100 constant digits (more than the 2 000 hold-out) and the stand-in classifier, holding out 2 000."""
    data = stacked_run.StackedSampler(*constant_digits(2100), split="test")
    monkeypatch.setattr(
        "minigan.metrics.classifier.load_or_train", lambda *a, **k: ReadsTheValue(np.arange(100, 2100))
    )
    return data


def test_evaluate_counts_the_modes_of_each_channel(big):
    one_mode = np.tile(
        to_unit_range(constant_digits(10)[0][[1, 2, 3]]).reshape(1, 3, 28, 28), (1000, 1, 1, 1)
    )
    result = stacked_run.evaluate(big, one_mode)
    gen, real = result["generated"], result["real_baseline"]
    assert gen["modes_covered"] == 1 and gen["counts"][123] == 1000
    assert gen["kl"] == pytest.approx(math.log(1000))
    assert real["n_samples"] == 1000 and 550 < real["modes_covered"] < 720  # ~632 of 1 000 draws
    assert result["real_mode_accuracy"] == 1.0 and result["n"] == 1000
    assert result["summary"].startswith("1/1000 modes, KL 6.908 (1000 samples); real-vs-real ")
    assert "\n" not in result["summary"] and "modes covered (of 1000)" in result["report"]
    # every triple once: all covered, KL 0
    triples = np.stack(np.meshgrid(range(10), range(10), range(10), indexing="ij"), -1).reshape(-1, 3)
    x = to_unit_range(constant_digits(10)[0][triples])
    result = stacked_run.evaluate(big, x)
    assert result["generated"]["modes_covered"] == 1000 and result["generated"]["kl"] == pytest.approx(0)


def test_evaluate_refuses_what_it_cannot_judge(big):
    with pytest.raises(ValueError, match="unconditional"):
        stacked_run.evaluate(big, np.zeros((4, 3, 28, 28), np.float32), labels=np.zeros(4))
    with pytest.raises(ValueError, match=r"expected images \(n, 3, 28, 28\)"):
        stacked_run.evaluate(big, np.zeros((4, 1, 28, 28), np.float32))
    bad = np.zeros((4, 3, 28, 28), np.float32)
    bad[0, 0, 0, 0] = np.nan
    assert stacked_run.evaluate(big, bad)["finite"] is False
    small = stacked_run.StackedSampler(*constant_digits(30))
    with pytest.raises(ValueError, match="holds out 2000 real images"):
        stacked_run.evaluate(small, np.zeros((4, 3, 28, 28), np.float32))


def test_mbstd_adds_the_minibatch_std_map_to_d():
    spec = registry.get("stacked-mnist")
    assert spec.model().defaults == {"mbstd": False, "spectral_norm": False, "pack": 1, "g_ema_kimg": 0.0}
    config = {"data": "stacked-mnist", "z_dim": 4, "width": 4, "mbstd": True}
    _, D = spec.model().make_models(config)
    _, plain = spec.model().make_models({**config, "mbstd": False})
    assert D[-1].weight.shape[-1] == plain[-1].weight.shape[-1] + 7 * 7
