"""``minigan.nn.utils``: helpers that change how a layer computes, PyTorch's ``torch.nn.utils``. Chapter 10.

``spectral_norm(module)`` / ``remove_spectral_norm(module)``: divide a layer's weight by its largest
singular value before every forward, the Lipschitz constraint that chapter 10 puts on the discriminator
(``spectral_norm.py`` has the math, the shapes and the cost).
"""

from .spectral_norm import (
    ParameterNotFoundError,
    SpectralNorm,
    remove_spectral_norm,
    spectral_norm,
    spectral_normalize,
)

__all__ = [
    "ParameterNotFoundError",
    "SpectralNorm",
    "remove_spectral_norm",
    "spectral_norm",
    "spectral_normalize",
]
