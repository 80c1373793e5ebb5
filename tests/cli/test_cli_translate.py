"""pix2pix runs on the paired MNIST tasks: they train, resume bit-identically, evaluate against the trivial
baseline, and ``minigan translate`` maps a user's images; bad input gets one line and exit code 2."""

# ruff: noqa: F811 - test parameters name the imported fixtures

import json

import numpy as np
import pytest

# the fixtures of test_cli_models (a classifier cache per module, fake MNIST of 2 100 digits), used by name
from test_cli_cyclegan import shrink_final_eval
from test_cli_models import _data_root, cache, data_2100  # noqa: F401
from test_cli_train import assert_same_run

from minigan.cli import main

SMALL = [
    "--batch-size",
    "4",
    "--set",
    "width=4",
    "--set",
    "d_width=4",
    "--sample-every",
    "0",
    "--no-progress",
]


@pytest.fixture(scope="module", autouse=True)
def _small_final_eval():
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: it covers the module-scoped run too
        for name in ("mnist-sr4", "mnist-inpaint", "mnist-edges"):
            shrink_final_eval(mp, name)
        yield


def train(data_dir, out, data, steps, *extra, model="pix2pix"):
    argv = ["train", "--data", data, "--model", model, "--data-dir", str(data_dir), "--split", "test"]
    return main([*argv, "--out", str(out), "--steps", str(steps), *SMALL, *extra])


@pytest.mark.parametrize("data, model", [("mnist-inpaint", "pix2pix"), ("mnist-edges", "l1")])
def test_translation_runs_resume_bit_identically(tmp_path, data_2100, data, model):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    every = ["--ckpt-every", "3", "--log-every", "1"]
    assert train(data_2100, straight, data, 6, *every, model=model) == 0
    assert train(data_2100, resumed, data, 3, *every, model=model) == 0
    assert main(["train", "--out", str(resumed), "--steps", "6", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    record = json.loads((straight / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"loss_D", "loss_G", "loss_G_gan", "l1", "D_x", "D_G_z"} <= set(record)
    if model == "l1":
        assert record["loss_G"] == pytest.approx(100 * record["l1"], rel=1e-5)


@pytest.fixture(scope="module")
def sr4_run(tmp_path_factory, data_2100):
    out = tmp_path_factory.mktemp("runs") / "sr4"
    assert train(data_2100, out, "mnist-sr4", 2, "--ckpt-every", "2") == 0
    return out


def test_eval_reports_the_model_next_to_the_bicubic_baseline(sr4_run, capsys):
    evaluation = json.loads((sr4_run / "eval.json").read_text())  # written by train
    assert evaluation["task"] == "sr4" and evaluation["n_heldout"] == 20  # the shrunk final evaluation
    for side in ("model", "baseline"):
        assert set(evaluation[side]) == {"psnr", "ssim", "label_accuracy"}
        assert 0 <= evaluation[side]["label_accuracy"] <= 1 and -1 <= evaluation[side]["ssim"] <= 1
    assert main(["eval", str(sr4_run), "--n", "100"]) == 0
    out = capsys.readouterr().out
    assert "PSNR (dB)" in out and "label preservation" in out and "baseline" in out
    assert json.loads((sr4_run / "eval.json").read_text())["n_heldout"] == 100
    assert (sr4_run / "plots" / "samples.png").is_file()  # input | output | target rows


def test_translate_writes_outputs_and_pictures(sr4_run, tmp_path, capsys):
    a = np.random.default_rng(0).uniform(-1, 1, (5, 1, 7, 7)).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    assert (
        main(
            ["translate", str(sr4_run), "--input", str(tmp_path / "a.npy"), "--out", str(tmp_path / "b.npy")]
        )
        == 0
    )
    b = np.load(tmp_path / "b.npy")
    assert b.shape == (5, 1, 28, 28) and b.dtype == np.float32 and np.abs(b).max() <= 1
    np.save(tmp_path / "t.npy", b)
    argv = ["translate", str(sr4_run), "--input", str(tmp_path / "a.npy"), "--out", str(tmp_path / "b.png")]
    assert main([*argv, "--targets", str(tmp_path / "t.npy")]) == 0
    assert (tmp_path / "b.png").stat().st_size > 0
    assert "translated 5 images" in capsys.readouterr().out


def _bad(tmp_path, name, value):
    path = tmp_path / name
    if isinstance(value, bytes):
        path.write_bytes(value)
    else:
        np.save(path, value, allow_pickle=True)
    return path


@pytest.mark.parametrize(
    "value, extra, message",
    [
        (np.zeros((2, 2, 7, 7), np.float32), [], "takes 1-channel images, got 2"),
        (np.zeros((2, 1, 8, 8), np.float32), [], "divisible by 32"),
        (np.zeros((2, 1, 7), np.float32), [], "expected images (N, C, H, W)"),
        (np.zeros((2, 1, 7, 7), np.uint8), [], "expected float images"),
        (np.full((2, 1, 7, 7), 3.0, np.float32), [], "values must be finite and in [-1, 1]"),
        (np.zeros((0, 1, 7, 7), np.float32), [], "holds no images"),
        (np.array([{"a": 1}], dtype=object), [], "not a readable .npy array"),
        (b"not an array", [], "not a readable .npy array"),
        (np.zeros((2, 1, 7, 7), np.float32), ["--direction", "AtoB"], "which has one direction"),
    ],
)
def test_bad_translate_input_gets_one_line_and_overwrites_nothing(
    sr4_run, tmp_path, capsys, value, extra, message
):
    inp = _bad(tmp_path, "x.npy", value)
    out = tmp_path / "y.npy"
    out.write_bytes(b"keep")
    assert main(["translate", str(sr4_run), "--input", str(inp), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep"


def test_translate_refuses_a_missing_input_and_a_gan_run(sr4_run, tmp_path, capsys):
    assert (
        main(
            [
                "translate",
                str(sr4_run),
                "--input",
                str(tmp_path / "none.npy"),
                "--out",
                str(tmp_path / "y.npy"),
            ]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err
    assert main(["sample", str(sr4_run), "--out", str(tmp_path / "s.npy")]) == 2
    assert "use minigan translate" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--loss", "hinge"], "--loss and --penalty do not apply"),
        (["--unrolled", "3"], "--unrolled does not apply to --model pix2pix"),
        (["--z-dim", "8"], "not a setting of dataset mnist-sr4"),
        (["--model", "cgan"], "not a model of dataset mnist-sr4"),
    ],
)
def test_settings_that_do_not_apply_are_refused(tmp_path, data_2100, capsys, extra, message):
    argv = [
        "train",
        "--data",
        "mnist-sr4",
        "--data-dir",
        str(data_2100),
        "--split",
        "test",
        "--out",
        str(tmp_path / "r"),
    ]
    assert main([*argv, "--steps", "1", *SMALL, *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
