"""Stacked MNIST mode metrics (``minigan.metrics.stacked``) on constructed digit triples and histograms."""

import math

import numpy as np
import pytest

from minigan.metrics import stacked as S


def all_triples():
    """The 1 000 digit triples (d0, d1, d2), each once, in mode order."""
    return np.stack(np.meshgrid(range(10), range(10), range(10), indexing="ij"), -1).reshape(-1, 3)


def test_mode_index_is_the_three_digit_number():
    np.testing.assert_array_equal(S.modes_of([[1, 2, 3], [0, 0, 7], [9, 9, 9]]), [123, 7, 999])
    np.testing.assert_array_equal(S.modes_of(all_triples()), np.arange(1000))
    np.testing.assert_array_equal(S.digits_of(np.arange(1000)), all_triples())


def test_uniform_histogram_covers_every_mode_with_kl_zero():
    counts = np.full(1000, 26)
    assert S.modes_covered(counts) == 1000
    assert S.kl_to_uniform(counts) == pytest.approx(0.0, abs=1e-12)
    result = S.stacked_modes(np.repeat(all_triples(), 3, axis=0))
    assert (result.modes_covered, result.n_modes, result.n_samples) == (1000, 1000, 3000)
    assert result.kl == pytest.approx(0.0, abs=1e-12) and set(result.counts) == {3}


def test_everything_in_one_mode_has_kl_log_1000():
    counts = np.zeros(1000, np.int64)
    counts[123] = 26000
    assert S.modes_covered(counts) == 1
    assert S.kl_to_uniform(counts) == pytest.approx(math.log(1000), rel=1e-12)
    result = S.stacked_modes(np.tile([1, 2, 3], (50, 1)))
    assert result.modes_covered == 1 and result.counts[123] == 50
    assert result.kl == pytest.approx(math.log(1000), rel=1e-12)
    assert str(result) == "1/1000 modes, KL 6.908 (50 samples)"


def test_empty_bins_contribute_nothing_and_the_histogram_is_normalised():
    # half the mass on each of 2 modes of 4: sum over p > 0 of p log(p / q) = log 2
    assert S.kl_to_uniform([5, 5, 0, 0]) == pytest.approx(math.log(2), rel=1e-12)
    assert S.kl_to_uniform([1, 1, 0, 0]) == S.kl_to_uniform([7, 7, 0, 0])
    # half the modes filled evenly: log 2 again, at 1000 modes
    counts = np.zeros(1000)
    counts[::2] = 4
    assert S.modes_covered(counts) == 500 and S.kl_to_uniform(counts) == pytest.approx(math.log(2))
    # the direct definition on an uneven histogram
    counts = np.random.default_rng(0).integers(0, 5, 1000)
    p = counts / counts.sum()
    expected = sum(pk * math.log(pk * 1000) for pk in p if pk > 0)
    assert S.kl_to_uniform(counts) == pytest.approx(expected, rel=1e-12)
    assert S.modes_covered(counts) == int((counts > 0).sum())
    assert S.modes_covered(counts, min_count=3) == int((counts >= 3).sum())


def test_channel_digits_reads_the_channels_image_by_image():
    digits = np.array([[4, 0, 9], [2, 2, 5]])
    probs = np.full((6, 10), 0.01)
    probs[np.arange(6), digits.ravel()] = 0.91
    np.testing.assert_array_equal(S.channel_digits(probs), digits)
    assert S.modes_of(S.channel_digits(probs)).tolist() == [409, 225]


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.kl_to_uniform(np.zeros(1000)),
        lambda: S.kl_to_uniform([1, -1, 3]),
        lambda: S.kl_to_uniform([]),
        lambda: S.modes_of([[1, 2]]),
        lambda: S.modes_of([[1, 2, 10]]),
        lambda: S.modes_of([[1.5, 2, 3]]),
        lambda: S.mode_histogram([1000]),
        lambda: S.channel_digits(np.ones((4, 10)) / 10),
        lambda: S.stacked_modes(np.zeros((0, 3), np.int64)),
    ],
)
def test_bad_input_is_refused(call):
    with pytest.raises(ValueError):
        call()


def test_expected_uniform_coverage_matches_sampling():
    assert S.expected_uniform_coverage(0) == 0
    assert S.expected_uniform_coverage(26000) == pytest.approx(1000, abs=1e-6)
    rng = np.random.default_rng(0)
    covered = [S.modes_covered(S.mode_histogram(rng.integers(0, 1000, 1000))) for _ in range(20)]
    assert abs(np.mean(covered) - S.expected_uniform_coverage(1000)) < 5  # 632.3, std of a run ~ 8.5
