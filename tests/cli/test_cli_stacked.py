"""``--data stacked-mnist``: a tiny run trains, resumes bit-identically, samples 3-channel images and
evaluates modes of 1 000 next to real-vs-real; bad input gets one line and exit code 2. The evaluation's
classifier trains on 100 fake images into a temporary MINIGAN_DATA, never the user's cache."""

import dataclasses
import json

import numpy as np
import pytest
from test_cli_models import fake_mnist
from test_cli_train import assert_same_run

from minigan.cli import main
from minigan.gan import registry

SMALL = ["--batch-size", "4", "--z-dim", "4", "--set", "width=4", "--sample-every", "0", "--no-progress"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def small_evaluation(mp, cache):
    """MINIGAN_DATA in ``cache``; training ends with an evaluation of 20 samples, not 26 000."""
    mp.setenv("MINIGAN_DATA", str(cache))
    spec = registry.get("stacked-mnist")
    mp.setitem(registry._REGISTRY, "stacked-mnist", dataclasses.replace(spec, eval_samples=20))


@pytest.fixture(scope="module", autouse=True)
def _data_root(cache):
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: it covers the module-scoped run too
        small_evaluation(mp, cache)
        yield


@pytest.fixture(scope="module")
def data_2100(tmp_path_factory):
    return fake_mnist(tmp_path_factory.mktemp("mnist2100"), 2100)


def train(data_dir, out, steps, *extra):
    argv = ["train", "--data", "stacked-mnist", "--data-dir", str(data_dir), "--split", "test"]
    return main([*argv, "--out", str(out), "--steps", str(steps), *SMALL, *extra])


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_2100):
    out = tmp_path_factory.mktemp("runs") / "stacked"
    assert train(data_2100, out, 4, "--ckpt-every", "2", "--log-every", "1") == 0
    return out


def error_line(capsys, *parts):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("minigan: error: "), err
    for part in parts:
        assert part in err, (part, err)


def test_train_writes_a_stacked_run_with_its_evaluation(run, cache):
    config = json.loads((run / "config.json").read_text())
    assert config["data"] == "stacked-mnist" and config["model"] == "dcgan" and config["split"] == "test"
    evaluation = json.loads((run / "eval.json").read_text())
    assert evaluation["n_samples"] == 20 and evaluation["n"] == 20
    for key in ("generated", "real_baseline"):
        assert evaluation[key]["n_modes"] == 1000 and len(evaluation[key]["counts"]) == 1000
        assert 1 <= evaluation[key]["modes_covered"] <= 20 and 0 <= evaluation[key]["kl"] <= np.log(1000)
    assert "real-vs-real" in evaluation["summary"]
    assert (run / "plots" / "samples.png").stat().st_size > 0
    assert [p.name.split("-")[0] for p in (cache / "classifiers").iterdir()] == ["mnist"]


def test_resume_is_bit_identical(tmp_path, data_2100, run):
    resumed = tmp_path / "resumed"
    assert train(data_2100, resumed, 2, "--ckpt-every", "2", "--log-every", "1") == 0
    assert main(["train", "--out", str(resumed), "--steps", "4", "--resume", "--no-progress"]) == 0
    assert_same_run(run, resumed)


def test_sample_writes_three_channel_images_and_a_picture(run, tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert main(["sample", str(run), "--n", "5", "--out", str(out)]) == 0
    x = np.load(out, allow_pickle=False)
    assert x.shape == (5, 3, 28, 28) and x.dtype == np.float32 and np.abs(x).max() <= 1
    assert "shape (5, 3, 28, 28)" in capsys.readouterr().out
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "again.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "again.npy"), x)  # same seed, same samples
    assert main(["sample", str(run), "--n", "64", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").stat().st_size > 0


def test_eval_reports_modes_next_to_real_vs_real(run, capsys):
    assert main(["eval", str(run), "--n", "1000", "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "stacked-mnist, dcgan, nonsaturating, step 4, 1000 samples (seed 1)" in printed
    assert "modes covered (of 1000)" in printed and "KL(mode histogram || uniform)" in printed
    result = json.loads((run / "eval.json").read_text())
    assert result["n_samples"] == 1000 and result["seed"] == 1
    assert result["generated"]["n_samples"] == result["real_baseline"]["n_samples"] == 1000
    assert sum(result["generated"]["counts"]) == 1000


def test_eval_without_n_draws_the_datasets_number(run, monkeypatch):
    from minigan.gan import stacked_run

    assert stacked_run.SPEC.eval_samples == 26000  # PacGAN's; too many for a test: 1000 stands in for it
    spec = registry.get("stacked-mnist")
    monkeypatch.setitem(registry._REGISTRY, "stacked-mnist", dataclasses.replace(spec, eval_samples=1000))
    assert main(["eval", str(run)]) == 0
    assert json.loads((run / "eval.json").read_text())["n_samples"] == 1000


def test_bad_input_gets_one_line_and_exit_2(run, tmp_path, data_2100, capsys):
    before = (run / "eval.json").read_bytes()
    assert main(["eval", str(run), "--n", "999"]) == 2
    error_line(capsys, "--n 999 is too few to evaluate stacked-mnist: it needs at least 1000 samples")
    assert (run / "eval.json").read_bytes() == before
    assert main(["sample", str(run), "--n", "4", "--labels", "3", "--out", str(tmp_path / "t.npy")]) == 2
    error_line(capsys, f"--labels: {run} is an unconditional run (dcgan); it takes no labels")
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "t.npz")]) == 2
    error_line(capsys, ".npz is for conditional runs; use FILE.npy")
    assert not any(p.name.startswith("t.") for p in tmp_path.iterdir())
    out = tmp_path / "bad"
    assert train(data_2100, out, 2, "--model", "cgan") == 2
    error_line(capsys, "--model cgan is not a model of dataset stacked-mnist (its models: dcgan)")
    assert not out.exists()
    assert train(data_2100, out, 2, "--labeled", "10") == 2
    error_line(capsys, "--labeled does not apply to model dcgan")
    assert train(tmp_path / "nowhere", out, 2) != 0
    error_line(capsys, "nowhere")
