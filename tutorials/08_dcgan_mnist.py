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
# # Chapter 08 — DCGAN on MNIST
#
# Chapters 06 and 07 played the GAN game with small MLPs on points in the plane. Images need more: a
# 28 x 28 digit is a point in $\mathbb R^{784}$, and almost all of that space is noise. Radford, Metz and
# Chintala (2016, "DCGAN") found the architectural recipe that made convolutional GANs train reliably:
#
# * the discriminator downsamples with **strided convolutions** (no pooling), the generator upsamples with
#   **transposed convolutions**;
# * **batch normalisation** in both nets, except at G's output and D's input;
# * ReLU in G with a **tanh** output (images scaled to $[-1, 1]$), **LeakyReLU(0.2)** in D;
# * Adam with learning rate $2\cdot 10^{-4}$ and $\beta_1 = 0.5$; weights drawn from $\mathcal N(0, 0.02)$.
#
# This chapter builds that model with minigan, looks at two of its design choices closely (the
# transposed-convolution **checkerboard** and the role of **batch norm**), trains it, and watches the
# samples and curves as training goes. Chapter 09 then measures the result.
#
# **Data, honestly.** This project's sandbox holds only the MNIST *test* set (10 000 images), so the
# chapter trains on it (`SPLIT = "test"`); with the 60 000-image training set, use `"train"`. minigan never
# swaps splits on its own: asking for a split that is not there is an error that says what *is* there.
#
# **Run it:** `python tutorials/08_dcgan_mnist.py`. `MINIGAN_QUICK=1` shrinks it to seconds (3 steps on
# tiny batches, or synthetic images when no MNIST files are found). Figures go to `tutorials/_out/` (or
# `$MINIGAN_OUT`). MNIST is looked up in `$MINIGAN_MNIST_DIR` if set, else in minigan's data cache
# (`$MINIGAN_DATA/mnist` or `~/.cache/minigan/mnist`, downloaded with md5 checks when missing). The full
# version (`STEPS = 1000` below, for each of two recipes) took 143 s (0.06 s per DCGAN step, 0.08 s with
# R1) on a 2-core x86 CPU (AMD EPYC), no GPU; the last cell prints the time of your run. A longer run
# with the command line (`minigan train --data mnist ...`, section 8: 12 000 steps with R1, 17 minutes on
# the same CPU) is what the README's sample grid `tutorials/figures/dcgan_mnist_samples.png` comes from.

# %%
import os

# G's Linear(100, 6272) is a small matrix product: on a busy 2-core machine OpenBLAS's second thread only
# spins (a DCGAN step took ~1.8x longer with it). Must be set before NumPy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import nn, optim
from minigan.data import MNIST, DatasetNotFoundError
from minigan.data.idx import to_idx_bytes
from minigan.gan import Trainer
from minigan.gan.dcgan import count_parameters, dcgan, dcgan_generator, dcgan_init_
from minigan.gan.mnist_run import ImageSampler
from minigan.nn import functional as F
from minigan.viz import make_grid, plot_image_grid, plot_training_curves

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)
STEPS = 3 if QUICK else 1000  # G updates (one D update each)
BATCH = 16 if QUICK else 64
SPLIT = "test"  # the only MNIST split in this project's sandbox; use "train" if you have it


def save(fig, name):
    """Save a figure under OUT; show it too when running the full chapter."""
    fig.savefig(OUT / name, dpi=110, bbox_inches="tight")
    print(f"saved {OUT / name}")
    if not QUICK:
        plt.show()
    plt.close(fig)


# %% [markdown]
# ## 1. The data
#
# MNIST comes as IDX files: a 4-byte magic number (two zero bytes, an element-type code, the number of
# dimensions), the dimensions as big-endian 32-bit integers, then the raw array. `minigan.data.idx` reads
# and validates them; `minigan.data.MNIST` finds, downloads (md5-checked) and caches them. Here is the
# header of a 10 000 x 28 x 28 uint8 file, as minigan writes it:

# %%
print(to_idx_bytes(np.zeros((10000, 28, 28), np.uint8))[:16].hex(" "))
# 00 00 | 08 = uint8 | 03 = three dimensions | 0x2710 = 10000 | 0x1c = 28 | 0x1c = 28

# %% [markdown]
# Load the split. In quick mode without any MNIST files, fall back to a few synthetic "digits" (strokes at
# random places) so that the rest of the chapter still runs.

# %%
try:
    mnist = MNIST(SPLIT, data_dir=os.environ.get("MINIGAN_MNIST_DIR"), download=False if QUICK else None)
    images, labels, source = mnist.images, mnist.labels, f"MNIST {SPLIT} split"
except DatasetNotFoundError as err:
    if not QUICK:
        raise
    print(f"no MNIST files ({str(err)[:120]}...): using synthetic strokes")
    rng = np.random.default_rng(0)
    images = np.zeros((512, 28, 28), np.uint8)
    for im in images:
        r0, c0, r1, c1 = rng.integers(4, 24, 4)
        for t in np.linspace(0, 1, 40):
            r, c = int(r0 + t * (r1 - r0)), int(c0 + t * (c1 - c0))
            im[r - 1 : r + 2, c - 1 : c + 2] = 255
    labels, source = np.zeros(512, np.int64), "synthetic strokes"

data = ImageSampler(images, labels, "mnist", SPLIT)
x = data.sample(64, np.random.default_rng(0))
print(
    source, images.shape, images.dtype, "-> batches", x.shape, x.dtype, f"in [{x.min():.0f}, {x.max():.0f}]"
)
assert x.shape == (64, 1, 28, 28) and x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1
print("label counts:", np.bincount(labels, minlength=10).tolist())
save(plot_image_grid(x, nrow=8, title=f"real: {source}"), "08_real_digits.png")

# %% [markdown]
# Pixels are scaled from 0..255 to $[-1, 1]$ (`x / 127.5 - 1`) because G ends in tanh: real and fake
# images must live in the same range, or D separates them by brightness alone.
#
# ## 2. The two networks
#
# G maps $z \in \mathbb R^{100}$ to an image by *projecting* it to a 128-channel 7 x 7 map, then doubling
# the resolution twice; D mirrors it, halving twice and ending in one logit.

# %%
mg.manual_seed(0)
G, D = dcgan(image_size=28, channels=1, z_dim=100, width=64)
print(G)
print(D)
print(f"G: {count_parameters(G):,} parameters, D: {count_parameters(D):,}")

h = mg.randn(4, 100)
for layer in G.children():
    h = layer(h)
    print(f"G  {type(layer).__name__:<16} -> {h.shape}")
for layer in D.children():
    h = layer(h)
    print(f"D  {type(layer).__name__:<16} -> {h.shape}")
assert h.shape == (4, 1)

# %% [markdown]
# Why kernel 4, stride 2, padding 1? For a convolution, the output side is
# $\lfloor (n + 2p - k)/s \rfloor + 1 = \lfloor (n - 2)/2 \rfloor + 1 = n/2$; for the transposed one,
# $(n - 1)s - 2p + k = 2n$. Exact halving and doubling, 28 -> 14 -> 7 and back.
#
# ## 3. Transposed convolutions and checkerboards
#
# A transposed convolution with stride $s$ spreads each input pixel over a $k \times k$ patch of the
# output, moving $s$ pixels per input pixel. When $k$ is not a multiple of $s$, the patches overlap
# *unevenly*: some output pixels receive more kernel taps than their neighbours, in a periodic pattern
# (Odena, Dumoulin and Olah, 2016, "Deconvolution and Checkerboard Artifacts"). Count the taps by
# transposing an all-ones input with an all-ones kernel:

# %%
ones_in = mg.ones(1, 1, 6, 6)
taps4 = F.conv_transpose2d(ones_in, mg.ones(1, 1, 4, 4), stride=2, padding=1).numpy()[0, 0]
taps3 = F.conv_transpose2d(ones_in, mg.ones(1, 1, 3, 3), stride=2, padding=1).numpy()[0, 0]
print("k=4, s=2 interior tap counts:", sorted(set(taps4[1:-1, 1:-1].ravel().tolist())))
print("k=3, s=2 interior tap counts:", sorted(set(taps3[1:-1, 1:-1].ravel().tolist())))
assert set(taps4[1:-1, 1:-1].ravel().tolist()) == {4.0}

fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
for ax, taps, title in (
    (axes[0], taps4, "k=4, s=2: even overlap"),
    (axes[1], taps3, "k=3, s=2: checkerboard"),
):
    im = ax.imshow(taps, cmap="viridis")
    ax.set_title(title)
    ax.axis("off")
    fig.colorbar(im, ax=ax, fraction=0.046)
save(fig, "08_checkerboard_taps.png")

# %% [markdown]
# With $k = 4, s = 2$ every interior pixel gets exactly 4 taps, so the *structure* adds no pattern. The
# *weights* still can: the 4 taps a pixel receives depend on its parity (even or odd row and column), so
# a trained G can still paint a 2-pixel-periodic texture if the four sub-kernels disagree. Early DCGAN
# samples often show a faint grid for that reason; it fades as training aligns them. The alternative
# Odena et al. propose, nearest-neighbour upsampling followed by a stride-1 convolution, is exercise 2.
#
# ## 4. What batch normalisation does here
#
# With weights from $\mathcal N(0, 0.02)$, a layer with fan-in $n$ scales the size of its input by about
# $0.02\sqrt n$: 0.2 for the 100-d noise, 0.64 for the 128 x 4 x 4 taps of the first transposed
# convolution. Without normalisation, activations shrink layer by layer and G's initial output is
# almost constant grey: every sample the same, no signal for D to work with. Batch norm rescales every
# channel to zero mean and unit variance over the batch, so each layer starts in the useful range no
# matter the initial scale. Compare G with and without its BatchNorm layers at initialisation:

# %%
mg.manual_seed(1)
G_bn = dcgan_init_(dcgan_generator())
G_plain = dcgan_init_(
    nn.Sequential(
        nn.Linear(100, 128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
    )
)  # fmt: skip
z = mg.randn(64, 100)
stds = {}
for name, net in (("with batch norm", G_bn), ("without", G_plain)):
    h, stds[name] = z, []
    with mg.no_grad():
        for layer in net.children():
            h = layer(h)
            if isinstance(layer, (nn.ReLU, nn.Tanh)):
                stds[name].append(float(h.numpy().std()))
    print(f"{name:>16}: activation std after each ReLU / tanh: {[f'{s:.2g}' for s in stds[name]]}")
assert stds["with batch norm"][-1] > 10 * stds["without"][-1]

fig, ax = plt.subplots(figsize=(5, 3))
for name, s in stds.items():
    ax.semilogy(range(1, len(s) + 1), s, "o-", label=name)
ax.set_xlabel("activation layer of G")
ax.set_ylabel("std over the batch")
ax.set_title("G at initialisation")
ax.legend()
save(fig, "08_batchnorm_scale.png")

# %% [markdown]
# Batch norm has a second effect specific to GANs: in training mode a sample's output depends on the rest
# of its batch. That is why the trainer gives D a batch of real images and a *separate* batch of fakes
# (mixing them would let D's batch statistics tell them apart) and why D's first layer has no batch norm.
# At sampling time, `Trainer.sample` switches G to evaluation mode, where the running averages replace
# batch statistics, so a sample no longer depends on the others drawn with it.
#
# ## 5. Training
#
# The game is chapter 06's `Trainer`, unchanged: per step, one D update on a real and a fake batch with
# the non-saturating loss, then one G update. Only the models and the data are new.

# %%
mg.manual_seed(0)
G, D = dcgan()
opt_G = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_D = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
data_rng = np.random.default_rng(1)
trainer = Trainer(G, D, opt_G, opt_D, lambda n: data.sample(n, data_rng), z_dim=100, batch_size=BATCH)
z_fixed = mg.tensor(np.random.default_rng(2).standard_normal((64, 100)).astype(np.float32))

snap_every = max(1, STEPS // 5)
records, snapshots, t_train = [], [], time.perf_counter()
for _ in range(STEPS):
    rec = trainer.step()
    records.append(rec)
    if rec["step"] % snap_every == 0 or rec["step"] == 1:
        snapshots.append((rec["step"], trainer.sample(64, z=z_fixed).numpy()))
    if rec["step"] % max(1, STEPS // 10) == 0:
        print(f"step {rec['step']:5d}  loss_D {rec['loss_D']:.3f}  loss_G {rec['loss_G']:.3f}  "
              f"D(x) {rec['D_x']:.2f}  D(G(z)) {rec['D_G_z']:.2f}")  # fmt: skip
seconds = time.perf_counter() - t_train
print(f"{STEPS} steps in {seconds:.1f} s ({seconds / STEPS:.2f} s per step, batch {BATCH})")
assert all(np.isfinite(r["loss_D"]) and np.isfinite(r["loss_G"]) for r in records)

# %% [markdown]
# ## 6. Curves and samples over time
#
# GAN losses do not go to zero: each network's loss is the other's gain. What healthy DCGAN training
# looks like on MNIST: D's loss settles around 0.5-1.2, G's around 1-3 with spikes, $D(x)$ stays above
# $D(G(z))$ without either pinned at 0 or 1. A $D(G(z))$ stuck near 0 with G's loss climbing is D winning
# outright (G gets vanishing signal); all samples turning into the same digit is mode collapse (chapter 07).

# %%
save(plot_training_curves(records, smooth=1 if QUICK else 25, reference=False, title="DCGAN on MNIST"),
     "08_curves.png")  # fmt: skip

fig, axes = plt.subplots(1, len(snapshots), figsize=(2.6 * len(snapshots), 2.9))
for ax, (step, xs) in zip(np.atleast_1d(axes), snapshots):
    ax.imshow(make_grid(xs[:36], nrow=6)[:, :, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"step {step}")
    ax.axis("off")
fig.suptitle("the same 36 noise vectors as training goes on")
save(fig, "08_samples_over_time.png")
save(plot_image_grid(snapshots[-1][1], nrow=8, title=f"samples after {STEPS} steps"), "08_samples_final.png")

# %% [markdown]
# ## 7. Balancing the classes: R1 and a decaying learning rate
#
# Samples that look like digits are not yet a good generator: it must also draw every digit about as
# often as the data has it. Chapter 09 measures that with a classifier: the histogram of predicted classes
# over 2 500 samples, and its KL divergence to uniform (the real test set scores 0.009). The plain DCGAN
# recipe above gets there slowly. Its samples over-produce 0, 7 and 9 and under-produce 4 (2.6-5 % of the
# samples instead of 10 %) for thousands of steps: a lasting imbalance, not a wobble.
#
# Chapter 07's remedy for mode dropping on the toy mixtures works here too: the **R1 penalty**
# $\frac{\gamma}{2}\,\mathbb E_x \lVert\nabla_x D(x)\rVert^2$ on real images (Mescheder et al. 2018) keeps D
# from growing steep around the digits it sees, so G is pulled toward all of them rather than chased
# away from the ones D currently rejects, plus a learning rate that falls linearly to 10 % over 12 000
# steps. The table below was measured on the 10 000 MNIST test images, batch 64, seed 0, one CPU thread
# per run (2-core x86, about 100 ms per step for DCGAN, 125 ms with R1), evaluating the 2 500 samples of
# `minigan eval` every 1 000 steps:
#
# | step | DCGAN: class KL | DCGAN: FD | + R1 ($\gamma$ = 1) + lr decay: class KL | FD |
# |---:|---:|---:|---:|---:|
# | 2 000 | 0.107 | 210 | 0.058 | 171 |
# | 4 000 | 0.089 | 162 | 0.024 | 116 |
# | 8 000 | 0.068 | 132 | 0.009 | 88 |
# | 12 000 | 0.054 | 123 | 0.007 | 72 |
# | 16 000 | 0.043 | 100 | 0.010 | 69 |
#
# (Real-vs-real baselines: class KL 0.009, FD 16.) R1 is what does it: a run with the learning-rate decay
# alone was as unbalanced as plain DCGAN at step 3 000 (KL 0.118 vs 0.113; with R1 0.027). The penalty costs
# a second backward pass through D (`create_graph=True`, chapter 01), about 25 % more time per step here.
# `minigan train --data mnist` therefore uses R1 ($\gamma = 1$) and the decay by default; `--penalty none
# --lr-decay-steps 0` gives back the paper's recipe, which the speed benchmark times.
#
# What did *not* help: evaluating an exponential moving average of G's weights
# (`minigan.optim.swa_utils.AveragedModel`, decay 0.999, with `update_bn` to recompute batch norm's
# statistics for the averaged weights) gave class KL 0.068 vs 0.054 at step 12 000 of the plain recipe.
# Averaging smooths oscillations, and this imbalance does not oscillate. The cell trains the R1 recipe for
# as many steps as section 5 and keeps such an average along the way, so you can compare all three. After
# only 1 000 steps the average is blurry: its horizon is about $1/(1 - 0.999) = 1000$ steps, so it still
# remembers the untrained start.

# %%
from minigan.optim.schedule import lr_factor, set_lr
from minigan.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn

mg.manual_seed(0)
G_r1, D_r1 = dcgan()
opt_G = optim.Adam(G_r1.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_D = optim.Adam(D_r1.parameters(), lr=2e-4, betas=(0.5, 0.999))
data_rng = np.random.default_rng(1)
trainer_r1 = Trainer(
    G_r1, D_r1, opt_G, opt_D, lambda n: data.sample(n, data_rng), z_dim=100, batch_size=BATCH,
    penalty="r1", gamma=1.0,
)  # fmt: skip
G_ema = AveragedModel(G_r1, multi_avg_fn=get_ema_multi_avg_fn(0.999))
t_r1 = time.perf_counter()
for step in range(STEPS):
    set_lr([opt_G, opt_D], 2e-4 * lr_factor(step, 12000))  # linear decay to 10 % over 12 000 steps
    rec = trainer_r1.step()
    G_ema.update_parameters(G_r1)
print(f"R1 recipe: {STEPS} steps in {time.perf_counter() - t_r1:.1f} s; last R1 penalty {rec['penalty']:.4f}")
assert np.isfinite(rec["loss_D"]) and np.isfinite(rec["penalty"])

noise = np.random.default_rng(3).standard_normal((20 * BATCH, 100)).astype(np.float32)
update_bn(np.split(noise, 20), G_ema)  # batch statistics of the averaged weights, not of G's
G_ema.eval()
with mg.no_grad():
    x_ema = G_ema(z_fixed).numpy()
G_ema.train()
fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
pictures = [("DCGAN", snapshots[-1][1]), ("+ R1 + lr decay", trainer_r1.sample(64, z=z_fixed).numpy()),
            ("its weight average (EMA)", x_ema)]  # fmt: skip
for ax, (title, xs) in zip(axes, pictures):
    ax.imshow(make_grid(xs[:36], nrow=6)[:, :, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{title}, step {STEPS}", fontsize=9)
    ax.axis("off")
save(fig, "08_recipes.png")

# %% [markdown]
# ## 8. The same from the command line
#
# The `minigan` command runs section 7's recipe (section 5's with `--penalty none --lr-decay-steps 0`), plus checkpoints every `--ckpt-every` steps, a sample grid from
# fixed noise every `--sample-every` steps, the metrics log, `--resume`, and a clear stop (keeping the last
# good checkpoint) if a loss turns NaN:
#
# ```bash
# minigan train --data mnist --split test --out runs/mnist
# minigan eval runs/mnist            # chapter 09's metrics, next to a real-vs-real baseline
# python -m minigan.gan.dcgan_bench  # one training iteration, minigan vs PyTorch on the CPU
# ```
#
# ## Summary
#
# * DCGAN = strided convolutions down, transposed convolutions up, batch norm in between, tanh output,
#   LeakyReLU in D, Adam(2e-4, 0.5), N(0, 0.02) init. For 28 x 28 MNIST: 7 -> 14 -> 28 in G, the mirror in D.
# * Kernel 4 with stride 2 makes every output pixel of a transposed convolution receive the same number of
#   taps, avoiding the structural checkerboard of kernel 3; learned weights can still produce one.
# * Batch norm keeps activations at unit scale despite the tiny initial weights; without it G starts as a
#   constant grey image. Its batch dependence is why real and fake batches go through D separately.
# * Training is chapter 06's game unchanged; only models and data differ.
# * Looking like digits is not enough: the class histogram shows plain DCGAN favouring some digits for
#   thousands of steps. R1 on D (gamma 1) with a decaying learning rate balances them (class KL 0.007 vs
#   0.054 at step 12 000) and lowers FD; averaging G's weights does not.
#
# ## Exercises
#
# 1. Remove the BatchNorm layers from G (keep D's) and train for the same number of steps. What do the
#    first few hundred steps look like? Then try removing D's instead.
# 2. Replace each `ConvTranspose2d(c, c', 4, 2, 1)` in G by nearest-neighbour upsampling (`x` repeated 2 x 2,
#    with `reshape` and `broadcast_to`) followed by `Conv2d(c, c', 3, 1, 1)`. Compare early samples for a grid
#    texture.
# 3. Use the saturating loss (`Trainer(..., loss="minimax")`) and watch `loss_G` and `D(G(z))` in the first
#    100 steps. Relate it to chapter 06's analysis of the gradient of $\log(1 - D(G(z)))$.
# 4. Train with `batch_size=8`. Batch statistics get noisy; what happens to the samples in train mode vs
#    eval mode (`G.train()` / `G.eval()`)?
# 5. Train on Fashion-MNIST (`MNIST(..., dataset="fashion-mnist")`, downloaded into the cache).

# %%
print(f"chapter 08 ran in {time.perf_counter() - T0:.1f} s (quick={QUICK})")
