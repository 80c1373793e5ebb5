"""Batching (minigan.data.loader): seeded epochs, drop_last, resume from state_dict."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.data.loader import DataLoader


def test_epoch_is_permutation_and_seeded():
    x = np.arange(10)
    batches = list(DataLoader(x, batch_size=3, drop_last=False, seed=4))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    again = np.concatenate(list(DataLoader(x, batch_size=3, drop_last=False, seed=4)))
    other = np.concatenate(list(DataLoader(x, batch_size=3, drop_last=False, seed=5)))
    np.testing.assert_array_equal(np.concatenate(batches), again)
    assert not np.array_equal(again, other)


def test_drop_last_and_epochs_differ():
    loader = DataLoader(np.arange(10), batch_size=4, seed=0)
    assert len(loader) == 2
    e0, e1 = np.concatenate(list(loader)), np.concatenate(list(loader))
    assert len(e0) == len(e1) == 8 and not np.array_equal(e0, e1)
    assert loader.epoch == 1


def test_pairs_stay_aligned_and_transform():
    x, y = np.arange(20) * 10, np.arange(20)
    for xb, yb in DataLoader(x, y, batch_size=5, seed=1):
        np.testing.assert_array_equal(xb, yb * 10)
    loader = DataLoader(x, batch_size=5, transform=lambda a: a.astype(np.float32) / 10)
    assert loader.next_batch().dtype == np.float32


def test_no_shuffle():
    assert np.concatenate(list(DataLoader(np.arange(7), batch_size=2, shuffle=False))).tolist() == list(
        range(6)
    )


@given(st.integers(1, 30), st.integers(1, 8), st.integers(0, 20), st.integers(1, 10), st.booleans())
def test_resume_gives_the_same_stream(n, batch, before, after, drop_last):
    batch = min(batch, n)
    x = np.arange(n)
    a = DataLoader(x, batch_size=batch, seed=3, drop_last=drop_last)
    for _ in range(before):
        a.next_batch()
    state = a.state_dict()
    expected = [a.next_batch() for _ in range(after)]
    b = DataLoader(x, batch_size=batch, seed=0, drop_last=drop_last)
    b.load_state_dict(state)
    for e in expected:
        np.testing.assert_array_equal(b.next_batch(), e)


def test_errors():
    with pytest.raises(ValueError, match="array 1 has 3 rows, array 0 has 4"):
        DataLoader(np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(np.zeros(4), batch_size=0)
    with pytest.raises(ValueError, match="larger than the 4 examples"):
        DataLoader(np.zeros(4), batch_size=5)
