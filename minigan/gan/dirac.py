"""Dirac-GAN: the smallest GAN, whose training dynamics fit in a plane. Chapter 07.

Mescheder, Geiger and Nowozin (2018), "Which training methods for GANs do actually converge?": the data
is a point mass at 0, the generator is a point mass at theta (G(z) = theta), the discriminator is linear,
d(x) = psi * x (a logit). With the standard GAN loss the discriminator minimises

    L_D(psi, theta) = softplus(-d(0)) + softplus(d(theta)) = log 2 + softplus(psi * theta)

and the generator minimises L_G(psi, theta) = -softplus(psi * theta) (minimax) or softplus(-psi * theta)
(non-saturating). The unique equilibrium is (theta, psi) = (0, 0). Near it the gradient field is a pure
rotation, (d theta, d psi) ~ 1/2 (psi, -theta): the Jacobian has eigenvalues +-i/2 and no real part, so

- simultaneous gradient descent spirals OUT: each step multiplies the distance from (0, 0) by
  about sqrt(1 + h^2 / 4) for learning rate h;
- alternating gradient descent circles (to first order) and never converges;
- (the non-saturating generator loss has the same linearisation; its nonlinear terms only pull it in
  slowly: radius 1.41 -> 0.28 in 500 alternating steps at h = 0.2, not the geometric decay of R1);
- the R1 penalty gamma/2 * (d/dx d(x))^2 = gamma/2 * psi^2 at the data point damps psi, giving
  eigenvalues with real part < 0: training converges to (0, 0) (for gamma = 1, both eigenvalues are -1/2).

Everything below runs on minigan tensors and autograd, with R1 computed by ``penalties.r1_penalty``
through a real double backward, exactly as in image-sized training.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad
from ..creation import tensor, zeros
from . import losses
from .penalties import r1_penalty


def gradients(theta: float, psi: float, loss: str = "minimax", gamma: float = 0.0) -> tuple[float, float]:
    """(dL_G/dtheta, dL_D/dpsi) at one point: the gradient field that gradient descent follows."""
    th = tensor([[theta]], dtype=np.float64, requires_grad=True)
    ps = tensor(psi, dtype=np.float64, requires_grad=True)

    def D(x):
        return ps * x

    x_real = zeros(1, 1, dtype=np.float64)
    # discriminator: its loss sees the generator's output as a constant
    loss_d = losses.d_loss(loss, D(x_real), D(th.detach()))
    if gamma:
        loss_d = loss_d + r1_penalty(D, x_real, gamma)
    (g_psi,) = grad(loss_d, ps)
    # generator
    (g_theta,) = grad(losses.g_loss(loss, D(th)), th)
    return float(g_theta.item()), float(g_psi.item())


def trajectory(
    theta0: float = 1.0,
    psi0: float = 1.0,
    lr: float = 0.2,
    steps: int = 500,
    loss: str = "minimax",
    gamma: float = 0.0,
    mode: str = "simultaneous",
    r1_every: int = 1,
) -> np.ndarray:
    """The (steps + 1, 2) array of (theta, psi) visited by gradient descent with learning rate ``lr``.

    ``mode="simultaneous"``: both players step from the same point. ``"alternating"``: the discriminator
    steps first, the generator then sees the updated psi (how ``Trainer.step`` plays with k = 1).
    ``r1_every`` = k > 1: lazy R1, the penalty (weight k * gamma) on steps 0, k, 2k, ... only, as
    ``minigan train --set r1_every=k`` plays it.
    """
    if mode not in ("simultaneous", "alternating"):
        raise ValueError(f"mode must be 'simultaneous' or 'alternating', got {mode!r}")
    theta, psi = float(theta0), float(psi0)
    path = [(theta, psi)]
    for step in range(steps):
        g = gamma * r1_every if step % r1_every == 0 else 0.0
        g_theta, g_psi = gradients(theta, psi, loss, g)
        psi_new = psi - lr * g_psi
        if mode == "alternating":
            g_theta, _ = gradients(theta, psi_new, loss, g)
        theta, psi = theta - lr * g_theta, psi_new
        path.append((theta, psi))
    return np.array(path)


def vector_field(thetas, psis, loss: str = "minimax", gamma: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The descent directions (-dL_G/dtheta, -dL_D/dpsi) on the grid ``thetas`` x ``psis`` (for quiver
    plots); two arrays of shape (len(psis), len(thetas))."""
    u = np.zeros((len(psis), len(thetas)))
    v = np.zeros_like(u)
    for i, p in enumerate(psis):
        for j, t in enumerate(thetas):
            g_theta, g_psi = gradients(float(t), float(p), loss, gamma)
            u[i, j], v[i, j] = -g_theta, -g_psi
    return u, v
