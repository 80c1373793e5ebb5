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
# # Chapter 06 — The minimax game on 1-D data
#
# A GAN is two networks playing a game. The generator $G$ turns noise $z \sim \mathcal N(0, 1)$ into
# samples; the discriminator $D$ looks at a sample and says how likely it is to be real. $D$ is rewarded
# for telling data from fakes, $G$ for fooling $D$. Goodfellow et al. (2014) wrote the game as
#
# $$\min_G \max_D V(D, G), \qquad V(D, G) = \mathbb E_{x \sim p_\text{data}}[\log D(x)] + \mathbb E_{z}[\log(1 - D(G(z)))].$$
#
# On one-dimensional data every object in this game can be *drawn*: the data density, the generator's
# density, the discriminator, and the best discriminator the theory predicts. This chapter checks the
# theory against minigan, number by number:
#
# 1. for a **fixed** generator, training $D$ converges to $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_g(x))$;
# 2. at that optimum the game's value is $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g)$;
# 3. the original ("saturating") generator loss $\log(1 - D(G(z)))$ has almost no gradient exactly when
#    $G$ is bad, and the non-saturating loss $-\log D(G(z))$ does not;
# 4. a short full training run of the game, watched step by step.
#
# Everything below uses the library: data from `minigan.data`, models and the `Trainer` from `minigan.gan`,
# the density tools from `minigan.metrics`, figures from `minigan.viz`.
#
# **Run it:** `python tutorials/06_minimax_game.py` (or as a notebook with jupytext). `MINIGAN_QUICK=1`
# shrinks it to a few seconds. Figures go to `tutorials/_out/` (or `$MINIGAN_OUT`). The full version ran in
# about 75 s on a 2-core x86 CPU shared with other jobs (load average ~9), no GPU (the last cell prints the
# time of your run).

# %%
import math
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import optim
from minigan.data import get_dataset
from minigan.gan import Trainer, grad_norm, losses, mlp_discriminator, mlp_generator
from minigan.metrics import gaussian_kde, js_divergence, optimal_discriminator, value_function
from minigan.viz import animate_samples, discriminator_fn, plot_density_1d, plot_training_curves

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


mg.manual_seed(0)
rng = np.random.default_rng(0)  # the data stream's own generator
data = get_dataset("gaussian1d")  # p_data = N(4, 0.5^2)
x_real = data.sample(8, rng)
print(data, "->", x_real.shape, x_real.dtype)
assert x_real.shape == (8, 1) and x_real.dtype == np.float32

# %% [markdown]
# ## 1. The best discriminator for a fixed generator
#
# Fix $G$. Writing both expectations as integrals over $x$ (the fakes have density $p_g$),
#
# $$V(D, G) = \int p_\text{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\, dx .$$
#
# $D$ may choose $D(x) = y$ separately at every $x$, and $a \log y + b \log(1 - y)$ is maximised at
# $y = a / (a + b)$ (set the derivative $a/y - b/(1-y)$ to zero). Hence
#
# $$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)} .$$
#
# To test it we need a generator whose density we know exactly. An affine map of Gaussian noise,
# $G(z) = \sigma_g z + \mu_g$, is a `Linear(1, 1)` layer, and its samples are $\mathcal N(\mu_g, \sigma_g^2)$.
# We set its weights by hand, freeze it, and train only $D$ — by calling the trainer's `d_step` alone.
# The discriminator outputs a logit $d(x)$ and $D(x) = \sigma(d(x))$; its loss is $-V$ written with
# softplus (`minigan/gan/losses.py`).

# %%
MU_G, SIGMA_G = 2.5, 1.0
G_fixed = mg.nn.Linear(1, 1)
G_fixed.load_state_dict({"weight": np.array([[SIGMA_G]], np.float32), "bias": np.array([MU_G], np.float32)})


def p_g_fixed(x):
    return np.exp(-0.5 * ((x - MU_G) / SIGMA_G) ** 2) / (SIGMA_G * math.sqrt(2 * math.pi))


D = mlp_discriminator(data_dim=1, hidden=64, depth=2)
opt_D = optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
opt_G = optim.SGD(G_fixed.parameters(), lr=0.0)  # never stepped: G stays fixed
trainer = Trainer(
    G_fixed, D, opt_G, opt_D, lambda n: data.sample(n, rng), z_dim=1, batch_size=512, loss="minimax"
)

D_STEPS = 100 if QUICK else 3000
for _ in range(D_STEPS):
    rec = trainer.d_step(data.sample(512, rng))
print(
    f"after {D_STEPS} D steps: loss_D {rec['loss_D']:.3f}, D(x) {rec['D_x']:.3f}, D(G(z)) {rec['D_G_z']:.3f}"
)

# %% [markdown]
# Now compare the trained $D$ with the formula, on a grid. Far from both densities $D^*$ runs to 0 or 1
# but no sample ever lands there, so the loss says nothing about $D$ in those places: we weight the
# error by where the mass is, $(p_\text{data} + p_g)/2$.

# %%
x = np.linspace(-1.0, 7.0, 801)
dx = x[1] - x[0]
pd, pg = data.density(x), p_g_fixed(x)
d_star = optimal_discriminator(pd, pg)
D_fn = discriminator_fn(D)  # numpy (m, 1) -> D(x) (m,)
d_hat = D_fn(x[:, None])
assert d_hat.shape == x.shape
w = 0.5 * (pd + pg)
err = np.sum(w * np.abs(d_hat - d_star)) * dx
print(f"mass-weighted mean |D - D*| = {err:.4f}")
for xi in (2.0, 3.0, 3.5, 4.0, 5.0):
    j = np.argmin(np.abs(x - xi))
    print(f"  x = {xi:3.1f}:  D(x) = {d_hat[j]:.3f}   D*(x) = {d_star[j]:.3f}")
if not QUICK:
    assert err < 0.05, err

fake = G_fixed(mg.randn(4000, 1)).detach().numpy()
fig = plot_density_1d(
    fake, p_data=data.density, p_g=p_g_fixed, d_fn=D_fn, x_range=(-1, 7), title="fixed G: trained D vs D*"
)
save(fig, "06_d_star.png")

# %% [markdown]
# ## 2. The value of the game at $D^*$: $-\log 4 + 2\,\mathrm{JSD}$
#
# Put $D^*$ back into $V$. With $m = (p_\text{data} + p_g)/2$,
#
# $$V(D^*, G) = \int p_\text{data} \log\frac{p_\text{data}}{2m} + p_g \log\frac{p_g}{2m}
#   = -\log 4 + \mathrm{KL}(p_\text{data} \| m) + \mathrm{KL}(p_g \| m) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \| p_g).$$
#
# So against a perfect discriminator the generator minimises the Jensen–Shannon divergence, whose minimum
# 0 is reached only at $p_g = p_\text{data}$, where $V = -\log 4 \approx -1.386$ and $D^* \equiv 1/2$.
# We check the identity numerically (both sides as Riemann sums on the grid) for several generators:

# %%
xs = np.linspace(-6.0, 12.0, 18001)
dxs = xs[1] - xs[0]
pd_s = data.density(xs)
print(f"{'p_g':>16s} {'V(D*, G)':>10s} {'-log4 + 2 JSD':>14s} {'JSD':>7s}")
for mu, sigma in [(0.0, 1.0), (2.5, 1.0), (3.5, 0.7), (4.0, 1.0), (4.0, 0.5)]:
    pg_s = np.exp(-0.5 * ((xs - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    v_star = value_function(optimal_discriminator(pd_s, pg_s), pd_s, pg_s, dxs)
    jsd = js_divergence(pd_s, pg_s, dxs)
    print(f"  N({mu:3.1f}, {sigma:3.1f}^2) {v_star:10.5f} {-math.log(4) + 2 * jsd:14.5f} {jsd:7.4f}")
    assert abs(v_star - (-math.log(4) + 2 * jsd)) < 1e-6

# %% [markdown]
# The trained discriminator of section 1 is a *candidate* for the max, so its value can only be lower than
# $V(D^*, G)$. We estimate its $V$ by Monte Carlo with `losses.value` (the same formula on logits):

# %%
n_mc = 20000
with mg.no_grad():
    v_trained = losses.value(D(mg.tensor(data.sample(n_mc, rng))), D(G_fixed(mg.randn(n_mc, 1)))).item()
v_opt = value_function(d_star, pd, pg, dx)
print(f"V(D_trained, G) = {v_trained:.4f}  <=  V(D*, G) = {v_opt:.4f}   (Monte Carlo error ~ 0.01)")

# %% [markdown]
# ## 3. Why the original generator loss stalls
#
# The generator of the minimax game minimises $\mathbb E \log(1 - D(G(z)))$. Early in training the fakes are
# bad, $D$ rejects them confidently, $D(G(z)) \approx 0$ — and there $\log(1 - D)$ is flat. On the logit
# $d = d(G(z))$, with $D = \sigma(d)$:
#
# $$\frac{\partial}{\partial d} \log(1 - \sigma(d)) = -\sigma(d) = -D, \qquad
#   \frac{\partial}{\partial d} \bigl(-\log \sigma(d)\bigr) = -(1 - \sigma(d)) = -(1 - D).$$
#
# The saturating loss's gradient is proportional to $D(G(z))$ itself: it vanishes exactly when $G$ most
# needs to learn. The **non-saturating** loss $-\log D(G(z))$ (same paper) has the same fixed points but a
# gradient near $-1$ there. Every gradient into $G$'s weights is this factor times $\partial d / \partial \theta_G$
# (the chain rule through $D$), so the factor sets the scale. Autograd agrees with the formulas:

# %%
logit = mg.tensor(np.linspace(-12, 12, 481), dtype=np.float64, requires_grad=True)
D_of_fake = 1 / (1 + np.exp(-logit.detach().numpy()))
grads = {}
for name in ("minimax", "nonsaturating"):
    (g,) = mg.autograd.grad(losses.g_loss(name, logit) * logit.shape[0], logit)  # per-sample gradient
    grads[name] = g.numpy()
np.testing.assert_allclose(grads["minimax"], -D_of_fake, rtol=1e-9, atol=1e-12)
np.testing.assert_allclose(grads["nonsaturating"], -(1 - D_of_fake), rtol=1e-9, atol=1e-12)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(D_of_fake, np.abs(grads["minimax"]), label="saturating: |d/dd log(1 - D)| = D")
ax.loglog(D_of_fake, np.abs(grads["nonsaturating"]), label="non-saturating: |d/dd -log D| = 1 - D")
ax.set_xlabel("D(G(z))  (left: D rejects the fake)")
ax.set_ylabel("|gradient w.r.t. the logit|")
ax.legend(fontsize="small")
save(fig, "06_saturation.png")

# %% [markdown]
# The same in a real network. A fresh generator puts its samples near 0, far from the data at 4. Train $D$
# briefly against it; then compare the norm of the gradient reaching $G$'s weights under the two losses,
# on the same noise batch:

# %%
mg.manual_seed(1)
G = mlp_generator(z_dim=1, data_dim=1, hidden=32, depth=2)
D = mlp_discriminator(data_dim=1, hidden=32, depth=2)
pre = Trainer(
    G,
    D,
    optim.SGD(G.parameters(), lr=0.0),
    optim.Adam(D.parameters(), lr=2e-3),
    lambda n: data.sample(n, rng),
    z_dim=1,
    batch_size=256,
)
for _ in range(300):
    rec = pre.d_step(data.sample(256, rng))
print(f"D after pre-training: D(x) = {rec['D_x']:.4f}, D(G(z)) = {rec['D_G_z']:.2e}")
z = mg.randn(256, 1)
for name in ("minimax", "nonsaturating"):
    G.zero_grad()
    losses.g_loss(name, D(G(z))).backward()
    print(f"  {name:13s} loss: ||grad_G|| = {grad_norm(G.parameters()):.3e}")
D.zero_grad()

# %% [markdown]
# Orders of magnitude apart. With plain SGD (whose step is proportional to the gradient) the saturating
# generator barely moves while the non-saturating one walks to the data. Two games from the same start,
# the same discriminator and the same random numbers, differing only in $G$'s loss:

# %%
state_G, state_D = G.state_dict(), D.state_dict()
race_steps = 50 if QUICK else 600
means = {}
for name in ("minimax", "nonsaturating"):
    G.load_state_dict(state_G)
    D.load_state_dict(state_D)
    mg.manual_seed(2)
    race_rng = np.random.default_rng(2)
    game = Trainer(
        G,
        D,
        optim.SGD(G.parameters(), lr=0.05),
        optim.SGD(D.parameters(), lr=0.05),
        lambda n, r=race_rng: data.sample(n, r),
        z_dim=1,
        batch_size=256,
        loss=name,
    )
    traj = []
    for _ in range(race_steps):
        game.step()
        traj.append(float(game.sample(512).numpy().mean()))
    means[name] = traj
    print(f"{name:13s}: mean of G(z) after {race_steps} steps = {traj[-1]:.3f}  (data mean 4)")

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, traj in means.items():
    ax.plot(np.arange(1, race_steps + 1), traj, label=name)
ax.axhline(4.0, color="k", ls="--", lw=1, label="data mean")
ax.set_xlabel("step (SGD, lr 0.05)")
ax.set_ylabel("mean of G(z)")
ax.legend(fontsize="small")
save(fig, "06_saturation_race.png")

# %% [markdown]
# In the full run (600 steps) the saturating generator sits near 0 for about 300 steps — all that time $D$
# is winning and $G$'s gradient is $\propto D(G(z)) \approx 10^{-3}$ — and only escapes once the
# discriminator's own SGD steps happen to soften it; the non-saturating generator reaches the data within
# the first few steps. Same game, same fixed points, very different dynamics.

# %% [markdown]
# ## 4. The whole game
#
# Now both players learn: $k = 1$ discriminator step, then one generator step, alternating
# (`Trainer.step`), with the non-saturating loss and Adam. Each step returns a record; we keep the
# records for the curves and a few generator snapshots for an animation.
#
# Here is the game as minigan plays it, in two parts. What one move *computes* is the variant's (the
# unconditional game of this chapter; chapter 11 adds labels with the same loop): a D move builds the loss
# from a real batch and fakes held constant, a G move from fresh fakes. How a move is *played* is the
# loop's: zero the gradients, back-propagate, check for NaN, step the optimizer, and for G's move freeze
# D's weights first.

# %%
import inspect

from minigan.gan.variants import Unconditional

print(inspect.getsource(Unconditional.d_loss))
print(inspect.getsource(Unconditional.g_loss))
print(inspect.getsource(Trainer.d_step))
print(inspect.getsource(Trainer.g_step))

# %%
mg.manual_seed(3)
game_rng = np.random.default_rng(3)
G = mlp_generator(z_dim=1, data_dim=1, hidden=32, depth=2)
D = mlp_discriminator(data_dim=1, hidden=32, depth=2)
game = Trainer(
    G,
    D,
    optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9)),
    optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9)),
    lambda n: data.sample(n, game_rng),
    z_dim=1,
    batch_size=256,
    loss="nonsaturating",
)
STEPS = 60 if QUICK else 4000
records, frames, titles = [], [], []
z_fixed = mg.randn(1000, 1)  # the same noise for every snapshot, so the frames are comparable
for step in range(1, STEPS + 1):
    records.append(game.step())
    if step % (STEPS // 10) == 0 or step == 1:
        frames.append(game.sample(1000, z=z_fixed).numpy())
        titles.append(f"step {step}")
r = records[-1]
print(
    f"step {r['step']}: loss_D {r['loss_D']:.3f} (log 4 = {math.log(4):.3f}), loss_G {r['loss_G']:.3f}, "
    f"D(x) {r['D_x']:.3f}, D(G(z)) {r['D_G_z']:.3f}, V {r['V']:.3f}"
)
assert frames[-1].shape == (1000, 1)

# %%
fake = game.sample(4000 if QUICK else 20000).numpy()
grid = np.linspace(0.0, 8.0, 1601)
jsd = js_divergence(data.density(grid), gaussian_kde(fake, grid), grid[1] - grid[0])
print(
    f"G(z): mean {fake.mean():.3f} (4.0), std {fake.std():.3f} (0.5); JSD(p_data || KDE of p_g) = {jsd:.4f} nats "
    f"(log 2 = {math.log(2):.3f} is the maximum)"
)
if not QUICK:
    assert abs(fake.mean() - 4.0) < 0.25 and jsd < 0.06, (fake.mean(), jsd)

save(
    plot_density_1d(
        fake, p_data=data.density, d_fn=discriminator_fn(D), x_range=(0, 8), title=f"after {STEPS} steps"
    ),
    "06_final_density.png",
)
save(plot_training_curves(records, smooth=max(1, STEPS // 100)), "06_curves.png")
animate_samples(frames, OUT / "06_training.gif", titles=titles, p_data=data.density, lim=(0, 8), fps=3)
print(f"saved {OUT / '06_training.gif'}")

# %% [markdown]
# At the end $D(x) \approx D(G(z)) \approx 1/2$ and $\text{loss}_D \approx \log 4$: the discriminator can no
# longer tell the two apart, which is the game's equilibrium. In practice the curves keep fluctuating
# around it — the players' alternating gradient steps orbit the equilibrium rather than settle on it, a
# theme chapter 07 takes up with the Dirac-GAN. The end point is therefore a snapshot of an orbit: in our
# full run of this cell the generator's std came out at 0.59 (data: 0.5) with a JSD of 0.045 nats, and over
# other seeds, widths (32, 64) and Adam settings we measured stds from 0.24 to 0.68 and JSDs from 0.01 to
# 0.17 nats at 4000 steps — a too-narrow $p_g$ is the more common error. Try a few (exercise 5).
#
# ## Summary
#
# - For a fixed $G$ the best discriminator is $D^* = p_\text{data}/(p_\text{data} + p_g)$; a trained MLP
#   discriminator matches it where the data and the fakes live.
# - $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \| p_g)$: against a perfect $D$ the generator
#   minimises the Jensen–Shannon divergence, and the equilibrium value is $-\log 4$.
# - The saturating generator loss has gradient $\propto D(G(z))$ on the logit, which vanishes early in
#   training; the non-saturating loss $-\log D(G(z))$ keeps a gradient of order 1 there.
# - `Trainer.d_step` / `g_step` / `step` play the game one explicit move at a time; every step returns a
#   record (`loss_D`, `loss_G`, `D_x`, `D_G_z`, `V`, gradient norms).
#
# ## Exercises
#
# 1. Repeat section 1 with $p_g = \mathcal N(4, 0.5^2) = p_\text{data}$. What should $D$ learn? How close
#    does it get, and what is its loss?
# 2. Make $p_g$ bimodal (e.g. `GaussianMixture`-style: half the noise to 1, half to 6) by writing a small
#    generator by hand. Where is $D^* > 1/2$? Verify the JSD identity on it.
# 3. Train the full game with `loss="minimax"` and Adam instead of SGD. Does it still stall? (Adam divides
#    each step by a running gradient scale — why does that hide the saturation partly?)
# 4. Set `k=5` (five D steps per G step) in section 4. What happens to $D(G(z))$ early on, and to the
#    generator under each loss?
# 5. In section 4, vary the width (32, 64), Adam's $\beta_2$ (0.9, 0.999) and the seed. How much do the final
#    mean, std and JSD move? Does decaying the learning rate over the last half help?

# %%
print(f"chapter 06 ran in {time.perf_counter() - T0:.1f} s ({'quick' if QUICK else 'full'} mode)")
