"""Measuring a generator: mode coverage on toy mixtures (chapter 07), 1-D densities and the optimal
discriminator (chapter 06); image metrics (chapter 09) live in their own modules beside these.
"""

from .classes import ClassCoverage, class_coverage, kl_to_uniform
from .density import (
    gaussian_kde,
    js_divergence,
    kl_divergence,
    optimal_discriminator,
    value_function,
)
from .frechet import feature_statistics, frechet_distance, frechet_distance_features, sqrtm_psd
from .kid import KID, kernel_distance, mmd2_unbiased, polynomial_kernel
from .modes import (
    N_SAMPLES,
    THRESHOLD,
    ModeCoverage,
    evaluate_modes,
    mode_coverage,
    nearest_modes,
    reverse_kl_uniform,
)
from .prdc import PRDC, precision_recall
