"""Adam: momentum plus a per-coordinate step size from a running mean of squared gradients. Chapter 05.

PyTorch's update (Kingma & Ba 2015), per parameter p with gradient g, at step t = 1, 2, ...:

    g <- g + wd p                                      (L2 penalty, if weight_decay != 0)
    m <- b1 m + (1 - b1) g                             first moment, bias-corrected by 1 - b1^t
    v <- b2 v + (1 - b2) g^2                           second moment, bias-corrected by 1 - b2^t
    v_max <- max(v_max, v)                             (amsgrad only; then v_max replaces v below)
    p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

The bias corrections undo the zero initialisation of m and v, which would otherwise shrink the first
steps. GANs commonly use lr = 2e-4, betas = (0.5, 0.999) (DCGAN) or betas = (0, 0.9) (WGAN-GP).

Checked (one error line naming the argument): lr, eps, weight_decay finite and >= 0, each beta finite in
[0, 1) (PyTorch's ranges, without its tolerance of NaN lr); betas a pair; amsgrad and maximize bools.
"""

from __future__ import annotations

import math

from ..backend import array_module
from .checks import check_betas, check_flag, check_number, label
from .optimizer import Optimizer, lerp_


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
    maximize=False)``."""

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False
    ):
        check_betas(betas)  # before tuple(): a bare number is not a pair
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group, where=""):
        super()._check_group(group, where)
        check_betas(group["betas"], where)
        check_number("Invalid epsilon value", label("eps", where), group["eps"])
        check_number("Invalid weight_decay value", label("weight_decay", where), group["weight_decay"])
        for flag in ("amsgrad", "maximize"):
            check_flag(label(flag, where), group[flag])

    def _update(self, p, g, state, group):
        xp = array_module(p)
        b1, b2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_avg_sq"] = xp.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p)
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        lerp_(m, g, 1.0 - b1)
        v *= b2
        g2 = g * (1.0 - b2)
        g2 *= g
        v += g2
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = group["lr"] / (1.0 - b1**t)
        denom = xp.sqrt(v)
        denom /= math.sqrt(1.0 - b2**t)
        denom += group["eps"]
        update = m * (-step_size)
        update /= denom
        p += update
