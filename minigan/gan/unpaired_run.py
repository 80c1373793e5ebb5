"""The unpaired domain pair MNIST <-> MNIST-M as training runs: ``minigan train --data mnist2mnistm``
(model ``cyclegan``, ``variants/cyclegan.py``).

    minigan train --data mnist2mnistm --split test --out runs/cycle     # --photos DIR: your own photos
    minigan eval runs/cycle
    minigan translate runs/cycle --input mnistm.npy --out digits.png --direction BtoA

Domain A is MNIST, its grey digits given three equal channels so that both domains are (3, 28, 28) and
the identity loss applies; domain B is MNIST-M (``minigan.data.mnistm``: each digit blended with a random
crop of a colour photo, out = |crop - digit|). The photos are the folder ``--photos`` names, else those
that ship with installed packages (``mnistm.load_photos``). The split's digits are divided as the own
classifier divides them (2 000 held out, seeded); the other 8 000 are shared out between the domains, half
each (``mnistm.UnpairedSampler``), so no digit appears in both and no pair exists in training.

``minigan eval`` translates the 2 000 held-out digits (the first ``--n``) both ways:

- MNIST-M -> MNIST: the own MNIST classifier reads the translations (channels averaged back to grey);
  next to it, the same classifier on the untranslated MNIST-M digits (the "source only" baseline);
- MNIST -> MNIST-M: an own MNIST-M classifier, the same network with 3 input channels trained on the
  MNIST-M versions of the 8 000 training digits (cached like the MNIST one), reads the translations;
  next to it, the same classifier on the untranslated MNIST digits;
- FD of the translations in each target domain (that domain's classifier features, against its held-out
  images, with real-vs-real beside it); cycle reconstruction L1 both ways, on [-1, 1] images;
- where the hard direction fails: MNIST-M -> MNIST label preservation in each quarter of the held-out
  digits sorted by the brightness of the photo behind them (``mnistm.background_brightness``), and the
  mean and spread of that brightness in real MNIST-M next to the backgrounds G_AB paints (a generator
  that gives every digit the same dark background never shows G_BA a bright one to undo: chapter 13).

Defaults: the official code's constants (Adam 2e-4 (0.5, 0.999), LSGAN, lambda 10, identity 0.5 lambda,
pools of 50, the rate constant for the first half and linear to 0 over the second), batch 8 (the
official: 1), 4 000 steps, a ResNet G with 3 blocks of width 16 and the 16 px PatchGAN with instance norm.
``--mbstd`` joins a minibatch standard deviation map to each D's last features (``patch_discriminator``).
"""

from __future__ import annotations

import numpy as np

from ..data.mnist import from_unit_range, to_unit_range
from . import registry
from .dcgan import dcgan_init_
from .paired_run import check_fixed_game, classifier_split, load_digits, translate_batches
from .patchgan import patch_discriminator
from .registry import DataUsageError, ModelSpec
from .resnet_gen import resnet_generator
from .variants.cyclegan import (
    LAMBDA_CYCLE,
    LAMBDA_IDENTITY,
    POOL_SIZE,
    CycleDiscriminators,
    CycleGAN,
    CycleGenerators,
)

UNPAIRED_DEFAULTS = {
    "steps": 4000,
    "batch_size": 8,
    "lr": 2e-4,
    "betas": [0.5, 0.999],
    "lr_decay_start": 2000,  # constant for the first half ...
    "lr_decay_steps": 2000,  # ... then linear to lr_final over the second
    "lr_final": 0.0,
    "width": 16,
    "n_blocks": 3,
    "d_width": 64,
    "n_layers": 1,
    "lambda_cycle": LAMBDA_CYCLE,
    "lambda_identity": LAMBDA_IDENTITY,
    "pool_size": POOL_SIZE,
    "photos": None,
    "split": "train",
    "data_dir": None,
    "sample_every": 250,
    "ckpt_every": 250,
    "log_every": 10,
}
N_SNAPSHOT = 8
MNISTM_SEED = 12  # the photo crops of the MNIST-M versions every digit of the split gets for evaluation


def grey_rgb(x: np.ndarray) -> np.ndarray:
    """(N, 1, H, W) -> (N, 3, H, W): a grey image as three equal channels."""
    return np.repeat(x, 3, axis=1)


def to_grey(x: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) -> (N, 1, H, W): the channels' mean."""
    return x.mean(axis=1, keepdims=True)


class UnpairedData:
    """One MNIST split for mnist2mnistm: the digits, the photos, the classifier's train / held-out indices,
    and the MNIST-M version of every digit (for the evaluation; training builds its own domain B)."""

    kind = "unpaired"

    def __init__(self, images, labels, photos, name: str, split: str):
        from ..data.mnistm import blend

        self.images, self.labels, self.photos, self.name, self.split = images, labels, photos, name, split
        self.train_idx, self.holdout_idx = classifier_split(images, name, split, min_train=2)  # two domains
        rng = np.random.default_rng(MNISTM_SEED)
        self.mnistm = from_unit_range(blend(to_unit_range(images), photos, rng))  # uint8 (N, 3, 28, 28)

    def __len__(self) -> int:
        return len(self.images)

    def held_out(self, n: int | None = None):
        """(a, b, labels): the first n held-out digits as grey RGB and as MNIST-M, float32 in [-1, 1]."""
        idx = self.holdout_idx[: len(self.holdout_idx) if n is None else n]
        return grey_rgb(to_unit_range(self.images[idx])), to_unit_range(self.mnistm[idx]), self.labels[idx]


class Domains:
    """The training batches: (a (n, 3, 28, 28) grey RGB, b (n, 3, 28, 28) MNIST-M), unpaired."""

    def __init__(self, data: UnpairedData, seed: int):
        from ..data.mnistm import UnpairedSampler

        self.sampler = UnpairedSampler(data.images[data.train_idx], data.labels[data.train_idx], data.photos,
                                       seed=seed, split=data.split, name=data.name)  # fmt: skip

    def sample(self, n: int, generator):
        a, b = self.sampler.sample(n, generator)
        return grey_rgb(a), b


def make_data(config: dict) -> UnpairedData:
    from ..data.mnistm import load_photos

    try:
        photos = load_photos(config.get("photos"))
    except ValueError as err:  # an empty / unreadable folder, a photo smaller than a crop
        raise DataUsageError(f"--photos: {err}") from None
    images, labels = load_digits(config)
    return UnpairedData(images, labels, photos, config["data"], config.get("split", "train"))


def make_models(config: dict):
    def D():
        return patch_discriminator(3, width=config["d_width"], n_layers=config["n_layers"], norm="instance",
                                   mbstd=bool(config.get("mbstd")))  # fmt: skip

    G = CycleGenerators(*(resnet_generator(3, 3, config["width"], config["n_blocks"]) for _ in range(2)))
    return dcgan_init_(G), dcgan_init_(CycleDiscriminators(D(), D()))  # N(0, 0.02), as the official code


def make_variant(config: dict) -> CycleGAN:
    check_fixed_game(config, "least squares + cycle + identity")
    return CycleGAN(config["lambda_cycle"], config["lambda_identity"], config["pool_size"])


def evaluate(data: UnpairedData, G, D, variant, config, n, seed, step) -> dict:
    """Label preservation both ways next to the untranslated baselines, FD in each target domain and the
    cycle L1 (module docstring), on the first ``n`` held-out digits."""
    from ..metrics.classifier import load_or_train, stderr_log
    from ..metrics.image_eval import evaluate_images

    a, b, y = data.held_out(n)
    ab, ba = translate_batches(G.G_AB, a), translate_batches(G.G_BA, b)
    aba, bab = translate_batches(G.G_BA, ab), translate_batches(G.G_AB, ba)
    if not all(np.isfinite(x).all() for x in (ab, ba)):
        return {"summary": "translations contain NaN or inf: nothing to evaluate", "finite": False}
    clf = load_or_train(data.images, data.labels, dataset="mnist", log=stderr_log)
    clf_m = load_or_train(data.mnistm, data.labels, {"channels": 3}, dataset="mnistm", log=stderr_log)
    fd_a = evaluate_images(to_grey(ba), clf, data.images, seed=seed)
    fd_b = evaluate_images(ab, clf_m, data.mnistm, seed=seed)
    kept = clf.predict_proba(to_grey(ba)).argmax(1) == y  # read once: the overall figure and its quarters
    out = {
        "n_heldout": len(a),
        "mnistm_to_mnist": float(kept.mean()),
        "mnistm_to_mnist_source_only": clf.score(to_grey(b), y),
        "mnist_to_mnistm": clf_m.score(ab, y),
        "mnist_to_mnistm_untranslated": clf_m.score(a, y),
        "mnist_classifier_accuracy": clf.accuracy,
        "mnistm_classifier_accuracy": clf_m.accuracy,
        "cycle_l1_A": float(np.abs(aba - a).mean()),
        "cycle_l1_B": float(np.abs(bab - b).mean()),
        "fd_mnist": fd_a["generated"]["frechet_distance"],
        "fd_mnist_real": fd_a["real_baseline"]["frechet_distance"],
        "fd_mnistm": fd_b["generated"]["frechet_distance"],
        "fd_mnistm_real": fd_b["real_baseline"]["frechet_distance"],
        **background_report(a, b, ab, kept),
    }
    pct = {k: 100 * out[k] for k in out if k.startswith("mnist") and k != "n_heldout"}
    out["summary"] = (
        f"MNIST-M -> MNIST labels kept {pct['mnistm_to_mnist']:.2f} % (source only "
        f"{pct['mnistm_to_mnist_source_only']:.2f} %), MNIST -> MNIST-M {pct['mnist_to_mnistm']:.2f} % "
        f"(untranslated {pct['mnist_to_mnistm_untranslated']:.2f} %); cycle L1 {out['cycle_l1_A']:.3f} (A) "
        f"{out['cycle_l1_B']:.3f} (B); FD {out['fd_mnist']:.1f} in MNIST (real {out['fd_mnist_real']:.1f}), "
        f"{out['fd_mnistm']:.1f} in MNIST-M (real {out['fd_mnistm_real']:.1f}); {len(a)} held-out digits"
    )
    out["report"] = "\n".join([
        f"  {'':<34} {'translated':>10} {'untranslated':>12}",
        f"  {'MNIST-M -> MNIST labels kept (%)':<34} {pct['mnistm_to_mnist']:>10.2f} "
        f"{pct['mnistm_to_mnist_source_only']:>12.2f}",
        f"  {'MNIST -> MNIST-M labels kept (%)':<34} {pct['mnist_to_mnistm']:>10.2f} "
        f"{pct['mnist_to_mnistm_untranslated']:>12.2f}",
        f"  {'cycle L1, A->B->A / B->A->B':<34} {out['cycle_l1_A']:>10.3f} {out['cycle_l1_B']:>12.3f}",
        f"  FD in MNIST {out['fd_mnist']:.2f} (real vs real {out['fd_mnist_real']:.2f}); in MNIST-M "
        f"{out['fd_mnistm']:.2f} (real vs real {out['fd_mnistm_real']:.2f})",
        f"  classifiers' held-out accuracy: MNIST {100 * clf.accuracy:.2f} %, "
        f"MNIST-M {100 * clf_m.accuracy:.2f} %",
        "  MNIST-M -> MNIST labels kept by quarter of photo brightness, darkest first (%): "
        + " ".join("-" if q is None else f"{100 * q:.1f}" for q in out["mnistm_to_mnist_by_background"]),
        f"  background brightness, mean (std): MNIST-M {out['background_mnistm'][0]:.3f} "
        f"({out['background_mnistm'][1]:.3f}), G_AB(a) {out['background_translated'][0]:.3f} "
        f"({out['background_translated'][1]:.3f})",
    ])  # fmt: skip
    return out


def background_report(a, b, ab, kept) -> dict:
    """Where MNIST-M -> MNIST fails (module docstring): ``kept`` (N,) bool, the label of G_BA(b[i]) kept;
    a, b, ab the held-out digits, their MNIST-M versions and G_AB(a). Quarters of b's backgrounds."""
    from ..data.mnistm import background_brightness

    real, fake = background_brightness(a, b), background_brightness(a, ab)
    quarter = np.digitize(real, np.quantile(real, [0.25, 0.5, 0.75]))
    return {
        "mnistm_to_mnist_by_background": [  # None for a quarter left empty by ties (a tiny n)
            float(kept[quarter == q].mean()) if (quarter == q).any() else None for q in range(4)
        ],
        "background_mnistm": [float(real.mean()), float(real.std())],
        "background_translated": [float(fake.mean()), float(fake.std())],
    }


def plot_samples(x, data: UnpairedData, path, title=None, G=None, **_):
    """Rows a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b)) for held-out digits."""
    import matplotlib.pyplot as plt

    from ..viz import plot_image_rows

    a, b, _ = data.held_out(N_SNAPSHOT)
    ab, ba = translate_batches(G.G_AB, a), translate_batches(G.G_BA, b)
    rows = [a, ab, translate_batches(G.G_BA, ab), b, ba, translate_batches(G.G_AB, ba)]
    labels = ["a", "G_AB(a)", "back", "b", "G_BA(b)", "back"]
    plt.close(plot_image_rows(rows, labels, title, path))


MODEL = ModelSpec(
    "cyclegan",
    "two ResNet Gs, two PatchGAN Ds, LSGAN + cycle + identity, image pools (chapter 13)",
    make_models,
    make_variant=make_variant,
    make_batches=lambda data, config: Domains(data, config["seed"]),
    evaluate=evaluate,
    defaults={"mbstd": False},
)

registry.register(
    registry.DatasetSpec(
        name="mnist2mnistm",
        kind="unpaired",
        description="MNIST <-> MNIST-M, unpaired, for CycleGAN (chapter 13)",
        make_data=make_data,
        models=(MODEL,),
        defaults=dict(UNPAIRED_DEFAULTS),
        plot_samples=plot_samples,
        blas_threads=1,
        eval_samples=2000,
    )
)
