"""Optimizer: the base class of SGD, Adam and RMSprop. Chapter 05 (layers and optimizers).

An optimizer holds ``param_groups`` - a list of dicts, each with its ``params`` and its own
hyperparameters (``lr`` ...), so that, say, a generator's biases can get another learning rate - and
``state``, per-parameter buffers such as momentum. ``step()`` updates every parameter that has a ``grad``,
in place on its array under ``no_grad``; gradient arrays are only read, never written (one array may be
the gradient of several tensors). Each update is a handful of whole-array NumPy/CuPy operations per
parameter, no per-element Python.

``state_dict()`` is made of plain Python numbers, lists, dicts and NumPy arrays (copied from the device),
so it can go into an npz or JSON file without pickle; ``load_state_dict`` takes it back (integer keys
may come back as strings from JSON) and training continues bit for bit as if it had not stopped. The
layout is PyTorch's: ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

Hyperparameters are checked where they enter (``checks.py``): in the constructor, in ``add_param_group``
and again at every ``step()``, so a NaN, infinite, negative or non-numeric value written into a param
group (``group["lr"] = ...``, by hand or by a scheduler) raises one line naming it before any parameter
moves. PyTorch checks the constructor's arguments only (and lets NaN through): minigan is stricter.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor
from ..backend import array_module, as_numpy, to_device
from .checks import check_lr, label


def lerp_(a, b, w: float):
    """a <- a + w (b - a) in place, evaluated as PyTorch's ``lerp_`` does (exact at w = 0 and w = 1)."""
    diff = b - a
    if w < 0.5:
        diff *= w
        a += diff
    else:  # b - (b - a)(1 - w)
        diff *= 1.0 - w
        array_module(a).subtract(b, diff, out=a)
    return a


class Optimizer:
    """Base class. Subclasses set ``defaults`` and implement ``_update(p, g, state, group)``, which
    updates the array ``p`` in place from the gradient array ``g`` (never to be modified), and
    ``_check_group(group, where)``, which raises for a bad hyperparameter (the base checks ``lr``)."""

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}  # id(param) -> dict of buffers
        self.param_groups: list = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a single Tensor (wrap it in a list)"
            )
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    "can't optimize a non-leaf Tensor (it is computed from others; optimize those)"
                )
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group, f"param_groups[{len(self.param_groups)}]")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in group["params"]}) != len(group["params"]) or any(
            id(p) in seen for p in group["params"]
        ):
            raise ValueError("some parameters appear more than once in the parameter groups")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``grad = None`` (default), or a fresh zero tensor (never zeroed in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad = None if set_to_none else Tensor._from_array(p.xp.zeros_like(p.grad.array))

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure``: optional function that re-evaluates
        the loss (run with grad enabled); its result is returned."""
        for i, group in enumerate(self.param_groups):  # values may have been changed since the last step
            self._check_group(group, f"param_groups[{i}]")
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad.array
                    if group.get("maximize", False):
                        g = -g
                    self._update(p.array, g, self.state.setdefault(id(p), {}), group)
                    p._bump_version()  # a graph that saved p before this step can no longer use it
        return loss

    def _update(self, p, g, state: dict, group: dict) -> None:
        raise NotImplementedError

    def _check_group(self, group: dict, where: str = "") -> None:
        """Raise for a bad hyperparameter of ``group`` (``where`` names the group in the message; empty
        for the constructor's arguments)."""
        if "lr" in group:
            check_lr(group["lr"], label("lr", where))

    # -- saving and restoring ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{"state": {i: {name: number or NumPy array}}, "param_groups": [{hyperparameters, "params": [i]}]},
        parameters numbered in group order; arrays are copies."""
        index, groups, state = 0, [], {}
        for group in self.param_groups:
            packed = {k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items() if k != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            for p in group["params"]:
                if id(p) in self.state:
                    state[index] = {
                        k: (np.array(as_numpy(v)) if hasattr(v, "shape") else v)
                        for k, v in self.state[id(p)].items()
                    }
                index += 1
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and per-parameter state from ``state_dict()`` output (arrays are copied
        to each parameter's device and dtype)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, the optimizer has "
                f"{len(self.param_groups)}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict's parameter group {i} has {len(saved['params'])} parameters, "
                    f"the optimizer's has {len(group['params'])}"
                )
        saved_state = {int(k): v for k, v in state_dict["state"].items()}
        self.state = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for key, value in saved.items():
                if key == "params":
                    continue
                group[key] = tuple(value) if isinstance(self.defaults.get(key), tuple) else value
            for p, index in zip(group["params"], saved["params"]):
                if int(index) not in saved_state:
                    continue
                self.state[id(p)] = {
                    k: (self._restore(v, p) if hasattr(v, "shape") else v)
                    for k, v in saved_state[int(index)].items()
                }

    @staticmethod
    def _restore(value, p: Tensor):
        array = np.asarray(as_numpy(value))
        if array.ndim == 0:  # a saved scalar (e.g. a step count stored as a 0-d array)
            return array.item()
        array = array.astype(p.dtype) if array.dtype.kind == "f" else array.copy()
        return to_device(array, p.device) if p.device != "cpu" else array

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"
