"""The image quality benchmark (``python -m minigan.gan.quality --data mnist ...``): each run is a
``minigan train`` run directory, runs.jsonl grows as runs finish, a second invocation skips finished runs
and continues an interrupted one with --resume, and the tables summarise mean +- std over seeds."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from test_cli_models import fake_mnist  # noqa: E402

from minigan.gan import image_quality, quality  # noqa: E402

SMALL = ["--batch-size", "4", "--z-dim", "4", "--set", "width=4", "--sample-every", "0", "--ckpt-every", "1"]


def record(data, recipe, seed, **figs):
    return {"data": data, "recipe": recipe, "seed": seed, "steps": 10, "wall_s": 2.0, **figs}


def test_summary_rows_are_mean_and_sample_std_over_seeds_with_real_vs_real():
    runs = [
        record("stacked-mnist", "dcgan", 0, modes_covered=100, kl=3.0, real_modes_covered=1000, real_kl=0.03),
        record("stacked-mnist", "dcgan", 1, modes_covered=300, kl=2.0, real_modes_covered=1000, real_kl=0.03),
        record(
            "mnist",
            "r1",
            0,
            frechet_distance=20.0,
            class_kl=0.01,
            precision=0.8,
            recall=0.7,
            real_frechet_distance=17.0,
        ),  # fmt: skip
    ]
    rows = image_quality.summarise(runs)
    stacked = rows[0]
    assert (stacked["data"], stacked["recipe"], stacked["seeds"]) == ("stacked-mnist", "dcgan", 2)
    assert stacked["modes_covered_mean"] == 200 and stacked["modes_covered_std"] == pytest.approx(
        141.42, abs=0.01
    )
    assert stacked["kl_mean"] == 2.5 and stacked["real_modes_covered"] == 1000
    assert rows[1]["frechet_distance_mean"] == 20.0 and rows[1]["frechet_distance_std"] == 0.0
    table = image_quality.markdown(rows, "cmd", "machine")
    assert "| dcgan | 2 | 10 | 200.0 ± 141.4 | 2.500 ± 0.707 |" in table
    assert "| real vs real | | | 1000.0 | 0.030 |" in table
    assert (
        "PacDCGAN2 (PacGAN paper)" in table
        and "### mnist" in table
        and "| r1 | 1 | 10 | 20.0 | 0.0100 | 0.80 | 0.70 |" in table
    )


def test_finished_runs_are_read_back_and_failed_ones_are_not(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(
        json.dumps(record("mnist", "dcgan", 0, frechet_distance=1.0))
        + "\n"
        + json.dumps({**record("mnist", "dcgan", 1), "error": "minigan train exited with 1"})
        + "\n"
    )
    assert set(image_quality.done_runs(path)) == {("mnist", "dcgan", 0)}


def test_a_run_with_a_checkpoint_is_resumed_not_restarted(tmp_path):
    rd = tmp_path / "runs" / "mnist-r1-s3"
    cmd = image_quality.train_command("mnist", "r1", 3, 100, rd, ["--split", "test"])
    assert (
        "--resume" not in cmd
        and cmd[cmd.index("--seed") + 1] == "3"
        and "--penalty" in cmd
        and "--force" in cmd
    )
    rd.mkdir(parents=True)
    (rd / "checkpoint.npz").write_bytes(b"")
    (rd / "config.json").write_text("{}")
    cmd = image_quality.train_command("mnist", "r1", 3, 100, rd, ["--split", "test"])
    assert cmd[-6:] == ["--resume", "--out", str(rd), "--steps", "100", "--no-progress"]


def test_unknown_recipes_and_mixed_data_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown image recipe"):
        quality.main(["--data", "mnist", "--recipes", "gan", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        quality.main(["--data", "mnist", "ring8", "--recipes", "dcgan", "--out", str(tmp_path)])


def test_the_benchmark_runs_resumes_an_interrupted_run_and_skips_finished_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))  # the classifier trains here, on fake data
    data_dir = fake_mnist(tmp_path / "mnist", 2100)
    out = tmp_path / "bench"
    extra = ["--split", "test", "--data-dir", str(data_dir), *SMALL]
    argv = [
        "--data",
        "mnist",
        "--recipes",
        "dcgan",
        "hinge-sn",
        "--seeds",
        "1",
        "--steps",
        "2",
        "--out",
        str(out),
    ]
    monkeypatch.setattr(
        image_quality, "IMAGE_RECIPES", {k: v + extra for k, v in image_quality.IMAGE_RECIPES.items()}
    )
    # an interrupted hinge-sn run: trained to step 1 of 2 with the benchmark's own command line
    rd = image_quality.run_dir(out, "mnist", "hinge-sn", 0)
    from minigan.cli import main

    first = image_quality.train_command(
        "mnist", "hinge-sn", 0, 1, rd, []
    )  # [python, -m, minigan.cli, train, ...]
    assert main(first[3:]) == 0 and (rd / "checkpoint.npz").exists()
    assert quality.main(argv) == 0
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert [(r["recipe"], r["returncode"]) for r in runs] == [("dcgan", 0), ("hinge-sn", 0)]
    assert all(r["frechet_distance"] > 0 and r["real_frechet_distance"] > 0 for r in runs)
    assert "--resume" in (out / "train.log").read_text()  # the interrupted run was continued
    assert json.loads((rd / "eval.json").read_text())["step"] == 2
    # a second invocation trains nothing: both runs are read back
    before = (out / "train.log").read_text()
    assert quality.main(argv) == 0
    assert (out / "train.log").read_text() == before
    assert len((out / "runs.jsonl").read_text().splitlines()) == 2
    assert "| hinge-sn | 1 | 2 |" in (out / "quality.md").read_text()
