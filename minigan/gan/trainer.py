"""The minimax game, one explicit move at a time: the one game loop of every GAN variant. Chapter 06 (the
game), 07 (mode collapse), 10 (penalties), 11 (variants: conditional GANs).

Goodfellow et al. (2014) train a generator G (noise z -> sample) against a discriminator D (sample ->
logit d). One training step of ``Trainer.step()`` is

    repeat k times (d_step):                       # improve D with G fixed
        batch ~ data;  L_D = variant.d_loss(batch)   # e.g. d_loss(D(x), D(G(z))) [+ penalty]
        D <- opt_D(grad_D L_D)
    once (g_step):                                  # improve G against the current D
        L_G = variant.g_loss(n)                      # e.g. g_loss(D(G(z)))
        G <- opt_G(grad_G L_G)                       (D's weights frozen)

which is alternating gradient descent on the game. WHAT a move computes belongs to the variant
(``variants/``: the unconditional game of chapters 06-08 by default, the conditional GANs and the
semi-supervised GAN of chapters 11 and 15); HOW the moves are played is this loop's, the same for all.
``G`` and ``D`` may be containers of several networks (one optimizer each side): the loop only needs their
parameters. Each step returns a record of what happened, so the dynamics can be watched:

    loss_D, loss_G   the two adversarial losses (loss_D without the penalty, which is reported on its own)
    D_x, D_G_z       mean D(x) on the real batch and mean D(G(z)) on the fake batch of the last d_step:
                     probabilities sigmoid(d) for minimax / non-saturating, raw outputs otherwise
                     (critic values for Wasserstein and hinge, regression targets 1 / 0 for LSGAN)
    V                V(D, G) = E log D(x) + E log(1 - D(G(z))) on that batch (-log 4 at equilibrium)
    grad_norm_D/G    ||grad||_2 over all of D's / G's parameters, before the optimizer step
    ...              the variant's own terms (ACGAN's class losses, the semi-supervised GAN's accuracy)

A non-finite loss or gradient raises ``NonFiniteError`` before the optimizer step that would use it, so
no NaN ever reaches the parameters (with k > 1, the D steps before it in the same ``step()`` have
happened; ``step_count`` is not advanced).
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from ..autograd import Tensor, no_grad
from ..creation import randn, tensor
from .variants.base import Variant
from .variants.unconditional import Unconditional


class NonFiniteError(FloatingPointError):
    """A loss or gradient became NaN or infinite; ``step`` is the step that produced it."""

    def __init__(self, step: int, what: str, value: float):
        super().__init__(f"training diverged at step {step}: {what} is {value}")
        self.step, self.what, self.value = step, what, value


def grad_norm(params) -> float:
    """sqrt(sum over parameters of sum(grad^2)); parameters without a gradient count as 0."""
    total = 0.0
    for p in params:
        if p.grad is not None:
            g = p.grad.array
            total += float((g * g).sum())
    return math.sqrt(total)


class Trainer:
    """Plays the GAN game between ``G`` and ``D`` (``mg.nn.Module``s) with optimizers ``opt_G``, ``opt_D``.

    sample_real(n) -> a real batch of n (a Tensor or array; a tuple of them for a labelled variant);
    sample_z(n) -> (n, z_dim) noise (default: N(0, I) from minigan's default generator, on G's device).
    ``variant`` (a ``variants.Variant``) says what the moves compute; by default the unconditional game
    with ``loss`` (one of ``losses.LOSSES``), ``penalty`` (None, "wgan-gp" on interpolates, "r1" on real
    data) and its weight ``gamma`` (default 10 for WGAN-GP, 1 for R1); a given variant carries its own
    loss and penalty. ``k`` D steps per G step.

    Data-parallel (chapter 16): each rank makes its own Trainer with its shard's ``batch_size`` (B / p) and
    ``group`` (a ``minigan.distributed`` process group); G's and D's gradients are averaged by their
    ``Reducer``s during backward, and each move's record is averaged over the ranks before it is checked.
    """

    def __init__(
        self,
        G,
        D,
        opt_G,
        opt_D,
        sample_real,
        *,
        z_dim: int,
        batch_size: int = 64,
        loss: str = "nonsaturating",
        k: int = 1,
        penalty: str | None = None,
        gamma: float | None = None,
        sample_z=None,
        variant: Variant | None = None,
        group=None,
    ):
        kernels.tune_process()  # allocator / OpenMP settings for a training process (kernels/__init__.py)
        if variant is None:
            variant = Unconditional(loss, penalty, gamma)
        elif (loss, penalty, gamma) != ("nonsaturating", None, None):
            raise ValueError("Trainer: give loss, penalty and gamma to the variant, not to the Trainer")
        if not (isinstance(k, int) and k >= 1):
            raise ValueError(f"k (D steps per G step) must be an int >= 1, got {k!r}")
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.G, self.D, self.opt_G, self.opt_D = G, D, opt_G, opt_D
        self.sample_real, self.variant = sample_real, variant
        self.z_dim, self.batch_size, self.k = z_dim, batch_size, k
        self.sample_z = sample_z or (lambda n: randn(n, z_dim, device=self.device))
        self.step_count = 0  # completed steps
        self.group = group if group is not None and group.world_size > 1 else None

    # the variant's adversarial settings, read where the unconditional Trainer had them
    loss = property(lambda self: self.variant.loss)
    penalty = property(lambda self: self.variant.penalty)
    gamma = property(lambda self: self.variant.gamma)

    @property
    def device(self) -> str:
        return next(iter(self.G.parameters())).device

    def _real(self, x):
        """A batch as Tensors on the trainer's device (tuples element by element; Tensors as they are)."""
        if isinstance(x, (tuple, list)):
            return type(x)(self._real(a) for a in x)
        return x if isinstance(x, Tensor) else tensor(x, device=self.device)

    def real_batch(self, n: int):
        """A fresh real batch of n from ``sample_real``, as Tensors on the trainer's device."""
        return self._real(self.sample_real(n))

    def _agree(self, record: dict) -> dict:
        """A data-parallel run (``group``): the record averaged over the ranks, so it describes the whole
        batch and every rank takes the same NaN decision (a NaN anywhere is a NaN everywhere)."""
        if self.group is None:
            return record
        keys = sorted(record)
        values = np.array([record[k] for k in keys], dtype=np.float64)
        self.group.all_reduce(values, "avg")
        return dict(zip(keys, values.tolist()))

    def _check(self, what: str, value: float):
        if not math.isfinite(value):
            raise NonFiniteError(self.step_count + 1, what, value)

    def d_step(self, batch) -> dict:
        """One update of D on the real ``batch`` against fresh fakes (G held fixed)."""
        self.opt_D.zero_grad()
        loss, record = self.variant.d_loss(self, self._real(batch))
        record = self._agree(record)
        self._check("loss_D", record["loss_D"])
        loss.backward()
        record["grad_norm_D"] = gn = grad_norm(self.D.parameters())
        self._check("the gradient norm of D", gn)
        self.opt_D.step()
        return record

    def g_step(self) -> dict:
        """One update of G against the current D (D's parameters frozen: no gradients computed for them)."""
        d_params = list(self.D.parameters())
        flags = [p.requires_grad for p in d_params]
        for p in d_params:
            p.requires_grad = False
        try:
            self.opt_G.zero_grad()
            loss, record = self.variant.g_loss(self, self.batch_size)
            record = self._agree(record)
            self._check("loss_G", record["loss_G"])
            loss.backward()
        finally:
            for p, f in zip(d_params, flags):
                p.requires_grad = f
        record["grad_norm_G"] = gn = grad_norm(self.G.parameters())
        self._check("the gradient norm of G", gn)
        self.opt_G.step()
        return record

    def step(self) -> dict:
        """k d_steps on fresh real batches, then one g_step; returns the record (see module docstring)."""
        for _ in range(self.k):
            record = self.d_step(self.sample_real(self.batch_size))  # d_step makes it Tensors
        record.update(self.g_step())
        self.variant.after_step(self)  # e.g. StyleGAN's moving average of G's weights
        self.step_count += 1
        return {"step": self.step_count, **record}

    def sample(self, n: int, z=None, labels=None):
        """``n`` generator samples (a Tensor, no graph) with G in eval mode; ``z`` may be given, and
        ``labels`` (n,) for a conditional variant."""
        was_training = getattr(self.G, "training", False)
        self.G.eval()
        try:
            with no_grad():
                z = self.sample_z(n) if z is None else self._real(z)
                return self.variant.generate(self.G, z, None if labels is None else self._real(labels))
        finally:
            if was_training:
                self.G.train()

    def state_dict(self) -> dict:
        """Models, optimizers, the variant's own state and the step counter (RNG state is the caller's:
        see ``minigan.io``)."""
        state = {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "step": self.step_count,
        }
        own = self.variant.state_dict()
        return {**state, "variant": own} if own else state

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self.variant.load_state_dict(state.get("variant", {}))
        self.step_count = int(state["step"])
