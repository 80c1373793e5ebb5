"""minigan.metrics.hole_bound: a classifier of holed inputs reads what the hole leaves, and nothing more."""

import numpy as np

from minigan.metrics.hole_bound import hole_bound, main


def _bars(n: int = 400, seed: int = 0):
    """Two classes: a full-height bar on the left (0) or on the right (1); a 14 x 14 hole never hides it."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 28, 28), np.uint8)
    for i, c in enumerate(y):
        x[i, :, 3:9] = 255 if c == 0 else 0
        x[i, :, 19:25] = 255 if c == 1 else 0
    return x, y


def test_a_hole_that_leaves_the_label_is_read_and_one_that_covers_everything_is_not():
    x, y = _bars()
    kept = hole_bound(x, y, epochs=3, hole=14, repeats=2, n_holdout=100)
    assert kept["accuracy"] > 0.95 and kept["n_train"] == 300 and kept["n_heldout"] == 100
    gone = hole_bound(x, y, epochs=3, hole=28, repeats=2, n_holdout=100)  # the input holds nothing
    assert gone["accuracy"] < 0.7  # two classes drawn about equally: chance is about 0.5
    assert len(kept["accuracies"]) == 2


def test_the_command_line_names_a_missing_data_folder(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "nowhere"), "--split", "test", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hole_bound: ") and len(err.strip().splitlines()) == 1
