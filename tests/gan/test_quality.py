"""The quality benchmark: packing, the lr schedule, recipe parsing, summaries, a tiny end-to-end run."""

import json
import math

import numpy as np
import pytest

import minigan as mg
from minigan.gan import mlp_discriminator
from minigan.gan.packing import Packed
from minigan.gan.quality import (
    RECIPES,
    Recipe,
    _parse_recipe,
    _seeds,
    lr_at,
    main,
    markdown,
    run_one,
    summarise,
)

TINY = "gan:hidden=8,depth=1,batch_size=32"


def test_packed_reshapes_m_samples_into_one_input():
    mg.manual_seed(0)
    inner = mlp_discriminator(data_dim=2 * 4, hidden=8, depth=1)
    D = Packed(inner, 4)
    x = mg.randn(12, 2)
    y = D(x)
    assert y.shape == (3, 1)
    np.testing.assert_array_equal(y.detach().numpy(), inner(x.reshape(3, 8)).detach().numpy())
    assert list(D.state_dict()) == ["inner.0.weight", "inner.0.bias", "inner.2.weight", "inner.2.bias"]
    with pytest.raises(ValueError, match="packs of m=4"):
        D(mg.randn(10, 2))
    with pytest.raises(ValueError, match="int >= 1"):
        Packed(inner, 0)


def test_lr_schedule():
    const = Recipe("c", lr=1e-3)
    assert lr_at(const, 0, 100) == lr_at(const, 99, 100) == 1e-3
    r = Recipe("d", lr=1e-3, lr_final=1e-5, decay_from=0.5)
    assert lr_at(r, 0, 100) == lr_at(r, 49, 100) == 1e-3
    assert lr_at(r, 50, 100) == pytest.approx(1e-3)
    assert lr_at(r, 75, 100) == pytest.approx(0.5 * (1e-3 + 1e-5))
    assert lr_at(r, 100, 100) == pytest.approx(1e-5)


def test_parse_recipe_and_seeds():
    r = _parse_recipe("best:pack=2,gamma=0.5,betas=0.5/0.99,penalty=none,lr_final=1e-5")
    assert (r.pack, r.gamma, r.betas, r.penalty, r.lr_final) == (2, 0.5, (0.5, 0.99), None, 1e-5)
    assert r.name.startswith("best:") and _parse_recipe("gan") is RECIPES["gan"]
    with pytest.raises(SystemExit, match="unknown recipe"):
        _parse_recipe("nope")
    with pytest.raises(SystemExit, match="unknown field"):
        _parse_recipe("gan:colour=red")
    assert _seeds("3") == [0, 1, 2] and _seeds("3-5") == [3, 4, 5] and _seeds("0,4,7") == [0, 4, 7]


def test_summarise_and_markdown():
    runs = [
        {
            "data": "ring8",
            "recipe": "gan",
            "seed": s,
            "modes_covered": m,
            "n_modes": 8,
            "high_quality": hq,
            "reverse_kl": kl,
            "steps": 10,
            "train_s": 1.0,
            "diverged": None,
        }
        for s, (m, hq, kl) in enumerate([(8, 0.96, 0.01), (6, 0.90, 0.3), (8, 0.97, math.nan)])
    ]
    (row,) = summarise(runs)
    assert row["modes_mean"] == pytest.approx(22 / 3)
    assert row["modes_std"] == pytest.approx(np.std([8, 6, 8], ddof=1))
    assert row["high_quality_mean"] == pytest.approx(100 * (0.96 + 0.90 + 0.97) / 3)
    assert row["reverse_kl_mean"] == pytest.approx(0.155)  # NaN (no high-quality sample) left out
    assert (row["all_modes_seeds"], row["target_met_seeds"]) == (2, 2)
    md = markdown([row], {"gan": RECIPES["gan"]}, "python -m minigan.gan.quality ...", "test machine")
    assert "| ring8 | gan (ours) | 7.3 ± 1.2 of 8 |" in md and "PacGAN4 (PacGAN paper) | 24.8 ± 0.2" in md


def test_run_one_is_reproducible():
    recipe = _parse_recipe(TINY)
    a = run_one("ring8", recipe, seed=3, steps=3, budget_s=60)
    b = run_one("ring8", recipe, seed=3, steps=3, budget_s=60)
    assert a["steps"] == 3 and a["n_samples"] == 2500 and a["n_modes"] == 8
    drop = ("train_s",)
    assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}


def test_run_one_respects_the_time_budget():
    r = run_one("grid25", _parse_recipe(TINY), seed=0, steps=10**6, budget_s=0.0)
    assert r["steps"] == 0 and r["n_modes"] == 25


def test_main_writes_json_and_markdown(tmp_path, capsys):
    out = tmp_path / "q"
    assert (
        main(
            [
                "--data",
                "ring8",
                "--recipes",
                TINY,
                "gan:hidden=8,depth=1,batch_size=32,pack=2",
                "--seeds",
                "1",
                "--steps",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads((out / "quality.json").read_text())
    assert [r["recipe"] for r in result["runs"]] == [TINY, "gan:hidden=8,depth=1,batch_size=32,pack=2"]
    assert result["command"].startswith("python -m minigan.gan.quality --data ring8")
    assert "| ring8 |" in (out / "quality.md").read_text()
    lines = (out / "runs.jsonl").read_text().splitlines()
    assert [json.loads(line)["seed"] for line in lines] == [0, 0]
    assert capsys.readouterr().out.startswith("python -m minigan.gan.quality")
