"""The learning-rate schedule of ``minigan train --lr-decay-steps`` and chapter 08: a linear decay to a
fraction of the starting rate, then constant. Chapter 08 (balancing the classes).

    for step in range(steps):
        set_lr([opt_G, opt_D], lr * lr_factor(step, decay_steps))
        trainer.step()

Why not ``lr_scheduler``: this schedule is a pure function of the step, so a run resumed from a
checkpoint needs only its step count (which it saves anyway) and one call drives two optimizers; a
scheduler object per optimizer would add state to save and load and keep in step with the trainer. The
numbers are exactly those of ``lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, decay_steps))``
stepped once per step (both compute lr * factor), and agree to rounding with
``lr_scheduler.LinearLR(opt, 1.0, final, decay_steps)``, which reaches them by repeated multiplication;
tests/optim/test_lr_scheduler.py checks both.
"""

from __future__ import annotations

FINAL_LR_FRACTION = 0.1  # where the linear decay ends, as a fraction of the starting rate


def lr_factor(step: int, decay_steps: int, final: float = FINAL_LR_FRACTION, start: int = 0) -> float:
    """The learning-rate multiplier for the step after ``step`` completed ones: 1 until ``start``, then
    1 -> ``final`` linearly over ``decay_steps`` steps, then ``final``; always 1 when ``decay_steps`` is 0.
    (CycleGAN's schedule, constant for the first half and linear to 0 over the second, is
    ``start = decay_steps = steps / 2, final = 0``.) It depends on the step alone (not on the run's
    length), so a run resumed to a later step follows the same schedule."""
    if decay_steps <= 0:
        return 1.0
    return max(final, 1.0 - (1.0 - final) * max(0, step - start) / decay_steps)


def set_lr(optimizers, lr: float) -> None:
    """Set ``lr`` in every parameter group of every optimizer in ``optimizers``."""
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = lr
