"""Gradient penalties on the discriminator: WGAN-GP and R1. R1 is used in chapter 07 (mode collapse, the
Dirac-GAN) and chapter 08, section 7; the double backward both need is taught in chapter 01, section 7.

Both penalise the gradient of D's output with respect to its INPUT, so both need a gradient of a
gradient: ``mg.autograd.grad(..., create_graph=True)`` returns grad_x d(x) as a tensor with a graph of its
own, the penalty is built from it, and the discriminator's ``backward()`` then differentiates through it
with respect to D's parameters.

WGAN-GP (Gulrajani et al. 2017), for a Wasserstein critic d:

    x_hat = alpha x_real + (1 - alpha) x_fake,      alpha ~ U[0, 1], ONE alpha PER SAMPLE, shape (N, 1, ...)
    penalty = lambda * E_x_hat (||grad_x d(x_hat)||_2 - 1)^2          (lambda = 10 in the paper)

The norm is over all of a sample's features (a (C, H, W) image gives one norm per image). Drawing alpha per
element instead (shape (N, C, H, W)) does not interpolate between two samples at all - a known bug in
some public implementations.

R1 (Mescheder et al. 2018), on real data only:

    penalty = gamma / 2 * E_x~data ||grad_x d(x)||_2^2

It pushes D's gradient to zero on the data manifold, which makes the game's equilibrium locally
attractive (see ``dirac.py``).

Cost: one extra forward and a double backward through D per penalised step (chapter 08, section 7, times it).
"""

from __future__ import annotations

from ..autograd import Tensor, grad
from ..creation import rand


def _per_sample_sq_norm(g: Tensor) -> Tensor:
    """||g_i||^2 for each sample i of a (N, ...) tensor: shape (N,)."""
    return (g * g).reshape(g.shape[0], -1).sum(dim=1)


def _input_grad(D, x: Tensor) -> tuple[Tensor, Tensor]:
    """(d(x), grad_x sum_i d(x_i)) with the gradient kept differentiable. Since sample i's output depends
    only on x_i (no batch-mixing layers such as BatchNorm in a penalised D), the gradient of the SUM is the
    per-sample gradient."""
    out = D(x)
    (gx,) = grad(out.sum(), x, create_graph=True)
    return out, gx


def gradient_penalty(D, x_real: Tensor, x_fake: Tensor, lam: float = 10.0, alpha: Tensor | None = None):
    """WGAN-GP: lam * E (||grad d(x_hat)|| - 1)^2 on random interpolates x_hat; returns a 0-d tensor.

    x_real, x_fake: (N, ...) of the same shape (both treated as constants). ``alpha`` (N, 1, ..., 1) may be
    given (tests); by default it is drawn from minigan's default generator, one value per sample.
    """
    if x_real.shape != x_fake.shape:
        raise ValueError(
            f"gradient_penalty: real and fake batches must have the same shape, got {x_real.shape} and "
            f"{x_fake.shape}"
        )
    n = x_real.shape[0]
    alpha_shape = (n,) + (1,) * (x_real.ndim - 1)
    if alpha is None:
        alpha = rand(*alpha_shape, dtype=x_real.dtype, device=x_real.device)
    elif tuple(alpha.shape) != alpha_shape:
        raise ValueError(
            f"gradient_penalty: alpha must have shape {alpha_shape} (one per sample), got {alpha.shape}"
        )
    x_hat = (alpha.detach() * x_real.detach() + (1.0 - alpha.detach()) * x_fake.detach()).detach()
    x_hat.requires_grad = True
    _, gx = _input_grad(D, x_hat)
    norm = (_per_sample_sq_norm(gx) + 1e-12).sqrt()  # eps: sqrt has an infinite slope at 0
    return lam * ((norm - 1.0) ** 2).mean()


def r1_penalty(D, x_real: Tensor, gamma: float = 1.0, return_output: bool = False):
    """R1: gamma / 2 * E ||grad_x d(x)||^2 on real data; returns a 0-d tensor.

    With ``return_output=True`` returns (penalty, d(x_real)), so a D step can reuse the forward pass
    (its output has a graph to D's parameters as usual).
    """
    x = x_real.detach()
    x.requires_grad = True
    out, gx = _input_grad(D, x)
    penalty = (0.5 * gamma) * _per_sample_sq_norm(gx).mean()
    return (penalty, out) if return_output else penalty
