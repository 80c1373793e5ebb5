"""Unrolled GAN (Metz et al. 2017): G plays against the discriminator D is about to become. Chapter 10
(stabilising GANs) teaches it.

In plain alternating descent G answers the CURRENT D: it moves its samples to wherever D is weakest now,
D follows, G moves on, and the chase can go round for ever or end with every sample on one mode (chapter
07). An unrolled G looks ahead: its loss is taken against D_K, the discriminator after K more D steps,

    D_0 = D;   D_{j+1} = D_j after one D step (the base variant's d_loss) on a fresh real batch and
               fresh fakes of the current G,  j = 0 .. K-1
    L_G = the base variant's g_loss evaluated with D_K;   afterwards D is D_0 again

so a G move that D would answer within K steps gains G nothing. Writing theta for D's parameters, the
gradient G follows is

    dL_G/dG = dL_G/dG |theta_K fixed  +  (dtheta_K/dG)^T dL_G/dtheta_K                        (*)

where the second term is how D's K-step response depends on G. ``Unrolled(base, steps=K, create_graph)``
wraps any variant (unconditional, conditional, semi-supervised): its D step is the base's, unchanged, and
only the G step looks ahead. Two versions:

``create_graph=False``, the surrogate: the K steps are taken with the run's own D optimizer (Adam, say)
    on a copy of D's parameters and of its optimizer state, without a graph, and theta_K enters L_G as a
    constant: G follows the first term of (*) only, the gradient of the base G loss at D_K. Cost per G
    step: K extra D steps (each a G forward without a graph plus D's forward and backward on a real and a
    fake batch, penalty included); memory: one copy of D's parameters, buffers and optimizer state, and
    one D step's activations at a time.
``create_graph=True``, the exact gradient: the K steps are differentiable SGD steps

        theta_{j+1} = theta_j - eta grad_theta L_D(theta_j)      (built with create_graph=True, fakes
                                                                  keeping their graph to G)

    with eta = ``lr`` (default: the D optimizer's current learning rate), so backward through L_G gives
    both terms of (*), the second a Hessian-vector product back through every look-ahead step. Exact for
    the base variant's graph: what that graph treats as a constant stays one (WGAN-GP's interpolates are
    detached in ``penalties.py``, so the penalty's dependence on G's samples is left out). Cost per G
    step: each look-ahead step is a D step whose backward is itself recorded (about 2 to 3 times a plain
    D step), and G's backward runs back through all K of them (about as much again), so a few times the
    surrogate's time; memory: the graphs of all K steps are alive until G's backward, about K times a
    penalised D step's. (The same machinery could differentiate through Adam's update; plain SGD keeps
    the unrolled steps readable.)

How the look-ahead evaluates D at other parameters: every module of D keeps its parameters in
``_parameters`` and reads them from there when called, so for the look-ahead those entries (and D's
buffers: batch-norm statistics) are swapped for other tensors (``substituted``) and put back afterwards.
D's own parameters, buffers, gradients and optimizer state are never written, so D is exactly as before
(the tests check it); G's buffers are likewise swapped for copies while the look-ahead runs G. L_G's own
forward pass uses D's buffers, as the base G step does, so ``steps=0`` is the base variant bit for bit.
The look-ahead draws noise and real batches from the run's generators, which are checkpointed, so a
resumed run stays bit-identical.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from ...autograd import grad, no_grad
from ...autograd.grad_mode import enable_grad
from ...nn import Parameter
from .base import Variant


@contextmanager
def substituted(module, replacement: dict):
    """Within the block, every parameter or buffer slot in ``module``'s tree that holds a tensor t with
    ``id(t)`` in ``replacement`` holds ``replacement[id(t)]`` instead (any tensor, a non-leaf included);
    the original tensors are put back when the block ends, even on an error."""
    slots = []
    for m in module.modules():
        for store in (m._parameters, m._buffers):
            slots += [(store, name, t) for name, t in store.items() if t is not None and id(t) in replacement]
    for store, name, t in slots:
        store[name] = replacement[id(t)]
    try:
        yield
    finally:
        for store, name, t in slots:
            store[name] = t


def _copies(tensors) -> dict:
    """id(t) -> a copy of t with its own storage and no graph, for each tensor."""
    with no_grad():
        return {id(t): t.clone() for t in tensors}


class _Recording:
    """G called with the graph recorded even inside a variant's ``no_grad`` block (the exact look-ahead
    needs D's steps to depend on G's samples); everything else is G's."""

    def __init__(self, G):
        self._G = G

    def __call__(self, *args, **kwargs):
        with enable_grad():
            return self._G(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._G, name)


class _WithG:
    """The trainer as the variant sees it, with another G."""

    def __init__(self, t, G):
        self._t, self.G = t, G

    def __getattr__(self, name):
        return getattr(self._t, name)


class Unrolled(Variant):
    """``Unrolled(base, steps=K, create_graph=False, lr=None)``: the ``base`` variant with G's loss taken
    against D after K look-ahead D steps (module docstring). ``create_graph=False``: the surrogate, the
    look-ahead by the run's D optimizer, no gradient through it; ``True``: the exact gradient through K
    differentiable SGD steps of size ``lr`` (None: the D optimizer's current learning rate; exact only).
    The D step, sampling and the variant's state are the base's."""

    def __init__(self, base: Variant, steps: int = 5, create_graph: bool = False, lr: float | None = None):
        if not isinstance(base, Variant):
            raise TypeError(f"Unrolled: base must be a Variant, got {type(base).__name__}")
        if type(steps) is not int or steps < 0:
            raise ValueError(f"Unrolled: steps (look-ahead D steps) must be an int >= 0, got {steps!r}")
        if type(create_graph) is not bool:
            raise ValueError(f"Unrolled: create_graph must be True or False, got {create_graph!r}")
        if lr is not None:
            if not create_graph:
                raise ValueError("Unrolled: lr is the step size of the exact look-ahead (create_graph=True)")
            if type(lr) not in (int, float) or not (math.isfinite(lr) and lr > 0):
                raise ValueError(f"Unrolled: lr must be a finite number > 0, got {lr!r}")
        self.base, self.steps, self.create_graph = base, steps, create_graph
        self.lr = None if lr is None else float(lr)
        # what the loop and the command line read from a variant, as the base has it
        for key in ("name", "conditional", "translation", "directions", "labels_to_D", "n_classes", "loss",
                    "penalty", "gamma", "style_based"):  # fmt: skip
            setattr(self, key, getattr(base, key))

    def __getattr__(self, name):  # anything else a base variant has (ACGAN's cls_weight, ...)
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    def __repr__(self):
        kind = "exact" if self.create_graph else "surrogate"
        return f"Unrolled({type(self.base).__name__}, steps={self.steps}, {kind})"

    def d_loss(self, t, batch):
        return self.base.d_loss(t, batch)

    def g_loss(self, t, n):
        theta_K = self.lookahead_exact(t) if self.create_graph else self.lookahead(t)
        with substituted(t.D, theta_K):
            return self.base.g_loss(t, n)

    def generate(self, G, z, labels=None):
        return self.base.generate(G, z, labels)

    def after_step(self, t) -> None:
        self.base.after_step(t)

    def state_dict(self) -> dict:
        return self.base.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.base.load_state_dict(state)

    # -- the look-ahead: id(D's parameter) -> theta_K --------------------------------------------------
    def lookahead(self, t) -> dict:
        """The surrogate: K steps of a copy of the run's D optimizer on copies of D's parameters; theta_K
        is returned as constants (G's loss gets no gradient through the look-ahead)."""
        D, opt = t.D, t.opt_D
        theta = {i: Parameter(p) for i, p in _copies(D.parameters()).items()}
        try:
            groups = [{**g, "params": [theta[id(p)] for p in g["params"]]} for g in opt.param_groups]
        except KeyError:
            raise ValueError(
                "Unrolled: the D optimizer holds a tensor that is not a parameter of D"
            ) from None
        opt_K = type(opt)(groups)  # the same optimizer and hyper-parameters ...
        opt_K.load_state_dict(opt.state_dict())  # ... and a copy of its moments and step counts
        params = list(theta.values())
        with substituted(D, {**theta, **_copies(D.buffers())}), substituted(t.G, _copies(t.G.buffers())):
            for _ in range(self.steps):
                loss, _ = self.base.d_loss(t, t.real_batch(t.batch_size))
                for p, g in zip(params, grad(loss, params, allow_unused=True)):
                    p.grad = g  # None for a parameter the loss does not use: the optimizer skips it
                opt_K.step()
        return {i: Parameter(p, requires_grad=False) for i, p in theta.items()}

    def lookahead_exact(self, t) -> dict:
        """The exact version: theta_K after K differentiable SGD steps, a function of G's parameters (and
        of leaf copies of D's, whose gradients are thrown away)."""
        D = t.D
        eta = self.lr if self.lr is not None else float(t.opt_D.param_groups[0]["lr"])
        theta = {i: Parameter(p) for i, p in _copies(D.parameters()).items()}
        view = _WithG(t, _Recording(t.G))
        with substituted(D, _copies(D.buffers())), substituted(t.G, _copies(t.G.buffers())):
            for _ in range(self.steps):
                with substituted(D, theta):
                    loss, _ = self.base.d_loss(view, t.real_batch(t.batch_size))
                ids, thetas = list(theta), list(theta.values())
                grads = grad(loss, thetas, create_graph=True, allow_unused=True)
                theta = {i: p if g is None else p - eta * g for i, p, g in zip(ids, thetas, grads)}
        return theta
