"""The image quality benchmark: recipes x seeds on Stacked MNIST and MNIST, resumable. Chapter 10.

    python -m minigan.gan.quality --data stacked-mnist mnist --recipes dcgan r1 hinge-sn \\
        --seeds 1 --steps 4000 --out runs/quality-images --split test --data-dir DIR

Every (dataset, recipe, seed) is one ordinary ``minigan train`` run in ``<out>/runs/<data>-<recipe>-s<seed>``,
with the recipe's flags, so each run has its checkpoints, metrics, samples and the final ``eval.json``
that ``minigan train`` writes (``minigan eval``'s figures: FD, class KL, precision / recall for MNIST;
modes covered of 1 000 and KL(modes || uniform) over 26 000 samples for Stacked MNIST). As each run
finishes, its figures are appended to ``<out>/runs.jsonl``; the benchmark can be stopped at any point and
started again with the same command: finished runs are read back from runs.jsonl, an interrupted run is
continued with ``minigan train --resume`` from its last checkpoint (bit-identical to an uninterrupted
run), and only missing runs start afresh. At the end ``<out>/quality.json`` (every run, the summary rows,
the command, the machine) and ``<out>/quality.md`` (the table) are written.

The recipes (``IMAGE_RECIPES``) change one thing each against the DCGAN of chapter 08 (Adam 2e-4,
betas (0.5, 0.999), batch 64, the non-saturating loss):

    dcgan      plain: no penalty (Radford et al. 2016)
    r1         + the R1 penalty on real data, gamma 1 (Mescheder et al. 2018; minigan's MNIST default)
    hinge-sn   hinge loss, spectral norm on every layer of D and no batch norm in D (Miyato et al. 2018)
    wgan-gp    Wasserstein loss + gradient penalty 10, 5 D steps per G step, Adam (1e-4, (0.5, 0.9))
               (Gulrajani et al. 2017)
    pac2       PacGAN: D judges packs of 2 images (channels concatenated), batch 128 = 64 packs
               (Lin et al. 2018)
    mbstd      + a minibatch standard deviation feature map before D's last layer (Karras et al. 2018)
    unrolled5  G's loss through 5 look-ahead D steps (Metz et al. 2017, the surrogate; variants/unrolled.py)
    r1-ema     r1, sampled from a moving average of G's weights, half-life 10 000 images (``--set
               g_ema_kimg=10``; Karras et al. 2018 and 2019, BigGAN; ``minigan.gan.averaged``)
    r1-lazy    r1 computed on every 16th D step only, weighted 16 (``--set r1_every=16``; Karras et al. 2020)

Cost: a run costs what ``minigan train`` costs for its steps (about 0.3 s per DCGAN step on one core of
a 2-core x86 CPU; wgan-gp's 5 D steps about 3x that, unrolled5 about 4x) plus its evaluation.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .quality import mean_std

PAIRED_DATA = ("mnist-sr4", "mnist-inpaint", "mnist-edges")  # chapter 12's translation tasks
IMAGE_DATA = ("mnist", "stacked-mnist", "fashion-mnist", *PAIRED_DATA)

IMAGE_RECIPES = {
    "dcgan": ["--penalty", "none"],
    "r1": ["--penalty", "r1", "--gamma", "1"],
    "hinge-sn": ["--penalty", "none", "--loss", "hinge", "--spectral-norm"],
    "wgan-gp": [
        "--loss",
        "wasserstein",
        "--penalty",
        "wgan-gp",
        "--gamma",
        "10",
        "--k",
        "5",
        "--lr",
        "1e-4",
        "--betas",
        "0.5",
        "0.9",
    ],  # fmt: skip
    "pac2": ["--penalty", "none", "--pack", "2", "--batch-size", "128"],
    "mbstd": ["--penalty", "none", "--mbstd"],
    "unrolled5": ["--penalty", "none", "--unrolled", "5"],
    "r1-ema": ["--penalty", "r1", "--gamma", "1", "--set", "g_ema_kimg=10"],
    "r1-lazy": ["--penalty", "r1", "--gamma", "1", "--set", "r1_every=16"],
    "pix2pix": ["--model", "pix2pix"],  # the paired tasks (chapter 12): GAN + 100 L1
    "l1": ["--model", "l1"],  # the same U-Net on the L1 loss alone
}

# PacGAN, Lin et al. (2018), table 2 (Stacked MNIST, mean +- std over runs): modes of 1 000, KL
PUBLISHED = [
    ("stacked-mnist", "DCGAN (PacGAN paper)", "99.0 ± 30.0", "3.40 ± 0.07"),
    ("stacked-mnist", "PacDCGAN2 (PacGAN paper)", "1000.0 ± 0.0", "0.06 ± 0.003"),
]

# the figures of a run's eval.json that go into the table, per dataset
FIGURES = {
    "stacked-mnist": ("modes_covered", "kl"),
    "mnist": ("frechet_distance", "class_kl", "precision", "recall"),
    "fashion-mnist": ("frechet_distance", "class_kl", "precision", "recall"),
    **{d: ("psnr", "ssim", "label_accuracy", "frechet_distance") for d in PAIRED_DATA},
}


def run_dir(out: Path, data: str, recipe: str, seed: int) -> Path:
    return out / "runs" / f"{data}-{recipe}-s{seed}"


def train_command(data: str, recipe: str, seed: int, steps: int, rd: Path, extra: list[str]) -> list[str]:
    """The ``minigan train`` command line of one run (``--resume`` when the run has a checkpoint)."""
    cli = [sys.executable, "-m", "minigan.cli", "train"]
    if (rd / "checkpoint.npz").exists() and (rd / "config.json").exists():
        return [*cli, "--resume", "--out", str(rd), "--steps", str(steps), "--no-progress"]
    return [*cli, "--data", data, "--seed", str(seed), "--steps", str(steps), "--out", str(rd),
            "--force", "--no-progress", *IMAGE_RECIPES[recipe], *extra]  # fmt: skip


def figures(data: str, result: dict) -> dict:
    """The table's figures from a run's eval.json: the generated samples' and the real-vs-real ones."""
    gen = result.get("generated", result)
    real = result.get("real_baseline", {})
    if "task" in result:  # a translation: the trivial baseline's PSNR / SSIM / labels (FD: real vs real)
        gen, real = {**gen, **result["model"]}, {**real, **result["baseline"]}
    out = {}
    for key in FIGURES.get(data, ()):
        out[key] = gen.get(key)
        out[f"real_{key}"] = real.get(key)
    out["summary"] = result.get("summary")
    return out


def run_one(data: str, recipe: str, seed: int, steps: int, out: Path, extra: list[str], log) -> dict:
    """Train (or continue) one run, then read its eval.json; the record appended to runs.jsonl."""
    rd = run_dir(out, data, recipe, seed)
    cmd = train_command(data, recipe, seed, steps, rd, extra)
    t0 = time.perf_counter()
    with open(out / "train.log", "a") as f:
        f.write("+ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    wall = round(time.perf_counter() - t0, 1)
    record = {"data": data, "recipe": recipe, "seed": seed, "steps": steps, "wall_s": wall,
              "run": str(rd), "returncode": proc.returncode}  # fmt: skip
    eval_path = rd / "eval.json"
    if proc.returncode == 0 and eval_path.exists():
        record.update(figures(data, json.loads(eval_path.read_text())))
    else:
        record["error"] = f"minigan train exited with {proc.returncode}; see {out / 'train.log'}"
    log.write(json.dumps(record) + "\n")
    log.flush()
    return record


def done_runs(path: Path) -> dict:
    """(data, recipe, seed) -> record, for the runs already in runs.jsonl that finished without error."""
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if "error" not in r:
                    done[(r["data"], r["recipe"], r["seed"])] = r
    return done


def summarise(runs: list[dict]) -> list[dict]:
    """One row per (data, recipe): mean +- std over seeds of each figure, the real-vs-real value beside it."""
    rows = []
    for key in dict.fromkeys((r["data"], r["recipe"]) for r in runs):
        rs = [r for r in runs if (r["data"], r["recipe"]) == key]
        row = {"data": key[0], "recipe": key[1], "seeds": len(rs), "steps": rs[0]["steps"],
               "wall_s_mean": float(np.mean([r["wall_s"] for r in rs]))}  # fmt: skip
        for fig in FIGURES.get(key[0], ()):
            row[f"{fig}_mean"], row[f"{fig}_std"] = mean_std([r.get(fig) for r in rs])
            row[f"real_{fig}"] = rs[0].get(f"real_{fig}")
        rows.append(row)
    return rows


HEADERS = {"modes_covered": "modes (of 1 000)", "kl": "KL(modes ‖ uniform)", "frechet_distance": "FD",
           "class_kl": "class KL", "precision": "precision", "recall": "recall", "psnr": "PSNR (dB)",
           "ssim": "SSIM", "label_accuracy": "label preservation"}  # fmt: skip
BASELINE_ROW = {
    "mnist-sr4": "bicubic",
    "mnist-inpaint": "hole filled with the mean",
    "mnist-edges": "edge map",
}


def _fmt(x, digits: int) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def markdown(rows: list[dict], command: str, machine: str) -> str:
    """One table per dataset: each recipe's mean +- std over seeds, then real-vs-real and published rows."""
    digits = {"modes_covered": 1, "kl": 3, "frechet_distance": 1, "class_kl": 4, "precision": 2, "recall": 2,
              "psnr": 2, "ssim": 3, "label_accuracy": 3}  # fmt: skip
    lines = []
    for data in dict.fromkeys(r["data"] for r in rows):
        figs = FIGURES.get(data, ())
        header = "| recipe | seeds | steps | " + " | ".join(HEADERS[f] for f in figs) + " | wall s / run |"
        lines += [f"### {data}", "", header, "|---" * (len(figs) + 4) + "|"]
        sel = [r for r in rows if r["data"] == data]
        for r in sel:
            cells = [_fmt(r[f + "_mean"], digits[f]) for f in figs]
            if r["seeds"] > 1:  # mean ± sample std over the seeds
                cells = [f"{c} ± {_fmt(r[f + '_std'], digits[f])}" for c, f in zip(cells, figs)]
            lines.append(f"| {r['recipe']} | {r['seeds']} | {r['steps']} | " + " | ".join(cells)
                         + f" | {r['wall_s_mean']:.0f} |")  # fmt: skip
        real = [_fmt(sel[0].get(f"real_{f}"), digits[f]) for f in figs]
        name = f"{BASELINE_ROW[data]} (FD: real vs real)" if data in BASELINE_ROW else "real vs real"
        lines.append(f"| {name} | | | " + " | ".join(real) + " | |")
        for d, name, *published in PUBLISHED:
            if d == data:
                lines.append(f"| {name} | | | " + " | ".join(published) + " | |")
        lines.append("")
    lines += ["Recipes (flags of `minigan train`):", ""]
    used = {r["recipe"] for r in rows}
    lines += [f"- `{k}`: `{' '.join(v)}`" for k, v in IMAGE_RECIPES.items() if k in used]
    lines += ["", f"Command: `{command}`", "", f"Machine: {machine}", ""]
    return "\n".join(lines)


def run(data: list[str], recipes: list[str], seeds: list[int], steps: int, out: Path, extra: list[str],
        command: str, machine: str) -> int:  # fmt: skip
    """Every (data, recipe, seed) not yet in ``out/runs.jsonl``, in that order; then the tables."""
    unknown = [r for r in recipes if r not in IMAGE_RECIPES]
    if unknown:
        raise SystemExit(f"unknown image recipe(s) {', '.join(unknown)}; valid: {', '.join(IMAGE_RECIPES)}")
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "runs.jsonl"
    done = done_runs(log_path)
    t0 = time.perf_counter()
    runs = []
    with open(log_path, "a") as log:
        for d in data:
            for recipe in recipes:
                for seed in seeds:
                    key = (d, recipe, seed)
                    if key in done and done[key]["steps"] == steps:
                        runs.append(done[key])
                        print(f"{d} {recipe} seed {seed}: done ({done[key].get('summary')})", flush=True)
                        continue
                    r = run_one(d, recipe, seed, steps, out, extra, log)
                    runs.append(r)
                    print(f"{d} {recipe} seed {seed}: {r.get('summary') or r.get('error')} [{r['wall_s']} s]",
                          flush=True)  # fmt: skip
    ok = [r for r in runs if "error" not in r]
    rows = summarise(ok)
    result = {"command": command, "machine": machine, "wall_s": round(time.perf_counter() - t0, 1),
              "summary": rows, "runs": runs}  # fmt: skip
    (out / "quality.json").write_text(json.dumps(result, indent=1) + "\n")
    table = markdown(rows, command, machine) if rows else "no finished runs\n"
    (out / "quality.md").write_text(table)
    print(table)
    return 0 if len(ok) == len(runs) else 1


def machine() -> str:
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.processor() or platform.machine()}, {cpus} CPUs available; one run at a time"
