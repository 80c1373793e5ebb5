"""Data for the chapters: toy distributions (chapters 06-07), MNIST (chapter 08) and synthetic strokes
for the chapters' quick mode.

``minigan.data.get_dataset("ring8").sample(2500, generator)`` draws a (2500, 2) float32 array; see
``toy.py`` for the datasets and their interface. (Each data module adds its own import line below.)
"""

from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader
from .mnist import MNIST, ChecksumError, DatasetNotFoundError, load_mnist
from .mnistm import UnpairedSampler, blend, default_photo_paths, load_photos
from .paired import PairedSampler, bicubic_upsample, downsample, edges, hole_masks, inpaint_input, mean_fill
from .strokes import mnist_or_strokes, strokes
from .toy import (
    DATASETS,
    Gaussian1D,
    GaussianMixture2D,
    SwissRoll,
    ToyDataset,
    get_dataset,
    grid25,
    ring8,
)
