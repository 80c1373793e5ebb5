"""Grad mode: whether Function calls record the graph. Chapter 01 (autograd).

``no_grad()`` is what an optimizer step and an evaluation loop run under: no graph is built, so nothing
is kept alive for a backward pass that will never come. The mode is thread-local, as in PyTorch.
"""

from __future__ import annotations

import contextlib
import threading


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when Function calls record the graph (the default)."""
    return _grad_mode.enabled


@contextlib.contextmanager
def set_grad_enabled(mode: bool):
    """Context manager that switches graph recording on or off, and restores the previous mode."""
    previous = _grad_mode.enabled
    _grad_mode.enabled = bool(mode)
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def no_grad():
    """Context manager: no graph is recorded inside (evaluation, optimizer updates)."""
    return set_grad_enabled(False)


def enable_grad():
    """Context manager: graph recording on, even inside ``no_grad``."""
    return set_grad_enabled(True)
