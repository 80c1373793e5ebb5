"""Datasets and the GAN models that suit them, as the trainer and the ``minigan`` command line know them.
Chapter 07 (training runs), chapter 11 (``--model``).

A ``DatasetSpec`` bundles everything a run needs that depends on the data:

    make_data(config)     -> a sampler with ``sample(n, generator) -> float32 ndarray (n, ...)``: (n, 2) for
                             2-D toy data, (n, 1) for 1-D, (n, C, H, W) in [-1, 1] for images. It holds no
                             random state; the caller passes (and checkpoints) the generator.
    models                the ``ModelSpec``s valid for this data, the default (``--model`` not given) first
    defaults              the hyper-parameters a run starts from (steps, batch_size, lr, z_dim, ...)
    evaluate(data, x)     -> dict of figures for generated samples x, with a one-line "summary"
    min_eval_samples      the fewest generated samples ``evaluate`` can give figures for
    eval_samples          how many samples ``minigan eval`` draws without ``--n`` (None: its 2500)
    eval_problem(data)    -> None, or why ``evaluate`` cannot run on this data (say, a split smaller than the
                             evaluation's hold-out), checked before anything is computed
    plot_samples(x, data, path, title)   writes a picture of generated samples x to ``path``
    blas_threads          at most this many BLAS threads while training (None: BLAS's own choice); for
                          the toy MLPs' small matrices one thread is fastest, and far faster on a busy CPU

A ``ModelSpec`` is one GAN variant on that data (``minigan train --model NAME``):

    make_models(config)   -> (G, D): G maps (n, z_dim) noise (and labels) to samples, D samples to logits
                             (a translation model's G maps input images to images)
    make_variant(config)  -> the ``variants.Variant`` saying what a D step and a G step compute
                             (default: the unconditional game with the config's loss / penalty / gamma)
    make_batches(data, config) -> what real batches are drawn from: an object with ``sample(n, generator)``
                             (default: the data sampler itself; labelled variants draw (x, y) pairs)
    defaults              settings the model adds to or changes in the dataset's defaults
    conditional           G takes class labels (``minigan sample --labels``)
    evaluate(data, G, D, variant, config, n, seed) -> dict with a "summary" line; default: the dataset's
                             ``evaluate`` on n unconditional samples

Adding a dataset (MNIST, chapter 08) is one ``register(DatasetSpec(...))`` call in its own module plus
its name in ``_PLUGINS`` below, so that it is imported on first use; adding a model is one more
``ModelSpec`` in its dataset's ``models``. The trainer and the CLI need no change.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import models


class DataUsageError(ValueError):
    """A setting the user gave that the data cannot meet (an empty photo folder, a split too small):
    ``minigan train`` reports it as a usage error (exit 2), before anything is trained."""


def unconditional_variant(config: dict):
    """The unconditional game with the run's adversarial loss, penalty, penalty weight and R1 period."""
    from .variants.unconditional import Unconditional

    return Unconditional(config["loss"], config["penalty"], config["gamma"], config.get("r1_every", 1))


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    make_models: Callable[[dict], tuple]
    make_variant: Callable[[dict], Any] = unconditional_variant
    make_batches: Callable[[Any, dict], Any] | None = None
    defaults: dict = field(default_factory=dict)
    conditional: bool = False
    evaluate: Callable[..., dict] | None = None

    def batches(self, data, config: dict):
        """The sampler real batches come from (see the module docstring)."""
        return data if self.make_batches is None else self.make_batches(data, config)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "toy" (1-D / 2-D points), "image", "paired" or "unpaired" (translation, chapters 12-13)
    description: str
    make_data: Callable[[dict], Any]
    models: tuple  # of ModelSpec, the default first
    defaults: dict = field(default_factory=dict)
    evaluate: Callable[[Any, np.ndarray], dict] | None = None
    plot_samples: Callable[..., None] | None = None
    blas_threads: int | None = None  # cap on BLAS threads while training (small matrices: 1 is fastest)
    min_eval_samples: int = 1
    eval_problem: Callable[[Any], str | None] | None = None
    eval_samples: int | None = None  # ``minigan eval``'s default --n (None: the CLI's own)

    @property
    def default_model(self) -> str:
        return self.models[0].name

    def model_names(self) -> list[str]:
        return [m.name for m in self.models]

    def model(self, name: str | None = None) -> ModelSpec:
        """The model called ``name`` (None: the default); ValueError naming the valid ones otherwise."""
        for m in self.models:
            if m.name == (name or self.default_model):
                return m
        models = ", ".join(self.model_names())
        raise ValueError(f"--model {name} is not a model of dataset {self.name} (its models: {models})")


_REGISTRY: dict[str, DatasetSpec] = {}
# name -> module that registers it when imported (kept lazy: heavy datasets load only when asked for)
_PLUGINS: dict[str, str] = {
    "mnist": "minigan.gan.mnist_run",
    "fashion-mnist": "minigan.gan.mnist_run",
    "stacked-mnist": "minigan.gan.stacked_run",
    "mnist-edges": "minigan.gan.paired_run",
    "mnist-sr4": "minigan.gan.paired_run",
    "mnist-inpaint": "minigan.gan.paired_run",
    "mnist2mnistm": "minigan.gan.unpaired_run",
}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Make ``spec`` available under ``spec.name`` (replacing any earlier one of that name)."""
    _REGISTRY[spec.name] = spec
    return spec


def names() -> list[str]:
    """Every dataset name that ``get`` accepts."""
    return sorted(set(_REGISTRY) | set(_PLUGINS))


def models_help() -> str:
    """'ring8, ...: gan; mnist, fashion-mnist: dcgan (default), cgan, ...': the models of every dataset."""
    groups: dict[str, list[str]] = {}
    for name in names():
        spec = get(name)
        models = ", ".join([f"{spec.default_model} (default)"] + spec.model_names()[1:])
        groups.setdefault(models, []).append(name)
    return "; ".join(f"{', '.join(datasets)}: {models}" for models, datasets in groups.items())


def get(name: str) -> DatasetSpec:
    """The spec registered as ``name``; ValueError listing the valid names otherwise."""
    if name not in _REGISTRY and name in _PLUGINS:
        importlib.import_module(_PLUGINS[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; valid datasets: {', '.join(names())}") from None


# -- the toy datasets (chapters 06-07) ------------------------------------------------------------------
TOY_DEFAULTS = {
    "steps": 3000,
    "batch_size": 256,
    "loss": "nonsaturating",
    "penalty": "r1",
    "gamma": 0.1,
    "k": 1,
    "lr": 1e-3,
    "betas": [0.5, 0.9],
    "lr_decay_steps": 3000,
    "z_dim": 2,
    "hidden": 128,
    "depth": 3,
    "sample_every": 500,
    "ckpt_every": 500,
    "log_every": 10,
}


def _toy_models(config: dict):
    data_dim = 1 if config["data"] == "gaussian1d" else 2
    G = models.mlp_generator(config["z_dim"], data_dim, config["hidden"], config["depth"])
    D = models.mlp_discriminator(data_dim, config["hidden"], config["depth"])
    return G, D


def _toy_data(config: dict):
    from ..data.toy import get_dataset

    return get_dataset(config["data"])


def _hist_jsd(x, y, bins: int) -> float:
    """Jensen-Shannon divergence (nats) between histograms of two sample sets on a common grid."""
    from ..metrics.density import js_divergence

    lo = np.minimum(x.min(0), y.min(0))
    hi = np.maximum(x.max(0), y.max(0))
    flat = hi <= lo  # every sample at one point along a coordinate: give the histogram a width there
    lo, hi = np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi)
    edges = [np.linspace(a, b, bins + 1) for a, b in zip(lo, hi)]
    p = np.histogramdd(x, bins=edges)[0].ravel()
    q = np.histogramdd(y, bins=edges)[0].ravel()
    return js_divergence(p / p.sum(), q / q.sum(), 1.0)


def _toy_evaluate(data, samples: np.ndarray) -> dict:
    """Mode coverage (VEEGAN / PacGAN protocol) where the data has modes, and a histogram JSD against
    as many data samples (drawn from a fixed seed) for every toy set."""
    from ..metrics.modes import evaluate_modes

    out = {}
    finite = np.isfinite(samples).all()
    if getattr(data, "modes", None) is not None:
        cov = evaluate_modes(data, samples)
        out.update(cov.as_dict())
        out["summary"] = str(cov)
    reference = data.sample(len(samples), np.random.default_rng(12345))
    out["jsd_hist"] = _hist_jsd(samples, reference, 50 if data.dim == 1 else 40) if finite else float("nan")
    jsd = f"histogram JSD {out['jsd_hist']:.3f} nats"
    out["summary"] = f"{out['summary']}; {jsd}" if "summary" in out else jsd
    return out


def _toy_plot(samples, data, path, title=None, D=None, probability=True) -> None:
    """2-D: samples over data, modes and D's contours; 1-D: density of the samples against p_data and D."""
    import matplotlib.pyplot as plt

    from .. import viz

    d_fn = None
    if D is not None:
        device = next(iter(D.parameters())).device
        d_fn = viz.discriminator_fn(lambda x: D(x.to(device)), logits=probability)
    if data.dim == 1:
        d_fn = d_fn if probability else None  # the 1-D figure's D axis is [0, 1]
        fig = viz.plot_density_1d(samples, p_data=data.density, d_fn=d_fn, title=title, path=path)
    else:
        real = data.sample(1000, np.random.default_rng(54321))
        fig = viz.plot_samples_2d(
            samples, real=real, modes=data.modes, d_fn=d_fn, probability=probability, title=title, path=path
        )
    plt.close(fig)


for _name, _desc in [
    ("ring8", "8 Gaussians on the unit circle, std 0.01 (chapter 07)"),
    ("grid25", "25 Gaussians on a 5x5 grid of spacing 2, std 0.05 (chapter 07)"),
    ("gaussian1d", "N(4, 0.5^2) on the line (chapter 06)"),
    ("swissroll", "a standardised 2-D swiss roll (chapter 07)"),
]:
    register(
        DatasetSpec(
            name=_name,
            kind="toy",
            description=_desc,
            make_data=_toy_data,
            models=(ModelSpec("gan", "MLP generator and discriminator (chapters 06-07)", _toy_models),),
            defaults=dict(TOY_DEFAULTS),
            evaluate=_toy_evaluate,
            plot_samples=_toy_plot,
            blas_threads=1,
            min_eval_samples=2,  # a histogram of one sample has no spread to compare
        )
    )
