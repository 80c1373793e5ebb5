"""RMSprop: divide the gradient by a running root-mean-square of recent gradients. Chapter 05.

PyTorch's update (Hinton's lecture 6e), per parameter p with gradient g:

    g <- g + wd p                                      (L2 penalty, if weight_decay != 0)
    s <- alpha s + (1 - alpha) g^2                     mean square
    a <- alpha a + (1 - alpha) g                       mean (centered only)
    r <- sqrt(s - a^2) + eps   (centered)   or   sqrt(s) + eps
    b <- mu b + g / r,  p <- p - lr b                  (momentum mu > 0)
    p <- p - lr g / r                                  (otherwise)

The original WGAN used RMSprop (lr 5e-5): with no momentum, its steps follow the current gradient only.
"""

from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, lerp_


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
    maximize=False)``."""

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        maximize=False,
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
            maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, p, g, state, group):
        xp = array_module(p)
        alpha, mu = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p)
            if mu > 0:
                state["momentum_buffer"] = xp.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p)
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        state["step"] += 1
        s = state["square_avg"]
        s *= alpha
        g2 = g * (1.0 - alpha)
        g2 *= g
        s += g2
        if group["centered"]:
            a = lerp_(state["grad_avg"], g, 1.0 - alpha)
            avg = s - a * a
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(s)
        avg += group["eps"]
        if mu > 0:
            buf = state["momentum_buffer"]
            buf *= mu
            buf += g / avg
            p -= group["lr"] * buf
        else:
            update = g * (-group["lr"])
            update /= avg
            p += update
