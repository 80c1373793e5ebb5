"""GAN variants: what one D step and one G step compute, one idea per file; the loop that plays them is
``minigan.gan.Trainer``. Chapters 06-08 (``unconditional``), 11 (``cgan``, ``acgan``, ``projection``),
15 (``sgan``)."""

from .acgan import ACGAN
from .base import Variant
from .cgan import Conditional
from .sgan import SemiSupervised
from .unconditional import Unconditional

__all__ = ["ACGAN", "Conditional", "SemiSupervised", "Unconditional", "Variant"]
