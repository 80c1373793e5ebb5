"""``python -m minigan.gan.conditional_bench``: every model it times builds as ``minigan train`` builds it
(chapter 10's options of D included), and a tiny run writes its paired ratios as JSON."""

import json

import pytest

from minigan.gan import conditional_bench as bench


@pytest.mark.parametrize("name", bench.CHOICES)
def test_every_timed_model_takes_a_step(name):
    t = bench.build(name, 4)
    record = t.step()
    assert t.step_count == 1 and record["loss_G"] == record["loss_G"]  # finite, not NaN


def test_the_options_change_d_as_the_command_line_does():
    keys = set(bench.build("dcgan-sn", 4).D.state_dict())
    assert "0.weight_orig" in keys and not any("running_mean" in k for k in keys)
    assert "inner.0.weight" in bench.build("dcgan-pac2", 4).D.state_dict()
    assert any(type(m).__name__ == "MinibatchStdDev" for m in bench.build("dcgan-mbstd", 4).D.modules())


def test_a_tiny_run_reports_ratios_against_dcgan(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["--batch-size", "4", "--steps", "1", "--rounds", "2", "--models", "dcgan-sn", "--json", str(out)]
    assert bench.main(argv) == 0
    result = json.loads(out.read_text())
    assert set(result["models"]) == {"dcgan", "dcgan-sn"}
    assert result["models"]["dcgan"]["ratio_to_dcgan"] == 1.0
    assert len(result["models"]["dcgan-sn"]["ms_per_step"]) == 2
    assert "dcgan-sn" in capsys.readouterr().out


def test_ratios_to_another_baseline_and_an_unknown_one(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["--batch-size", "4", "--steps", "1", "--rounds", "1", "--models", "dcgan-sn", "dcgan-nobn"]
    assert bench.main([*argv, "--baseline", "dcgan-nobn", "--json", str(out)]) == 0
    models = json.loads(out.read_text())["models"]
    assert models["dcgan-nobn"]["ratio_to_dcgan-nobn"] == 1.0 and "ratio_to_dcgan-nobn" in models["dcgan-sn"]
    with pytest.raises(SystemExit):
        bench.main([*argv, "--baseline", "dcgan-mbstd"])
    assert "--baseline dcgan-mbstd is not among the timed models" in capsys.readouterr().err
