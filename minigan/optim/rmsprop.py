"""RMSprop: divide the gradient by a running root-mean-square of recent gradients. Chapter 05.

PyTorch's update (Hinton's lecture 6e), per parameter p with gradient g:

    g <- g + wd p                                      (L2 penalty, if weight_decay != 0)
    s <- alpha s + (1 - alpha) g^2                     mean square
    a <- alpha a + (1 - alpha) g                       mean (centered only)
    r <- sqrt(s - a^2) + eps   (centered)   or   sqrt(s) + eps
    b <- mu b + g / r,  p <- p - lr b                  (momentum mu > 0)
    p <- p - lr g / r                                  (otherwise)

The original WGAN used RMSprop (lr 5e-5): with no momentum, its steps follow the current gradient only.

Checked (one error line naming the argument): lr, eps, weight_decay, momentum finite and >= 0 (PyTorch's
ranges); alpha finite in [0, 1] (PyTorch allows alpha > 1, which makes the mean square negative and the
update NaN); centered and maximize bools.
"""

from __future__ import annotations

from ..backend import array_module
from .checks import check_flag, check_number, label
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
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
            maximize=maximize,
        )  # fmt: skip
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group, where=""):
        super()._check_group(group, where)
        check_number("Invalid epsilon value", label("eps", where), group["eps"])
        check_number("Invalid momentum value", label("momentum", where), group["momentum"])
        check_number("Invalid weight_decay value", label("weight_decay", where), group["weight_decay"])
        check_number("Invalid alpha value", label("alpha", where), group["alpha"], 0.0, 1.0)
        for flag in ("centered", "maximize"):
            check_flag(label(flag, where), group[flag])

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
