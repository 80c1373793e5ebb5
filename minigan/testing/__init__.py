"""Tools for testing differentiable code: ``gradcheck``, ``gradgradcheck`` and hypothesis strategies.

Chapter 02 (checking gradients) teaches them. They are public so that you can check your own ops and
modules the way minigan checks its own:

    from minigan.testing import gradcheck
    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    gradcheck(lambda x: (x.tanh() * x).sum(dim=1), [x])

``minigan.testing.strategies`` (imported on demand, it needs ``hypothesis``) draws shapes, broadcastable
shapes, arrays and tensors (optionally non-contiguous, optionally away from kinks and poles), matmul
operand shapes and index arrays.
"""

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
