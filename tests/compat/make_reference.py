"""Writes tests/compat/reference_losses.json: each ported program's per-step losses on real PyTorch.

Run by hand, from the repository root, where PyTorch is installed (CI never imports torch):

    python -m tests.compat.make_reference            # measure on torch, write the fixture
    python -m tests.compat.make_reference --compare  # minigan vs the fixture: the largest differences

The fixture holds, per program, the rows the program returns (one per step: D loss, G loss, and D(x),
D(G(z)) where the program computes them), measured here, with the torch / NumPy versions and the settings
(runner.SETTINGS, seeds) they were measured under. tests/compat/test_programs.py compares minigan's
rows with them.
"""

import json
import os
import platform
import re

import numpy as np

from . import runner

OUT = os.path.join(os.path.dirname(__file__), "reference_losses.json")


def main():
    import torch

    torch.set_num_threads(1)
    programs = {}
    for name in runner.PROGRAMS:
        programs[name] = runner.run(name, "torch")
        print(name, programs[name])
    doc = {
        "about": "per-step losses of tests/compat/programs/* on PyTorch, by make_reference.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "seeds": {"init": runner.INIT_SEED, "noise": runner.NOISE_SEED, "data": runner.DATA_SEED},
        "settings": runner.SETTINGS,
        "programs": programs,
    }
    text = json.dumps(doc, indent=1)
    # one line per innermost list (a step's losses, an argv, a shape): small and diff-friendly
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print("wrote", OUT)


def compare():
    """Print, per program, the largest differences between minigan's losses and the fixture's."""
    with open(OUT) as f:
        ref = json.load(f)["programs"]
    for name in runner.PROGRAMS:
        try:
            got = runner.run(name, "minigan")
        except Exception as e:  # a missing piece: say which, go on with the others
            print(f"{name}: fails on minigan: {type(e).__name__}: {e}")
            continue
        g = np.concatenate([np.asarray(r, dtype=np.float64) for r in got])
        w = np.concatenate([np.asarray(r, dtype=np.float64) for r in ref[name]])
        d = np.abs(g - w)
        print(f"{name}: max abs diff {d.max():.3g}, max rel diff {(d / np.abs(w)).max():.3g}")


if __name__ == "__main__":
    import sys

    compare() if "--compare" in sys.argv[1:] else main()
