"""Figures for the chapters (matplotlib; safe under the Agg backend). Chapters 06-08, 12-13.

Every plotting function returns its ``Figure`` and, given ``path=``, also writes a PNG:

- ``plot_density_1d``: p_data, p_g (histogram + KDE), D(x) and the optimal D*(x) on 1-D data (ch. 06).
- ``plot_samples_2d``: 2-D samples over the discriminator's contours (ch. 07).
- ``plot_training_curves``: loss_D, loss_G, D(x), D(G(z)) from records or a metrics.jsonl (ch. 06-08).
- ``plot_image_grid`` / ``make_grid``: (N, C, H, W) images in [-1, 1] as one picture (ch. 08);
  ``plot_image_rows``: labelled rows of them, input | output | target of a translation (ch. 12-13).
- ``animate_samples``: a GIF of the generator's distribution during training (ch. 06-07).
- ``plot_vector_field``: quiver + trajectories of a two-parameter game, e.g. Dirac-GAN (ch. 07).
- ``discriminator_fn``: a minigan discriminator as a NumPy function x (m, d) -> D(x) (m,) for the above.
"""

from ._common import discriminator_fn, save, sigmoid
from .animate import animate_samples
from .curves import plot_training_curves, read_metrics
from .density import plot_density_1d
from .dynamics import plot_vector_field
from .images import make_grid, plot_image_grid, plot_image_rows, same_size_rows
from .samples2d import discriminator_grid, plot_samples_2d
