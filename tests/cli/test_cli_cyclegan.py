"""CycleGAN runs on mnist2mnistm: they train with the official schedule, resume bit-identically (pools and
both directions included), evaluate both directions, translate either way; bad photos get one line."""

# ruff: noqa: F811 - test parameters name the imported fixtures

import dataclasses
import json
import shutil

import numpy as np
import pytest

# the fixtures of test_cli_models (a classifier cache per module, fake MNIST of 2 100 digits), used by name
from test_cli_models import _data_root, cache, data_2100  # noqa: F401
from test_cli_train import assert_same_run

from minigan.cli import main
from minigan.gan import registry

SMALL = ["--batch-size", "4", "--set", "width=2", "--set", "d_width=4", "--set", "n_blocks=1"]
SMALL += ["--set", "pool_size=3", "--sample-every", "0", "--no-progress"]


def shrink_final_eval(mp, name="mnist2mnistm", n=20):
    """The evaluation at the end of ``minigan train`` on n held-out digits instead of all 2 000 (speed)."""
    mp.setitem(registry._REGISTRY, name, dataclasses.replace(registry.get(name), eval_samples=n))


@pytest.fixture(scope="module", autouse=True)
def _small_final_eval():
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: it covers the module-scoped run too
        shrink_final_eval(mp)
        yield


def train(data_dir, out, steps, *extra):
    argv = ["train", "--data", "mnist2mnistm", "--data-dir", str(data_dir), "--split", "test"]
    return main([*argv, "--out", str(out), "--steps", str(steps), *SMALL, *extra])


def test_cyclegan_resumes_bit_identically_with_its_pools(tmp_path, data_2100):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    every = [
        "--ckpt-every",
        "3",
        "--log-every",
        "1",
        "--set",
        "lr_decay_start=2",
        "--lr-decay-steps",
        "4",
    ]
    assert train(data_2100, straight, 6, *every) == 0
    assert train(data_2100, resumed, 3, *every) == 0
    assert main(["train", "--out", str(resumed), "--steps", "6", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    records = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    assert {"loss_D_A", "loss_D_B", "cycle", "identity", "loss_G_gan"} <= set(records[-1])
    # constant while 0-2 steps are completed, then linearly towards 0, reached after 2 + 4 steps
    np.testing.assert_allclose([r["lr"] for r in records], [2e-4 * f for f in (1, 1, 1, 0.75, 0.5, 0.25)])


@pytest.fixture(scope="module")
def cycle_run(tmp_path_factory, data_2100):
    out = tmp_path_factory.mktemp("runs") / "cycle"
    assert train(data_2100, out, 2, "--ckpt-every", "2") == 0
    return out


def test_eval_reports_both_directions_next_to_the_untranslated_baselines(cycle_run, capsys):
    evaluation = json.loads((cycle_run / "eval.json").read_text())
    for key in (
        "mnistm_to_mnist",
        "mnistm_to_mnist_source_only",
        "mnist_to_mnistm",
        "mnist_to_mnistm_untranslated",
    ):
        assert 0 <= evaluation[key] <= 1, key
    assert evaluation["n_heldout"] == 20 and evaluation["cycle_l1_A"] >= 0 and evaluation["fd_mnistm"] > 0
    quarters = evaluation["mnistm_to_mnist_by_background"]
    assert len(quarters) == 4 and all(0 <= q <= 1 for q in quarters)
    assert np.mean(quarters) == pytest.approx(evaluation["mnistm_to_mnist"])  # 20 digits: 5 per quarter
    assert evaluation["background_mnistm"][1] > 0  # photo crops differ in brightness
    assert main(["eval", str(cycle_run), "--n", "50"]) == 0
    printed = capsys.readouterr().out
    assert "MNIST-M -> MNIST labels kept" in printed and "by quarter of photo brightness" in printed


@pytest.mark.parametrize("direction", [None, "AtoB", "BtoA"])
def test_translate_goes_either_way(cycle_run, tmp_path, direction):
    np.save(tmp_path / "x.npy", np.zeros((3, 3, 28, 28), np.float32))
    extra = [] if direction is None else ["--direction", direction]
    argv = ["translate", str(cycle_run), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "y.npy")]
    assert main([*argv, *extra]) == 0
    assert np.load(tmp_path / "y.npy").shape == (3, 3, 28, 28)


def test_translate_refuses_grey_digits(cycle_run, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((3, 1, 28, 28), np.float32))
    argv = ["translate", str(cycle_run), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "y.npy")]
    assert main(argv) == 2
    assert "takes 3-channel images, got 1" in capsys.readouterr().err


def _photo(path, size):
    from PIL import Image

    Image.fromarray(np.full((size, size, 3), 128, np.uint8)).save(path)


@pytest.mark.parametrize("case, message", [("empty", "holds no"), ("small", "smaller"), ("missing", "")])
def test_bad_photo_folders_get_one_line_and_keep_the_old_run(
    tmp_path, data_2100, cycle_run, capsys, case, message
):
    folder = tmp_path / "photos"
    if case != "missing":
        folder.mkdir()
    if case == "small":
        _photo(folder / "tiny.png", 20)
    out = tmp_path / "run"
    shutil.copytree(cycle_run, out)
    before = (out / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert train(data_2100, out, 1, "--photos", str(folder), "--force") == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("minigan: error: --photos") and message in err and len(err.strip().splitlines()) == 1
    )
    assert (out / "checkpoint.npz").read_bytes() == before
