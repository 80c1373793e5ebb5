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
# # Chapter 12 — Paired translation: pix2pix
#
# Chapter 11's generators were told a class. pix2pix (Isola, Zhu, Zhou & Efros, 2017) tells G a whole
# image: an edge map, a tiny thumbnail, a digit with a hole, and asks for the image it came from. The
# training data are pairs $(a, b)$: input and target. Three such tasks are built here from MNIST digits,
# each input by one public function of `minigan.data.paired`:
#
# | dataset | input $a$ | target $b$ |
# |---|---|---|
# | `mnist-edges` | `edges(b)`: the digit's morphological gradient, thresholded | the digit |
# | `mnist-sr4` | `downsample(b, 4)`: the digit average-pooled to 7 × 7 | the 28 × 28 digit |
# | `mnist-inpaint` | `inpaint_input(b, rng)`: a random 14 × 14 square set to −1, plus its mask | the digit |
#
# Why a GAN at all? Regression with an L1 or L2 loss learns the *average* of the plausible answers, and
# where the input leaves the answer open (what was under the hole?) the average is a blur. A
# discriminator that has seen real digits rejects blur. pix2pix adds exactly that to L1:
#
# $$G^* = \arg\min_G \max_D\; \mathcal L_{cGAN}(G, D) + \lambda\, \mathbb E_{a,b} \lVert b - G(a)\rVert_1,
# \qquad \lambda = 100,$$
#
# with a **U-Net** G (skip connections carry the input's detail past the bottleneck) and a **PatchGAN**
# D that judges (input, output) pairs patch by patch. The game is one more variant of chapter 11's loop
# (`minigan/gan/variants/pix2pix.py`); the command line runs it as
# `minigan train --data mnist-sr4 --model pix2pix`, `minigan eval` scores it and `minigan translate`
# applies it to your own arrays.
#
# **Data, honestly.** Only the MNIST *test* set (10 000 images) exists in this project's sandbox: the
# translators train on 8 000 of its digits and every figure is measured on the other 2 000 (the own
# classifier's hold-out, which neither network ever saw).
#
# **Run it:** `python tutorials/12_paired_translation.py`; `MINIGAN_QUICK=1` shrinks it to seconds (tiny
# networks, a few steps, synthetic strokes when no MNIST files are found). The full version trains two
# models on `mnist-inpaint` for `STEPS = 600` steps each (batch 32) and evaluates them on 1 000 held-out
# digits: 531 s on a 2-core Intel Xeon, no GPU, with a training job on the other core (the last cell
# prints your time). Section 7's table comes from 3 000-step `minigan train` runs.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import inspect
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import optim
from minigan.data import mnist_or_strokes, paired
from minigan.gan import Trainer
from minigan.gan.dcgan import count_parameters, dcgan_init_
from minigan.gan.paired_run import PairedData, baseline, translate_batches
from minigan.gan.patchgan import PairDiscriminator, patch_discriminator, receptive_field
from minigan.gan.unet import UNetGenerator
from minigan.gan.variants.pix2pix import Pix2Pix
from minigan.metrics.classifier import load_or_train, stderr_log
from minigan.metrics.similarity import psnr, ssim
from minigan.ops.indexing import cat
from minigan.viz import plot_image_rows

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)
STEPS = 3 if QUICK else 600  # per model
BATCH = 4 if QUICK else 32
WIDTH, D_WIDTH = (4, 4) if QUICK else (32, 64)
N_EVAL = 100 if QUICK else 1000
SPLIT = "test"


def save(fig, name):
    fig.savefig(OUT / name, dpi=110, bbox_inches="tight")
    print(f"saved {OUT / name}")
    if not QUICK:
        plt.show()
    plt.close(fig)


def show_rows(rows, labels, name, title):
    """Labelled rows of images (``viz.plot_image_rows``), saved under OUT."""
    save(plot_image_rows(rows, labels, title), name)


# %% [markdown]
# ## 1. Three paired tasks
#
# Each input is computed from the target by a documented function, so anyone can rebuild the same pairs.
# The inpainting input has two channels: the damaged digit and the mask (1 inside the hole, −1 outside),
# so G knows *where* it must invent. The hole's position is drawn from the data generator the trainer
# checkpoints, so a resumed run sees the same holes.

# %%
# in quick mode without MNIST files: synthetic strokes, enough of them for the 2 000-image hold-out
images, labels, source = mnist_or_strokes(SPLIT, QUICK, 2100, data_dir=os.environ.get("MINIGAN_MNIST_DIR"))
tasks = {t: PairedData(images, labels, t, f"mnist-{t}", SPLIT) for t in ("edges", "sr4", "inpaint")}
print(
    source, "->", {t: (len(d.train_idx), len(d.holdout_idx)) for t, d in tasks.items()}, "(train, held out)"
)
rows, names = [], []
for t, d in tasks.items():
    a, b, y = d.held_out(8)
    print(f"{t:>8}: input {a.shape[1:]} -> target {b.shape[1:]}")
    rows.append(a[:, :1])
    names.append(t)
rows.append(b)
names.append("target")
show_rows(rows, names, "12_tasks.png", "inputs of the three tasks and their target")
print(inspect.getsource(paired.edges).split('"""')[1].strip().splitlines()[0])

# %% [markdown]
# ## 2. The trivial baselines
#
# A translator is worth something only against what needs no learning: **bicubic** upsampling for the
# 7 × 7 thumbnails, the hole **filled with the image's mean**, and for edges the edge map itself. Two
# scores compare an output with its target: PSNR $= 10 \log_{10}(R^2 / \mathrm{MSE})$ with range $R = 2$
# for $[-1, 1]$ images, and SSIM (Wang et al., 2004: local means, variances and covariance in 11 × 11
# Gaussian windows). A third asks whether the *digit* survived: **label preservation**, the own classifier's
# accuracy on the outputs, the source digits' labels being known. The classifier reads 99 % of the real
# held-out digits correctly; on bicubic thumbnails it is right only about half the time.

# %%
if QUICK:  # a tiny classifier on the first 1 200 digits, cached under OUT so the real cache is untouched
    config = {"width": 8, "hidden": 32, "epochs": 2, "n_holdout": 400, "lr_max": 5e-3}
    clf = load_or_train(
        images[:1200], labels[:1200], config, cache_dir=OUT / "classifier_cache", log=stderr_log
    )
else:
    clf = load_or_train(images, labels, dataset="mnist", log=stderr_log)


def scores(x, b, y):
    return {"PSNR": float(psnr(x, b).mean()), "SSIM": float(ssim(x, b).mean()), "labels": clf.score(x, y)}


held = {t: d.held_out(N_EVAL) for t, d in tasks.items()}
for t, (a, b, y) in held.items():
    s = scores(baseline(t, a), b, y)
    print(f"{t:>8} baseline: PSNR {s['PSNR']:5.2f} dB, SSIM {s['SSIM']:.3f}, label preservation {100 * s['labels']:.1f} %"
          f"   (targets: {100 * clf.score(b, y):.1f} %)")  # fmt: skip

# %% [markdown]
# ## 3. The U-Net
#
# An encoder of stride-2 convolutions halves the side five times, 32 → 1 (28 × 28 digits are padded with
# the background value to 32 first, and cropped back at the end); a decoder of transposed convolutions
# doubles it back. A plain encoder-decoder would force everything through the 1 × 1 bottleneck. The
# U-Net joins each decoder stage with the encoder's features of the same side (the *skips*), so the
# positions of the strokes the input already shows go straight across. Dropout on two decoder stages is
# G's only noise, as in the paper (no $z$: the authors found G learned to ignore it).

# %%
G_demo = UNetGenerator(2, 1, width=WIDTH, max_width=8 * WIDTH)
print(G_demo.down[1], G_demo.up[1], sep="\n")
print(f"U-Net parameters: {count_parameters(G_demo):,}")
print(inspect.getsource(UNetGenerator.forward))

# %% [markdown]
# ## 4. The PatchGAN and its receptive field
#
# D outputs a *map* of logits, one per patch. What a logit sees follows from the convolutions alone:
# walking back from one output pixel, a layer of kernel $k$ and stride $s$ turns a field of $r$ pixels into
# $(r - 1)s + k$. For kernels 4 and strides (2, 1, 1), $1 \to 4 \to 7 \to 16$: a 16 × 16 patch. The
# papers' "70 × 70 PatchGAN" is the same recipe with two more stride-2 layers. `receptive_field` computes
# the formula; a gradient probe (which input pixels change one output logit?) confirms it.

# %%
for n_layers in (1, 2, 3):
    D_probe = patch_discriminator(1, width=2, n_layers=n_layers, norm=None)
    x = mg.randn(1, 1, 96, 96, requires_grad=True)
    out = D_probe(x)
    i = out.shape[2] // 2
    out[0, 0, i, i].backward()
    rows_, cols_ = np.nonzero(np.abs(x.grad.numpy()[0, 0]) > 0)
    probed = rows_.max() - rows_.min() + 1
    print(f"n_layers {n_layers}: formula {receptive_field(D_probe)} px, probe {probed} px, "
          f"{out.shape[2]} x {out.shape[3]} patches on 96 x 96")  # fmt: skip
    assert probed == receptive_field(D_probe)
# on 28 x 28 digits minigan uses n_layers = 1: 16 x 16 patches, a 12 x 12 map of logits

# %% [markdown]
# ## 5. L1 alone against pix2pix
#
# Two models on `mnist-inpaint`, the task with the most freedom: the same U-Net trained on
# $100\,\lVert b - G(a)\rVert_1$ alone (the model `l1`), and pix2pix, which adds the adversarial term.
# Here are the variant's two moves: D sees (input, target) against (input, output); G pays for both
# being told apart and for its L1 distance. As in the official code G translates each batch once, and
# the G step back-propagates through the same fake the D step used as a constant.

# %%
print(inspect.getsource(Pix2Pix.d_loss))
print(inspect.getsource(Pix2Pix.g_loss))

data = tasks["inpaint"]
pairs = data.pairs(data.train_idx)


def make_trainer(lambda_gan, seed=0):
    mg.manual_seed(seed)
    G = dcgan_init_(UNetGenerator(2, 1, width=WIDTH, max_width=8 * WIDTH))
    D = dcgan_init_(PairDiscriminator(2, 1, width=D_WIDTH, n_layers=1))
    rng = np.random.default_rng([seed, 1])
    opt_G = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return Trainer(G, D, opt_G, opt_D, lambda n: pairs.sample(n, rng), z_dim=0, batch_size=BATCH,
                   variant=Pix2Pix(100.0, lambda_gan))  # fmt: skip


trainers = {"l1": make_trainer(0.0), "pix2pix": make_trainer(1.0)}
history = {}
for name, t in trainers.items():
    t0 = time.perf_counter()
    history[name] = [t.step() for _ in range(STEPS)]
    print(f"{name}: {STEPS} steps in {time.perf_counter() - t0:.0f} s; last L1 {history[name][-1]['l1']:.3f}, "
          f"D(x) {history[name][-1]['D_x']:.2f}, D(G(a)) {history[name][-1]['D_G_z']:.2f}")  # fmt: skip

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for name, h in history.items():
    axes[0].plot([r["l1"] for r in h], label=name)
    axes[1].plot([r["D_G_z"] for r in h], label=name)
axes[0].set_title("L1 distance to the target (training batches)")
axes[1].set_title("D(G(a)): how real D finds the outputs")
for ax in axes:
    ax.set_xlabel("step")
    ax.legend()
save(fig, "12_training.png")

# %% [markdown]
# Both models lower L1; only pix2pix is pushed to make its outputs look real to D. With L1 alone, D still
# trains (it is simply ignored by G), and its $D(G(a))$ shows how easily a blurred fill is spotted.
#
# The outputs on held-out digits, and two numbers for blur: PSNR and SSIM reward closeness to the one
# true answer (so the mean, which L1 learns, scores well on them), while the share of **mid-grey pixels
# inside the hole** (values in $(-0.5, 0.5)$; real digits are nearly black or white) shows blur directly.

# %%
a, b, y = held["inpaint"]
outputs = {name: translate_batches(t.G, a) for name, t in trainers.items()}
hole = a[:, 1:] > 0


def mid_grey(x):
    return float((np.abs(x[hole]) < 0.5).mean())


print(f"{'':>9} {'PSNR':>6} {'SSIM':>6} {'labels':>7} {'mid-grey in hole':>17}")
for name, x in {"mean fill": baseline("inpaint", a), **outputs, "target": b}.items():
    s = scores(x, b, y)
    print(f"{name:>9} {s['PSNR']:6.2f} {s['SSIM']:6.3f} {100 * s['labels']:6.1f}% {100 * mid_grey(x):16.1f}%")
show_rows([a[:10, :1], outputs["l1"][:10], outputs["pix2pix"][:10], b[:10]],
          ["input", "L1 only", "pix2pix", "target"], "12_l1_vs_pix2pix.png",
          f"inpainting a 14 x 14 hole, held-out digits ({STEPS} steps each)")  # fmt: skip

# %% [markdown]
# ## 6. What the skips carry
#
# Cut the U-Net in two ways at test time: zero the bottleneck (only the skips remain), or zero the skips
# (only the bottleneck remains), and look at what each half alone still draws.


# %%
def unet_forward(G, a, skips=True, bottleneck=True):
    """G's forward pass (``UNetGenerator.forward``) with the skips or the bottleneck zeroed."""
    e = [G.pad_input(G.up_input(a))]
    for stage in G.down:
        e.append(stage(e[-1]))
    u = G.up[0](e[-1] if bottleneck else e[-1] * 0)
    for j, stage in enumerate(G.up[1:], start=1):
        skip = e[G.depth - j]
        u = stage(cat([skip if skips else skip * 0, u], 1))
    return G.crop(u)


G = trainers["pix2pix"].G
G.eval()
with mg.no_grad():
    a_t = mg.tensor(a[:10])
    cuts = {c: unet_forward(G, a_t, **kw).numpy() for c, kw in
            {"both": {}, "skips only": {"bottleneck": False}, "bottleneck only": {"skips": False}}.items()}  # fmt: skip
for c, x in cuts.items():
    print(f"{c:>16}: L1 to the target {np.abs(x - b[:10]).mean():.3f}")
show_rows([a[:10, :1], *cuts.values()], ["input", *cuts], "12_skips.png", "the trained pix2pix G, cut")

# %% [markdown]
# In the full run (600 steps) the skips carry nearly everything: zeroing the bottleneck left the outputs
# all but unchanged (L1 0.122 against 0.124 uncut), while zeroing the skips left only a grey ghost
# (L1 0.94), though a ghost of the *right* digit, filled hole included. The 1 x 1 bottleneck does know
# which digit it is looking at, but the decoder has learned to draw from the skips: on a 32 px input
# the 2 x 2 and 4 x 4 skip stages already see the whole image.

# %% [markdown]
# ## 7. The measured table
#
# `python -m minigan.gan.quality --data mnist-sr4 mnist-inpaint mnist-edges --recipes pix2pix l1` trains
# every (task, model) with `minigan train` (3 000 steps, batch 32, resumable), evaluates it as
# `minigan eval` does on the 2 000 held-out digits, and writes the table. The results measured for this
# project, with their command and machine, are in `minigan/gan/QUALITY.md`; printed here:

# %%
from minigan.gan.results import section

# the results file minigan/gan/QUALITY.md, read from the installed package
print(section("Paired translation") or "(no paired-translation results recorded yet)")

# %% [markdown]
# How high can inpainting's label preservation go? A G followed by the classifier is itself a classifier
# of the holed input, so it can keep no more of the label than the best classifier of holed inputs reads.
# `python -m minigan.metrics.hole_bound` (`minigan/metrics/hole_bound.py`) trains one: the classifier's
# network on the two-channel inputs themselves, a fresh hole for every image in every batch. On the
# 8 000 / 2 000 split of the test digits it reads 92.7 % of the held-out holed digits right (width 64,
# 60 epochs, 14 min on one CPU core), pix2pix with the own classifier 89.9 %: most of what the hole leaves,
# the model keeps; the rest of the way to 100 % the hole itself took away.

# %% [markdown]
# ## Summary
#
# - pix2pix is a conditional GAN whose condition is an image: G(a) must look real *as a pair* with a.
# - L1 pins the output to the target's low frequencies; the adversarial term, judged patch by patch,
#   rejects the blur L1 settles for where the input leaves the answer open.
# - A PatchGAN's receptive field is $(r - 1)s + k$ layer by layer: 16 px here, 70 px in the paper.
# - The U-Net's skips carry the input's geometry across; the bottleneck carries what the digit is.
#
# ## Exercises
#
# 1. Train `mnist-sr4` with `--set n_layers=2` (a 34 px field, larger than the digit): does D judging the
#    whole image help label preservation or hurt sharpness?
# 2. Replace L1 by L2 in `Pix2Pix.g_loss`: what happens to the mid-grey share inside the hole, and why
#    (the median against the mean of the plausible fills)?
# 3. Keep dropout on at test time (`G.train()` before translating) and translate one input ten times: how
#    much do the outputs vary? The paper found the same: dropout is a weak source of diversity.

# %%
print(f"chapter run time: {time.perf_counter() - T0:.0f} s ({'quick' if QUICK else 'full'} mode)")
