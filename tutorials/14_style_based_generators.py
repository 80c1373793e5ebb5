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
# # Chapter 14 — Style-based generators: StyleGAN in miniature
#
# DCGAN (chapter 08) feeds the noise $z$ in at the bottom and lets it flow up through every layer. StyleGAN
# (Karras, Laine & Aila, 2019) and StyleGAN2 (Karras et al., 2020) turn the generator inside out:
#
# - a **mapping network** $f: z \mapsto w$ (8 fully-connected layers) turns the noise into a *style* $w$;
# - the **synthesis network** starts from a learned constant $4 \times 4$ input, and every convolution is
#   *modulated* by its own affine map of $w$: the style says how much of each input channel to use;
# - **per-pixel noise**, scaled by a learned strength, supplies stochastic detail (exact stroke texture)
#   that the style need not encode;
# - every resolution adds its own image (**toRGB**) to an upsampled sum ("skip" generator).
#
# Training adds **style mixing** (two $w$ for one image), **lazy R1** on a **residual discriminator** with
# minibatch standard deviation, and an **exponential moving average** of G's weights that every figure is
# drawn from. Sampling adds **truncation**: $w' = \bar w + \psi (w - \bar w)$.
#
# Everything is in `minigan/nn/modulated_conv.py` (the convolution), `minigan/gan/equalized.py`,
# `stylegan_g.py`, `stylegan_d.py`, `variants/stylegan.py` (the game on the one loop of chapter 11) and
# `style_eval.py` (path length, truncation, the mixing figure); on the command line
# `minigan train --data mnist --model stylegan`.
#
# **Departures from NVlabs for 28-pixel digits on a CPU** (each also in its file): the synthesis goes
# 4 → 7 → 14 → 28 (so MNIST needs no padding), with 64 / 64 / 32 / 16 feature maps instead of 512;
# upsampling is bilinear and downsampling 2 × 2 averaging instead of FIR filters; the lazy R1 term joins
# that step's D loss instead of a separate optimizer step; the summed image goes through a tanh and the
# toRGB weights start 10 times smaller (section 2 says why).
#
# **Data, honestly.** Only the MNIST *test* split exists in this project's sandbox: training uses its
# 10 000 images, and the evaluation's classifier (chapter 09) holds out 2 000 of them.
#
# **Run it:** `python tutorials/14_style_based_generators.py`; `MINIGAN_QUICK=1` shrinks it to seconds.
# The full version trains for `STEPS` steps at batch 32 (see the last cell for the time on your machine;
# on a 2-core Intel Xeon, no GPU, it is stated in the README's chapter table). Section 8's table comes from
# a `minigan train` run at the DCGAN default's wall-clock budget.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import optim
from minigan.data import mnist_or_strokes
from minigan.gan import Trainer
from minigan.gan.dcgan import count_parameters
from minigan.gan.mnist_run import ImageSampler
from minigan.gan.style_eval import images, mixing_grid, path_length, truncation_sweep
from minigan.gan.stylegan_d import ResidualDiscriminator
from minigan.gan.stylegan_g import StyleGenerator
from minigan.gan.variants.stylegan import StyleGAN2
from minigan.metrics.classifier import load_or_train, stderr_log
from minigan.nn.modulated_conv import modulated_conv2d
from minigan.viz import plot_image_grid

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)
STEPS = 4 if QUICK else 1500
BATCH = 4 if QUICK else 32
SETTINGS = dict(z_dim=8, w_dim=8, mapping_layers=2, width=4) if QUICK else {}
N_EVAL = 100 if QUICK else 1000


def save(fig, name):
    fig.savefig(OUT / name, dpi=110, bbox_inches="tight")
    print(f"saved {OUT / name}")
    if not QUICK:
        plt.show()
    plt.close(fig)


# %% [markdown]
# ## 1. From AdaIN to modulation and demodulation
#
# StyleGAN (2019) applied a style with **AdaIN**: normalise each feature map of each sample, then scale
# and shift it, $\mathrm{AdaIN}(x_i, y) = y_{s,i} \frac{x_i - \mu(x_i)}{\sigma(x_i)} + y_{b,i}$. StyleGAN2
# moves the scale into the convolution's weights. For sample $n$ with style $s_n \in \mathbb R^{I}$ (one
# scale per *input* channel) and weights $w \in \mathbb R^{O \times I \times k \times k}$:
#
# $$w'_{n,o,i,\cdot} = s_{n,i}\, w_{o,i,\cdot} \qquad\text{(modulation)}$$
#
# Let the input activations be independent with unit variance. Output $o$ is a sum over $i$ and the
# kernel window of $w'_{n,o,i,k}\,x_{i,k}$, so its variance is $\sigma_{n,o}^2 = \sum_{i,k} (w'_{n,o,i,k})^2$:
# the style changes the output's scale. Dividing by it,
#
# $$w''_{n,o,i,k} = w'_{n,o,i,k} \Big/ \sqrt{\textstyle\sum_{i,k} (w'_{n,o,i,k})^2 + \epsilon}
# \qquad\text{(demodulation)},$$
#
# brings every output map back to unit variance: statistically what AdaIN's normalisation did, but
# computed from the *weights*, not measured on the feature maps. That is what removes StyleGAN's
# "droplet" artefact. AdaIN normalises each map by its own measured mean and variance, which destroys
# any information in their relative sizes; the 2019 generator learned to smuggle it past the
# normalisation by creating one strong, localised spike in a map, which dominates the map's statistics
# (a blob that shows in the image). With $d$ computed from the weights there are no measured statistics to
# game. Since $s$ scales input channels and $d$ output channels, the per-sample convolution is one
# shared convolution between two cheap scalings, $y = d \odot \mathrm{conv}(x \odot s, w)$:

# %%
rng = np.random.default_rng(0)
x = mg.tensor(rng.standard_normal((4, 16, 24, 24)).astype(np.float32))
w = mg.tensor(rng.standard_normal((8, 16, 3, 3)).astype(np.float32))
s = mg.tensor(rng.uniform(0.2, 5.0, (4, 16)).astype(np.float32))  # four very different styles
for demod in (False, True):
    y = modulated_conv2d(x, w, s, demodulate=demod).numpy()
    stds = y.std(axis=(2, 3))
    print(
        f"demodulate={demod!s:5}: output std per (sample, channel) from {stds.min():.2f} to {stds.max():.2f}"
    )

# %% [markdown]
# The op registry of `tests/ops` checks `modulated_conv2d` against the per-sample definition
# $\mathrm{conv}(x_n, w''_n)$ written as a loop, and checks its first and second derivatives (gradcheck,
# gradgradcheck): R1 and path-length regularisers differentiate through a generator or discriminator twice.
#
# ## 2. The two networks
#
# Every weight of both networks has an **equalised learning rate** (ProGAN): stored as $\mathcal N(0, 1)$
# and multiplied by $c = \text{lr\_mul}/\sqrt{\text{fan\_in}}$ at run time, so Adam's steps (about lr in size
# whatever the gradient's scale) are equally large relative to every layer's weights. The mapping network
# uses lr\_mul = 0.01: it learns a hundred times slower than the synthesis network.
#
# Two choices of this project, not NVlabs' (the `stylegan` model's defaults; section 8 shows what they
# changed): a **tanh on the summed image**, as DCGAN's generator has, and the toRGB weights scaled by
# **0.1 at initialisation**. Most of an MNIST image is background at exactly $-1$. Without the tanh the
# generator must produce that level as a sum of four upsampled images, every pixel of it, and the
# discriminator has an easy cue while it cannot: here that game collapsed onto one digit within 1 000
# steps in every setting tried. $\tanh$ saturates the background for free, so the updates go to the
# strokes. The 0.1 makes the first images small (std about 0.3 instead of 2.8: four unit-variance toRGB
# outputs summed), so the first hundreds of steps are not spent shrinking them.

# %%
images_u8, labels, source = mnist_or_strokes(
    "test", QUICK, 2100, data_dir=os.environ.get("MINIGAN_MNIST_DIR")
)
print(source, images_u8.shape)
data = ImageSampler(images_u8, labels, "mnist", "test")
mg.manual_seed(0)
G = StyleGenerator(**SETTINGS, tanh=True, rgb_init=0.1)  # the stylegan model's defaults (above)
D = ResidualDiscriminator(1, SETTINGS.get("width", 16))
print(f"mapping {count_parameters(G.G.mapping):,} + synthesis {count_parameters(G.G.synthesis):,} parameters; "
      f"D {count_parameters(D):,}; {G.num_ws} styles per image")  # fmt: skip
print(G.G.synthesis.convs[1])

# %% [markdown]
# ## 3. Training: style mixing, lazy R1 and the moving average
#
# The losses are chapter 06's non-saturating pair. Around them: with probability 0.9 a second noise
# $z_2$ takes over the styles from a random layer on (**style mixing**: no layer may count on its
# neighbours sharing its $w$); R1 ($\frac\gamma2 \mathbb E\lVert\nabla_x D(x)\rVert^2$, chapter 10) is
# evaluated every 16th step only, with weight $16\gamma$ (**lazy regularisation**: the penalty changes
# slowly, so one evaluation in 16 does the work of 16 at a sixteenth of the double backward); and after each
# step $G_{ema} \leftarrow \beta G_{ema} + (1-\beta) G$ with a half-life of 10 000 images. The variant
# (`variants/stylegan.py`) says what a D step and a G step compute; the loop is the same `Trainer` as for
# every other GAN here; the moving average is its `after_step`. The R1 weight is $\gamma = 1$, the DCGAN
# default's, not NVlabs' 0.01: at the DCGAN's budget on MNIST (7 600 steps) the smaller weight left the
# classes less balanced (class KL 0.019-0.025 over three evaluation seeds against 0.013-0.015 with
# $\gamma = 1$; `minigan/gan/QUALITY.md`; our reading: a smoother D spreads G over the digits more evenly).

# %%
variant = StyleGAN2(gamma=1.0, r1_every=16, mixing=0.9, ema_kimg=10.0, batch_size=BATCH)
trainable = [p for p in G.parameters() if p.requires_grad]  # G_ema has no gradients
opt_G = optim.Adam(trainable, lr=0.002, betas=(0.0, 0.99))
opt_D = optim.Adam(D.parameters(), lr=0.002, betas=(0.0, 0.99))
data_rng = np.random.default_rng(1)
trainer = Trainer(G, D, opt_G, opt_D, lambda n: data.sample(n, data_rng), z_dim=G.z_dim, batch_size=BATCH,
                  variant=variant)  # fmt: skip
t_train = time.perf_counter()
history = []
for step in range(STEPS):
    history.append(trainer.step())
    if (step + 1) % max(1, STEPS // 5) == 0:
        r = history[-1]
        print(f"step {r['step']:5d}  loss_D {r['loss_D']:.3f}  loss_G {r['loss_G']:.3f}  D(x) {r['D_x']:.2f}  "
              f"D(G(z)) {r['D_G_z']:.2f}  R1 {r['penalty']:.4f}")  # fmt: skip
t_train = time.perf_counter() - t_train
print(f"{STEPS} steps in {t_train:.0f} s ({1000 * t_train / STEPS:.0f} ms per step of {BATCH})")

z64 = np.random.default_rng(0).standard_normal((64, G.z_dim)).astype(np.float32)
save(plot_image_grid(images(G, z64), nrow=8, title=f"G_ema after {STEPS} steps"), "14_samples.png")

# %% [markdown]
# ## 4. Noise as stochastic detail
#
# Keep $z$ (hence every style) fixed and redraw only the noise maps: what changes is what the noise
# controls. The per-pixel standard deviation over 32 noise draws shows *where* it acts: along the strokes'
# edges (their exact texture), not the digit's identity or shape.

# %%
G.eval()
z1 = mg.tensor(np.repeat(z64[:4], 32, axis=0))
draws = []
with mg.no_grad():
    for k in range(4):
        rows = z1[32 * k : 32 * (k + 1)]
        noise = [mg.randn(*shape) for shape in G.G.synthesis.noise_shapes(32)]
        draws.append(G(rows, noise=noise).numpy())
draws = np.stack(draws)  # (4 digits, 32 noise draws, 1, 28, 28)
fig, axes = plt.subplots(2, 4, figsize=(8, 4.2))
for k in range(4):
    axes[0, k].imshow(draws[k, 0, 0], cmap="gray", vmin=-1, vmax=1)
    axes[1, k].imshow(draws[k].std(0)[0], cmap="magma")
    axes[0, k].axis("off")
    axes[1, k].axis("off")
axes[0, 0].set_title("one draw", loc="left")
axes[1, 0].set_title("std over 32 noise draws", loc="left")
save(fig, "14_noise_std.png")
strengths = [float(np.abs(c.noise_strength.detach().numpy()).mean()) for c in G.G_ema.module.synthesis.convs]
print("mean |noise strength| per StyleConv (4, 7, 7, 14, 14, 28, 28):", np.round(strengths, 4))

# %% [markdown]
# ## 5. Style mixing
#
# Styles from two sources in one image: the **coarse** styles (the 4 × 4 and 7 × 7 layers) from each row's
# source, the **fine** ones (14 × 14, 28 × 28) from each column's. Coarse styles set the digit and its
# overall pose; fine styles the stroke thickness and texture. `minigan sample RUN --mix --out grid.png`
# draws the same figure for a trained run.

# %%
grid = mixing_grid(G, n_rows=5, n_cols=6, seed=0)
save(plot_image_grid(grid.reshape(-1, *grid.shape[2:]), nrow=grid.shape[1],
                     title="coarse styles from each row, fine styles from each column"), "14_mixing.png")  # fmt: skip

# %% [markdown]
# ## 6. Truncation: quality against variety
#
# The moving average $\bar w$ of all styles seen in training is the "average digit". Pulling each style
# towards it, $w' = \bar w + \psi(w - \bar w)$, leaves the dense middle of the distribution and drops its
# rarer edges: samples look more typical (**precision** rises) and vary less (**recall** falls). At
# $\psi = 0$ every sample is the average image. `minigan sample RUN --truncation 0.7`.

# %%
if QUICK:  # a tiny classifier on the first 1 200 digits, cached under OUT so the real cache is untouched
    config = {"width": 8, "hidden": 32, "epochs": 2, "n_holdout": 400, "lr_max": 5e-3}
    clf = load_or_train(
        images_u8[:1200], labels[:1200], config, cache_dir=OUT / "classifier_cache", log=stderr_log
    )
else:
    clf = load_or_train(images_u8, labels, dataset="mnist", log=stderr_log)
psis = (1.0, 0.9, 0.7, 0.5, 0.3)
sweep = truncation_sweep(G, data, clf, N_EVAL, seed=0, psis=psis)
for psi, r in sweep.items():
    print(f"psi {float(psi):.1f}: precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
          f"FD {r['frechet_distance']:.1f}  class KL {r['class_kl']:.4f}")  # fmt: skip
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
ax.plot([r["recall"] for r in sweep.values()], [r["precision"] for r in sweep.values()], "o-")
for psi, r in sweep.items():
    ax.annotate(
        f"ψ={float(psi):.1f}", (r["recall"], r["precision"]), textcoords="offset points", xytext=(4, 4)
    )
ax.set_xlabel("recall")
ax.set_ylabel("precision")
ax.set_title("the truncation trade-off")
rows = np.concatenate([images(G, z64[:8], psi) for psi in psis])
ax2.imshow(np.concatenate([np.concatenate(list(r[:, 0]), 1) for r in rows.reshape(len(psis), 8, 1, 28, 28)]),
           cmap="gray", vmin=-1, vmax=1)  # fmt: skip
ax2.set_yticks([14 + 28 * i for i in range(len(psis))], [f"ψ={p}" for p in psis])
ax2.set_xticks([])
save(fig, "14_truncation.png")

# %% [markdown]
# ## 7. What the mapping network buys: perceptual path length
#
# $z$ must be Gaussian, but the digits' factors of variation (which digit, slant, thickness) are not
# distributed like a Gaussian: a generator fed $z$ directly must warp that space, and a small step in $z$
# can cross from one digit to another. The mapping network lets $w$ take whatever shape the data needs.
# Karras et al. (2019) measure the warp with the **perceptual path length**: the squared feature-space
# distance between images a small step $\epsilon = 10^{-4}$ apart, divided by $\epsilon^2$,
#
# $$l_Z = \mathbb E\Big[\tfrac{1}{\epsilon^2} d\big(G(\mathrm{slerp}(z_0, z_1; t)), G(\mathrm{slerp}(z_0, z_1; t + \epsilon))\big)\Big],\qquad
#   l_W = \mathbb E\Big[\tfrac{1}{\epsilon^2} d\big(g(\mathrm{lerp}(w_0, w_1; t)), g(\mathrm{lerp}(w_0, w_1; t + \epsilon))\big)\Big],$$
#
# at the path's end points ($t = 0$), with the same noise for both images, $d$ the squared distance in the
# own classifier's features (the paper: LPIPS), the 1 % extremes dropped. A short path in $w$ and a long one
# in $z$ says the mapping network has unwarped the space.

# %%
lengths = {space: path_length(G, clf, space, n=200 if QUICK else 2000, seed=0) for space in ("w", "z")}
for space, r in lengths.items():
    print(
        f"path length in {space}: {r['ppl']:.4g} +- {r['stderr']:.2g}  ({r['n_kept']} of {r['n_pairs']} pairs)"
    )

# %% [markdown]
# ## 8. Results at the DCGAN default's budget, and a collapse that a tanh cured
#
# The goal: at the same wall-clock budget as `minigan train --data mnist` (the DCGAN default) on the same
# machine, FD no worse than the DCGAN's, class KL below 0.02, precision at $\psi = 0.7$ above the DCGAN's,
# and a shorter path in $w$ than in $z$.
#
# The first version of this generator had NVlabs' output: the plain sum of the four toRGB images. In every
# setting tried (optimizer, R1 weight, mapping depth, mixing, noise, demodulation, width, a slower D, even
# DCGAN's discriminator) it collapsed onto one digit within 400-1 750 steps. A test outside the game
# (fit 32 fixed (z, digit) pairs by least squares, `python -m minigan.gan.fit_bench`) showed it learning
# z-specific images far more slowly than DCGAN's G; small toRGB weights at initialisation halved that
# gap, yet the game still collapsed. What changed the game was one line: a tanh on the summed image.
# With it, the same run (same seed, same settings) covered all ten classes at step 1 000 instead of four.
# Our reading of why, not a measurement: MNIST is mostly background at exactly $-1$; a sum of four images
# must hit that level at every pixel, D learns that cue at once, and every fake's gradient then says
# nearly the same thing (clean the background), pulling all samples the same way. With the tanh the
# background saturates for free and D has to judge the strokes. The measured table,
# before and after, from `minigan/gan/QUALITY.md`:

# %%
from minigan.gan.results import section

# the results file minigan/gan/QUALITY.md, read from the installed package
print(section("Style-based generator") or "(no style-based results recorded yet)")

# %% [markdown]
# ## Summary
#
# - Modulation puts the style into the weights; demodulation restores unit output variance from the
#   weights alone, which is why the droplets of AdaIN disappear.
# - The mapping network gives the styles a space of their own; path length measures how much smoother
#   it is than the noise.
# - Noise carries what should vary at random (texture), styles what should be chosen; style mixing shows
#   which layers control what.
# - Truncation trades recall for precision along one knob, $\psi$.
# - The game is the same loop: a variant with mixing and lazy R1, and an `after_step` for the average.
#
# ## Exercises
#
# 1. Train with `--set style_mixing=0`: does the mixing figure still separate digit from stroke style?
# 2. Set `--set mapping_layers=1` and compare the path lengths in $w$ and $z$.
# 3. Replace `modulated_conv2d` by a loop of per-sample convolutions with $w''_n$ (section 1) and time both.

# %%
print(f"chapter run time: {time.perf_counter() - T0:.0f} s ({'quick' if QUICK else 'full'} mode)")
