"""``--model``: every MNIST variant trains, resumes bit-identically, samples with labels and evaluates;
bad input about models and labels gets one line and exit code 2, and changes nothing."""

import json
import os

import numpy as np
import pytest
from test_cli_train import assert_same_run

from minigan.cli import main
from minigan.cli.common import CLIError
from minigan.cli.sample import parse_labels

MODELS = ["dcgan", "cgan", "acgan", "projection", "sgan"]
SMALL = ["--batch-size", "4", "--z-dim", "4", "--set", "width=4", "--sample-every", "0", "--no-progress"]


def fake_mnist(folder, n):
    """n random 28 x 28 'digits' with labels 0, 1, ..., 9, 0, ... as IDX files of the test split."""
    from minigan.data.idx import write_idx

    folder.mkdir(exist_ok=True)
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    write_idx(folder / "t10k-images-idx3-ubyte", images)
    write_idx(folder / "t10k-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """MINIGAN_DATA of the module: the evaluation's classifier is trained once, here, not in the user's."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module", autouse=True)
def _data_root(cache):
    """For the whole module, module-scoped runs included (a function-scoped patch would come after them):
    the module's classifier cache, and a final evaluation of 20 samples, not 2 500."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINIGAN_DATA", str(cache))
        mp.setattr("minigan.cli.train.N_EVAL", 20)
        yield


@pytest.fixture(scope="module")
def data_2100(tmp_path_factory):
    """Large enough for the 2 000-image hold-out of the evaluation and of the semi-supervised split."""
    return fake_mnist(tmp_path_factory.mktemp("mnist2100"), 2100)


def train(data_dir, out, model, steps, *extra):
    argv = ["train", "--data", "mnist", "--model", model, "--data-dir", str(data_dir), "--split", "test"]
    extra = (*extra, "--labeled", "10") if model == "sgan" else extra
    return main([*argv, "--out", str(out), "--steps", str(steps), *SMALL, *extra])


@pytest.mark.parametrize("model", MODELS)
def test_every_model_resumes_bit_identically(tmp_path, data_2100, monkeypatch, model):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train(data_2100, straight, model, 6, "--ckpt-every", "3", "--log-every", "1") == 0
    assert train(data_2100, resumed, model, 3, "--ckpt-every", "3", "--log-every", "1") == 0
    assert main(["train", "--out", str(resumed), "--steps", "6", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    config = json.loads((straight / "config.json").read_text())
    assert config["model"] == model
    record = json.loads((straight / "metrics.jsonl").read_text().splitlines()[-1])
    extra = {"acgan": {"cls_D", "cls_G", "acc_real"}, "sgan": {"loss_sup", "acc_lab"}}.get(model, set())
    assert extra <= set(record)
    evaluation = json.loads((straight / "eval.json").read_text())
    if model in ("cgan", "acgan", "projection"):
        cond = evaluation["conditional"]
        assert len(cond["per_class"]) == 10 and 0 <= cond["accuracy"] <= 1 and cond["intra_fd"] > 0
    if model == "sgan":
        assert (
            evaluation["n_heldout"] == 2000 and evaluation["n_train"] == 100 and evaluation["labeled"] == 10
        )
        assert 0 <= evaluation["error"] <= 1 and 0 <= evaluation["baseline_error"] <= 1
        assert evaluation["averaged"] and 0 <= evaluation["error_last"] <= 1  # the average's and the last
        assert config["d_average_steps"] == 1000


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory, data_2100):
    out = tmp_path_factory.mktemp("runs") / "cgan"
    assert train(data_2100, out, "cgan", 2, "--ckpt-every", "2") == 0
    return out


def test_sample_with_labels_writes_images_and_labels(cgan_run, tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert main(["sample", str(cgan_run), "--n", "6", "--labels", "3,7", "--out", str(out)]) == 0
    with np.load(out, allow_pickle=False) as z:
        assert sorted(z.files) == ["images", "labels"]
        images, labels = z["images"], z["labels"]
    assert images.shape == (6, 1, 28, 28) and images.dtype == np.float32 and np.abs(images).max() <= 1
    assert labels.dtype == np.int64 and labels.tolist() == [3, 3, 3, 7, 7, 7]
    assert main(["sample", str(cgan_run), "--n", "20", "--out", str(tmp_path / "all.npz")]) == 0
    with np.load(tmp_path / "all.npz", allow_pickle=False) as z:
        assert z["labels"].tolist() == sorted(list(range(10)) * 2)
        again = z["images"]
    assert (
        main(["sample", str(cgan_run), "--n", "20", "--labels", "all", "--out", str(tmp_path / "b.npz")]) == 0
    )
    with np.load(tmp_path / "b.npz", allow_pickle=False) as z:
        np.testing.assert_array_equal(z["images"], again)  # same seed, same samples
    assert main(["sample", str(cgan_run), "--n", "30", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").stat().st_size > 0


def test_the_label_changes_the_sample_not_the_noise(cgan_run, tmp_path):
    for digit in "05":
        assert (
            main(
                [
                    "sample",
                    str(cgan_run),
                    "--n",
                    "2",
                    "--labels",
                    digit,
                    "--out",
                    str(tmp_path / f"{digit}.npz"),
                ]
            )
            == 0
        )
    a, b = (np.load(tmp_path / f"{d}.npz")["images"] for d in "05")
    assert np.abs(a - b).max() > 0


def test_eval_of_a_conditional_run_reports_per_class_figures(cgan_run, capsys):
    assert main(["eval", str(cgan_run), "--n", "40"]) == 0
    printed = capsys.readouterr().out
    assert "conditional (images drawn for each class asked for)" in printed and "real FD" in printed
    result = json.loads((cgan_run / "eval.json").read_text())
    assert [r["class"] for r in result["conditional"]["per_class"]] == list(range(10))
    assert all(r["n"] == 4 for r in result["conditional"]["per_class"])
    assert main(["eval", str(cgan_run), "--n", "45"]) == 2
    assert "--n 45: a conditional model is evaluated on n / 10 images per class" in capsys.readouterr().err


def error_line(capsys, *parts):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("minigan: error: "), err
    for part in parts:
        assert part in err, (part, err)


@pytest.mark.parametrize(
    "labels, n, message",
    [
        ("10", 4, "--labels 10: '10' is not a class; use digits 0-9"),
        ("-1", 4, "'-1' is not a class"),
        ("3,x", 4, "'x' is not a class"),
        ("3,", 4, "'(empty)' is not a class"),
        ("1,2,3", 4, "--n 4 cannot be split evenly over the 3 classes of --labels 1,2,3"),
        ("all", 25, "--n 25 cannot be split evenly over the 10 classes of --labels all"),
    ],
)
def test_bad_labels_are_refused_with_one_line(cgan_run, tmp_path, capsys, labels, n, message):
    out = tmp_path / "x.npz"
    assert main(["sample", str(cgan_run), "--n", str(n), "--labels", labels, "--out", str(out)]) == 2
    error_line(capsys, message)
    assert not out.exists()
    with pytest.raises(CLIError):
        parse_labels(labels, n)


def test_labels_refused_where_they_do_not_apply(tmp_path, cgan_run, capsys):
    toy = tmp_path / "toy"
    assert (
        main(["train", "--out", str(toy), "--steps", "2", "--hidden", "4", "--depth", "1", "--no-progress"])
        == 0
    )
    assert main(["sample", str(toy), "--n", "4", "--labels", "3", "--out", str(tmp_path / "t.npy")]) == 2
    error_line(capsys, f"--labels: {toy} is an unconditional run (gan); it takes no labels")
    assert main(["sample", str(toy), "--n", "4", "--out", str(tmp_path / "t.npz")]) == 2
    error_line(capsys, ".npz is for conditional runs; use FILE.npy")
    assert main(["sample", str(cgan_run), "--n", "4", "--out", str(tmp_path / "t.npy")]) == 2
    error_line(capsys, "is conditional; use FILE.npz (images and labels)")
    assert not any(p.name.startswith("t.") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data", "ring8", "--model", "acgan"], "--model acgan is not a model of dataset ring8 (its mod"),
        (
            ["--data", "mnist", "--model", "biggan"],
            "--model biggan is not a model of dataset mnist (its models: dcgan, cgan, acgan, projection, "
            "sgan, stylegan)",
        ),
        (["--data", "mnist", "--labeled", "100"], "--labeled does not apply to model dcgan"),
        (["--data", "mnist", "--model", "sgan", "--labeled", "105"], "--labeled 105 must be a positive mult"),
        (["--data", "mnist", "--model", "sgan", "--labeled", "0"], "--labeled must be an integer >= 1, got"),
        (
            ["--data", "mnist", "--model", "sgan", "--labeled", "1000"],
            "--labeled 1000 is larger than the training part of the split allows: it needs 100 images of "
            "every class, and class 5 has 5 (of 100 training images)",
        ),
    ],
)  # fmt: skip
def test_bad_models_are_refused_and_the_old_run_is_kept(tmp_path, data_2100, capsys, argv, message):
    out = tmp_path / "run"
    assert (
        main(["train", "--out", str(out), "--steps", "2", "--hidden", "4", "--depth", "1", "--no-progress"])
        == 0
    )
    before = {p: (out / p).read_bytes() for p in ("config.json", "checkpoint.npz", "metrics.jsonl")}
    full = [*argv, "--data-dir", str(data_2100), "--split", "test"] if "mnist" in argv else argv
    assert main(["train", "--out", str(out), "--force", "--steps", "2", "--no-progress", *full]) == 2
    error_line(capsys, message)
    assert {p: (out / p).read_bytes() for p in before} == before
    assert sorted(os.listdir(out)) == [
        "checkpoint.npz",
        "config.json",
        "eval.json",
        "metrics.jsonl",
        "plots",
        "samples",
    ]


def test_resume_refuses_another_model(tmp_path, cgan_run, capsys):
    assert main(["train", "--out", str(cgan_run), "--steps", "4", "--resume", "--model", "acgan"]) == 2
    error_line(capsys, "cannot resume: --model acgan differs from the run's cgan")


def test_help_lists_the_models_of_each_dataset(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "mnist: dcgan (default), cgan, acgan, projection, sgan" in text
    assert "ring8, swissroll: gan (default)" in text


@pytest.mark.parametrize("model", ["dcgan", "cgan", "projection"])
def test_a_g_with_a_moving_average_resumes_bit_identically_and_samples_from_it(
    tmp_path, data_2100, monkeypatch, model
):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    ema = ("--set", "g_ema_kimg=0.1", "--ckpt-every", "2", "--log-every", "1")
    assert train(data_2100, straight, model, 4, *ema) == 0
    assert train(data_2100, resumed, model, 2, *ema) == 0
    assert main(["train", "--out", str(resumed), "--steps", "4", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    from minigan.cli.common import load_run
    from minigan.gan.averaged import Averaged

    run = load_run(straight)
    assert isinstance(run.G, Averaged) and int(run.G.avg.n_averaged.item()) == 4
    assert json.loads((straight / "config.json").read_text())["g_ema_kimg"] == 0.1
    if model == "dcgan":  # unconditional: .npy
        out = tmp_path / "x.npy"
        assert main(["sample", str(straight), "--n", "10", "--out", str(out)]) == 0
        assert np.load(out, allow_pickle=False).shape == (10, 1, 28, 28)
        return
    out = tmp_path / "x.npz"
    assert main(["sample", str(straight), "--n", "10", "--labels", "all", "--out", str(out)]) == 0
    assert np.load(out, allow_pickle=False)["images"].shape == (10, 1, 28, 28)
