# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 07 — Mode collapse on 2-D mixtures, and the Dirac-GAN
#
# Chapter 06 trained a GAN on one Gaussian. Real data has many *modes* (digits, faces, poses), and the
# classic failure of GANs is to cover only some of them: **mode collapse**. The generator finds a few
# outputs that fool the current discriminator and puts all its mass there; the discriminator learns to
# reject them; the generator hops to other modes; and the game may never settle on covering all of them.
#
# Mixtures of Gaussians in the plane make this measurable. We use the two benchmarks of VEEGAN
# (Srivastava et al., 2017) and PacGAN (Lin et al., 2018):
#
# - **ring8**: 8 Gaussians with means $(\cos 2\pi i/8, \sin 2\pi i/8)$ and std 0.01;
# - **grid25**: 25 Gaussians with means $\{-4, -2, 0, 2, 4\}^2$ and std 0.05;
#
# and their metric (`minigan.metrics.modes`). Then we look at *why* the game is hard to converge with the
# smallest GAN there is, the Dirac-GAN (Mescheder et al., 2018), whose whole training is a point moving
# in a plane.
#
# **Run it:** `python tutorials/07_mode_collapse.py` (or as a notebook). `MINIGAN_QUICK=1` shrinks it to
# seconds (the GANs then train far too briefly to cover anything: the printed numbers are only meaningful
# in the full run). Figures go to `tutorials/_out/` (or `$MINIGAN_OUT`). The full version ran in about
# 8.5 minutes (508 s) on a 2-core x86 CPU shared with other jobs, no GPU (the last cell prints your run's
# time).

# %%
import math
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan.data import get_dataset
from minigan.gan import dirac
from minigan.gan.quality import RECIPES, build, train
from minigan.metrics import N_SAMPLES, evaluate_modes
from minigan.viz import (
    animate_samples,
    discriminator_fn,
    plot_samples_2d,
    plot_training_curves,
    plot_vector_field,
)

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)


def save(fig, name):
    """Save a figure under OUT; show it too when running the full chapter."""
    fig.savefig(OUT / name, dpi=110, bbox_inches="tight")
    print(f"saved {OUT / name}")
    if not QUICK:
        plt.show()
    plt.close(fig)


rng = np.random.default_rng(0)
ring, grid = get_dataset("ring8"), get_dataset("grid25")
print(ring.modes.shape, ring.std, grid.modes.shape, grid.std)
assert ring.modes.shape == (8, 2) and grid.modes.shape == (25, 2)

# %% [markdown]
# ## 1. Measuring collapse
#
# The protocol: draw $N = 2500$ samples from the generator and give each its nearest mode.
#
# - A sample is **high quality** if it lies within 3 standard deviations of that mode.
# - A mode is **covered** if at least one high-quality sample has it as nearest mode.
# - The **reverse KL** is $\mathrm{KL}(q \,\|\, p) = \sum_k q_k \log(q_k / p_k)$, where $q_k$ is the fraction of
#   high-quality samples at mode $k$ and $p_k = 1/K$. Empty modes contribute $0$ ($q \log q \to 0$), so no
#   smoothing epsilon is needed; it is $0$ for perfectly balanced modes and $\log K$ for one mode only.
#
# "Modes" sees dropped modes, "high quality" sees blur, "reverse KL" sees imbalance. Hand-built sample sets
# show what each failure looks like in the numbers:

# %%
n = N_SAMPLES
angles = rng.uniform(0, 2 * math.pi, n)
cases = {
    "the data itself": ring.sample(n, rng),
    "collapsed: one mode": ring.modes[0] + ring.std * rng.standard_normal((n, 2)),
    "3 of 8 modes": ring.modes[rng.integers(0, 3, n)] + ring.std * rng.standard_normal((n, 2)),
    "all modes, blurred (std 0.03)": ring.modes[rng.integers(0, 8, n)] + 0.03 * rng.standard_normal((n, 2)),
    "uniform on the circle": np.stack([np.cos(angles), np.sin(angles)], 1),
}
fig, axes = plt.subplots(1, len(cases), figsize=(4 * len(cases), 4))
for ax, (name, x) in zip(axes, cases.items()):
    cov = evaluate_modes(ring, x)
    print(f"{name:32s} {cov}")
    plot_samples_2d(
        x,
        modes=ring.modes,
        lim=(-1.4, 1.4, -1.4, 1.4),
        ax=ax,
        title=f"{name}\n{cov.modes_covered}/8, {100 * cov.high_quality:.0f}% HQ, KL {cov.reverse_kl:.2f}",
    )
save(fig, "07_metric_cases.png")

# %% [markdown]
# The uniform ring covers every mode yet has few high-quality samples: the metric needs *both* numbers.
# The theoretical high-quality fraction of the data itself is $P(\chi^2_2 < 9) = 1 - e^{-4.5} = 98.9\%$.
#
# ## 2. A vanilla GAN on ring8
#
# The benchmark's baseline recipe `gan` (`minigan/gan/quality.py`): MLPs with 3 hidden layers of 128 units
# (ReLU in $G$, LeakyReLU in $D$), 2-D noise, the non-saturating loss, Adam with lr $10^{-3}$ and
# betas $(0.5, 0.999)$, batches of 256. `build` makes the seeded models, optimizers and `Trainer`;
# `train` runs it (with an optional callback that we use for snapshots).

# %%
recipe = RECIPES["gan"]
print(recipe)
data, trainer = build("ring8", recipe, seed=0)
print(trainer.G)
STEPS = 80 if QUICK else 4000
snap_every = STEPS // 8
snapshots, history, records = [], [], []
z_fixed = mg.randn(N_SAMPLES, recipe.z_dim)


def watch(tr, record):
    records.append(record)
    if tr.step_count % snap_every == 0:
        x = tr.sample(N_SAMPLES, z=z_fixed).numpy()
        cov = evaluate_modes(data, x)
        history.append((tr.step_count, cov))
        snapshots.append((tr.step_count, x))
        print(f"step {tr.step_count:5d}: {cov}")


info = train(trainer, recipe, STEPS, callback=watch)
print(info)

# %% [markdown]
# The generator's samples over the discriminator's $D(x)$ (red: "real", blue: "fake", black line: $D = 1/2$)
# at four moments of training. A collapsing generator shows as mass moving from mode to mode while $D$
# paints the abandoned modes red again.

# %%
fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
picks = [snapshots[i] for i in np.linspace(0, len(snapshots) - 1, 4).astype(int)]
for ax, (step, x) in zip(axes, picks):
    plot_samples_2d(x, modes=ring.modes, lim=(-1.6, 1.6, -1.6, 1.6), ax=ax, title=f"step {step}")
axes[-1].clear()  # the last panel again, now over the final discriminator's contours
plot_samples_2d(
    picks[-1][1],
    modes=ring.modes,
    d_fn=discriminator_fn(trainer.D),
    lim=(-1.6, 1.6, -1.6, 1.6),
    n_grid=80,
    ax=axes[-1],
    title=f"step {picks[-1][0]}, with D(x)",
)
save(fig, "07_ring_snapshots.png")

steps_seen = [s for s, _ in history]
fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
ax[0].plot(steps_seen, [c.modes_covered for _, c in history], "o-")
ax[0].set_ylim(0, 8.5)
ax[0].set_title("modes covered (of 8)")
ax[1].plot(steps_seen, [100 * c.high_quality for _, c in history], "o-")
ax[1].set_title("% high-quality samples")
for a in ax:
    a.set_xlabel("step")
save(fig, "07_ring_coverage.png")
save(plot_training_curves(records, smooth=max(1, STEPS // 100)), "07_ring_curves.png")
animate_samples(
    [x for _, x in snapshots],
    OUT / "07_ring.gif",
    titles=[f"step {s}" for s, _ in snapshots],
    modes=ring.modes,
    lim=(-1.6, 1.6, -1.6, 1.6),
    fps=2,
)
print(f"saved {OUT / '07_ring.gif'}")

# %% [markdown]
# What our full run (seed 0, 4000 steps) printed: at step 500 and 1000 one mode at most; at step 1500 the
# generator had collapsed into a single blob *between* modes (0/8); by step 3500 it had stretched into a
# thin ring through all eight modes (8/8, but only 34 % of samples on a mode); at step 4000 one mode held
# most of the high-quality samples (reverse KL 1.41 against log 8 = 2.08 for total collapse). $D$'s
# contours show the chase: red (D > 1/2, "more real than fake") exactly at the modes the generator
# currently under-serves. Longer training rescues this recipe only sometimes: in the ten-seed benchmark
# (12000 steps) it covered all 8 modes in 8 seeds, but three seeds ended with 41-53 % high-quality samples
# (81 ± 25 % on average; `minigan/gan/QUALITY.md`).

# %% [markdown]
# ## 3. grid25, and remedies that work here
#
# The 5 x 5 grid is harder: 25 modes, 2 units apart. We compare the vanilla recipe with the benchmark's
# `best` recipe, which changes three things and nothing else (same networks, same batch of 256):
#
# - the **R1 penalty** $\frac{\gamma}{2}\,\mathbb E_{x \sim \text{data}} \|\nabla_x d(x)\|^2$ with $\gamma = 0.1$
#   (`minigan/gan/penalties.py`): it keeps $D$ flat on the data, which damps the orbiting of section 4
#   below and stops $D$ from overreacting to whichever modes $G$ currently visits;
# - Adam's **betas (0.5, 0.9)**: a shorter memory of the squared gradients, so step sizes follow the
#   quickly changing game;
# - a **learning-rate decay**, linear from $10^{-3}$ to $10^{-5}$ over the second half of training, so the
#   generator settles *onto* the modes instead of orbiting around them (the high-quality criterion asks
#   for 3 std: 0.15 on the grid, 0.03 on the ring).
#
# What did not help within our budget (short single-seed trials, listed in `minigan/gan/QUALITY.md`):
# **packing** (PacGAN's $D$ judging 4 samples at once, `minigan/gan/packing.py`, batch 1024) covered the
# ring's modes but left most grid samples between modes after 4000 steps (PacGAN itself trains for about
# 400k steps); R1 much weaker ($\gamma = 0.01$), or R1 without the decay; a batch of 512; a deeper $G$
# and $D$ (4 hidden layers). A wider network (256 units) helped a little (93 % instead of 90 % high
# quality on grid25 at 6000 steps) for 2.5 times the time. What helped most was simply more steps with
# the decay: 12000 instead of 6000 lifted grid25's high-quality share from 90 % to 96 % (seed 1).

# %%
GRID_STEPS = 40 if QUICK else 12000
results = {}
for name in ("gan", "best"):
    data, tr = build("grid25", RECIPES[name], seed=0)
    info = train(tr, RECIPES[name], GRID_STEPS)
    x = tr.sample(N_SAMPLES).numpy()
    results[name] = (x, evaluate_modes(data, x), tr)
    print(f"{name:5s} ({info['steps']} steps, {info['train_s']:.0f} s): {results[name][1]}")

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, (name, (x, cov, tr)) in zip(axes, results.items()):
    d_fn = discriminator_fn(tr.D)
    plot_samples_2d(
        x,
        modes=grid.modes,
        d_fn=d_fn,
        lim=(-5.5, 5.5, -5.5, 5.5),
        n_grid=80,
        ax=ax,
        title=f"grid25, recipe {name}: {cov.modes_covered}/25, {100 * cov.high_quality:.0f}% HQ",
    )
save(fig, "07_grid_recipes.png")

# %% [markdown]
# Our full run of this cell: `gan` 22/25 modes with 88.9 % high-quality samples, `best` 25/25 with 96.8 %.
# Over ten seeds (`python -m minigan.gan.quality --data ring8 grid25 --recipes gan best --seeds 10
# --steps 12000`, 64 min on the loaded 2-core CPU; `minigan/gan/QUALITY.md`) that picture is typical:
#
# | data | recipe | modes | % high quality | reverse KL |
# |---|---|---|---|---|
# | ring8 | gan | 7.6 ± 0.8 of 8 | 81.2 ± 24.5 | 0.158 ± 0.228 |
# | ring8 | best | 8.0 ± 0.0 of 8 | 97.6 ± 0.5 | 0.002 ± 0.001 |
# | grid25 | gan | 22.2 ± 2.4 of 25 | 78.6 ± 10.7 | 0.234 ± 0.147 |
# | grid25 | best | 25.0 ± 0.0 of 25 | 96.5 ± 0.3 | 0.005 ± 0.002 |
# | ring8 | GAN (PacGAN paper) | 6.3 ± 0.5 | 98.2 | |
# | grid25 | GAN (PacGAN paper) | 17.3 ± 0.8 | 94.8 | |
# | grid25 | PacGAN4 (PacGAN paper) | 24.8 ± 0.2 | 93.6 | |
#
# `best` covered every mode in all 20 runs with at least 96.1 % high-quality samples. (PacGAN's rows come
# from larger networks trained about 30 times longer, so they are a reference point, not a race.)
#
# ## 4. Why GAN training circles: the Dirac-GAN
#
# Mescheder, Geiger and Nowozin (2018) strip the game to two numbers. The data is a point mass at $0$; the
# generator is a point mass at $\theta$; the discriminator is linear, $d(x) = \psi x$. The unique
# equilibrium is $(\theta, \psi) = (0, 0)$. With the GAN loss the gradient field near it is
#
# $$\begin{pmatrix} \dot\theta \\ \dot\psi \end{pmatrix} \approx \frac12 \begin{pmatrix} \psi \\ -\theta \end{pmatrix},$$
#
# a pure rotation: the Jacobian has eigenvalues $\pm i/2$. Gradient descent on a rotation does not converge.
# *Simultaneous* steps (both players move from the same point) spiral **out**: each step multiplies the
# distance to the origin by about $\sqrt{1 + h^2/4}$. *Alternating* steps (D first, as `Trainer.step` does)
# circle at a roughly constant distance. The **R1 penalty** $\frac\gamma2 \|\nabla_x d(x)\|^2$ on real
# data adds $-\gamma\psi$ to $\dot\psi$: it damps the discriminator near the data, the eigenvalues get a
# negative real part, and the iterates converge. `minigan.gan.dirac` computes all of it with minigan's
# autograd (R1 through a real double backward).

# %%
n_grid = 9 if QUICK else 15
DIRAC_STEPS = 100 if QUICK else 400
lr = 0.2
thetas = psis = np.linspace(-3.0, 3.0, n_grid)
field = dirac.vector_field(thetas, psis, loss="minimax")
field_r1 = dirac.vector_field(thetas, psis, loss="minimax", gamma=1.0)
assert field[0].shape == (n_grid, n_grid)
runs = {  # name: (R1 weight gamma, mode)
    "simultaneous": (0.0, "simultaneous"),
    "alternating": (0.0, "alternating"),
    "simultaneous + R1": (1.0, "simultaneous"),
    "alternating + R1": (1.0, "alternating"),
}
paths = {
    name: dirac.trajectory(1.0, 1.0, lr=lr, steps=DIRAC_STEPS, loss="minimax", gamma=g, mode=mode)
    for name, (g, mode) in runs.items()
}
for name, p in paths.items():
    r = np.linalg.norm(p, axis=1)
    print(
        f"{name:18s}: distance to (0, 0) {r[0]:.3f} -> {r[len(r) // 2]:.3f} -> {r[-1]:.3f} after {DIRAC_STEPS} steps"
    )
assert paths["alternating + R1"].shape == (DIRAC_STEPS + 1, 2)
r_end = {k: float(np.linalg.norm(p[-1])) for k, p in paths.items()}
assert r_end["simultaneous"] > 1.2 * math.sqrt(2) and r_end["alternating + R1"] < 0.05, r_end

fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
plot_vector_field(
    thetas,
    psis,
    *field,
    trajectories=[paths["simultaneous"], paths["alternating"]],
    labels=["simultaneous", "alternating"],
    title="GAN loss: the field rotates",
    ax=axes[0],
)
plot_vector_field(
    thetas,
    psis,
    *field_r1,
    trajectories=[paths["simultaneous + R1"], paths["alternating + R1"]],
    labels=["simultaneous + R1", "alternating + R1"],
    title="with R1 (gamma = 1): it converges",
    ax=axes[1],
)
save(fig, "07_dirac.png")

# %% [markdown]
# ## Summary
#
# - Mode collapse is measurable on mixtures: modes covered, % high-quality samples and the reverse KL over
#   modes each catch a different failure (dropped modes, blur, imbalance).
# - On ring8 and grid25 a vanilla GAN moves its mass between modes while $D$ chases it and leaves many
#   samples off the modes; R1 (gamma 0.1), Adam betas (0.5, 0.9) and a learning rate decayed over the
#   second half of training are what closed the gap here (numbers in `minigan/gan/QUALITY.md`).
# - The Dirac-GAN shows the mechanism: near equilibrium the GAN gradient field is a rotation, so
#   simultaneous gradient descent spirals out and alternating descent circles; the R1 penalty adds damping
#   and makes the equilibrium attractive.
#
# ## Exercises
#
# 1. In section 1, build a sample set with all 8 modes covered and 100 % high quality but reverse KL
#    above 0.5. How unbalanced must it be?
# 2. Train the vanilla recipe on ring8 with 5 different seeds (`build("ring8", RECIPES["gan"], seed)`).
#    How many modes does each cover after 1000, 2000, 4000 steps?
# 3. Take the three changes of section 3 one at a time: `dataclasses.replace(RECIPES["gan"], lr_final=1e-5)`,
#    `RECIPES["r1"]`, ... Which matters most on grid25? Then try packing on top of the best recipe:
#    `dataclasses.replace(RECIPES["best"], pack=4, batch_size=1024)` — does it pay for its 4x larger batch?
# 4. Dirac-GAN: with R1, sweep $\gamma \in \{0.1, 0.3, 1, 3\}$ at a fixed learning rate. Which converges
#    fastest, and why does a very large $\gamma$ slow the *generator* down? (Hint: the eigenvalues.)

# %%
print(f"chapter 07 ran in {time.perf_counter() - T0:.1f} s ({'quick' if QUICK else 'full'} mode)")
