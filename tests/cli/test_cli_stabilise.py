"""``minigan train --unrolled K [--unrolled-exact]``, ``--mbstd``, ``--spectral-norm`` and ``--pack M``
(chapter 10): runs resume
bit-identically, an mbstd run loads for ``sample``, run directories from before the flags still load and
resume, and options that do not apply or do not fit get one line and exit code 2."""

import json
import os

import numpy as np
import pytest
from test_cli_models import fake_mnist
from test_cli_train import TINY, assert_same_run

from minigan import io
from minigan.cli import main

NEW_KEYS = ("unrolled", "unrolled_exact", "unrolled_lr", "mbstd", "spectral_norm", "pack", "r1_every")
SMALL = ["--batch-size", "4", "--z-dim", "4", "--set", "width=4", "--sample-every", "0", "--no-progress"]


@pytest.fixture(autouse=True)
def _data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))  # never the user's classifier cache


@pytest.fixture(scope="module")
def data_100(tmp_path_factory):
    """Smaller than the evaluation's hold-out: runs train without a final evaluation (no classifier)."""
    return fake_mnist(tmp_path_factory.mktemp("mnist100"), 100)


def toy(out, steps, *extra):
    return main(["train", "--out", str(out), "--steps", str(steps), *TINY, "--log-every", "1", *extra])


def mnist(data_dir, out, steps, *extra):
    argv = ["train", "--data", "mnist", "--data-dir", str(data_dir), "--split", "test", "--out", str(out)]
    return main([*argv, "--steps", str(steps), "--log-every", "1", *SMALL, *extra])


def strip_new_keys(run):
    """config.json as a run from before the chapter-10 options wrote it."""
    path = run / "config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in config.items() if k not in NEW_KEYS}))


@pytest.mark.parametrize(
    "flags", [["--unrolled", "2"], ["--unrolled", "1", "--unrolled-exact", "--unrolled-lr", "0.1"]]
)
def test_an_unrolled_run_resumes_bit_identically(tmp_path, flags):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert toy(straight, 6, "--ckpt-every", "3", *flags) == 0
    assert toy(resumed, 3, "--ckpt-every", "3", *flags) == 0
    assert main(["train", "--out", str(resumed), "--steps", "6", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    config = json.loads((straight / "config.json").read_text())
    assert config["unrolled"] == int(flags[1]) and config["unrolled_exact"] == ("--unrolled-exact" in flags)
    records = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(np.isfinite(r["loss_G"]) for r in records)


def test_unrolling_changes_the_run_and_zero_is_off(tmp_path):
    assert toy(tmp_path / "plain", 3) == 0
    assert toy(tmp_path / "zero", 3, "--unrolled", "0") == 0
    assert toy(tmp_path / "two", 3, "--unrolled", "2") == 0
    metrics = {name: (tmp_path / name / "metrics.jsonl").read_text() for name in ("plain", "zero", "two")}
    assert metrics["plain"] == metrics["zero"] != metrics["two"]
    assert json.loads((tmp_path / "plain" / "config.json").read_text())["unrolled"] == 0


def test_an_mbstd_dcgan_with_unrolling_trains_resumes_and_samples(tmp_path, data_100, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    flags = ("--mbstd", "--unrolled", "1")
    assert mnist(data_100, straight, 4, "--ckpt-every", "2", *flags) == 0
    assert mnist(data_100, resumed, 2, "--ckpt-every", "2", *flags) == 0
    assert main(["train", "--out", str(resumed), "--steps", "4", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    assert "(nonsaturating + r1, unrolled 1, mbstd)" in capsys.readouterr().out
    D = io.load_checkpoint(straight / "checkpoint.npz")["trainer"]["D"]
    assert np.asarray(D["7.weight"]).shape == (1, (8 + 1) * 7 * 7)  # width 4: 8 maps, one std map joins
    assert main(["sample", str(straight), "--n", "8", "--out", str(tmp_path / "x.npy")]) == 0
    assert np.load(tmp_path / "x.npy").shape == (8, 1, 28, 28)


def test_lazy_r1_on_the_dcgan_resumes_bit_identically_and_reports_its_last_term(tmp_path, data_100):
    straight, resumed, every = tmp_path / "straight", tmp_path / "resumed", tmp_path / "every"
    lazy = ("--penalty", "r1", "--set", "r1_every=2", "--ckpt-every", "3")  # R1 on steps 1, 3, 5
    assert mnist(data_100, straight, 6, *lazy) == 0
    assert mnist(data_100, resumed, 3, *lazy) == 0  # the resume falls between two R1 steps
    assert main(["train", "--out", str(resumed), "--steps", "6", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)
    records = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    pens = [r["penalty"] for r in records]
    assert pens[0] > 0 and pens[1] == pens[0] and pens[3] == pens[2] != pens[0]
    assert json.loads((straight / "config.json").read_text())["r1_every"] == 2
    # r1_every 1 is the default game, bit for bit; 2 is another run
    assert mnist(data_100, every, 3, "--penalty", "r1", "--set", "r1_every=1") == 0
    assert mnist(data_100, tmp_path / "default", 3, "--penalty", "r1") == 0
    first = [(tmp_path / n / "metrics.jsonl").read_text() for n in ("every", "default")]
    assert first[0] == first[1]
    assert [json.loads(x)["loss_D"] for x in first[0].splitlines()][1] != records[1]["loss_D"]


def test_lazy_r1_weights_the_computed_penalty_by_its_period():
    import minigan as mg
    from minigan.gan.penalties import r1_penalty
    from minigan.gan.variants.unconditional import Unconditional

    mg.manual_seed(0)
    D = mg.nn.Sequential(mg.nn.Linear(2, 8), mg.nn.Tanh(), mg.nn.Linear(8, 1))
    x = mg.randn(16, 2)
    v = Unconditional("nonsaturating", "r1", 0.5, r1_every=4)
    full = r1_penalty(D, x, 0.5).item()
    pens = [v.real_output(D, x, step)[1] for step in range(9)]
    assert [p is not None for p in pens] == [s % 4 == 0 for s in range(9)]
    assert pens[0].item() == pytest.approx(4 * full, rel=1e-6)
    np.testing.assert_array_equal(v.real_output(D, x, 1)[0].detach().numpy(), D(x).detach().numpy())
    with pytest.raises(ValueError, match="r1_every must be an integer >= 1"):
        Unconditional("nonsaturating", "r1", 1.0, r1_every=0)


def test_run_directories_from_before_the_options_load_and_resume(tmp_path, data_100):
    straight, old = tmp_path / "straight", tmp_path / "old"
    assert toy(straight, 4, "--ckpt-every", "2") == 0
    assert toy(old, 2, "--ckpt-every", "2") == 0
    strip_new_keys(old)
    assert main(["train", "--out", str(old), "--steps", "4", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, old)
    dcgan = tmp_path / "dcgan"
    assert mnist(data_100, dcgan, 1) == 0
    strip_new_keys(dcgan)
    assert main(["sample", str(dcgan), "--n", "4", "--out", str(tmp_path / "x.npy")]) == 0
    assert main(["train", "--out", str(dcgan), "--steps", "2", "--resume", "--no-progress"]) == 0


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--mbstd"], "--mbstd does not apply to model gan (it is an option of the DCGAN and CycleGAN"),
        (["--data", "mnist", "--model", "cgan", "--mbstd"], "--mbstd does not apply to model cgan"),
        (
            ["--data", "mnist", "--mbstd", "--batch-size", "6"],
            "--mbstd groups D's batch by 4: --batch-size 6 must be below 4 or a multiple of 4",
        ),
        (
            ["--data", "mnist2mnistm", "--mbstd", "--batch-size", "6"],
            "--mbstd groups D's batch by 4: --batch-size 6 must be below 4 or a multiple of 4",
        ),
        (
            ["--data", "mnist", "--mbstd", "--pack", "2", "--batch-size", "12"],
            "--batch-size / --pack = 6 must be below 4 or a multiple of 4",
        ),
        (["--spectral-norm"], "--spectral-norm does not apply to model gan (it is an option of the DCGAN"),
        (["--pack", "2"], "--pack does not apply to model gan"),
        (
            ["--data", "mnist", "--model", "acgan", "--spectral-norm"],
            "--spectral-norm does not apply to model acgan",
        ),
        (
            ["--data", "mnist", "--pack", "3", "--batch-size", "8"],
            "--pack 3: --batch-size must be a multiple of 3, got 8",
        ),
        (["--data", "mnist", "--pack", "0"], "--pack must be an integer >= 1, got 0"),
        (["--unrolled-exact"], "--unrolled-exact needs --unrolled K, K >= 1"),
        (["--unrolled", "0", "--unrolled-exact"], "--unrolled-exact needs --unrolled K, K >= 1"),
        (
            ["--unrolled", "2", "--unrolled-lr", "0.1"],
            "--unrolled-lr is the step size of the exact look-ahead",
        ),
        (["--unrolled", "-1"], "--unrolled must be an integer >= 0, got -1"),
        (["--unrolled", "1", "--unrolled-exact", "--unrolled-lr", "0"], "--unrolled-lr must be > 0"),
    ],
)
def test_options_that_do_not_apply_or_fit_get_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--steps", "2", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minigan: error: ") and message in err, err
    assert os.listdir(tmp_path) == []


def test_a_resumed_run_keeps_its_unrolling(tmp_path, capsys):
    out = tmp_path / "run"
    assert toy(out, 2, "--unrolled", "1") == 0
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--steps", "4", "--resume", "--unrolled", "2"]) == 2
    assert "cannot resume: --unrolled 2 differs from the run's 1" in capsys.readouterr().err


def test_spectral_norm_and_packed_dcgan_runs_resume_bit_identically_and_sample(tmp_path, data_100):
    for name, flags in (("sn", ("--spectral-norm", "--loss", "hinge")), ("pac", ("--pack", "2"))):
        straight, resumed = tmp_path / f"{name}-straight", tmp_path / f"{name}-resumed"
        assert mnist(data_100, straight, 4, "--ckpt-every", "2", *flags) == 0
        assert mnist(data_100, resumed, 2, "--ckpt-every", "2", *flags) == 0
        assert main(["train", "--out", str(resumed), "--steps", "4", "--resume", "--no-progress"]) == 0
        assert_same_run(straight, resumed)
        assert main(["sample", str(straight), "--n", "4", "--out", str(tmp_path / f"{name}.npy")]) == 0
        assert np.load(tmp_path / f"{name}.npy").shape == (4, 1, 28, 28)
    D_sn = io.load_checkpoint(tmp_path / "sn-straight" / "checkpoint.npz")["trainer"]["D"]
    assert {"0.weight_orig", "0.weight_u", "0.weight_v", "5.weight_orig"} <= set(
        D_sn
    )  # no BatchNorm: 5 = Linear
    assert not any("running_mean" in k for k in D_sn)
    D_pac = io.load_checkpoint(tmp_path / "pac-straight" / "checkpoint.npz")["trainer"]["D"]
    assert np.asarray(D_pac["inner.0.weight"]).shape == (4, 2, 4, 4)  # two images' channels joined
