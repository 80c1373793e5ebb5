"""Seven public PyTorch GAN programs, ported (tests/compat/programs/), run on minigan as ``import minigan as
torch``: their per-step losses must match the ones PyTorch gives (reference_losses.json, measured with
``python -m tests.compat.make_reference``; torch itself is never imported here).

Tolerance: rtol 1e-4, atol 1e-5 per value (float32 end to end). Measured against torch 2.13 CPU: the
largest differences are float32 rounding, at most 9.5e-7 absolute (d2l_gan, pgan_wgan_gp) and 7.5e-7
relative over 3-6 steps.
"""

import json
import math
import os
import re

import numpy as np
import pytest

from . import runner

HERE = os.path.dirname(__file__)
PROGRAM_DIR = os.path.join(HERE, "programs")
RTOL, ATOL = 1e-4, 1e-5

with open(os.path.join(HERE, "reference_losses.json")) as f:
    REFERENCE = json.load(f)


def test_fixture_matches_the_runner_settings():
    """The fixture was measured under the settings the runner uses now (else: re-run make_reference)."""
    assert set(REFERENCE["programs"]) == set(runner.PROGRAMS)
    assert REFERENCE["settings"] == json.loads(json.dumps(runner.SETTINGS))
    assert REFERENCE["seeds"] == {
        "init": runner.INIT_SEED,
        "noise": runner.NOISE_SEED,
        "data": runner.DATA_SEED,
    }


@pytest.mark.parametrize("name", runner.PROGRAMS)
def test_losses_match_pytorch(name):
    written = []
    got = runner.run(name, "minigan", checkpoints=written)
    want = REFERENCE["programs"][name]
    if name == "dcgan_examples":  # its end-of-epoch torch.save(netX.state_dict(), ...)
        assert written == ["netD_epoch_0.pth", "netG_epoch_0.pth"]
    assert [len(r) for r in got] == [len(r) for r in want]
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=f"{name}, step {step}")


@pytest.mark.parametrize("name", ["pgan_dcgan", "pgan_cgan"])
def test_runs_with_the_programs_own_dropout(name):
    """With its real Dropout2d(0.25) / Dropout(0.4) (masks differ between frameworks: no reference)."""
    with_dropout = runner.run(name, "minigan", steps=2, dropout_p=None)
    assert len(with_dropout) == 2 and all(math.isfinite(v) for row in with_dropout for v in row)
    assert with_dropout != REFERENCE["programs"][name][:2]  # the masks did change the losses


def test_continues_from_its_own_checkpoints(tmp_path):
    """--netG / --netD: the program's `netG.load_state_dict(torch.load(opt.netG))` reads what it saved."""
    name = "dcgan_examples"
    argv = runner.SETTINGS[name]["argv"] + ["--outf", str(tmp_path)]
    runner.run(name, "minigan", steps=1, argv=argv)
    again = argv + [
        "--netG",
        str(tmp_path / "netG_epoch_0.pth"),
        "--netD",
        str(tmp_path / "netD_epoch_0.pth"),
    ]
    rows = runner.run(name, "minigan", steps=1, argv=again)
    assert len(rows) == 1 and all(math.isfinite(v) for v in rows[0])


def _program_files():
    return sorted(f for f in os.listdir(PROGRAM_DIR) if f.endswith(".py"))


@pytest.mark.parametrize("fname", _program_files())
def test_program_source_is_framework_free(fname):
    """The programs never name minigan (nor import torch): the framework comes in as main's arguments,
    and every change a port makes to data, noise and starting weights is on a line marked ``# port``."""
    with open(os.path.join(PROGRAM_DIR, fname)) as f:
        lines = f.read().splitlines()
    text = "\n".join(lines)
    assert "minigan" not in text.lower() and not re.search(r"\bmg\.", text)
    assert not re.search(r"^\s*(import torch|from torch)", text, re.M)
    if fname.startswith("_") or fname == "__init__.py":
        return
    assert "def main(torch, nn, F, optim, autograd, batches, steps, init_seed" in text
    for i, line in enumerate(lines):
        if re.search(r"noise_rng\.|same_start\(|set_dropout\(|from_numpy|default_rng", line):
            marked = "# port" in line or "# port" in lines[i - 1]
            assert marked, f"{fname}:{i + 1} changes the program without a `# port` marker: {line.strip()}"
