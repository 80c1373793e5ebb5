"""Measuring a generator: mode coverage on toy mixtures (chapter 07), 1-D densities and the optimal
discriminator (chapter 06); image metrics (chapter 09) live in their own modules beside these.
"""

from .density import (
    gaussian_kde,
    js_divergence,
    kl_divergence,
    optimal_discriminator,
    value_function,
)
from .modes import (
    N_SAMPLES,
    THRESHOLD,
    ModeCoverage,
    evaluate_modes,
    mode_coverage,
    nearest_modes,
    reverse_kl_uniform,
)
