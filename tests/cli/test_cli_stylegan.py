"""``--model stylegan`` runs (chapter 14): they train, resume bit-identically (the moving average of G and
w_avg included), evaluate with the truncation sweep and path lengths, sample with truncation, draw the
mixing figure; --truncation / --mix where they do not apply, or a psi outside [0, 1]: one line, exit 2.
``minigan eval --ppl`` measures a DCGAN's path length in z."""

# ruff: noqa: F811 - test parameters name the imported fixtures

import json

import numpy as np
import pytest

# the fixtures of test_cli_models (a classifier cache per module, fake MNIST of 2 100 digits), used by name
from test_cli_models import _data_root, cache, data_2100  # noqa: F401
from test_cli_train import assert_same_run

from minigan.cli import main

SMALL = ["--batch-size", "4", "--z-dim", "4", "--set", "width=4", "--set", "w_dim=8"]
SMALL += ["--set", "mapping_layers=2", "--sample-every", "0", "--no-progress"]


@pytest.fixture(scope="module", autouse=True)
def _small_evaluation():
    # module-scoped, so the module-scoped run below is evaluated small too
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("minigan.gan.style_eval.N_PPL", 12)
        yield


def train(data_dir, out, steps, *extra, model="stylegan"):
    argv = ["train", "--data", "mnist", "--model", model, "--data-dir", str(data_dir), "--split", "test"]
    small = SMALL if model == "stylegan" else ["--batch-size", "4", "--z-dim", "4", "--set", "width=4",
                                                "--sample-every", "0", "--no-progress"]  # fmt: skip
    return main([*argv, "--out", str(out), "--steps", str(steps), *small, *extra])


@pytest.fixture(scope="module")
def style_run(tmp_path_factory, data_2100):
    out = tmp_path_factory.mktemp("runs") / "stylegan"
    assert train(data_2100, out, 2, "--ckpt-every", "2") == 0
    return out


def test_stylegan_resumes_bit_identically_and_evaluates(tmp_path, data_2100):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    # r1_every 2: the lazy R1 falls on steps 1, 3, 5 (on both sides of the resume)
    extra = ("--ckpt-every", "3", "--log-every", "1", "--set", "r1_every=2")
    assert train(data_2100, straight, 6, *extra) == 0
    assert train(data_2100, resumed, 3, *extra) == 0
    assert main(["train", "--out", str(resumed), "--steps", "6", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    records = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    assert records[0]["penalty"] > 0 and records[1]["penalty"] == records[0]["penalty"]
    evaluation = json.loads((straight / "eval.json").read_text())
    assert sorted(evaluation["truncation"]) == ["0.5", "0.7", "0.9", "1.0"]
    for r in evaluation["truncation"].values():
        assert 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1
    assert set(evaluation["path_length"]) == {"w", "z"}
    assert evaluation["path_length"]["w"]["n_pairs"] == 12 and evaluation["path_length"]["w"]["ppl"] > 0


def test_sample_with_truncation(style_run, tmp_path, capsys):
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    assert main(["sample", str(style_run), "--n", "6", "--out", str(a), "--truncation", "0"]) == 0
    assert "truncation psi 0" in capsys.readouterr().out
    x = np.load(a)
    assert x.shape == (6, 1, 28, 28)
    assert np.abs(x - x[:1]).max() < 1e-4  # psi 0: every w is w_avg (noise strengths still 0 here)
    assert main(["sample", str(style_run), "--n", "6", "--out", str(b)]) == 0
    assert main(["sample", str(style_run), "--n", "6", "--out", str(c), "--truncation", "1"]) == 0
    np.testing.assert_array_equal(np.load(b), np.load(c))  # psi 1 is no truncation
    assert np.abs(np.load(b) - x).max() > 1e-3


def test_mix_draws_the_grid(style_run, tmp_path, capsys):
    png, npy = tmp_path / "grid.png", tmp_path / "grid.npy"
    assert main(["sample", str(style_run), "--mix", "--out", str(png)]) == 0
    assert png.stat().st_size > 0 and "style-mixing figure" in capsys.readouterr().out
    assert main(["sample", str(style_run), "--mix", "--out", str(npy), "--seed", "3"]) == 0
    grid = np.load(npy)
    assert grid.shape == (6, 7, 1, 28, 28) and np.all(grid[0, 0] == -1)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--truncation", "1.5"], "--truncation 1.5: psi must be in [0, 1]"),
        (["--truncation", "-0.1"], "--truncation -0.1: psi must be in [0, 1]"),
        (["--truncation", "nan"], "--truncation nan: psi must be in [0, 1]"),
        (["--mix", "--n", "10"], "--mix draws a fixed 5 x 6 grid"),
    ],
)
def test_bad_style_flags_get_one_line(style_run, tmp_path, capsys, argv, message):
    out = tmp_path / "x.npy"
    assert main(["sample", str(style_run), "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and not out.exists()


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory, data_2100):
    out = tmp_path_factory.mktemp("runs") / "dcgan"
    assert train(data_2100, out, 2, "--ckpt-every", "2", model="dcgan") == 0
    return out


@pytest.mark.parametrize("flag", [["--truncation", "0.7"], ["--mix"]])
def test_style_flags_refused_on_a_dcgan_run(dcgan_run, tmp_path, capsys, flag):
    out = tmp_path / "x.png"
    assert main(["sample", str(dcgan_run), "--out", str(out), *flag]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{flag[0]}: {dcgan_run} is a dcgan run, not style-based" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_eval_ppl_refused_where_it_does_not_apply(tmp_path, data_2100, capsys):
    out = tmp_path / "cgan"
    assert train(data_2100, out, 1, model="cgan") == 0
    capsys.readouterr()
    assert main(["eval", str(out), "--n", "20", "--ppl"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--ppl:" in err and "not an unconditional image generator" in err and len(err.splitlines()) == 1


def test_eval_ppl_of_a_dcgan(dcgan_run, capsys):
    assert main(["eval", str(dcgan_run), "--n", "20", "--ppl"]) == 0
    assert "path length in z" in capsys.readouterr().out
    evaluation = json.loads((dcgan_run / "eval.json").read_text())
    assert evaluation["path_length"]["z"]["n_pairs"] == 12 and evaluation["path_length"]["z"]["ppl"] > 0


@pytest.mark.parametrize(
    "setting, message",
    [("tanh=1", "--set tanh must be true or false, got 1"), ("rgb_init=-1", "--set rgb_init must be >= 0")],
)
def test_bad_generator_options_get_one_line(tmp_path, data_2100, capsys, setting, message):
    out = tmp_path / "bad"
    assert train(data_2100, out, 1, "--set", setting) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and not out.exists()
