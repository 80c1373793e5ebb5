"""Hooks: code that runs when the engine reaches a point of the backward pass. Chapter 01 (autograd);
chapter 16 (scaling out) is their user: data-parallel training reduces gradients from them.

Two kinds, with PyTorch's names:

    x.register_post_accumulate_grad_hook(hook)   hook(x) after backward() has written x.grad (a leaf)
    queue_callback(fn)                           fn() once, when the backward() now running ends

``RemovableHandle`` is what a registration returns (``handle.remove()``, or ``with handle:``); modules'
forward pre-hooks use it too. A hook sees ``x.grad`` as accumulated (earlier backwards included), exactly
as ``torch.Tensor.register_post_accumulate_grad_hook`` does.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict


class RemovableHandle:
    """What a hook registration returns: ``remove()`` unregisters the hook (a second call does nothing);
    ``with handle:`` removes it when the block ends. Holds the hook table weakly, so a handle kept around
    does not keep a deleted module's or tensor's hooks alive."""

    _ids = itertools.count()

    def __init__(self, hooks: OrderedDict):
        self.hooks_dict_ref = weakref.ref(hooks)
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        hooks = self.hooks_dict_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def add_hook(hooks: OrderedDict, hook) -> RemovableHandle:
    """Append ``hook`` (a callable) to the table ``hooks``; the handle removes it."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


_queued: list | None = None  # the callbacks of the backward() now running; None outside one


def queue_callback(fn) -> None:
    """Run ``fn()`` once when the backward() now running has written every leaf's gradient (PyTorch's
    ``Variable._execution_engine.queue_callback``); only callable from inside a backward (from a hook)."""
    if _queued is None:
        raise RuntimeError("queue_callback: no backward() is running (call it from a hook)")
    _queued.append(fn)


def run_with_callbacks(body) -> None:
    """``body()``, then the callbacks it queued, in the order queued (the engine's backward wraps itself in
    this). A backward started inside a callback gets its own queue."""
    global _queued
    outer, _queued = _queued, []
    try:
        body()
        callbacks = _queued
    finally:
        _queued = outer
    for fn in callbacks:
        fn()
