"""Post-accumulate-grad hooks and queued callbacks (``minigan/autograd/hooks.py``), PyTorch's semantics."""

from __future__ import annotations

import pytest

import minigan as mg
from minigan.autograd.hooks import queue_callback


def test_hook_sees_the_accumulated_gradient_once_per_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().tolist()))
    (x * x).sum().backward()
    (3 * x).sum().backward()  # accumulates: 2x + 3
    assert seen == [[2.0, 4.0], [5.0, 7.0]]
    handle.remove()
    x.sum().backward()
    assert len(seen) == 2


def test_grad_does_not_fire_hooks_and_hooks_need_a_leaf_that_requires_grad():
    x = mg.tensor([1.0], requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    mg.autograd.grad((x * x).sum(), x)
    assert seen == []
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="requires grad"):
        mg.zeros(1).register_post_accumulate_grad_hook(print)


def test_callbacks_run_after_every_hook_in_the_order_queued():
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
    order = []

    def hook(t):
        order.append(("hook", float(t.array[0])))
        queue_callback(lambda: order.append(("callback", b.grad is not None and a.grad is not None)))

    a.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(hook)
    (a * b).sum().backward()
    assert [o[0] for o in order] == ["hook", "hook", "callback", "callback"] and order[2][1] is True
    with pytest.raises(RuntimeError, match="no backward"):
        queue_callback(print)
