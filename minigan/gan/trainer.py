"""The minimax game, one explicit step at a time. Chapter 06 (the game), 07 (mode collapse), 10 (penalties).

Goodfellow et al. (2014) train a generator G (noise z -> sample) against a discriminator D (sample ->
logit d). One training step of ``Trainer.step()`` is

    repeat k times (d_step):                       # improve D with G fixed
        x ~ data, z ~ N(0, I);  fake = G(z) as a constant
        L_D = d_loss(d(x), d(fake)) [+ penalty];   D <- opt_D(grad_D L_D)
    once (g_step):                                  # improve G against the current D
        z ~ N(0, I);  L_G = g_loss(d(G(z)));       G <- opt_G(grad_G L_G)      (D's weights frozen)

which is alternating gradient descent on the game (``losses.py`` has the objectives, ``penalties.py``
the WGAN-GP and R1 terms). Each step returns a record of what happened, so the dynamics can be watched:

    loss_D, loss_G   the two losses (loss_D without the penalty; the penalty is reported on its own)
    D_x, D_G_z       mean D(x) on the real batch and mean D(G(z)) on the fake batch of the last d_step:
                     probabilities sigmoid(d) for minimax / non-saturating, raw outputs otherwise
                     (critic values for Wasserstein and hinge, regression targets 1 / 0 for LSGAN)
    V                V(D, G) = E log D(x) + E log(1 - D(G(z))) on that batch (-log 4 at equilibrium)
    grad_norm_D/G    ||grad||_2 over all of D's / G's parameters, before the optimizer step

A non-finite loss or gradient raises ``NonFiniteError`` before the optimizer step that would use it, so
no NaN ever reaches the parameters (with k > 1, the D steps before it in the same ``step()`` have
happened; ``step_count`` is not advanced).
"""

from __future__ import annotations

import math

from .. import kernels
from ..autograd import Tensor, no_grad
from ..creation import randn, tensor
from ..nn import functional as F
from . import losses
from .penalties import gradient_penalty, r1_penalty

PENALTIES = (None, "wgan-gp", "r1")
DEFAULT_GAMMA = {"wgan-gp": 10.0, "r1": 1.0}


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

    sample_real(n) -> (n, ...) real batch (Tensor or array); sample_z(n) -> (n, z_dim) noise (default:
    N(0, I) from minigan's default generator, on G's device). ``loss`` is one of ``losses.LOSSES``;
    ``penalty`` is None, "wgan-gp" (on interpolates) or "r1" (on real data) with weight ``gamma``
    (default 10 for WGAN-GP, 1 for R1); ``k`` D steps per G step.
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
    ):
        kernels.tune_process()  # allocator / OpenMP settings for a training process (kernels/__init__.py)
        losses.check_loss(loss)
        if penalty not in PENALTIES:
            raise ValueError(f"unknown penalty {penalty!r}; valid: none, wgan-gp, r1")
        if not (isinstance(k, int) and k >= 1):
            raise ValueError(f"k (D steps per G step) must be an int >= 1, got {k!r}")
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.G, self.D, self.opt_G, self.opt_D = G, D, opt_G, opt_D
        self.sample_real = sample_real
        self.z_dim, self.batch_size, self.loss, self.k = z_dim, batch_size, loss, k
        self.penalty = penalty
        self.gamma = DEFAULT_GAMMA.get(penalty, 0.0) if gamma is None else float(gamma)
        self.sample_z = sample_z or (lambda n: randn(n, z_dim, device=self.device))
        self.step_count = 0  # completed steps

    @property
    def device(self) -> str:
        return next(iter(self.G.parameters())).device

    def _real(self, x) -> Tensor:
        return x if isinstance(x, Tensor) else tensor(x, device=self.device)

    def _check(self, what: str, value: float):
        if not math.isfinite(value):
            raise NonFiniteError(self.step_count + 1, what, value)

    def _report(self, out) -> float:
        """Mean D(x) as reported: a probability for the probabilistic losses, the raw output otherwise."""
        with no_grad():
            d = F.sigmoid(out) if self.loss in losses.PROBABILISTIC else out
            return float(d.mean().item())

    def d_step(self, x_real) -> dict:
        """One update of D on the real batch ``x_real`` against a fresh fake batch (G held fixed)."""
        x_real = self._real(x_real)
        with no_grad():
            x_fake = self.G(self.sample_z(x_real.shape[0]))
        self.opt_D.zero_grad()
        pen = None
        if self.penalty == "r1":
            pen, real = r1_penalty(self.D, x_real, self.gamma, return_output=True)
        else:
            real = self.D(x_real)
        fake = self.D(x_fake)
        loss = losses.d_loss(self.loss, real, fake)
        if self.penalty == "wgan-gp":
            pen = gradient_penalty(self.D, x_real, x_fake, self.gamma)
        total = loss if pen is None else loss + pen
        loss_value = float(loss.item())
        self._check("loss_D", loss_value)
        total.backward()
        gn = grad_norm(self.D.parameters())
        self._check("the gradient norm of D", gn)
        self.opt_D.step()
        with no_grad():
            v = float(losses.value(real.detach(), fake.detach()).item())
        return {
            "loss_D": loss_value,
            "penalty": 0.0 if pen is None else float(pen.item()),
            "D_x": self._report(real),
            "D_G_z": self._report(fake),
            "V": v,
            "grad_norm_D": gn,
        }

    def g_step(self) -> dict:
        """One update of G against the current D (D's parameters frozen: no gradients computed for them)."""
        d_params = list(self.D.parameters())
        flags = [p.requires_grad for p in d_params]
        for p in d_params:
            p.requires_grad = False
        try:
            self.opt_G.zero_grad()
            fake = self.D(self.G(self.sample_z(self.batch_size)))
            loss = losses.g_loss(self.loss, fake)
            loss_value = float(loss.item())
            self._check("loss_G", loss_value)
            loss.backward()
        finally:
            for p, f in zip(d_params, flags):
                p.requires_grad = f
        gn = grad_norm(self.G.parameters())
        self._check("the gradient norm of G", gn)
        self.opt_G.step()
        return {"loss_G": loss_value, "grad_norm_G": gn}

    def step(self) -> dict:
        """k d_steps on fresh real batches, then one g_step; returns the record (see module docstring)."""
        for _ in range(self.k):
            record = self.d_step(self.sample_real(self.batch_size))
        record.update(self.g_step())
        self.step_count += 1
        return {"step": self.step_count, **record}

    def sample(self, n: int, z=None):
        """``n`` generator samples (a Tensor, no graph) with G in eval mode; ``z`` may be given."""
        was_training = getattr(self.G, "training", False)
        self.G.eval()
        try:
            with no_grad():
                return self.G(self.sample_z(n) if z is None else self._real(z))
        finally:
            if was_training:
                self.G.train()

    def state_dict(self) -> dict:
        """Models, optimizers and the step counter (RNG state is the caller's: see ``minigan.io``)."""
        return {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "step": self.step_count,
        }

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self.step_count = int(state["step"])
