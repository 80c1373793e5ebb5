"""Stochastic gradient descent, with momentum and Nesterov momentum. Chapter 05.

PyTorch's update, per parameter p with gradient g (weight decay wd, momentum mu, dampening d):

    g <- g + wd p                                   (L2 penalty, if wd != 0)
    b <- g  (first step),  b <- mu b + (1 - d) g    (momentum buffer, if mu != 0)
    g <- g + mu b  (nesterov)   or   g <- b
    p <- p - lr g

Checked (one error line naming the argument): lr, momentum, weight_decay finite and >= 0 (PyTorch's
ranges); dampening finite in [0, 1] and the flags bools (PyTorch checks neither); nesterov needs
momentum > 0 and dampening 0.
"""

from __future__ import annotations

from .checks import check_flag, check_number, label
from .optimizer import Optimizer


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)``."""

    def __init__(
        self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
    ):
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize,
        )  # fmt: skip
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group, where=""):
        super()._check_group(group, where)
        check_number("Invalid momentum value", label("momentum", where), group["momentum"])
        check_number("Invalid dampening value", label("dampening", where), group["dampening"], 0.0, 1.0)
        check_number("Invalid weight_decay value", label("weight_decay", where), group["weight_decay"])
        for flag in ("nesterov", "maximize"):
            check_flag(label(flag, where), group[flag])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening, got "
                f"{label('momentum', where)}={group['momentum']!r}, "
                f"{label('dampening', where)}={group['dampening']!r}"
            )

    def _update(self, p, g, state, group):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p  # a new array: the gradient itself is never modified
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= mu
                buf += (1.0 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p -= lr * g
