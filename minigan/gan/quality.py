"""The quality benchmark: mode coverage on ring8 and grid25 over many seeds. Chapter 07 (and 10).

    python -m minigan.gan.quality --data ring8 grid25 --seeds 10 --recipes gan best \\
        --steps 12000 --budget-s 600 --out runs/quality
    python -m minigan.gan.quality --data stacked-mnist mnist --recipes dcgan hinge-sn pac2 \\
        --seeds 1 --steps 4000 --out runs/quality-images        # images: image_quality.py

Image datasets (``image_quality.IMAGE_DATA``) have their own recipes, runs and tables (``image_quality.py``,
chapter 10); the rest of this docstring is about the 2-D mixtures.

Protocol (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): train a GAN on the 2-D mixture, draw
2500 samples from the generator, and report the number of modes covered, the percentage of high-quality
samples (within 3 std of their nearest mode) and the reverse KL over the modes (``minigan.metrics.modes``
defines all three). Each (dataset, recipe) is run once per seed 0..S-1 and summarised as mean +- std over
seeds (sample std, ddof=1), with the number of seeds that reached every mode.

A recipe is a set of training choices on the same small MLPs (``models.mlp_generator`` /
``mlp_discriminator``: ``depth`` hidden layers of width ``hidden``; not PacGAN's larger BatchNorm / maxout
nets): loss, gradient penalty, packing (``packing.Packed``), batch size, Adam's learning rate and betas.
``RECIPES`` lists them; ``gan`` is the vanilla baseline and ``best`` the recipe this benchmark recommends.

Budget: the stated budget is at most ``--budget-s`` seconds (default 600) of training per seed on 2 CPU
cores; a run stops at ``--steps`` steps or when its budget is spent, whichever comes first, and the steps
it completed are recorded. Results go to ``<out>/quality.json`` (every run, the summaries, the command,
the machine), ``<out>/quality.md`` (a markdown table beside PacGAN's published rows) and, as each run
finishes, ``<out>/runs.jsonl``. Measured results: ``minigan/gan/QUALITY.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import optim
from ..data.toy import get_dataset
from ..metrics.modes import N_SAMPLES, evaluate_modes
from ..random import manual_seed
from .models import mlp_discriminator, mlp_generator
from .packing import Packed
from .trainer import NonFiniteError, Trainer


@dataclass(frozen=True)
class Recipe:
    """Training choices for one benchmark row. ``batch_size`` counts samples (a multiple of ``pack``)."""

    name: str
    loss: str = "nonsaturating"
    penalty: str | None = None
    gamma: float | None = None
    pack: int = 1
    batch_size: int = 256
    lr: float = 1e-3
    betas: tuple = (0.5, 0.999)
    lr_final: float | None = None  # None: constant lr; else linear decay to it (see lr_at)
    decay_from: float = 0.5  # fraction of the steps after which the decay starts
    k: int = 1
    hidden: int = 128
    depth: int = 3
    z_dim: int = 2


RECIPES = {
    # the vanilla GAN: non-saturating loss, Adam(1e-3, betas (0.5, 0.999)), batch 256, constant lr
    "gan": Recipe("gan"),
    # packing alone (PacGAN4: D sees 4 samples at once; 256 packs per batch)
    "pac4": Recipe("pac4", pack=4, batch_size=1024),
    # R1 on real data (gamma 0.1) with Adam betas (0.5, 0.9), constant lr
    "r1": Recipe("r1", penalty="r1", gamma=0.1, betas=(0.5, 0.9)),
    # the recommended recipe: R1 (gamma 0.1), Adam betas (0.5, 0.9), and the lr decayed linearly from 1e-3
    # to 1e-5 over the second half of training (the decay is what lifts the share of high-quality samples)
    "best": Recipe("best", penalty="r1", gamma=0.1, betas=(0.5, 0.9), lr_final=1e-5, decay_from=0.5),
}

# PacGAN, Lin et al. (2018), table 1: mean +- std over 10 runs (modes, % high-quality samples)
PUBLISHED = [
    ("ring8", "GAN (PacGAN paper)", "6.3 ± 0.5", "98.2"),
    ("grid25", "GAN (PacGAN paper)", "17.3 ± 0.8", "94.8"),
    ("grid25", "PacGAN4 (PacGAN paper)", "24.8 ± 0.2", "93.6"),
]


def lr_at(recipe: Recipe, step: int, steps: int) -> float:
    """The learning rate for ``step`` (0-based) of ``steps``: ``lr`` for the first ``decay_from`` fraction
    of the run, then linear down to ``lr_final`` at the last step (constant when ``lr_final`` is None)."""
    if recipe.lr_final is None:
        return recipe.lr
    start = recipe.decay_from * steps
    if step < start:
        return recipe.lr
    frac = (step - start) / max(steps - start, 1)
    return recipe.lr + frac * (recipe.lr_final - recipe.lr)


def build(data_name: str, recipe: Recipe, seed: int):
    """(data, trainer) for one run: models, optimizers and the data stream, all seeded from ``seed``.

    The seed fixes minigan's default generator (weights, noise z) and a separate data generator.
    """
    manual_seed(seed)
    data = get_dataset(data_name)
    data_rng = np.random.default_rng(10_000 + seed)
    if recipe.batch_size % recipe.pack:
        raise ValueError(f"recipe {recipe.name}: batch_size {recipe.batch_size} is not a multiple of pack")
    G = mlp_generator(recipe.z_dim, data.dim, recipe.hidden, recipe.depth)
    D = mlp_discriminator(data.dim * recipe.pack, recipe.hidden, recipe.depth)
    if recipe.pack > 1:
        D = Packed(D, recipe.pack)
    opt_G = optim.Adam(G.parameters(), lr=recipe.lr, betas=tuple(recipe.betas))
    opt_D = optim.Adam(D.parameters(), lr=recipe.lr, betas=tuple(recipe.betas))
    trainer = Trainer(
        G,
        D,
        opt_G,
        opt_D,
        lambda n: data.sample(n, data_rng),
        z_dim=recipe.z_dim,
        batch_size=recipe.batch_size,
        loss=recipe.loss,
        k=recipe.k,
        penalty=recipe.penalty,
        gamma=recipe.gamma,
    )
    return data, trainer


def train(trainer: Trainer, recipe: Recipe, steps: int, budget_s: float = math.inf, callback=None) -> dict:
    """Run ``trainer`` for ``steps`` steps or ``budget_s`` seconds, following the recipe's lr schedule.

    ``callback(trainer, record)`` is called after every step (for snapshots). Returns
    {"steps", "train_s", "diverged" (None or the error message), "last_record"}.
    """
    t0 = time.perf_counter()
    diverged, record = None, {}
    while trainer.step_count < steps and time.perf_counter() - t0 < budget_s:
        lr = lr_at(recipe, trainer.step_count, steps)
        for opt in (trainer.opt_G, trainer.opt_D):
            for group in opt.param_groups:
                group["lr"] = lr
        try:
            record = trainer.step()
        except NonFiniteError as err:  # the models keep their last good state: evaluate that
            diverged = str(err)
            break
        if callback is not None:
            callback(trainer, record)
    return {
        "steps": trainer.step_count,
        "train_s": round(time.perf_counter() - t0, 2),
        "diverged": diverged,
        "last_record": {k: v for k, v in record.items() if isinstance(v, (int, float))},
    }


def run_one(data_name: str, recipe: Recipe, seed: int, steps: int, budget_s: float) -> dict:
    """Train one GAN and evaluate it on ``N_SAMPLES`` generator samples; returns a JSON-friendly dict."""
    data, trainer = build(data_name, recipe, seed)
    info = train(trainer, recipe, steps, budget_s)
    x = trainer.sample(N_SAMPLES).numpy()
    cov = evaluate_modes(data, x)
    return {"data": data_name, "recipe": recipe.name, "seed": seed, **info, **cov.as_dict()}


def mean_std(values) -> tuple[float, float]:
    """(mean, sample std with ddof=1) of the values that are not None or NaN; (nan, nan) if none are."""
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=np.float64)
    if len(v) == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def summarise(runs: list[dict]) -> list[dict]:
    """One summary row per (data, recipe): mean +- std of modes, % high quality, reverse KL, and more."""
    rows = []
    for key in dict.fromkeys((r["data"], r["recipe"]) for r in runs):
        rs = [r for r in runs if (r["data"], r["recipe"]) == key]
        m, hq, kl = (
            mean_std([float(r[f]) for r in rs]) for f in ("modes_covered", "high_quality", "reverse_kl")
        )
        rows.append(
            {
                "data": key[0],
                "recipe": key[1],
                "seeds": len(rs),
                "n_modes": rs[0]["n_modes"],
                "modes_mean": m[0],
                "modes_std": m[1],
                "high_quality_mean": 100 * hq[0],
                "high_quality_std": 100 * hq[1],
                "reverse_kl_mean": kl[0],
                "reverse_kl_std": kl[1],
                "all_modes_seeds": sum(r["modes_covered"] == r["n_modes"] for r in rs),
                "target_met_seeds": sum(
                    r["modes_covered"] == r["n_modes"] and r["high_quality"] >= 0.95 for r in rs
                ),
                "steps_mean": float(np.mean([r["steps"] for r in rs])),
                "train_s_mean": float(np.mean([r["train_s"] for r in rs])),
                "diverged": sum(r["diverged"] is not None for r in rs),
            }
        )
    return rows


def markdown(rows: list[dict], recipes: dict, command: str, machine: str) -> str:
    """The results table (ours beside PacGAN's published rows), the recipes, and how it was produced."""
    lines = [
        "| data | method | modes | % high quality | reverse KL | all modes (seeds) | >= 95 % HQ and all "
        "modes | steps | train s / seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['recipe']} (ours) | {r['modes_mean']:.1f} ± {r['modes_std']:.1f} of "
            f"{r['n_modes']} | {r['high_quality_mean']:.1f} ± {r['high_quality_std']:.1f} | "
            f"{r['reverse_kl_mean']:.3f} ± {r['reverse_kl_std']:.3f} | {r['all_modes_seeds']}/{r['seeds']} | "
            f"{r['target_met_seeds']}/{r['seeds']} | {r['steps_mean']:.0f} | {r['train_s_mean']:.0f} |"
        )
    for data, name, modes, hq in PUBLISHED:
        lines.append(f"| {data} | {name} | {modes} | {hq} | | | | | |")
    lines += ["", "Recipes:", ""]
    for r in recipes.values():
        lines.append(f"- `{r.name}`: {json.dumps({k: v for k, v in asdict(r).items() if k != 'name'})}")
    lines += ["", f"Command: `{command}`", "", f"Machine: {machine}", ""]
    return "\n".join(lines)


def _machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{platform.processor() or platform.machine()}, {cpus} CPUs available, load average {load:.1f}"


def _seeds(spec: str) -> list[int]:
    """'10' -> 0..9; '3-5' -> 3, 4, 5; '0,4,7' -> those."""
    if "," in spec:
        return [int(s) for s in spec.split(",")]
    if "-" in spec:
        a, b = spec.split("-")
        return list(range(int(a), int(b) + 1))
    return list(range(int(spec)))


def _parse_recipe(spec: str) -> Recipe:
    """'best' or 'best:pack=2,gamma=1.0,betas=0.5/0.9' (a named recipe with fields overridden)."""
    name, _, overrides = spec.partition(":")
    if name not in RECIPES:
        raise SystemExit(
            f"unknown recipe {name!r}; valid: {', '.join(RECIPES)} (optionally name:field=value,...)"
        )
    recipe = RECIPES[name]
    if not overrides:
        return recipe
    fields = {}
    for item in overrides.split(","):
        key, _, value = item.partition("=")
        if key == "betas":
            fields[key] = tuple(float(b) for b in value.split("/"))
        elif key in ("penalty", "loss"):
            fields[key] = None if value == "none" else value
        elif key in ("pack", "batch_size", "k", "hidden", "depth", "z_dim"):
            fields[key] = int(value)
        elif key in ("lr", "gamma", "lr_final", "decay_from"):
            fields[key] = float(value)
        else:
            raise SystemExit(f"recipe override: unknown field {key!r}")
    return replace(recipe, name=spec, **fields)


def main(argv=None) -> int:
    from . import image_quality  # which imports this module

    p = argparse.ArgumentParser(prog="python -m minigan.gan.quality", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data",
        nargs="+",
        default=["ring8", "grid25"],
        choices=["ring8", "grid25", *image_quality.IMAGE_DATA],
    )
    p.add_argument(
        "--recipes", nargs="+", default=["gan", "best"], help="names from RECIPES, or name:k=v,..."
    )
    p.add_argument("--seeds", default="10", help="'10' = seeds 0..9; '3-5'; '0,4,7'")
    p.add_argument("--steps", type=int, default=12000, help="training steps per run (upper bound)")
    p.add_argument("--budget-s", type=float, default=600.0, help="training seconds per run (upper bound)")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel (worker processes)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads per worker (OPENBLAS_NUM_THREADS)")
    p.add_argument("--out", required=True, help="folder for quality.json and quality.md")
    p.add_argument("--split", default=None, help="images: the split to train on (mnist: train, test)")
    p.add_argument("--data-dir", default=None, help="images: the folder of the dataset's files")
    args = p.parse_args(argv)

    command = "python -m minigan.gan.quality " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    print(command, flush=True)
    images = [d for d in args.data if d in image_quality.IMAGE_DATA]
    if images:
        if len(images) < len(args.data):
            p.error("give the 2-D mixtures and the image datasets in separate runs (their recipes differ)")
        extra = [
            *(["--split", args.split] if args.split else []),
            *(["--data-dir", args.data_dir] if args.data_dir else []),
        ]
        return image_quality.run(images, args.recipes, _seeds(args.seeds), args.steps, Path(args.out), extra,
                                 command, image_quality.machine())  # fmt: skip
    recipes = {spec: _parse_recipe(spec) for spec in args.recipes}
    jobs = [
        (d, recipes[s], seed, args.steps, args.budget_s)
        for d in args.data
        for s in recipes
        for seed in _seeds(args.seeds)
    ]
    t0 = time.perf_counter()
    runs = []
    # Fresh ("spawn") workers read the thread limit when they import NumPy. Multi-threaded BLAS on small
    # matrices on a busy machine is slower, not faster: one thread per run is the fast setting on a
    # loaded 2-core box (threads spin waiting for each other's tiny products).
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    ctx = multiprocessing.get_context("spawn")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool, open(out / "runs.jsonl", "w") as log:
        for r in pool.map(run_one, *zip(*jobs)):
            runs.append(r)
            log.write(json.dumps(r) + "\n")  # partial results survive an interrupted benchmark
            log.flush()
            print(_line(r), flush=True)
    rows = summarise(runs)
    machine = f"{_machine()}; {args.jobs} run(s) at a time, {args.threads} BLAS thread(s) each"
    result = {
        "command": command,
        "machine": machine,
        "wall_s": round(time.perf_counter() - t0, 1),
        "jobs": args.jobs,
        "blas_threads": args.threads,
        "recipes": {k: asdict(v) for k, v in recipes.items()},
        "summary": rows,
        "runs": runs,
    }
    (out / "quality.json").write_text(json.dumps(result, indent=1) + "\n")
    table = markdown(rows, recipes, command, machine)
    (out / "quality.md").write_text(table)
    print(table)
    print(f"total wall time {result['wall_s']} s; wrote {out / 'quality.json'} and {out / 'quality.md'}")
    return 0


def _line(r: dict) -> str:
    return (
        f"{r['data']:7s} {r['recipe']:10s} seed {r['seed']:2d}: {r['modes_covered']}/{r['n_modes']} modes, "
        f"{100 * r['high_quality']:.1f}% HQ, KL {r['reverse_kl']:.3f}, "
        f"{r['steps']} steps in {r['train_s']:.0f} s" + (f" [{r['diverged']}]" if r["diverged"] else "")
    )


if __name__ == "__main__":
    raise SystemExit(main())
