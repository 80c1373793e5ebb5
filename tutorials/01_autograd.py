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
# # Chapter 01 — Autograd from scratch
#
# Training a GAN is nothing but gradients. The discriminator D follows the gradient of its loss with
# respect to its own weights; the generator G follows the gradient of *its* loss, which flows backwards
# **through D** into G's weights; and the gradient penalties (R1 in chapters 07-08, WGAN-GP) put a *gradient*
# inside the loss, so training them needs gradients of gradients. This chapter builds the machine that
# computes all of these: reverse-mode automatic differentiation.
#
# We build it twice. First a scalar engine, `Value`, small enough to read in one sitting (after Karpathy's
# micrograd). Then we open up minigan's own engine — `Tensor`, `Function` and the backward pass in
# `minigan/autograd/` — which is the same idea made to work on arrays, with broadcasting, without
# recursion, and with the backward pass itself differentiable.
#
# **Run it:** `python tutorials/01_autograd.py` (or open it as a notebook with jupytext).
# `MINIGAN_QUICK=1` shrinks it to a few seconds. Figures go to `tutorials/_out/` (or `$MINIGAN_OUT`).
# The full version runs in about 4 s (wall clock, process start included) on a shared 2-core x86 CPU, no GPU;
# the last cell prints the time it took on yours.

# %%
import inspect
import math
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan.autograd import engine
from minigan.autograd.function import Function, GraphFreedError

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
# ## 1. Why reverse mode
#
# Take a loss $L(\theta)$ of $n$ parameters. The obvious way to get $\nabla L$ is finite differences:
# nudge each parameter in turn, $\partial L / \partial \theta_j \approx (L(\theta + h e_j) - L(\theta - h e_j)) / 2h$.
# That is $2n$ evaluations of $L$ — for a DCGAN generator with $n \approx 3.5$ million weights, 7 million
# forward passes per training step. Reverse-mode differentiation (backpropagation) gets the *whole*
# gradient for the cost of about one extra forward pass, whatever $n$ is.
#
# The idea. Write the computation as a graph of elementary steps $v_k = f_k(v_{i}, v_{j}, \dots)$ ending in
# the scalar $L$. Call $\bar v = \partial L / \partial v$ the **adjoint** of $v$. Then $\bar L = 1$ and the
# chain rule, read backwards, says
#
# $$\bar v_i \;=\; \sum_{k \,:\, v_k \text{ uses } v_i} \bar v_k \,\frac{\partial f_k}{\partial v_i}.$$
#
# Two facts follow. (1) Each step only needs its *local* derivative $\partial f_k / \partial v_i$ — so
# every op is written once with its forward and its backward side by side. (2) $\bar v_i$ is a **sum**
# over every consumer of $v_i$, and it is complete only once all consumers have passed their adjoints
# back — so the steps must be visited in reverse topological order.
#
# Before building anything, let us measure the claim with minigan itself: the cost of the gradient of
# $L(x) = \sum_j \tanh(x_j)\,x_j$ by central differences and by one backward pass, as $n$ grows.


# %%
def loss_fn(x):
    return (x.tanh() * x).sum()


def fd_gradient(f, x, h=1e-6):
    """Central differences, one coordinate at a time: 2n evaluations of f."""
    g = np.zeros(x.shape)
    with mg.no_grad():
        for j in range(x.shape[0]):
            e = np.zeros(x.shape)
            e[j] = h
            g[j] = (
                f(mg.tensor(x.array + e, dtype=mg.float64)).item()
                - f(mg.tensor(x.array - e, dtype=mg.float64)).item()
            ) / (2 * h)
    return g


sizes = [10, 30, 100, 300] if QUICK else [10, 30, 100, 300, 1000, 3000, 10000]
t_fd, t_rev = [], []
loss_fn(
    mg.tensor(np.ones(3), requires_grad=True)
).backward()  # warm-up, so the first timing is not an outlier
for n in sizes:
    x = mg.tensor(np.random.default_rng(0).standard_normal(n), dtype=mg.float64, requires_grad=True)
    t = time.perf_counter()
    g_fd = fd_gradient(loss_fn, x)
    t_fd.append(time.perf_counter() - t)
    t = time.perf_counter()
    loss_fn(x).backward()
    t_rev.append(time.perf_counter() - t)
    assert np.allclose(x.grad.array, g_fd, atol=1e-6)  # same gradient, two ways
    print(f"n={n:5d}   finite differences {t_fd[-1] * 1e3:8.1f} ms   reverse mode {t_rev[-1] * 1e3:6.2f} ms")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sizes, t_fd, "o-", label="central differences (2n forward passes)")
ax.loglog(sizes, t_rev, "s-", label="reverse mode (1 forward + 1 backward)")
ax.set_xlabel("number of parameters n")
ax.set_ylabel("seconds per gradient")
ax.set_title("Cost of one gradient")
ax.legend(fontsize=8)
save(fig, "01_cost_of_a_gradient.png")

# %% [markdown]
# The finite-difference cost grows in proportion to $n$: $2n$ evaluations, each dominated at these sizes
# by the fixed cost of calling a few ops (for large $n$ each evaluation also costs $O(n)$, and the total
# becomes $O(n^2)$). The backward pass stays flat at this scale, for the same reason: a handful of ops. The rest of
# the chapter is about how that backward pass works.
#
# ## 2. A scalar engine in one screen
#
# `Value` holds one number, the `Value`s it was computed from (`_parents`), and a closure `_backward` that
# pushes the node's adjoint `grad` into its parents' adjoints, using the local derivative. Note the `+=`:
# that is the sum over consumers from the formula above. `backward()` orders the nodes so that every
# node comes after the nodes it was computed from (a depth-first topological sort), seeds
# $\bar L = 1$ and runs the closures in reverse.


# %%
class Value:
    """A scalar that remembers how it was computed, so that it can be differentiated."""

    def __init__(self, data, parents=(), op=""):
        self.data = float(data)
        self.grad = 0.0  # dL/d(self), filled in by backward()
        self._parents = parents  # the Values this one was computed from
        self._op = op
        self._backward = lambda: None  # adds self.grad * d(self)/d(parent) into each parent's grad

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(a b)/da = b, d(a b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        y = math.tanh(self.data)
        out = Value(y, (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1.0 - y * y) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        y = math.exp(self.data)
        out = Value(y, (self,), "exp")

        def _backward():  # d exp(a)/da = exp(a)
            self.grad += y * out.grad

        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def backward(self):
        order, seen = [], set()

        def visit(v):  # depth first: v is appended after everything it was computed from
            if v not in seen:
                seen.add(v)
                for p in v._parents:
                    visit(p)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


# %% [markdown]
# A neuron with two inputs: $y = \tanh(w_1 x_1 + w_2 x_2 + b)$, and the loss $L = (y - t)^2$. By hand,
# $\partial L/\partial w_1 = 2 (y - t)\,(1 - y^2)\,x_1$ — let us check the engine against that, and
# against a central difference.

# %%
x1, x2, w1, w2, b = Value(2.0), Value(-1.0), Value(0.3), Value(-0.8), Value(0.1)
t_target = 0.5
y = (w1 * x1 + w2 * x2 + b).tanh()
L = (y - t_target) * (y - t_target)
L.backward()
print("y  =", y)
print("L  =", L)
print("w1 =", w1)

by_hand = 2 * (y.data - t_target) * (1 - y.data**2) * x1.data


def L_of_w1(w):
    yv = math.tanh(w * x1.data + w2.data * x2.data + b.data)
    return (yv - t_target) ** 2


central = (L_of_w1(w1.data + 1e-6) - L_of_w1(w1.data - 1e-6)) / 2e-6
print(f"dL/dw1: engine {w1.grad:.10f}   by hand {by_hand:.10f}   central difference {central:.10f}")
assert abs(w1.grad - by_hand) < 1e-12 and abs(w1.grad - central) < 1e-8

# %% [markdown]
# Reuse is where the `+=` earns its keep. In $z = a \cdot a + e^{a}$ the value $a$ feeds three uses, and
# $dz/da = 2a + e^{a}$ is the sum of the three contributions. Overwriting (`=`) instead of accumulating
# would keep only the last one.

# %%
a = Value(1.5)
z = a * a + a.exp()
z.backward()
print(f"dz/da = {a.grad:.6f}   expected 2a + e^a = {2 * 1.5 + math.exp(1.5):.6f}")
assert abs(a.grad - (3.0 + math.exp(1.5))) < 1e-12

# %% [markdown]
# That is a complete reverse-mode engine. It has three limits that matter for GANs:
#
# 1. **Scalars.** A network computes with arrays; one Python object per number is hopeless.
# 2. **Recursion.** `visit` recurses once per node on the longest path, and Python's default recursion
#    limit is 1000. A long chain breaks it (we will see it happen in §8).
# 3. **The backward pass is not recorded.** `_backward` does arithmetic on floats, so the gradient is a
#    plain number with no graph: we cannot differentiate it again, which WGAN-GP and R1 need.
#
# minigan's engine fixes all three. Same idea, three changes.
#
# ## 3. minigan's engine: Tensor, Function, generation
#
# A `Tensor` wraps an array (`.array`, NumPy on the CPU or CuPy on the GPU) and records where it came from:
# `creator` is the `Function` that produced it (None for a leaf you made), and `generation` is its depth in
# the graph. (`.data`, as in PyTorch, is another Tensor on the same array that does not require grad.) Here
# is how a leaf is set up, the whole of its autograd state (the version counter is §9's):

# %%
print(inspect.getsource(mg.Tensor._init_leaf))

# %% [markdown]
# A `Function` is one differentiable op, with `forward` (arrays in, arrays out) and `backward` (gradients of
# the outputs in, gradients of the inputs out) side by side. Here is multiplication, as minigan defines it:

# %%
print(inspect.getsource(mg.ops.elementwise.Mul))

# %% [markdown]
# Two differences from `Value.__mul__`. The gradient is **returned**, not accumulated — the engine does the
# summing over consumers, in one place. And `backward` computes `gy * b` with minigan's own ops on Tensors,
# not on raw arrays: when we ask for it (`create_graph=True`), the backward pass records a graph of its own,
# which is what makes gradients of gradients possible (§7). `sum_to` undoes broadcasting (§4).
#
# Calling a Function runs `forward` on the raw arrays and, if any input needs a gradient and recording is
# on, links the outputs to it. The generation of a Function is the deepest generation among its inputs;
# its outputs are one deeper:

# %%
print(inspect.getsource(Function.__call__))

# %% [markdown]
# Let us build a small graph — one tanh neuron on a batch of 4 inputs with 3 features and a squared-error
# loss — and look at what got recorded. Shapes are written next to each step.

# %%
rng = np.random.default_rng(0)
X = mg.tensor(rng.standard_normal((4, 3)))  # (4, 3) data: no gradient needed
w = mg.tensor(rng.standard_normal(3), requires_grad=True)  # (3,)   broadcast over the batch
b = mg.tensor(0.1, requires_grad=True)  # ()     broadcast over everything
target = mg.tensor([1.0, -1.0, 1.0, -1.0])  # (4,)

h = (X * w).sum(dim=1) + b  # (4, 3) * (3,) -> (4, 3) -> sum -> (4,)
y_hat = h.tanh()  # (4,)
loss = ((y_hat - target) ** 2).mean()  # ()
assert h.shape == (4,) and y_hat.shape == (4,) and loss.shape == ()

print("loss.creator            :", loss.creator)
print("loss.generation         :", loss.generation)
print("y_hat.creator, its input:", y_hat.creator, "<-", y_hat.creator.inputs[0].creator)
print("leaves                  :", w.is_leaf, b.is_leaf, "| X requires grad:", X.requires_grad)

# %% [markdown]
# ### Drawing the graph
#
# The graph is all there, in `creator` and `inputs`. The function below walks it from the outputs back
# to the leaves (with a stack, not recursion) and lays it out left to right by generation: a Tensor of
# generation $g$ in column $2g$, a Function of generation $g$ in column $2g + 1$, between its inputs and
# its outputs (a leaf is drawn just left of the Function that uses it). Blue boxes are leaves that
# require a gradient, grey ones are constants, white ones intermediate results.


# %%
def draw_graph(outputs, names=None, ax=None):
    """Draw the graph that produced ``outputs`` (Tensors round, Functions square), columns by generation."""
    outputs = [outputs] if isinstance(outputs, mg.Tensor) else list(outputs)
    names = names or {}
    columns, where, edges, done = {}, {}, [], set()

    def place(node, column):
        if id(node) not in where:
            columns.setdefault(column, []).append(node)
            where[id(node)] = (column, len(columns[column]) - 1)

    for y in outputs:
        place(y, 2 * y.generation)
    stack = list(outputs)
    while stack:  # walk back from the outputs with a stack: no recursion
        t = stack.pop()
        f = t.creator
        if f is None or (id(f), id(t)) in done:
            continue
        done.add((id(f), id(t)))
        place(f, 2 * f.generation + 1)
        edges.append((f, t))
        if id(f) in done:
            continue  # f has several outputs and its inputs were walked already
        done.add(id(f))
        for x in f.inputs:
            # a leaf has generation 0 wherever it is used; draw it just left of its (last) consumer
            place(x, 2 * f.generation if x.is_leaf else 2 * x.generation)
            edges.append((x, f))
            stack.append(x)

    height = max(len(nodes) for nodes in columns.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(1.15 * (max(columns) + 1), 0.8 * height + 1))
    ax.set_xlim(min(columns) - 0.6, max(columns) + 0.6)
    ax.set_ylim(-height / 2, height / 2)
    ax.axis("off")
    artists = {}
    for column, nodes in columns.items():
        for k, node in enumerate(nodes):
            if isinstance(node, mg.Tensor):
                label = (names.get(id(node), "") + "\n" + str(node.shape)).strip()
                color = (
                    "#9ecae1"
                    if node.is_leaf and node.requires_grad
                    else ("#dddddd" if node.is_leaf else "white")
                )
                box = dict(boxstyle="round", fc=color, ec="0.3")
            else:
                label, box = node.name, dict(boxstyle="square", fc="#fdd0a2", ec="0.3")
            xy = (column, (len(nodes) - 1) / 2 - k)  # centre each column vertically
            artists[id(node)] = ax.text(*xy, label, ha="center", va="center", fontsize=8, bbox=box)
    for src, dst in edges:  # from the right edge of src's label to the left edge of dst's
        ax.annotate(
            "",
            xy=(0, 0.5),
            xycoords=artists[id(dst)],
            xytext=(1, 0.5),
            textcoords=artists[id(src)],
            arrowprops=dict(arrowstyle="->", color="0.4", shrinkA=4, shrinkB=4),
        )
    return ax


ax = draw_graph(
    loss,
    names={id(X): "X", id(w): "w", id(b): "b", id(target): "target", id(y_hat): "y_hat", id(loss): "loss"},
)
ax.set_title("The graph of the neuron's loss (left to right by generation)")
save(ax.figure, "01_graph_neuron.png")

# %% [markdown]
# ### The backward pass
#
# `loss.backward()` hands the graph to `minigan.autograd.engine`. The engine collects every Function that
# can be reached from the output — with an explicit stack, so the depth of the graph is not limited by
# Python's recursion limit — and sorts them by generation, deepest first. That is a reverse topological
# order: a Function's outputs are always deeper than its inputs, so every consumer of a tensor runs before
# the tensor's creator does.

# %%
print(inspect.getsource(engine._collect_functions))

# %% [markdown]
# Then it walks that order once. For each Function it looks up the (already summed) gradients of its
# outputs, calls `backward`, checks each returned gradient has its input's shape, and adds it into the
# input's running total (`accumulate`). At the end, each leaf's total is added into `leaf.grad`. Here is
# the loop in full — there is nothing else:

# %%
print(inspect.getsource(engine._run))

# %%
loss.backward()
print("w.grad =", w.grad, "  shape", w.grad.shape)
print("b.grad =", b.grad, "  shape", b.grad.shape)
assert w.grad.shape == w.shape and b.grad.shape == b.shape  # a gradient always has its input's shape

# the same gradients by hand, in NumPy: dL/dh = 2 (y - t) (1 - y^2) / 4, then back through h = X w + b
Xn, wn, tn = X.numpy(), w.detach().numpy(), target.numpy()
yn = np.tanh(Xn @ wn + 0.1)
gh = 2 * (yn - tn) * (1 - yn**2) / 4
assert np.allclose(w.grad.array, Xn.T @ gh, atol=1e-6) and np.isclose(b.grad.item(), gh.sum(), atol=1e-6)
print("matches the hand-derived NumPy gradient")

# %% [markdown]
# ## 4. Shapes: broadcasting and `sum_to`
#
# `X * w` multiplied a `(4, 3)` array by a `(3,)` one: NumPy **broadcasts** `w`, as if it were copied
# into each of the 4 rows. Each copy is a separate use of the same numbers, so by the sum-over-consumers
# rule the gradient of `w` is the **sum** of the gradients of its 4 copies: the backward of broadcasting
# is summation over the broadcast axes. minigan calls this `sum_to(g, shape)`; `broadcast_to` and `sum_to`
# are each other's backward. The rule that decides which axes to sum: the leading axes that broadcasting
# added, and the axes where the input had length 1 but the output does not.

# %%
print(inspect.getsource(mg.ops.shape._sum_to_array))

# %%
u = mg.tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)  # (3, 1)
v = mg.tensor(np.arange(4.0), requires_grad=True)  # (4,)
s = u + v  # (3, 1) + (4,) -> (3, 4)
print("u + v has shape", s.shape)
s.backward(mg.ones(3, 4))  # the gradient of sum(s); passing the seed explicitly as gradient=
print("u.grad", u.grad.shape, u.grad.numpy().ravel(), "  (each u[i] was copied 4 times)")
print("v.grad", v.grad.shape, v.grad.numpy(), "  (each v[j] was copied 3 times)")
assert u.grad.shape == (3, 1) and v.grad.shape == (4,)
assert np.all(u.grad.numpy() == 4.0) and np.all(v.grad.numpy() == 3.0)

# %% [markdown]
# ## 5. Accumulation: reuse, and repeated `backward()`
#
# Inside one backward pass, a tensor used several times receives the sum of its gradients — exactly as
# in `Value`. *Across* backward passes, `.grad` also accumulates: a second `backward()` adds to what is
# already there. That is what you want when a loss is split into pieces (a GAN discriminator's real and
# fake terms can be back-propagated separately), and it is why every training step starts with
# `zero_grad()` (here: setting `.grad = None`).

# %%
x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x + x).sum()  # dy/dx = 2x + 1: x is used three times
y.backward(retain_graph=True)  # keep the graph: we go through it once more below
print("after one backward :", x.grad.numpy(), " expected 2x + 1 =", 2 * x.detach().numpy() + 1)
y.backward()
print("after two backwards:", x.grad.numpy(), " (accumulated: twice the gradient)")
assert np.allclose(x.grad.numpy(), 2 * (2 * x.detach().numpy() + 1))
x.grad = None  # what optimizer.zero_grad() does

# %% [markdown]
# ### `retain_graph`
#
# After a backward pass each Function drops what it kept for it (its inputs, saved values), so memory is
# freed as early as possible. That is why the first call above needed `retain_graph=True`. Without it, a
# second pass through the same graph is an error — and the message says what to do:

# %%
x = mg.tensor([1.0, 2.0], requires_grad=True)
y = (x * x).sum()
y.backward()
try:
    y.backward()
except GraphFreedError as err:
    print("GraphFreedError:", err)

# %% [markdown]
# ## 6. Switching the graph off: `no_grad` and `detach`
#
# Recording costs memory (every intermediate array stays alive until backward). Under `mg.no_grad()` no
# graph is recorded at all — used for optimizer updates and evaluation. `t.detach()` is a new leaf sharing
# `t`'s data but cut off from its graph: gradients do not flow through it.
#
# The GAN case: when training D on fake samples, `fake = G(z)` must be treated as *data* — D's loss must
# not push gradients into G's weights. So the discriminator step uses `D(fake.detach())`. In miniature,
# with one weight for each player:

# %%
w_g = mg.tensor(2.0, requires_grad=True)  # "generator" weight
w_d = mg.tensor(-0.5, requires_grad=True)  # "discriminator" weight
z = mg.tensor(0.3)
fake = w_g * z
d_loss = (w_d * fake.detach()).tanh()  # discriminator step: fake is data
d_loss.backward()
print("D step: w_d.grad =", w_d.grad, "  w_g.grad =", w_g.grad, "(nothing reached G)")
assert w_g.grad is None

w_d.grad = None
g_loss = -(w_d * fake).tanh()  # generator step: the gradient flows through D into G
g_loss.backward()
print("G step: w_g.grad =", w_g.grad, " (w_d.grad is filled too; G's optimizer ignores it)")

with mg.no_grad():
    y = w_g * 3.0
print("under no_grad: requires_grad =", y.requires_grad, " creator =", y.creator)
assert y.creator is None and not y.requires_grad

# %% [markdown]
# ## 7. Gradients of gradients: `create_graph`
#
# With `create_graph=True` the engine runs every `backward` with recording **on**. Because backwards are
# written with minigan ops, the gradient comes out as a Tensor with a graph of its own, and can be
# differentiated again. `mg.autograd.grad(outputs, inputs)` returns gradients instead of storing them in
# `.grad` — the form a gradient penalty uses.
#
# Take $y = \tanh x$. Then $y' = 1 - \tanh^2 x$ and $y'' = -2 \tanh x\,(1 - \tanh^2 x)$. Since $\tanh$
# acts elementwise, the gradient of $\sum_i \tanh(x_i)$ with respect to $x$ is the vector of the
# $y'(x_i)$; differentiating *its* sum once more gives the $y''(x_i)$.

# %%
xs = np.linspace(-3, 3, 61 if QUICK else 301)
x = mg.tensor(xs, dtype=mg.float64, requires_grad=True)
y = x.tanh()
(dy,) = mg.autograd.grad(y.sum(), x, create_graph=True)  # dy has a graph: it can be differentiated
(d2y,) = mg.autograd.grad(dy.sum(), x)
print("dy.creator :", dy.creator, "  (the gradient is itself the output of a Function)")
th = np.tanh(xs)
assert dy.shape == x.shape and d2y.shape == x.shape
assert np.allclose(dy.array, 1 - th**2, atol=1e-12)
assert np.allclose(d2y.array, -2 * th * (1 - th**2), atol=1e-12)
print("max |d2y - closed form| =", np.abs(d2y.array - (-2 * th * (1 - th**2))).max())

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(xs, th, label=r"$\tanh x$")
ax.plot(xs, dy.array, label=r"$d/dx$ (autograd)")
ax.plot(xs, d2y.array, label=r"$d^2/dx^2$ (autograd, create_graph)")
ax.plot(xs[::10], (-2 * th * (1 - th**2))[::10], "k.", label="closed form of the 2nd derivative")
ax.axhline(0, color="0.8", lw=0.8)
ax.set_xlabel("x")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
ax.set_title("tanh and two derivatives from minigan's autograd")
save(fig, "01_tanh_derivatives.png")

# %% [markdown]
# What does the graph of a gradient look like? Draw the graph that `create_graph=True` recorded for
# $y'$ at three points. It is Tanh's backward, $g_y (1 - y^2)$, written with minigan ops and built from the
# *output* $y$: a `Mul` of $y$ with itself, a `Sub` from the constant 1, and a `Mul` by the seed $g_y$
# (the grey `(3,)` tensor of ones that `grad` starts from). Every box is an ordinary Function, so the
# engine can run backward through it like through any other graph.

# %%
x3 = mg.tensor([-1.0, 0.0, 1.0], dtype=mg.float64, requires_grad=True)
y3 = x3.tanh()
(g3,) = mg.autograd.grad(y3.sum(), x3, create_graph=True)
ax = draw_graph(g3, names={id(x3): "x", id(y3): "y = tanh x", id(g3): "dy/dx"})
ax.set_title("The graph of the gradient dy/dx, recorded with create_graph=True")
save(ax.figure, "01_graph_of_gradient.png")

# %% [markdown]
# ## 8. Deep graphs without recursion
#
# A chain of 10,000 operations — the length of an unrolled recurrent net, or of a long sequence of
# in-place updates — is where the recursive topological sort of `Value.backward` gives out. The
# function is $y = x + x + \dots + x$ built one addition at a time, so $dy/dx = n + 1$ (and $x$ is reused
# $n + 1$ times, which also tests accumulation).

# %%
n = 10_000
xv = Value(1.0)
yv = xv
for _ in range(n):
    yv = yv + xv
try:
    yv.backward()
    print(
        f"Value.backward survived {n} ops (this interpreter's recursion limit is {__import__('sys').getrecursionlimit()})"
    )
except RecursionError as err:
    print(f"Value.backward on a chain of {n} ops: RecursionError ({err})")

x = mg.tensor(1.0, dtype=mg.float64, requires_grad=True)
y = x
t = time.perf_counter()
for _ in range(n):
    y = y + x
t_forward = time.perf_counter() - t
t = time.perf_counter()
y.backward()
t_backward = time.perf_counter() - t
print(f"minigan: generation of y = {y.generation}, dy/dx = {x.grad.item():.0f} (expected {n + 1})")
print(f"         forward {t_forward * 1e3:.0f} ms, backward {t_backward * 1e3:.0f} ms for {n} Functions")
assert x.grad.item() == n + 1 and y.generation == n

# %% [markdown]
# ## 9. In-place writes and version counters
#
# A Function keeps its inputs for backward: `Mul` needs both factors, `MatMul` needs `x` and `w`. That is
# only right if those arrays still hold the values forward saw. An *in-place* write breaks it: an
# optimizer step (`p -= lr * g` on the parameter's own array), `fill_`, `x[i] = v`, `nn.init`, batch norm's
# running statistics. In a GAN the classic slip is to step D's optimizer between computing G's loss through
# D and calling `backward` on it: G would then get the gradient of a D that never produced its loss.
#
# The fix is bookkeeping, as in PyTorch. Every storage has a **version counter**, shared by every Tensor
# that looks at it (`x.data`, `x.detach()`, views such as `x.view(...)`, `x[0]`, `x.T`), and every in-place
# write adds one. When a Function runs it records its inputs' versions; before its backward runs, the
# engine compares (`Function.check_versions`). Ops whose backward needs only shapes (`add`, `reshape`,
# `sum`) declare `saves_inputs = ()` and never refuse.

# %%
D = mg.nn.Linear(3, 1)
opt_D = mg.optim.SGD(D.parameters(), lr=0.1)
z = mg.randn(4, 3, requires_grad=True)  # stands in for G(z)
loss_G = D(z).sum()  # G's loss goes through D's weight (saved by the product)
print("D.weight version before the step:", D.weight._version)
D(mg.randn(4, 3)).sum().backward()
opt_D.step()  # writes into D.weight in place
print("D.weight version after the step: ", D.weight._version)
try:
    loss_G.backward()
except RuntimeError as err:
    print("backward refused:", str(err)[:160], "...")

# %% [markdown]
# Writes that autograd could not see are refused up front: into a leaf that requires grad while the graph
# is recorded (do it under `no_grad()` or on `x.data`, as `nn.init` does), and, unlike PyTorch, into an
# intermediate tensor of the graph (`y.mul_(2)`): minigan does not rewrite the graph for in-place ops, so it
# asks for `y = y * 2`. Python's `y += x` on such a tensor quietly becomes `y = y + x`: same values, same
# gradients. On plain tensors (labels, buffers, `.data`) every in-place method works as in PyTorch.

# %%
w = mg.tensor([1.0, 2.0], requires_grad=True)
try:
    w.fill_(0.0)
except RuntimeError as err:
    print(err)
with mg.no_grad():
    w.fill_(0.5)  # fine: nothing is being recorded
label = mg.full((4,), 1.0)
label.fill_(0.0)  # a plain tensor: in place, version 1
print("w =", w, "  label =", label, "  label version:", label._version)

# %% [markdown]
# ## Summary
#
# - Reverse mode gives the whole gradient for about the cost of one more forward pass: adjoints flow from
#   the output back, $\bar v_i = \sum_k \bar v_k\, \partial f_k / \partial v_i$, in reverse topological order.
# - A `Function` holds forward and backward side by side; a `Tensor` remembers its `creator` and its
#   `generation`; the engine sorts the reachable Functions by generation (no recursion), sums gradients
#   per tensor, and leaves `.grad` on the leaves. `.grad` accumulates across calls: zero it each step.
# - Broadcasting's backward is `sum_to`: a gradient always has its input's shape.
# - `no_grad()` records nothing; `detach()` cuts a tensor out of the graph (D's step on `G(z).detach()`).
# - In-place writes bump a version counter shared by all views of a storage; backward refuses a saved
#   value whose version moved on, instead of returning a silently wrong gradient.
# - `retain_graph=True` keeps the graph for another pass; `create_graph=True` records the backward pass
#   itself, so gradients can be differentiated again (R1 in chapters 07-08, WGAN-GP).
#
# Every op's backward is hand-written — and a wrong one does not crash, it silently trains badly.
# Chapter 02 builds the tool that catches them: gradient checking.
#
# ## Exercises
#
# 1. Give `Value` a `__pow__` for constant exponents and a `relu`; check `Value` against minigan on
#    $(\mathrm{relu}(a b) + a^3)$ at a few points.
# 2. Rewrite `Value.backward` without recursion: give each `Value` a generation (one more than its deepest
#    parent) and process nodes deepest first, as `engine._collect_functions` does. Run §8 with it.
# 3. Write a minigan `Function` for softplus, $\log(1 + e^x)$, whose backward is $g_y \cdot \sigma(x)$
#    built from minigan ops (`gy / (1 + (-x).exp())`). Is it twice differentiable? Check with
#    `mg.autograd.grad(..., create_graph=True)` against $\sigma(x)(1 - \sigma(x))$.
# 4. Compute the third derivative of $\tanh$ by calling `grad` with `create_graph=True` twice, and compare
#    with $-2(1 - \tanh^2 x)(1 - 3\tanh^2 x)$. Draw its graph with `draw_graph`: how many Functions?
# 5. In §5, why does the *second* `y.backward()` not need `retain_graph=True`? What happens on a third?
# 6. The engine could instead run each Function as soon as its walk from the output discovers it.
#    Build the diamond `a = x * 2; y = a * a + a.exp()` and find a discovery order in which `a`'s creator
#    would run before all of `a`'s consumers have passed their gradients back. What would `x.grad` be?

# %%
print(f"chapter 01 ran in {time.perf_counter() - T0:.1f} s ({'quick' if QUICK else 'full'} mode)")
