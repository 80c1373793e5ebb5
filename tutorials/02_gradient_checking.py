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
# # Chapter 02 — Checking gradients
#
# Every op in minigan has a hand-written backward (chapter 01). A wrong one does not crash: the shapes
# line up, the loss goes down a little, and the GAN trains badly for reasons nobody can see. A sign error
# in a loss's backward makes the generator climb the hill it should descend; a bias gradient that is
# averaged instead of summed quietly divides that parameter's learning rate by the batch size. The only
# defence is to check every backward against something that does not share its code: the **definition**
# of the derivative, evaluated numerically.
#
# This chapter derives finite differences and their errors (why the check runs in float64, why central
# differences, what `eps` to pick), states the tolerance rule, uses `minigan.testing.gradcheck` and
# `gradgradcheck` on real ops, runs property tests with hypothesis, and catches two planted bugs live.
#
# **Run it:** `python tutorials/02_gradient_checking.py` (or as a notebook via jupytext).
# `MINIGAN_QUICK=1` shrinks it to a few seconds. Figures go to `tutorials/_out/` (or `$MINIGAN_OUT`).
# The full version runs in about 4 s (wall clock, process start included) on a shared 2-core x86 CPU, no GPU;
# the last cell prints the time it took on yours.

# %%
import importlib
import inspect
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.nn.functional as F
from minigan.autograd.function import Function
from minigan.backend import array_module
from minigan.ops.shape import sum_to
from minigan.testing import GradcheckError, gradcheck, gradgradcheck
from minigan.testing import strategies as mst

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
# ## 1. Finite differences and their two errors
#
# Taylor's theorem gives two estimates of $f'(x)$ from two evaluations of $f$:
#
# $$\text{forward:}\quad \frac{f(x+h) - f(x)}{h} = f'(x) + \frac{h}{2} f''(x) + O(h^2),
# \qquad
# \text{central:}\quad \frac{f(x+h) - f(x-h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + O(h^4).$$
#
# In the central difference the even terms of the two expansions cancel, so its **truncation error**
# shrinks like $h^2$ instead of $h$. That argues for a tiny $h$ — but the computer evaluates $f$ with a
# relative error of about the unit roundoff $u$ ($2^{-53} \approx 1.1 \times 10^{-16}$ in float64,
# $2^{-24} \approx 6 \times 10^{-8}$ in float32). The numerator is a difference of two nearly equal numbers,
# each wrong by about $u|f|$, and dividing by $h$ magnifies that **round-off error** to about $u|f|/h$.
# The total,
#
# $$E(h) \approx \tfrac{1}{2}|f''|\,h + \frac{u|f|}{h} \;\;\text{(forward)}, \qquad
#   E(h) \approx \tfrac{1}{6}|f'''|\,h^2 + \frac{u|f|}{h} \;\;\text{(central)},$$
#
# is smallest at $h^\ast \sim \sqrt{u}$ with $E \sim \sqrt{u}$ (forward) and at $h^\ast \sim u^{1/3}$ with
# $E \sim u^{2/3}$ (central). In orders of magnitude (the constants depend on $f$):
#
# | | $u$ | forward: best $h$, error | central: best $h$, error |
# |---|---|---|---|
# | float32 | $6 \times 10^{-8}$ | $\sim 2\times10^{-4}$, $\sim 2\times10^{-4}$ | $\sim 4\times10^{-3}$, $\sim 10^{-5}$ |
# | float64 | $1.1 \times 10^{-16}$ | $\sim 10^{-8}$, $\sim 10^{-8}$ | $\sim 5\times10^{-6}$, $\sim 10^{-11}$ |
#
# Let us measure it, with minigan doing the arithmetic in each dtype, for
# $f(x) = \tanh(x)\,e^{x}$, whose derivative we know exactly: $f'(x) = e^x(\tanh x + 1 - \tanh^2 x)$.
# One lucky point can make an estimate look better than it is (errors can cancel by chance), so for each
# step $h$ we take the median relative error over 32 points $x \in [0.1, 1.5]$, all computed at once as
# one tensor.


# %%
def f(x):
    return x.tanh() * x.exp()


xs0 = np.linspace(0.1, 1.5, 32)
exact = np.exp(xs0) * (np.tanh(xs0) + 1 - np.tanh(xs0) ** 2)
hs = np.logspace(-13, -1, 25 if QUICK else 61)


def fd_error(h, dtype, central):
    """Median over xs0 of |finite difference - exact| / |exact|, with f evaluated by minigan in ``dtype``."""
    with mg.no_grad():
        fx = lambda v: f(mg.tensor(v, dtype=dtype)).numpy().astype(np.float64)
        if central:
            estimate = (fx(xs0 + h) - fx(xs0 - h)) / (2 * h)
        else:
            estimate = (fx(xs0 + h) - fx(xs0)) / h
    return np.median(np.abs(estimate - exact) / np.abs(exact))


errors = {
    (name, central): np.array([fd_error(h, dtype, central) for h in hs])
    for name, dtype in [("float32", mg.float32), ("float64", mg.float64)]
    for central in (False, True)
}
fig, ax = plt.subplots(figsize=(6, 4))
for (name, central), err in errors.items():
    style = "-" if central else "--"
    color = "C0" if name == "float64" else "C3"
    ax.loglog(
        hs, np.maximum(err, 1e-17), style, color=color, label=f"{name}, {'central' if central else 'forward'}"
    )
    k = int(np.argmin(err))
    print(
        f"{name:8s} {'central' if central else 'forward':8s} best eps = {hs[k]:.1e}   relative error = {err[k]:.1e}"
    )
ax.axvline(1e-6, color="0.6", lw=0.8, ls=":")
ax.text(1.3e-6, 0.93, "gradcheck's eps", fontsize=7, color="0.4", transform=ax.get_xaxis_transform())
ax.set_xlabel("step h (eps)")
ax.set_ylabel("median relative error of f'(x)")
ax.set_title("Finite differences: truncation (right) vs round-off (left)")
ax.legend(fontsize=8)
save(fig, "02_fd_error_vs_eps.png")

at_1e6 = {key: float(np.interp(-6.0, np.log10(hs), err)) for key, err in errors.items()}
print(
    f"at eps = 1e-6, central: float32 error {at_1e6[('float32', True)]:.1e}, float64 error {at_1e6[('float64', True)]:.1e}"
)
assert errors[("float64", True)].min() < 1e-10 and errors[("float32", True)].min() > 1e-7
assert at_1e6[("float32", True)] > 1e-3 and at_1e6[("float64", True)] < 1e-9

# %% [markdown]
# The V shapes are the two error terms: on the right the truncation error falls with slope 1 (forward)
# or 2 (central) as $h$ shrinks; on the left the round-off error grows like $1/h$ (and for the smallest
# steps in float32, $x + h$ rounds back to $x$: the estimate is 0, relative error 1). In float32 the best
# central difference is good to a few $10^{-6}$ at a carefully tuned $h \approx 10^{-2}$, and at
# $h = 10^{-6}$ it is noise, wrong by percents. In float64 the central difference at $h = 10^{-6}$ is good
# to about $10^{-10}$, with orders of magnitude to spare on either side. Hence the rules `minigan.testing` follows:
# **gradient checks run in float64, with central differences, at eps = 1e-6**. (It refuses float32
# inputs rather than give a meaningless answer — try it below.)
#
# ## 2. From one derivative to a gradient check
#
# For a function of a tensor, perturb one element at a time: $\partial s / \partial x_j \approx
# (s(x + h e_j) - s(x - h e_j)) / 2h$. For a scalar output $s$ that is the whole gradient, at $2n$
# evaluations. Written out, it is a few lines:


# %%
def numerical_gradient(fn, x, eps=1e-6):
    """Central differences of a scalar-valued fn at the float64 tensor x, one element at a time."""
    g = np.zeros(x.shape)
    work = x.array.copy()
    with mg.no_grad():
        for j in np.ndindex(x.shape):
            saved = work[j]
            work[j] = saved + eps
            s_plus = fn(mg.tensor(work, dtype=mg.float64)).item()
            work[j] = saved - eps
            s_minus = fn(mg.tensor(work, dtype=mg.float64)).item()
            work[j] = saved
            g[j] = (s_plus - s_minus) / (2 * eps)
    return g


x = mg.tensor(np.random.default_rng(0).standard_normal((3, 4)), dtype=mg.float64, requires_grad=True)
scalar_fn = lambda x: (x.tanh() * x.exp()).sum()
scalar_fn(x).backward()
numeric = numerical_gradient(scalar_fn, x)
print("analytic (autograd):\n", np.round(x.grad.array, 6))
print("max |analytic - numeric| =", np.abs(x.grad.array - numeric).max())
assert x.grad.shape == x.shape == numeric.shape
assert np.allclose(x.grad.array, numeric, atol=1e-8)

# %% [markdown]
# An op has a *tensor* output $y$, though, and the object to check is its Jacobian $J = \partial y /
# \partial x$. Checking all of $J$ costs one backward pass per output element. `minigan.testing.gradcheck`
# does it with one: draw a random cotangent $v$ (standard normal, seeded), form the scalar
# $s(x) = \langle v, y(x) \rangle$, and compare its gradient — the vector-Jacobian product $J^\top v$, which
# is exactly what one backward pass with `gradient=v` computes — with central differences of $s$.
#
# Why one random $v$ is enough: if autograd's Jacobian $A$ is wrong in column $j$, the error seen at
# element $j$ is $(A - J)_{:,j} \cdot v$, a non-zero linear function of $v$. It vanishes only on a
# hyperplane, which a Gaussian $v$ hits with probability zero. Here is the comparison loop, from
# `minigan/testing/gradcheck.py`:

# %%
gradcheck_module = importlib.import_module(
    "minigan.testing.gradcheck"
)  # the module (the name `gradcheck` is the function)
print(inspect.getsource(gradcheck_module._compare_input))

# %% [markdown]
# ## 3. Tolerances
#
# Element $j$ passes when
#
# $$|\,\text{analytic}_j - \text{numeric}_j\,| \;\le\; \text{atol} + \text{rtol}\,|\text{numeric}_j|,$$
#
# the rule of `numpy.allclose`. The relative part, `rtol = 1e-3`, scales with the gradient, so large
# gradients are judged by their leading digits; the absolute part, `atol = 1e-5`, stops a gradient that is
# *meant* to be zero (where the relative error is undefined) from failing on round-off. Both sit far above
# the $\sim 10^{-10}$ error of a float64 central difference, and far below the $O(1)$ relative error of a
# typical bug (a wrong sign, a missing factor, a missing term). The space between is what makes the check
# both quiet and sharp. Let us see that margin on the example above, and the float32 refusal:

# %%
tol = 1e-5 + 1e-3 * np.abs(numeric)
print(f"worst |analytic - numeric| / tolerance = {(np.abs(x.grad.array - numeric) / tol).max():.1e}")
try:
    gradcheck(lambda x: x.tanh(), [mg.randn(3, requires_grad=True)])  # float32
except TypeError as err:
    print("TypeError:", err)

# %% [markdown]
# ## 4. gradcheck and gradgradcheck on real ops
#
# `gradcheck(fn, inputs)` takes any function of tensors — an op, a composition, a whole layer — and
# float64 inputs; the ones with `requires_grad=True` are checked. `gradgradcheck` checks the **second**
# derivatives, which WGAN-GP and R1 rely on (R1 in chapters 07-08): it runs `gradcheck` on the map
# $(x, g_y) \mapsto$ `grad(fn(x), x, grad_outputs=g_y, create_graph=True)`, whose derivative with respect
# to $x$ is a Hessian-vector product. A backward that treats something as a constant when it is not (a
# saved value used as a raw array instead of a tensor) passes `gradcheck` and fails `gradgradcheck`.
#
# We run both on a selection of minigan's ops and layers, at shapes that exercise broadcasting. Inputs are
# drawn away from points where the op is not differentiable (0 for `abs` and `leaky_relu`, the clamp
# limits, ties for `max`) and inside the domain (positive for `log` and `sqrt`). Inputs without
# `requires_grad` (the BCE targets) are passed through unchecked; `where`'s condition is computed on a
# detached copy, since a comparison has no gradient.

# %%
rng = np.random.default_rng(1)


def t64(*shape, low=-2.0, high=2.0):
    return mg.tensor(rng.uniform(low, high, shape), dtype=mg.float64, requires_grad=True)


def away_from(a, points, margin=0.1):
    """Move entries of the array a at least ``margin`` away from each of ``points``."""
    for p in points:
        a = np.where(np.abs(a - p) < margin, p + margin * np.sign(a - p + 1e-12), a)
    return a


cases = [
    ("a * b (broadcast)", lambda a, b: a * b, [t64(3, 4), t64(4)]),
    ("a / b (broadcast)", lambda a, b: a / b, [t64(2, 3), t64(2, 1, low=0.5, high=2.0)]),
    ("a ** 3", lambda a: a**3, [t64(5)]),
    ("exp", lambda a: a.exp(), [t64(2, 3)]),
    ("log", lambda a: a.log(), [t64(4, low=0.2, high=3.0)]),
    ("sqrt", lambda a: a.sqrt(), [t64(4, low=0.2, high=3.0)]),
    (
        "abs",
        lambda a: abs(a),
        [mg.tensor(away_from(rng.uniform(-2, 2, 6), [0.0]), dtype=mg.float64, requires_grad=True)],
    ),
    (
        "clamp(-1, 1)",
        lambda a: a.clamp(-1.0, 1.0),
        [mg.tensor(away_from(rng.uniform(-2, 2, 6), [-1.0, 1.0]), dtype=mg.float64, requires_grad=True)],
    ),
    ("tanh", lambda a: a.tanh(), [t64(2, 3)]),
    ("sum(dim=1, keepdim)", lambda a: a.sum(dim=1, keepdim=True), [t64(2, 3, 4)]),
    ("mean(dim=(0, 2))", lambda a: a.mean(dim=(0, 2)), [t64(2, 3, 4)]),
    ("reshape + permute", lambda a: a.reshape(6, 2).permute(1, 0), [t64(3, 4)]),
    ("sigmoid", lambda a: a.sigmoid(), [t64(2, 3)]),
    ("softplus", lambda a: F.softplus(a), [t64(2, 3)]),
    (
        "leaky_relu(0.2)",
        lambda a: F.leaky_relu(a, 0.2),
        [mg.tensor(away_from(rng.uniform(-2, 2, 6), [0.0]), dtype=mg.float64, requires_grad=True)],
    ),
    (
        "max(dim=1) (no ties)",
        lambda a: mg.max(a, dim=1).values,
        [mg.tensor(rng.permutation(12).reshape(3, 4) / 4.0, dtype=mg.float64, requires_grad=True)],
    ),
    ("var(dim=0)", lambda a: a.var(dim=0), [t64(4, 3)]),
    ("a @ b (batched, broadcast)", lambda a, b: a @ b, [t64(2, 3, 4), t64(4, 2)]),
    ("x[1:, [0, 2, 2]] (repeats)", lambda a: a[1:, [0, 2, 2]], [t64(3, 4)]),
    (
        "cat / stack",
        lambda a, b: mg.stack([mg.cat([a, b], dim=1), mg.cat([b, a], dim=1)]),
        [t64(2, 3), t64(2, 3)],
    ),
    ("where(a > 0, a, b)", lambda a, b: mg.where(a.detach() > 0, a, b), [t64(2, 3), t64(2, 3)]),
    ("F.linear", lambda x, w, b: F.linear(x, w, b), [t64(4, 3), t64(2, 3), t64(2)]),
    (
        "F.conv2d (stride 2, pad 1)",
        lambda x, w: F.conv2d(x, w, stride=2, padding=1),
        [t64(1, 2, 5, 5), t64(3, 2, 3, 3)],
    ),
    (
        "BCE with logits",
        lambda z, y: F.binary_cross_entropy_with_logits(z, y),
        [t64(6), mg.tensor(rng.integers(0, 2, 6), dtype=mg.float64)],
    ),
    ("tanh(a * b) + b (composite)", lambda a, b: (a * b).tanh() + b, [t64(3, 1), t64(1, 4)]),
]
print(f"{'op':30s} {'inputs':34s} gradcheck  gradgradcheck  time")
for name, fn, inputs in cases:
    shapes = ", ".join(str(x.shape) for x in inputs)
    t = time.perf_counter()
    ok1 = gradcheck(fn, inputs)  # raises GradcheckError on a wrong gradient; True otherwise
    ok2 = gradgradcheck(fn, inputs)
    print(
        f"{name:30s} {shapes:34s} {'pass' if ok1 else 'FAIL':9s}  {'pass' if ok2 else 'FAIL':13s}  {time.perf_counter() - t:.2f} s"
    )

# %% [markdown]
# ## 5. Catching a planted wrong gradient
#
# Now the real use: a new op, written by us, with a bug in it. The GAN losses are built from
# **softplus**, $\operatorname{softplus}(x) = \log(1 + e^x)$: on the discriminator's logit $\ell$, the
# generator's non-saturating loss $-\log \sigma(\ell)$ is $\operatorname{softplus}(-\ell)$. Its derivative
# is the logistic sigmoid $\sigma(x) = 1 / (1 + e^{-x})$. Here it is as a minigan `Function` — with the sign
# inside the exponential wrong in `backward`, so it computes $\sigma(-x)$:


# %%
class BuggySoftplus(Function):
    def forward(self, x):
        return array_module(x).logaddexp(0.0, x)  # log(1 + e^x) without overflow; NumPy or CuPy

    def backward(self, gy):
        (x,) = self.inputs
        return gy / (1.0 + x.exp())  # BUG: sigma(-x); should be gy / (1 + exp(-x))


# %% [markdown]
# At $x = 0$ the bug is invisible: $\sigma(0) = \sigma(-0) = \tfrac12$. A check at a "simple" point passes —
# one reason to check at random points:

# %%
print(
    "at x = 0   :",
    gradcheck(lambda x: BuggySoftplus()(x), [mg.tensor([0.0], dtype=mg.float64, requires_grad=True)]),
)
try:
    gradcheck(lambda x: BuggySoftplus()(x), [t64(2, 3)])
except GradcheckError as err:
    print("at random x: GradcheckError:\n ", err)

# %% [markdown]
# The message names the input, the element, both values and the tolerance. Analytic $\sigma(-x)$ against
# numeric $\sigma(x)$: the two sum to one, the fingerprint of a sign error. The fix, and both checks:


# %%
class Softplus(Function):
    def forward(self, x):
        return array_module(x).logaddexp(0.0, x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy / (1.0 + (-x).exp())  # sigma(x), written with minigan ops: twice differentiable


softplus = lambda x: Softplus()(x)
x = t64(2, 3)
print("gradcheck     :", gradcheck(softplus, [x]))
print("gradgradcheck :", gradgradcheck(softplus, [x]))

# %% [markdown]
# A second classic: a bias added to every row of a batch, $y = x + b$ with $x$ of shape $(N, C)$ and $b$ of
# shape $(C,)$. Broadcasting copies $b$ into $N$ rows, so $\partial L / \partial b$ is the **sum** of the
# rows of $g_y$ (chapter 01, §4). Two plausible mistakes: forgetting the reduction (the engine catches it —
# the shapes disagree), and reducing with a *mean* (right shape, wrong value: only gradcheck can tell).


# %%
class AddBiasNoReduction(Function):
    def forward(self, x, b):
        return x + b

    def backward(self, gy):
        return gy, gy  # BUG: gy has shape (N, C); b has shape (C,)


class AddBiasMean(Function):
    def forward(self, x, b):
        return x + b

    def backward(self, gy):
        return gy, gy.mean(dim=0)  # BUG: the N copies of b each contribute; sum them, don't average


class AddBias(Function):
    def forward(self, x, b):
        return x + b

    def backward(self, gy):
        (x, b) = self.inputs
        return sum_to(gy, x.shape), sum_to(gy, b.shape)


xb, bb = t64(4, 3), t64(3)
try:
    gradcheck(lambda x, b: AddBiasNoReduction()(x, b), [xb, bb])
except (GradcheckError, RuntimeError) as err:
    print(f"no reduction -> {type(err).__name__}: {err}\n")
try:
    gradcheck(lambda x, b: AddBiasMean()(x, b), [xb, bb])
except GradcheckError as err:
    print(f"mean         -> GradcheckError: {err}\n")
print("sum_to       ->", gradcheck(lambda x, b: AddBias()(x, b), [xb, bb]))

# %% [markdown]
# ## 6. Property tests with hypothesis
#
# A gradient check at one input proves little about the next. A **property test** states the check for
# *every* input of some kind — any shapes that broadcast together, any values in a range, contiguous or not
# — and lets [hypothesis](https://hypothesis.readthedocs.io) search for a counterexample. When it finds
# one, it **shrinks** it to the simplest failing input it can. `minigan.testing.strategies` describes the
# inputs ops meet: shapes, mutually broadcastable shapes, float64 arrays and tensors (optionally in a
# non-contiguous memory layout, optionally kept away from kinks), matmul operand shapes, index arrays.
#
# A `@given` test is an ordinary function: pytest calls it, and so can we. Here, with a few examples
# (`max_examples`), `derandomize=True` for a reproducible run and `database=None` so nothing is written
# to disk:

# %%
n_examples = 5 if QUICK else 40
property_settings = settings(max_examples=n_examples, derandomize=True, deadline=None, database=None)


@property_settings
@given(shapes=mst.broadcastable_shapes(num_shapes=2, max_dims=3), data=st.data())
def test_mul_gradcheck(shapes, data):
    a = data.draw(mst.tensors(shapes[0], requires_grad=True, layout="any"))
    b = data.draw(mst.tensors(shapes[1], requires_grad=True))
    assert gradcheck(lambda a, b: a * b, [a, b])
    y = a * b
    y.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape  # the shape rule, for any broadcast


test_mul_gradcheck()
print(f"a * b: gradcheck held on {n_examples} hypothesis examples (broadcast shapes, any memory layout)")

# %% [markdown]
# Properties need not be gradient checks. `broadcast_to` and `sum_to` are **adjoint** linear maps — that
# is *why* each is the other's backward — which means $\langle \mathrm{broadcast}(u), w \rangle =
# \langle u, \mathrm{sum\_to}(w) \rangle$ for all $u$ and $w$:


# %%
@property_settings
@given(shapes=mst.broadcastable_shapes(num_shapes=2, max_dims=4), data=st.data())
def test_broadcast_and_sum_to_are_adjoint(shapes, data):
    small = shapes[0]
    big = np.broadcast_shapes(*shapes)
    u = data.draw(mst.tensors(small))
    w = data.draw(mst.tensors(big))
    lhs = (u.broadcast_to(big) * w).sum().item()
    rhs = (u * w.sum_to(small)).sum().item()
    assert np.isclose(lhs, rhs, rtol=1e-12, atol=1e-12), (small, big, lhs, rhs)


test_broadcast_and_sum_to_are_adjoint()
print(f"<broadcast(u), w> == <u, sum_to(w)> on {n_examples} examples")

# %% [markdown]
# And the planted bias bug, as a property over batch sizes and widths. hypothesis finds a failing batch
# and shrinks it. Watch the falsifying example: the *smallest* failing batch size is $N = 2$, because with
# one row the mean and the sum coincide — exactly the insight that locates the bug.


# %%
# the "explain" phase (which traces line coverage to explain a failure) is slow; shrinking is what we want
@settings(
    max_examples=50, derandomize=True, deadline=None, database=None, phases=[Phase.generate, Phase.shrink]
)
@given(n=st.integers(1, 8), c=st.integers(1, 5), data=st.data())
def test_buggy_bias(n, c, data):
    x = data.draw(mst.tensors((n, c), requires_grad=True))
    b = data.draw(mst.tensors((c,), requires_grad=True))
    gradcheck(lambda x, b: AddBiasMean()(x, b), [x, b])


try:
    test_buggy_bias()
    raise AssertionError("hypothesis should have found the planted bug")
except GradcheckError as err:
    notes = "\n".join(getattr(err, "__notes__", []))
    print("hypothesis found it:\n", notes, "\n", err)
    assert "n=2" in notes

# %% [markdown]
# In minigan's own test suite (`tests/`), every op is run through properties like these — gradcheck,
# gradgradcheck, the shape rule, agreement with NumPy — under a derandomized hypothesis profile, so each
# run is reproducible.
#
# ## Summary
#
# - Finite differences have two errors: truncation ($O(h)$ forward, $O(h^2)$ central) and round-off
#   ($O(u/h)$). Central differences in **float64** at $h = 10^{-6}$ are accurate to about $10^{-10}$; in
#   float32 the best tuned $h$ gives a few $10^{-6}$, and $h = 10^{-6}$ gives noise.
# - Pass rule: $|a - n| \le \text{atol} + \text{rtol}\,|n|$, with atol = 1e-5 and rtol = 1e-3 sitting
#   between round-off ($10^{-10}$) and bugs ($O(1)$).
# - `gradcheck` compares vector-Jacobian products with a random cotangent against central differences —
#   one backward pass, and a wrong Jacobian column cannot hide. `gradgradcheck` does the same for the
#   gradient map, catching backwards that are right but not differentiable.
# - Check at random points (a sign bug in softplus is invisible at 0) and over many inputs: hypothesis
#   searches, then shrinks a failure to the simplest case ($N = 2$ for the averaged bias).
#
# ## Exercises
#
# 1. Re-plot §1 for $f(x) = x^3$ at $x = 0$ (where $f' = 0$): what does the relative error do, and which
#    part of the tolerance rule saves the day?
# 2. Plant a bug that `gradcheck` cannot see but `gradgradcheck` can: write a `Softplus` whose backward
#    computes $\sigma(x)$ with NumPy on `x.array` and wraps it with `mg.tensor` (a constant). Check both.
# 3. Richardson extrapolation: combine central differences at $h$ and $2h$ to cancel the $h^2$ term.
#    Add it to the plot of §1. What is the new optimal $h$ and error in float64?
# 4. Write a property test that `gradcheck` holds for `a / b` for any broadcastable shapes, with `b` kept
#    away from 0 (`mst.tensors(shape, min_abs=0.5)`). What goes wrong without `min_abs`?
# 5. `gradcheck` perturbs every element, at two calls of `fn` each. Estimate its cost for a 3×3
#    convolution layer with 64 input and output channels, and read how `max_elements` bounds it.

# %%
print(f"chapter 02 ran in {time.perf_counter() - T0:.1f} s ({'quick' if QUICK else 'full'} mode)")
