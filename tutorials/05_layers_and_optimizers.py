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
# # Chapter 05 — Layers and optimizers
#
# A GAN is two networks and two optimizers: a generator $G$ and a discriminator $D$, each a stack of
# layers with weights, each with an optimizer that turns gradients into weight updates. Chapters 01–04
# built the gradients (autograd) and the heavy arithmetic (matmul and convolution kernels). This chapter
# builds the rest of the toolbox that every later chapter trains with:
#
# - `nn.Module`: the container that finds a network's weights, switches it between training and evaluation,
#   and saves it (`state_dict`) under the same names PyTorch uses;
# - the layers a DCGAN is made of — `Linear`, `Conv2d`, `ConvTranspose2d`, `BatchNorm2d`, activations —
#   each derived from its math and checked against it, and how their weights are initialised;
# - the optimizers — SGD, momentum, RMSprop, Adam — derived step by step and raced on two small problems.
#
# Everything is imported from minigan; PyTorch is never needed. But names, arguments, parameter shapes,
# default initialisations, state_dict keys and update formulas are PyTorch's, so what you learn here
# transfers, and weights move between the two as plain arrays.
#
# **Run it:** `python tutorials/05_layers_and_optimizers.py` (or open it as a notebook with jupytext).
# `MINIGAN_QUICK=1` shrinks it to a few seconds. Figures go to `tutorials/_out/` (or `$MINIGAN_OUT`).
# The full version runs in about 15 s on a 2-core x86 CPU, no GPU (measured; the last cell prints the time).

# %%
import inspect
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim
from minigan.nn import init

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)


def save(fig, name):
    """Save a figure under OUT; show it too when running the full chapter."""
    fig.savefig(OUT / name, dpi=120, bbox_inches="tight")
    print(f"saved {OUT / name}")
    if not QUICK:
        plt.show()
    plt.close(fig)


# %% [markdown]
# ## 1. What a Module is
#
# A layer is a function with state: $y = f(x; \theta)$. The state $\theta$ is a set of tensors that
# require gradients — `nn.Parameter`s — and the function is `forward`. A model is a layer made of layers.
# What `nn.Module` adds is bookkeeping: when you assign an attribute, it looks at the value's type and
# files it away —
#
# - a `Parameter` goes into `_parameters` (learned: `parameters()` returns it, an optimizer updates it),
# - a `Module` into `_modules` (a child: models nest),
# - a tensor given to `register_buffer` into `_buffers` (state that is saved but not learned, such as batch
#   norm's running statistics).
#
# Here is the whole mechanism:

# %%
print(inspect.getsource(nn.Module.__setattr__))


# %% [markdown]
# Everything else — `parameters()`, `train()` / `eval()`, `state_dict()`, `to(device)`, `zero_grad()` — is a
# walk over that tree. Let us write a layer from scratch, an affine map with a learned scale and shift
# per feature, and nest it:


# %%
class ScaleShift(nn.Module):
    """y = x * gamma + beta, one (gamma, beta) per feature."""

    def __init__(self, features):
        super().__init__()
        self.gamma = nn.Parameter(np.ones(features, dtype=np.float32))
        self.beta = nn.Parameter(np.zeros(features, dtype=np.float32))
        self.register_buffer("calls", mg.zeros((), dtype=np.int64))  # saved, not learned

    def forward(self, x):
        self.calls.array += 1
        return x * self.gamma + self.beta


model = nn.Sequential(nn.Linear(3, 4), ScaleShift(4), nn.Tanh())
print(model)
for name, p in model.named_parameters():
    print(f"{name:12s} {p.shape}")
print("state_dict keys:", list(model.state_dict()))
y = model(mg.randn(5, 3))
print("output shape:", y.shape)
assert y.shape == (5, 4) and len(list(model.parameters())) == 4

# %% [markdown]
# The state_dict key of every value is its dotted path through the tree: `Sequential` names its children
# `"0"`, `"1"`, …, so the Linear's weight is `"0.weight"` and our buffer is `"1.calls"`. PyTorch builds its
# keys the same way, which is what will let weights move between the two (§6).
#
# ## 2. Linear, from the math
#
# A fully connected layer maps $x \in \mathbb{R}^{N \times d_\text{in}}$ (a batch of $N$ rows) to
#
# $$y = x W^\top + b, \qquad W \in \mathbb{R}^{d_\text{out} \times d_\text{in}},\; b \in \mathbb{R}^{d_\text{out}}.$$
#
# (PyTorch stores $W$ as (out, in), so each *row* of $W$ is one output unit's weights.) Given the gradient
# $g_y = \partial L / \partial y$, the chain rule gives the three backward products
#
# $$g_x = g_y W, \qquad g_W = g_y^\top x, \qquad g_b = \textstyle\sum_n g_{y,n}.$$
#
# minigan's `F.linear` is one `Function` (in `minigan/ops/linear.py`) whose backward is written with the
# same Function, so its derivatives can be differentiated again (the R1 penalty of chapters 07-08 needs that). Check all three
# against the formulas:

# %%
lin = nn.Linear(3, 2)
x = mg.randn(4, 3, requires_grad=True)
y = lin(x)
gy = mg.randn(4, 2)
y.backward(gy)
W, b = lin.weight.array, lin.bias.array
np.testing.assert_allclose(y.array, x.array @ W.T + b, rtol=1e-5)
np.testing.assert_allclose(x.grad.array, gy.array @ W, rtol=1e-5)
np.testing.assert_allclose(lin.weight.grad.array, gy.array.T @ x.array, rtol=1e-5)
np.testing.assert_allclose(lin.bias.grad.array, gy.array.sum(axis=0), rtol=1e-5)
print("y = x W^T + b and its three gradients match the formulas")

# %% [markdown]
# ### Initialisation
#
# Before training, the weights must be set so that signals neither vanish nor explode through the depth of
# the network. If the inputs of a unit are independent with variance $v$ and its $d_\text{in}$ (=
# *fan-in*) weights have variance $s^2$, its output has variance $d_\text{in}\, s^2 v$. Keeping that equal to
# $v$ asks for $s^2 = 1/d_\text{in}$ — and a ReLU, which zeroes half of its input, asks for twice that,
# $s^2 = 2/d_\text{in}$ (He et al., 2015, "Kaiming" initialisation). In `nn.init`:
#
# | function | distribution |
# |---|---|
# | `kaiming_uniform_(w, a)` | $U(-B, B)$, $B = \text{gain}\sqrt{3/\text{fan\_in}}$, $\text{gain} = \sqrt{2/(1+a^2)}$ |
# | `kaiming_normal_(w, a)` | $N(0, \text{gain}^2/\text{fan\_in})$ |
# | `xavier_uniform_(w)` | $U(-B, B)$, $B = \sqrt{6/(\text{fan\_in} + \text{fan\_out})}$ |
#
# PyTorch's (and so minigan's) *default* for `Linear` and `Conv2d` is `kaiming_uniform_(w, a=√5)`, which
# works out to $U(\pm 1/\sqrt{\text{fan\_in}})$: variance $1/(3\,\text{fan\_in})$, a third of the
# variance-preserving value. DCGAN overrides it with $N(0, 0.02^2)$. Watch what each does to the spread of
# activations through 20 Linear+ReLU layers of width 256:


# %%
def activation_stds(init_fn, depth=20, width=256):
    mg.manual_seed(0)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    for layer in layers:
        init_fn(layer)
    h = mg.randn(512, width)
    stds = []
    with mg.no_grad():
        for layer in layers:
            h = F.relu(layer(h))
            stds.append(float(h.array.std()))
    return stds


inits = {
    "PyTorch default: U(±1/√fan_in)": lambda layer: None,
    "kaiming_normal_(relu): N(0, 2/fan_in)": lambda layer: init.kaiming_normal_(
        layer.weight, nonlinearity="relu"
    ),
    "DCGAN: N(0, 0.02²)": lambda layer: init.normal_(layer.weight, 0.0, 0.02),
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for label, fn in inits.items():
    stds = activation_stds(fn)
    ax.semilogy(range(1, 21), stds, "o-", ms=3, label=label)
    print(f"{label:40s} std after layer 1: {stds[0]:.3f}, after layer 20: {stds[-1]:.2e}")
ax.set_xlabel("layer")
ax.set_ylabel("std of activations")
ax.set_title("Initialisation decides whether signals survive depth")
ax.legend(fontsize=8)
save(fig, "05_init_depth.png")

# %% [markdown]
# Only the variance-preserving initialisation keeps the scale. Under the default, the second moment
# shrinks six-fold per ReLU layer (weight variance $1/(3\,\text{fan\_in})$ instead of $2/\text{fan\_in}$)
# until what is left is mostly what the biases add (std about 0.02); with $N(0, 0.02^2)$ the weights are so
# small that the input is lost after the first layer. That is harmless in a shallow DCGAN, whose batch norm
# layers re-standardise the signal after every convolution (§4) — one reason those layers are there.
#
# ## 3. Convolution layers, from the ops
#
# `Conv2d(C_in, C_out, k, stride, padding)` holds a weight of shape $(C_\text{out}, C_\text{in}, k, k)$ and
# computes chapter 04's cross-correlation; its output side is
#
# $$H_\text{out} = \left\lfloor \frac{H + 2p - k}{s} \right\rfloor + 1.$$
#
# `ConvTranspose2d(C_in, C_out, k, stride, padding, output_padding)` holds $(C_\text{in}, C_\text{out}, k, k)$
# and goes the other way, $H_\text{out} = (H - 1)s - 2p + k + \text{output\_padding}$: it is the *gradient*
# of a convolution with respect to its input, used as a layer. Every input pixel scatters a copy of the kernel,
# scaled by its value, into the output, $s$ pixels apart — which is how a generator grows a $7 \times 7$
# feature map into a $28 \times 28$ image. Check the claim: the transposed convolution of $g_y$ is exactly
# what autograd returns for $\partial \langle \mathrm{conv}(x, w), g_y \rangle / \partial x$:

# %%
x = mg.randn(2, 3, 8, 8, requires_grad=True)
w = mg.randn(5, 3, 4, 4)
y = F.conv2d(x, w, stride=2, padding=1)
gy = mg.randn(*y.shape)
(gx,) = mg.autograd.grad(y, [x], gy)
print("conv2d:", x.shape, "->", y.shape, "  conv_transpose2d:", gy.shape, "->", gx.shape)
np.testing.assert_allclose(
    F.conv_transpose2d(gy, w, stride=2, padding=1).array, gx.array, rtol=1e-4, atol=1e-5
)
print("conv_transpose2d(gy, w) == d<conv2d(x, w), gy>/dx")

# %% [markdown]
# The shapes through a DCGAN for 28×28 MNIST images — the generator up-samples noise $z$ with transposed
# convolutions, the discriminator down-samples images with strided ones:

# %%
G = nn.Sequential(
    nn.ConvTranspose2d(100, 128, 7, 1, 0, bias=False),  # 1x1 -> 7x7
    nn.BatchNorm2d(128),
    nn.ReLU(),
    nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),  # 7 -> 14
    nn.BatchNorm2d(64),
    nn.ReLU(),
    nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False),  # 14 -> 28
    nn.Tanh(),
)
D = nn.Sequential(
    nn.Conv2d(1, 64, 4, 2, 1, bias=False),  # 28 -> 14
    nn.LeakyReLU(0.2),
    nn.Conv2d(64, 128, 4, 2, 1, bias=False),  # 14 -> 7
    nn.BatchNorm2d(128),
    nn.LeakyReLU(0.2),
    nn.Flatten(),
    nn.Linear(128 * 7 * 7, 1),
)
h = mg.randn(16, 100, 1, 1)
print(f"{'z':>28s}  {h.shape}")
with mg.no_grad():
    for layer in list(G) + list(D):
        h = layer(h)
        print(f"{type(layer).__name__:>28s}  {h.shape}")
assert h.shape == (16, 1)
for name, net in (("G", G), ("D", D)):
    print(f"{name}: {sum(p.numel() for p in net.parameters()):,} parameters")

# %% [markdown]
# A convolution layer is a set of learned filters. To see one act, give a `Conv2d` two hand-made filters
# through `load_state_dict` — the Sobel operators, which respond to horizontal and vertical edges — and
# apply it to a drawn image:

# %%
sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
edges = nn.Conv2d(1, 2, 3, padding=1, bias=False)
edges.load_state_dict({"weight": np.stack([sobel_x, sobel_x.T])[:, None]})
yy, xx = np.mgrid[-1:1:64j, -1:1:64j]
image = ((xx**2 + yy**2 < 0.5) & ~((np.abs(xx) < 0.15) & (yy > -0.3))).astype(np.float32)
with mg.no_grad():
    response = edges(mg.tensor(image[None, None]))
print("image", image.shape, "-> response", response.shape)
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, img, title in zip(
    axes, [image, response.array[0, 0], response.array[0, 1]], ["input", "Sobel x", "Sobel y"]
):
    ax.imshow(img, cmap="gray" if title == "input" else "RdBu")
    ax.set_title(title)
    ax.axis("off")
save(fig, "05_conv_filters.png")

# %% [markdown]
# ## 4. Batch normalisation: training and evaluation behave differently
#
# `BatchNorm2d(C)` standardises each channel $c$ over the $M = N H W$ values it has in the batch, then
# applies a learned scale and shift:
#
# $$\mu_c = \frac{1}{M}\sum x, \quad \sigma_c^2 = \frac{1}{M}\sum (x - \mu_c)^2, \quad
#   y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c.$$
#
# That is *training* mode, and it makes each sample's output depend on the rest of its batch. To give a
# trained model a deterministic output, the layer keeps running estimates, updated at every training call
# with momentum $m = 0.1$: $\hat\mu \leftarrow (1-m)\hat\mu + m\,\mu$, and the same for $\hat\sigma^2$
# with the *unbiased* batch variance $\sigma^2 M/(M-1)$. In *evaluation* mode (`model.eval()`) the
# layer uses $\hat\mu, \hat\sigma^2$ instead — a fixed affine map per channel.

# %%
mg.manual_seed(0)
bn = nn.BatchNorm2d(3)
true_mean, true_std = np.array([2.0, -1.0, 0.5]), np.array([3.0, 0.5, 1.0])
steps = 30 if QUICK else 100
history = []
for _ in range(steps):
    batch = mg.randn(16, 3, 4, 4) * mg.tensor(true_std.reshape(1, 3, 1, 1)) + mg.tensor(
        true_mean.reshape(1, 3, 1, 1)
    )
    out = bn(batch)
    history.append(bn.running_mean.array.copy())
per_channel = out.array.transpose(1, 0, 2, 3).reshape(3, -1)
print(
    "training-mode output, per channel: mean",
    per_channel.mean(1).round(4),
    " std",
    per_channel.std(1).round(4),
)
print("running mean", bn.running_mean.array.round(3), "(true", true_mean, ")  running var",
      bn.running_var.array.round(3), "(true", true_std**2, ")")  # fmt: skip
print("num_batches_tracked =", int(bn.num_batches_tracked.item()))
assert np.allclose(per_channel.mean(1), 0, atol=1e-4) and np.allclose(per_channel.std(1), 1, atol=1e-2)

fig, ax = plt.subplots(figsize=(6, 3))
history = np.array(history)
for c in range(3):
    ax.plot(history[:, c], color=f"C{c}", label=f"channel {c}")
    ax.axhline(true_mean[c], color=f"C{c}", ls=":", lw=1)
ax.set_xlabel("training call")
ax.set_ylabel("running_mean")
ax.set_title("Running statistics: an exponential moving average (momentum 0.1)")
ax.legend(fontsize=8)
save(fig, "05_running_mean.png")

# %% [markdown]
# The batch dependence in training mode matters for GANs. Feed the same sample with two different batches:

# %%
sample = mg.randn(1, 3, 4, 4)
others_a, others_b = mg.randn(7, 3, 4, 4), mg.randn(7, 3, 4, 4) + 1.0
bn.train()
out_a = bn(mg.cat([sample, others_a]))[0]
out_b = bn(mg.cat([sample, others_b]))[0]
print(
    "training mode: same sample, different batch-mates -> max difference",
    float(np.abs(out_a.array - out_b.array).max()),
)
bn.eval()
out_a = bn(mg.cat([sample, others_a]))[0]
out_b = bn(mg.cat([sample, others_b]))[0]
print(
    "eval mode:     same sample, different batch-mates -> max difference",
    float(np.abs(out_a.array - out_b.array).max()),
)

# %% [markdown]
# A discriminator with batch norm judges each image partly by its batch. DCGAN therefore never mixes real
# and fake images in one batch (separate forward passes for each), and chapter 08 will call `G.eval()`
# when sampling for evaluation.
#
# **Gradients, twice.** The gradient penalties (R1 in chapters 07-08, WGAN-GP) differentiate $D$'s gradient, so batch norm's backward
# must itself be differentiable. Training mode is one fused `Function` whose backward is the textbook
# formula $g_x = \frac{\gamma}{\sqrt{\sigma^2+\epsilon}}\big(g_y - \overline{g_y} - \hat x\, \overline{g_y \hat x}\big)$
# (bars: per-channel means). When the backward is being recorded (`create_graph=True`), $\hat x$ is
# recomputed from $x$ with differentiable ops, so that formula gets differentiated too; otherwise it runs on
# the arrays saved by forward. Fusing is about speed — compare it with the same forward composed from
# `mean`, `-`, `*`, `sqrt` ops, on a DCGAN-sized activation:


# %%
def batch_norm_composed(x, gamma, beta, eps=1e-5):
    mu = x.mean(dim=(0, 2, 3), keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(dim=(0, 2, 3), keepdim=True)
    return xc / mg.sqrt(var + eps) * gamma.reshape(1, -1, 1, 1) + beta.reshape(1, -1, 1, 1)


x = mg.randn(64, 128, 7, 7, requires_grad=True)
gamma, beta = mg.ones(128, requires_grad=True), mg.zeros(128, requires_grad=True)
gy = mg.randn(64, 128, 7, 7)
fused = lambda: F.batch_norm(x, None, None, gamma, beta, training=True)  # noqa: E731
composed = lambda: batch_norm_composed(x, gamma, beta)  # noqa: E731
np.testing.assert_allclose(fused().array, composed().array, atol=1e-4)
reps = 5 if QUICK else 30
timings = {}
for name, fn in (("fused Function", fused), ("composed from ops", composed)):
    fn().backward(gy)  # warm-up
    t = time.perf_counter()
    for _ in range(reps):
        fn().backward(gy)
    timings[name] = (time.perf_counter() - t) / reps * 1e3
    print(f"batch norm (64, 128, 7, 7) float32 forward+backward, {name:18s}: {timings[name]:5.2f} ms")
print(f"speed-up: {timings['composed from ops'] / timings['fused Function']:.1f}x")

# %% [markdown]
# ## 5. Saving and loading: PyTorch's state_dict
#
# `state_dict()` maps each dotted name to a tensor — parameters first, then persistent buffers, then the
# children's, in PyTorch's order and with PyTorch's names. Its values convert losslessly to NumPy, so a
# checkpoint is an `.npz` file (no pickle), and a model can be restored into a fresh instance:

# %%
print(list(D.state_dict())[:6], "...")
path = Path(tempfile.mkdtemp()) / "D.npz"
np.savez(path, **{k: np.asarray(v) for k, v in D.state_dict().items()})
D2 = nn.Sequential(
    nn.Conv2d(1, 64, 4, 2, 1, bias=False),
    nn.LeakyReLU(0.2),
    nn.Conv2d(64, 128, 4, 2, 1, bias=False),
    nn.BatchNorm2d(128),
    nn.LeakyReLU(0.2),
    nn.Flatten(),
    nn.Linear(128 * 7 * 7, 1),
)
with np.load(path) as stored:
    print(D2.load_state_dict(dict(stored)))
images = mg.randn(4, 1, 28, 28)
D.eval()
D2.eval()
np.testing.assert_array_equal(D(images).array, D2(images).array)
print("restored model gives identical outputs")
try:
    D2.load_state_dict({k: v for k, v in D.state_dict().items() if k != "3.running_var"})
except RuntimeError as err:
    print("RuntimeError:", err)

# %% [markdown]
# With PyTorch installed, the same dict goes straight across in either direction:
# `torch_model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in model.state_dict().items()})`
# and `model.load_state_dict(torch_model.state_dict())` (minigan's tests do not need PyTorch; the
# equivalence was checked with it while building this chapter).
#
# ## 6. Optimizers, derived
#
# Training minimises $L(\theta)$ from noisy gradients $g_t = \nabla L(\theta_t)$ on mini-batches. Each
# optimizer is a rule for turning the sequence $g_1, g_2, \dots$ into steps. In PyTorch's formulation
# (which minigan follows to the letter):
#
# **SGD.** $\theta \leftarrow \theta - \eta\, g$. One learning rate for every coordinate: on a narrow
# valley it must be small enough for the steepest direction, and then crawls along the flat one.
#
# **Momentum** (heavy ball). Keep a velocity $b \leftarrow \mu b + g$ and step
# $\theta \leftarrow \theta - \eta\, b$. Along a consistent direction $b \to g/(1-\mu)$ — ten times the
# step for $\mu = 0.9$ — while oscillating components cancel. Nesterov's variant steps with $g + \mu b$.
#
# **RMSprop.** Scale each coordinate by a running RMS of its own gradients:
# $s \leftarrow \alpha s + (1-\alpha) g^2$, $\theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \epsilon)$.
# Steps become roughly $\eta$-sized in every coordinate, however steep or flat.
#
# **Adam.** Momentum and RMS scaling together, with both averages corrected for starting at zero:
#
# $$m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
#   \theta \leftarrow \theta - \eta\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}.$$
#
# Without the corrections the first steps would be shrunk by a factor $1-\beta_1 = 0.1$. With them, the
# first step is $\eta\, g / (|g| + \epsilon) \approx \eta\,\mathrm{sign}(g)$ in every coordinate, whatever the
# gradient's scale. Here is minigan's whole update, whole-array operations on each parameter, in place:

# %%
print(inspect.getsource(optim.Adam._update))
w = nn.Parameter(np.zeros(3, dtype=np.float32))
opt = optim.Adam([w], lr=0.01)
w.grad = mg.tensor([1e-4, -3.0, 250.0])
opt.step()
print("gradient [1e-4, -3, 250] -> first Adam step", w.array)
assert np.allclose(np.abs(w.array), 0.01, rtol=1e-3)

# %% [markdown]
# GANs use Adam almost everywhere, with a shorter memory for the first moment — $\beta_1 = 0.5$ in DCGAN,
# $\beta_1 = 0$ in WGAN-GP — because the game moves the target under each player's feet and stale momentum
# points the wrong way (chapter 07 shows the rotation).
#
# ### A race on the Rosenbrock valley
#
# $f(x, y) = (1 - x)^2 + 100 (y - x^2)^2$ has its minimum at $(1, 1)$ at the bottom of a curved, narrow
# valley: steep across, nearly flat along — the shape that makes plain gradient descent crawl.


# %%
def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


optimizers = {
    "SGD lr=1e-3": lambda ps: optim.SGD(ps, lr=1e-3),
    "SGD+momentum 0.9 lr=1e-3": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
    "RMSprop lr=1e-2": lambda ps: optim.RMSprop(ps, lr=1e-2),
    "Adam lr=5e-2": lambda ps: optim.Adam(ps, lr=5e-2),
}
n_steps = 300 if QUICK else 2000
paths, values = {}, {}
for name, make in optimizers.items():
    p = nn.Parameter(np.array([-1.5, 2.0]))  # float64: a 2-D toy, no need to save memory
    opt = make([p])
    path, vals = [p.array.copy()], []
    for _ in range(n_steps):
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        opt.step()
        path.append(p.array.copy())
        vals.append(loss.item())
    paths[name], values[name] = np.array(path), np.array(vals)
    print(
        f"{name:26s} after {n_steps} steps: (x, y) = ({p.array[0]:+.3f}, {p.array[1]:+.3f}), f = {vals[-1]:.2e}"
    )

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
gx, gyy = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
ax1.contour(
    gx,
    gyy,
    (1 - gx) ** 2 + 100 * (gyy - gx**2) ** 2,
    levels=np.logspace(-1, 3.5, 15),
    colors="0.7",
    linewidths=0.6,
)
for name, path in paths.items():
    ax1.plot(path[:, 0], path[:, 1], lw=1.2, label=name)
ax1.plot(1, 1, "k*", ms=10)
ax1.set_title("paths from (-1.5, 2)")
ax1.legend(fontsize=7)
for name, vals in values.items():
    ax2.semilogy(vals, label=name)
ax2.set_xlabel("step")
ax2.set_ylabel("f(x, y)")
ax2.set_title("loss")
save(fig, "05_rosenbrock.png")

# %% [markdown]
# Plain SGD's learning rate is capped by the steep direction across the valley (a larger one overshoots
# and diverges), so it crawls along the flat floor. Momentum accumulates speed along the floor while the
# across-valley oscillations cancel. RMSprop's per-coordinate scaling makes every step about `lr` long,
# however small the gradient: quick to reach the valley, but with no momentum it ends up hovering (the
# spikes) where a step of that size is too long for the distance left. Adam combines both, and its
# bias-corrected moments settle as the gradients become consistent.

# %% [markdown]
# ### Training a small classifier
#
# Now a real network on data: a 2-layer MLP separating two interleaved half-moons, with mini-batches of 64
# and the logistic loss `F.binary_cross_entropy_with_logits`. The training loop is the pattern every later
# chapter repeats — `zero_grad`, forward, loss, `backward`, `step`:

# %%
rng = np.random.default_rng(0)


def two_moons(n):
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    points = np.where(label[:, None] == 0, upper, lower) + 0.1 * rng.standard_normal((n, 2))
    return points.astype(np.float32), label.astype(np.float32)


X, Y = two_moons(1024)
train_steps = 150 if QUICK else 1000
recipes = {
    "SGD lr=0.1": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD+momentum lr=0.1": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "RMSprop lr=1e-3": lambda ps: optim.RMSprop(ps, lr=1e-3),
    "Adam lr=1e-2": lambda ps: optim.Adam(ps, lr=1e-2),
}
curves, nets = {}, {}
for name, make in recipes.items():
    mg.manual_seed(0)  # same initial weights and batches for every optimizer
    batches = np.random.default_rng(1)
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = make(net.parameters())
    losses = []
    for _ in range(train_steps):
        idx = batches.integers(0, len(X), 64)
        opt.zero_grad()
        logits = net(mg.tensor(X[idx])).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(logits, mg.tensor(Y[idx]))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with mg.no_grad():
        accuracy = float(((net(mg.tensor(X)).array.reshape(-1) > 0) == (Y > 0.5)).mean())
    curves[name], nets[name] = np.array(losses), net
    print(f"{name:22s} final loss (last 20 batches) {np.mean(losses[-20:]):.4f}   accuracy {accuracy:.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
smooth = lambda v, k=20: np.convolve(v, np.ones(k) / k, mode="valid")  # noqa: E731
for name, losses in curves.items():
    ax1.semilogy(smooth(losses), label=name)
ax1.set_xlabel("step")
ax1.set_ylabel("training loss (moving average of 20)")
ax1.set_title("two moons, 2-layer MLP, batch 64")
ax1.legend(fontsize=8)
gx, gyy = np.meshgrid(np.linspace(-1.5, 2.5, 150), np.linspace(-1, 1.5, 150))
with mg.no_grad():
    grid = mg.tensor(np.stack([gx.ravel(), gyy.ravel()], 1).astype(np.float32))
    z = nets["Adam lr=1e-2"](grid).array.reshape(gx.shape)
ax2.contourf(gx, gyy, z, levels=[-1e9, 0, 1e9], colors=["#cde", "#fdc"])
ax2.scatter(X[:400, 0], X[:400, 1], c=Y[:400], cmap="coolwarm", s=5)
ax2.set_title("Adam's decision boundary")
save(fig, "05_optimizers_moons.png")

# %% [markdown]
# Momentum and Adam reach a low loss several times faster than plain SGD in the same number of steps;
# RMSprop with its small step is steady but slow here. None of this is a ranking —
# each learning rate above was picked by hand for its optimizer — but it is the everyday picture, and why
# Adam is the default in the GAN chapters.
#
# ### Optimizer state is part of a checkpoint
#
# Momentum and Adam's moments are state: resuming training from the weights alone would restart them at
# zero. `optimizer.state_dict()` is made of numbers, lists and NumPy arrays (PyTorch's layout,
# `{"state": {i: {...}}, "param_groups": [...]}`), and loading it makes training continue bit for bit:


# %%
def make_run():
    mg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    return net, optim.Adam(net.parameters(), lr=1e-2, betas=(0.5, 0.999))


def train(net, opt, steps, seed):
    batches = np.random.default_rng(seed)
    for _ in range(steps):
        idx = batches.integers(0, len(X), 64)
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(net(mg.tensor(X[idx])).reshape(-1), mg.tensor(Y[idx])).backward()
        opt.step()


net_a, opt_a = make_run()
train(net_a, opt_a, 20, seed=1)
checkpoint = {"model": {k: np.array(v) for k, v in net_a.state_dict().items()}, "optim": opt_a.state_dict()}
print(
    "optimizer state of parameter 0:",
    {k: getattr(v, "shape", v) for k, v in checkpoint["optim"]["state"][0].items()},
)
train(net_a, opt_a, 20, seed=2)

net_b, opt_b = make_run()
net_b.load_state_dict(checkpoint["model"])
opt_b.load_state_dict(checkpoint["optim"])
train(net_b, opt_b, 20, seed=2)
same = all(np.array_equal(p.array, q.array) for p, q in zip(net_a.parameters(), net_b.parameters()))
print("resumed run identical to the uninterrupted one:", same)
assert same

# %% [markdown]
# ## 7. The layers of image-to-image GANs
#
# A DCGAN needs only the layers above. Image-to-image GANs (pix2pix, CycleGAN) and the "resize, then
# convolve" generators that avoid the checkerboards of chapter 08 add four more, all in `minigan.nn`
# under PyTorch's names:
#
# - **padding** (`ReflectionPad2d`, `ReplicationPad2d`, `ZeroPad2d`): reflection pads the border with a
#   mirror of the image, so a convolution at the edge sees image-like values instead of a frame of zeros.
#   Its gradient *folds* the border back onto the pixels it copied;
# - **pooling** (`MaxPool2d`, `AvgPool2d`): the maximum or mean of each window; max pooling's gradient
#   goes to the (first) maximum only;
# - **upsampling** (`Upsample(scale_factor=2, mode="nearest" | "bilinear")`): nearest copies each pixel
#   into a 2 x 2 block; bilinear interpolates, with PyTorch's source index
#   $\mathrm{src}(j) = \max\big((j + \tfrac12)\,\tfrac{n_{in}}{n_{out}} - \tfrac12,\ 0\big)$ (align_corners=False);
# - **instance norm** (`InstanceNorm2d`): batch norm's formula applied to each image and channel on its
#   own, so one sample's output never depends on its batch-mates (a style-transfer staple).
#
# Interpolation and average pooling are *separable linear maps*: $y = A_h\,x\,A_w^\top$ with one small
# matrix per axis (`minigan/ops/separable.py`), so their gradient is $A_h^\top g_y A_w$ and every higher
# derivative is the same op again. A digit-like 12 x 12 image shows all of them:

# %%
digit = np.zeros((12, 12), dtype=np.float32)  # a "7": a bar and a diagonal stroke
digit[2, 3:10] = 1.0
for r in range(3, 11):
    digit[r, 9 - (r - 3) // 2] = 1.0
img = mg.tensor(digit[None, None])  # (N, C, H, W) = (1, 1, 12, 12)

layers = {
    "input": nn.Identity(),
    "ZeroPad2d(3)": nn.ZeroPad2d(3),
    "ReflectionPad2d(3)": nn.ReflectionPad2d(3),
    "ReplicationPad2d(3)": nn.ReplicationPad2d(3),
    "MaxPool2d(2)": nn.MaxPool2d(2),
    "AvgPool2d(2)": nn.AvgPool2d(2),
    "Upsample nearest x2": nn.Upsample(scale_factor=2, mode="nearest"),
    "Upsample bilinear x2": nn.Upsample(scale_factor=2, mode="bilinear"),
    "InstanceNorm2d(1)": nn.InstanceNorm2d(1),
}
outputs = {name: layer(img) for name, layer in layers.items()}
for name, y in outputs.items():
    print(f"{name:22s} {tuple(img.shape)} -> {tuple(y.shape)}")
assert outputs["ReflectionPad2d(3)"].shape == (1, 1, 18, 18) and outputs["MaxPool2d(2)"].shape == (1, 1, 6, 6)
assert outputs["Upsample bilinear x2"].shape == (1, 1, 24, 24)

fig, axes = plt.subplots(1, len(outputs), figsize=(2.0 * len(outputs), 2.3))
for ax, (name, y) in zip(axes, outputs.items()):
    ax.imshow(y.array[0, 0], cmap="gray")
    ax.set_title(name, fontsize=7)
    ax.axis("off")
save(fig, "05_image_layers.png")

# %% [markdown]
# Three checks, each against the math rather than against another implementation: bilinear upsampling is
# the matrix product $A_h x A_w^\top$; the reflection pad's gradient counts how often each pixel was
# copied (an edge-adjacent pixel is copied once more per reflected border); instance norm leaves every
# image and channel with mean 0 and variance $\sigma^2 / (\sigma^2 + \epsilon) \approx 1$.

# %%
from minigan.ops.interpolate import linear_matrix  # noqa: E402 - shown here, where it is explained

A = linear_matrix(12, 24, align_corners=False)  # (24, 12): two non-zero weights per row, summing to 1
print("rows of A sum to 1:", np.allclose(A.sum(axis=1), 1.0), "| A[:4, :3] =\n", A[:4, :3].round(3))
assert np.allclose(A @ digit @ A.T, outputs["Upsample bilinear x2"].array[0, 0], atol=1e-6)

row = mg.tensor([[[[1.0, 2.0, 3.0, 4.0]]]], requires_grad=True)
nn.ReflectionPad2d((2, 2, 0, 0))(row).sum().backward()  # [3 2 | 1 2 3 4 | 3 2]
print("ReflectionPad2d((2, 2, 0, 0)) of [1 2 3 4]: gradient of the sum =", row.grad.array[0, 0, 0])
assert row.grad.array.tolist() == [[[[1.0, 3.0, 3.0, 1.0]]]]

batch = mg.randn(4, 3, 8, 8) * 5 + 2
normed = nn.InstanceNorm2d(3)(batch).array
print(
    "instance norm: max |mean| per (n, c) =",
    f"{np.abs(normed.mean(axis=(2, 3))).max():.1e},",
    "variance range",
    normed.var(axis=(2, 3)).min().round(4),
    "-",
    normed.var(axis=(2, 3)).max().round(4),
)
assert np.abs(normed.mean(axis=(2, 3))).max() < 1e-5

# %% [markdown]
# ## Summary
#
# - A `Module` files attributes by type — `Parameter`, child `Module`, buffer — and every recursive method
#   (`parameters`, `train`/`eval`, `state_dict`, `to`, `zero_grad`) walks that tree. state_dict keys are
#   dotted paths ("0.weight", "1.running_mean"), the same as PyTorch's.
# - `Linear`: $y = xW^\top + b$, backward $g_x = g_yW$, $g_W = g_y^\top x$, $g_b = \sum g_y$. Default
#   initialisation $U(\pm 1/\sqrt{\text{fan\_in}})$; variance-preserving (Kaiming) keeps deep ReLU stacks alive.
# - `Conv2d` / `ConvTranspose2d` wrap chapter 04's ops; the transposed convolution is the convolution's
#   input-gradient, used as an up-sampling layer.
# - `BatchNorm`: batch statistics in training mode (outputs depend on batch-mates), running statistics in
#   evaluation mode. Its fused backward is twice differentiable and faster than the composed ops.
# - SGD, momentum, RMSprop and Adam are a few whole-array operations per parameter; Adam's bias correction
#   makes its first step $\approx \eta\,\mathrm{sign}(g)$. Optimizer state belongs in checkpoints.
# - Image-to-image layers: reflection / replication / zero padding, max and average pooling, nearest and
#   bilinear upsampling (PyTorch's source-index formulas), instance norm (batch norm per image and
#   channel). Interpolation and average pooling are separable linear maps $A_h x A_w^\top$.
#
# Next, chapter 06 puts two of these networks in a game.
#
# ## Exercises
#
# 1. Show that `kaiming_uniform_(w, a=√5)` gives the bound $1/\sqrt{\text{fan\_in}}$: compute
#    `init.calculate_gain("leaky_relu", 5 ** 0.5)` and the bound formula by hand, then check the largest
#    absolute weight of `nn.Linear(400, 10)`.
# 2. Write `AdamW` — Adam with *decoupled* weight decay, $\theta \leftarrow \theta(1 - \eta\lambda)$ before the
#    Adam step — as a subclass of `optim.Adam` overriding `_update`, and compare it with
#    `Adam(weight_decay=λ)` on the two-moons MLP with λ = 0.1.
# 3. In §4, set `momentum=None` on the BatchNorm2d (a cumulative average) and plot the running mean again.
#    When would you prefer it?
# 4. Train the two-moons MLP with a batch-norm layer after each Linear, then evaluate accuracy once with
#    `net.train()` and once with `net.eval()` on batches of size 2. Explain the difference.
# 5. Race the four optimizers on $f(x, y) = x^2 + 100 y^2$ from $(1, 1)$. Find, for SGD, the largest
#    learning rate that does not diverge and explain it from the curvature 200 along $y$.

# %%
print(f"chapter 05 ran in {time.perf_counter() - T0:.1f} s ({'quick' if QUICK else 'full'} mode)")
