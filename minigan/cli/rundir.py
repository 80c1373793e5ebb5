"""The run directory of ``minigan train``: what a training run leaves behind, and how it is read back.

    RUN/config.json       every hyper-parameter of the run (JSON); ``--resume`` reads it back
    RUN/metrics.jsonl     one JSON record per logged step (loss_D, loss_G, D(x), D(G(z)), V, grad norms)
    RUN/checkpoint.npz    models, optimizers, RNG states and step counter (``minigan.io``, atomic, no pickle)
    RUN/samples/          step_XXXXXXX.png: generator samples from a fixed noise batch during training
    RUN/plots/            curves.png (losses and D outputs), samples.png (the final generator)
    RUN/eval.json         the final evaluation (mode coverage for toy mixtures)

Every file is written atomically (temporary file + rename), so an interrupted run never leaves a
half-written config or checkpoint. On ``--resume`` the metrics are cut back to the checkpoint's step, so a
resumed run's metrics.jsonl is the same as an uninterrupted one's.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..io import atomic_write


class RunDirError(RuntimeError):
    """A run directory cannot be used as asked (exists already, has no config, ...)."""


class RunDir:
    CONFIG = "config.json"
    METRICS = "metrics.jsonl"
    CHECKPOINT = "checkpoint.npz"
    EVAL = "eval.json"
    SAMPLES = "samples"
    PLOTS = "plots"
    OWNED = (CONFIG, METRICS, CHECKPOINT, EVAL, SAMPLES, PLOTS)

    def __init__(self, path):
        self.path = Path(path)

    def __truediv__(self, name) -> Path:
        return self.path / name

    @property
    def checkpoint(self) -> Path:
        return self.path / self.CHECKPOINT

    @property
    def metrics(self) -> Path:
        return self.path / self.METRICS

    # -- creating -----------------------------------------------------------------------------------------
    def prepare_new(self, force: bool = False) -> None:
        """Make the directory for a fresh run. An existing non-empty directory is an error unless ``force``,
        which removes only the files a run writes (listed in ``OWNED``), nothing else."""
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"{self.path} exists and is not a directory")
        if self.path.is_dir() and any(self.path.iterdir()):
            if not force:
                raise RunDirError(
                    f"run directory {self.path} already exists and is not empty; pass --resume to continue "
                    "it, --force to start over in it, or choose another --out"
                )
            for name in self.OWNED:
                p = self.path / name
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        (self.path / self.SAMPLES).mkdir(parents=True, exist_ok=True)
        (self.path / self.PLOTS).mkdir(parents=True, exist_ok=True)

    def write_json(self, name: str, obj) -> None:
        text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
        atomic_write(self.path / name, lambda f: f.write(text.encode()))

    # -- reading ------------------------------------------------------------------------------------------
    def read_config(self) -> dict:
        path = self.path / self.CONFIG
        if not self.path.is_dir():
            raise RunDirError(f"run directory {self.path} does not exist")
        if not path.is_file():
            raise RunDirError(f"{self.path} is not a minigan run directory (no {self.CONFIG})")
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise RunDirError(f"{path}: unreadable config ({err})") from None
        if not isinstance(config, dict) or "data" not in config:
            raise RunDirError(f"{path}: not a minigan run config (no 'data' entry)")
        return config

    # -- metrics ------------------------------------------------------------------------------------------
    def append_metrics(self, records) -> None:
        if not records:
            return
        with open(self.metrics, "a", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def read_metrics(self) -> list[dict]:
        if not self.metrics.exists():
            return []
        out = []
        with open(self.metrics, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError:
                    break  # a line cut short by a crash: everything after it is dropped
        return out

    def truncate_metrics(self, step: int) -> None:
        """Keep only the records up to and including ``step`` (those the checkpoint has seen)."""
        keep = [r for r in self.read_metrics() if r.get("step", 0) <= step]
        text = "".join(json.dumps(r) + "\n" for r in keep)
        atomic_write(self.metrics, lambda f: f.write(text.encode()))
