"""Learning-rate schedulers: ``LRScheduler`` and LambdaLR, StepLR, MultiStepLR, ExponentialLR, LinearLR.
Chapter 08 (the learning-rate decay of the DCGAN run); the optimizers they drive are chapter 05's.

PyTorch's ``torch.optim.lr_scheduler`` names, arguments, defaults and semantics. A scheduler counts
epochs (or steps: it counts calls) in ``last_epoch`` and rewrites ``group["lr"]`` of every param group
of its optimizer at each ``step()``:

    opt = Adam(G.parameters(), lr=2e-4)
    sched = StepLR(opt, step_size=30, gamma=0.1)     # sets last_epoch = 0 and lr = lr_0 * factor(0)
    for epoch in range(100):
        train_one_epoch(opt)                         # opt.step() ... uses the current lr
        sched.step()                                 # last_epoch += 1, then the lr for the next epoch

Construction records each group's starting rate as ``group["initial_lr"]`` (kept if already there, so a
second scheduler on the same optimizer shares it) and ``base_lrs``, then takes the first step
(``last_epoch`` -1 -> 0, ``_step_count`` 1). With ``last_epoch=k >= 0`` (resuming) the groups must already
hold ``initial_lr`` (load the optimizer's state_dict first) and the first step goes to epoch k + 1.
``get_last_lr()`` is the list of rates the last step set.

The lr after epoch e, per group with starting rate lr_0 (the closed forms; ``step()`` computes the same
recursively from the current ``group["lr"]``, as PyTorch does, so that schedulers compose and the numbers
agree with PyTorch's to the last bit):

    LambdaLR(lr_lambda)                         lr_0 * lr_lambda(e)
    StepLR(step_size, gamma=0.1)                lr_0 * gamma ** (e // step_size)
    MultiStepLR(milestones, gamma=0.1)          lr_0 * gamma ** (number of milestones <= e)
    ExponentialLR(gamma)                        lr_0 * gamma ** e
    LinearLR(start_factor=1/3, end_factor=1, total_iters=5)
                                                lr_0 * (s + (f - s) * min(e, total_iters) / total_iters)

``state_dict()`` holds plain numbers, lists and dicts only (the same keys as PyTorch's): the
hyperparameters, ``base_lrs``, ``last_epoch``, ``_step_count``, ``_last_lr`` and two flags. LambdaLR saves
no functions: ``lr_lambdas`` holds ``None`` for a function and a copy of ``__dict__`` for a callable
object, as PyTorch; the scheduler that loads it must be built with the same lambdas.

Differences from PyTorch: minigan checks every argument (one error line naming it: step_size and
total_iters >= 1, gamma > 0, milestones ints >= 0, factors finite; PyTorch checks LinearLR's factors
only), ``load_state_dict`` refuses keys that are missing or belong to another scheduler, and the warning
about calling ``lr_scheduler.step()`` before ``optimizer.step()`` (which needs PyTorch to wrap the
optimizer's ``step``) is not given.
"""

from __future__ import annotations

import types
import warnings
from bisect import bisect_right

from .checks import check_flag, check_int, check_lr, check_number
from .optimizer import Optimizer

_FLAGS = ("_is_initial", "_get_lr_called_within_step")  # private flags, saved as PyTorch saves them


def _copy(value):
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


class LRScheduler:
    """``LRScheduler(optimizer, last_epoch=-1)``: the base class. A subclass sets its hyperparameters,
    calls ``super().__init__`` and implements ``get_lr()`` (the rates for ``self.last_epoch``, from the
    current ``group["lr"]``), optionally ``_get_closed_form_lr()`` (from ``base_lrs``, for
    ``step(epoch)``) and ``_check()`` (raise for a bad hyperparameter)."""

    _is_initial = False  # True during the first step, taken by the constructor
    _get_lr_called_within_step = False  # get_lr() outside step() warns: get_last_lr() is what you want

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer)
        check_int(f"{type(self).__name__}", "last_epoch", last_epoch, -1)
        self._check()
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a scheduler "
                        f"with last_epoch={last_epoch}: load the optimizer's state_dict first"
                    )
        for i, group in enumerate(optimizer.param_groups):
            check_lr(group["initial_lr"], f"param_groups[{i}]['initial_lr']")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def _check(self) -> None:
        """Raise for a bad hyperparameter (called at construction and after ``load_state_dict``)."""

    def get_lr(self) -> list:
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def get_last_lr(self) -> list:
        """The learning rate of each param group, as set by the last ``step()`` (a new list)."""
        return list(self._last_lr)

    def _warn_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, use get_last_lr(); get_lr() "
                "is what step() calls to compute the next one",
                UserWarning,
                stacklevel=3,
            )

    def step(self, epoch: int | None = None) -> None:
        """Count one epoch (``last_epoch += 1``) and set every group's ``lr`` for it. ``epoch`` (deprecated,
        as in PyTorch: warns) jumps to that epoch and uses the closed form where there is one."""
        if epoch is not None:
            check_int(f"{type(self).__name__}.step", "epoch", epoch, 0)
            warnings.warn(
                "scheduler.step(epoch) is deprecated (as in PyTorch): call step() once per epoch",
                UserWarning,
                stacklevel=2,
            )
        before = self.last_epoch, self._step_count
        self._step_count += 1
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = int(epoch)
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
            values = list(values)
            if len(values) != len(self.optimizer.param_groups):
                raise ValueError(
                    f"{type(self).__name__}.get_lr() gave {len(values)} rates for "
                    f"{len(self.optimizer.param_groups)} param groups"
                )
            for i, lr in enumerate(values):  # all checked before any is written
                check_lr(lr, f"{type(self).__name__} at epoch {self.last_epoch}: param_groups[{i}]['lr']")
        except Exception:
            self.last_epoch, self._step_count = before  # a refused step is not counted
            raise
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    # -- saving and restoring ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Every attribute except the optimizer, as plain numbers, lists and dicts (copies)."""
        return {key: _copy(value) for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` gave (the private flags may be absent); the keys must be this
        scheduler's, and the values are checked as the constructor checks them."""
        self._load(state_dict, set(self.state_dict()))

    def _load(self, state_dict: dict, keys: set) -> None:
        given = set(state_dict)
        missing, unexpected = sorted(keys - given - set(_FLAGS)), sorted(given - keys)
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        saved = {k: v for k, v in vars(self).items() if k in keys}
        try:
            for key in given:
                value = state_dict[key]
                setattr(self, key, list(value) if isinstance(value, (list, tuple)) else value)
            self._restore_types()
            self._check()
            check_int(type(self).__name__, "last_epoch", self.last_epoch, -1)
            check_int(type(self).__name__, "_step_count", self._step_count, 0)
            for flag in _FLAGS:
                check_flag(flag, getattr(self, flag))
            for name in ("base_lrs", "_last_lr"):
                lrs = getattr(self, name)
                if len(lrs) != len(self.optimizer.param_groups):
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: {name} has {len(lrs)} entries, the "
                        f"optimizer has {len(self.optimizer.param_groups)} param groups"
                    )
                for i, lr in enumerate(lrs):
                    check_lr(lr, f"{name}[{i}]")
        except (TypeError, ValueError):
            for key, value in saved.items():  # leave the scheduler as it was
                setattr(self, key, value)
            raise

    def _restore_types(self) -> None:
        """Undo what a JSON round trip does to the state (MultiStepLR's milestone keys become strings)."""

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class LambdaLR(LRScheduler):
    """``LambdaLR(optimizer, lr_lambda, last_epoch=-1)``: lr = initial_lr * lr_lambda(epoch).
    ``lr_lambda``: one function of the epoch, or a list / tuple of them, one per param group."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        _check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for i, fn in enumerate(self.lr_lambdas):
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda[{i}]={fn!r} is a {type(fn).__name__}, not callable")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        out = []
        for i, (fn, base_lr) in enumerate(zip(self.lr_lambdas, self.base_lrs)):
            factor = fn(self.last_epoch)
            check_number("LambdaLR", f"lr_lambda[{i}]({self.last_epoch})", factor)
            out.append(base_lr * factor)
        return out

    def state_dict(self) -> dict:
        """As the base class, but ``lr_lambdas`` holds None for each function (it cannot be saved) and a
        copy of ``__dict__`` for each callable object."""
        state = {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(vars(fn)) for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None)
        if not isinstance(saved, list) or len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"LambdaLR.load_state_dict: lr_lambdas must be a list of {len(self.lr_lambdas)} entries "
                f"(None or a dict), got {saved!r}"
            )
        self._load(state, set(self.state_dict()) - {"lr_lambdas"})
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(fn).update(attributes)


class StepLR(LRScheduler):
    """``StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)``: multiply lr by ``gamma`` every
    ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check(self):
        check_int("StepLR", "step_size", self.step_size, 1)
        check_number("StepLR", "gamma", self.gamma, low_open=True)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1)``: multiply lr by ``gamma`` at each
    epoch in ``milestones`` (by gamma**n at a milestone listed n times). ``self.milestones`` is a dict
    {epoch: times listed}, the plain-dict form of PyTorch's Counter."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        if isinstance(milestones, (str, bytes, dict)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"MultiStepLR: milestones={milestones!r} is not a list of epochs")
        counts: dict = {}
        for m in milestones:
            check_int("MultiStepLR", "each milestone", m, 0)
            counts[int(m)] = counts.get(int(m), 0) + 1
        self.milestones = counts
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check(self):
        check_number("MultiStepLR", "gamma", self.gamma, low_open=True)
        for m, n in self.milestones.items():
            check_int("MultiStepLR", "each milestone", m, 0)
            check_int("MultiStepLR", f"milestones[{m}] (its count)", n, 1)

    def _restore_types(self):
        self.milestones = {int(m): n for m, n in self.milestones.items()}

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list:
        passed = sorted(m for m, n in self.milestones.items() for _ in range(n))
        return [base_lr * self.gamma ** bisect_right(passed, self.last_epoch) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``ExponentialLR(optimizer, gamma, last_epoch=-1)``: multiply lr by ``gamma`` every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check(self):
        check_number("ExponentialLR", "gamma", self.gamma, low_open=True)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """``LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5, last_epoch=-1)``: lr goes
    linearly from initial_lr * start_factor (epoch 0) to initial_lr * end_factor (epoch total_iters), then
    stays. start_factor in (0, 1], end_factor in [0, 1], total_iters >= 1."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _check(self):
        check_number("LinearLR", "start_factor", self.start_factor, 0.0, 1.0, low_open=True)
        check_number("LinearLR", "end_factor", self.end_factor, 0.0, 1.0)
        check_int("LinearLR", "total_iters", self.total_iters, 1)

    def get_lr(self) -> list:
        self._warn_outside_step()
        s, f, n, e = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if e == 0:
            return [lr * s for lr in self._current_lrs()]
        if self._is_initial or e > n:
            return self._current_lrs()
        # factor(e) / factor(e - 1) with factor(e) = s + (f - s) e / n, written over a common denominator
        ratio = 1.0 + (f - s) / (n * s + (e - 1) * (f - s))
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list:
        s, f, n = self.start_factor, self.end_factor, self.total_iters
        return [base_lr * (s + (f - s) * min(n, self.last_epoch) / n) for base_lr in self.base_lrs]
