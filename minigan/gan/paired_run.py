"""The paired translation tasks as training runs: ``minigan train --data mnist-edges | mnist-sr4 |
mnist-inpaint`` with ``--model pix2pix`` (the default) or ``l1``. Chapter 12 (paired translation).

    minigan train --data mnist-sr4 --split test --out runs/sr4       # --data-dir DIR: the MNIST IDX files
    minigan eval runs/sr4
    minigan translate runs/sr4 --input a.npy --out b.png

Each task pairs an input built from an MNIST digit with the digit itself (``minigan.data.paired`` has the
one public function per construction):

    mnist-edges     the digit's edge map (1, 28, 28)            -> the digit (1, 28, 28)
    mnist-sr4       the digit average-pooled 4x to (1, 7, 7)    -> the digit
    mnist-inpaint   the digit with a random 14 x 14 hole, and the hole's mask (2, 28, 28) -> the digit

The split's images are divided as the own classifier divides them (``metrics.classifier.holdout_split``:
2 000 held out, seeded): training pairs come only from the rest, and ``minigan eval`` translates the
held-out images (the first ``--n`` of them), which neither the translator nor the classifier ever saw:

- PSNR and SSIM of the outputs against the targets (``metrics.similarity``), next to the trivial
  baseline: bicubic upsampling for sr4, the hole filled with the image's mean for inpaint, the edge map
  itself for edges;
- label preservation: the classifier's accuracy on the outputs (the labels of the source digits are
  known), next to its accuracy on the baseline and on the targets themselves;
- chapter 09's image metrics of the outputs (FD, precision / recall, ...) against the held-out digits.

Models: ``pix2pix`` (U-Net G, PatchGAN pair D, GAN + 100 L1; ``variants/pix2pix.py``) and ``l1`` (the
same U-Net trained on the L1 term alone, the comparison that shows what the adversarial term adds).
Defaults: Adam(2e-4, (0.5, 0.999)) and batch norm as in the paper, batch 32 instead of its 1,
3 000 steps (12 passes over 8 000 training digits) with the rate decaying linearly to 10 % (the paper:
constant, then linearly to 0).
"""

from __future__ import annotations

import numpy as np

from ..data.mnist import load_mnist
from . import registry
from .dcgan import dcgan_init_
from .patchgan import PairDiscriminator
from .registry import DataUsageError, ModelSpec
from .unet import UNetGenerator
from .variants.pix2pix import LAMBDA_L1, Pix2Pix

TASKS = {  # dataset name -> (task, input channels, upscale of the input to the 28 x 28 output)
    "mnist-edges": ("edges", 1, 1),
    "mnist-sr4": ("sr4", 1, 4),
    "mnist-inpaint": ("inpaint", 2, 1),
}
PAIRED_DEFAULTS = {
    "steps": 3000,
    "batch_size": 32,
    "lr": 2e-4,
    "betas": [0.5, 0.999],
    "lr_decay_steps": 3000,
    "width": 32,  # G's first channels (the U-Net's widths: 32, 64, 128, 256, 256)
    "d_width": 64,
    "n_layers": 1,  # PatchGAN depth: a 16 x 16 receptive field on 28 x 28 digits (patchgan.py)
    "lambda_l1": LAMBDA_L1,
    "split": "train",
    "data_dir": None,
    "sample_every": 250,
    "ckpt_every": 250,
    "log_every": 10,
}
N_SNAPSHOT = 8  # held-out digits in each training picture


def classifier_split(images, name: str, split: str, min_train: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, holdout_idx): the own classifier's division of a split (``metrics.classifier``: 2 000
    held out, seeded), so translators train where the classifier trains; DataUsageError when fewer than
    ``min_train`` images would be left to train on."""
    from ..metrics.classifier import DEFAULT_CONFIG, holdout_split

    n_hold = DEFAULT_CONFIG["n_holdout"]
    if len(images) < n_hold + min_train:
        raise DataUsageError(
            f"{name}: the split {split!r} has {len(images)} images, but {n_hold} are held out for the "
            "evaluation and training needs the rest; use a larger split (test has 10000, train 60000)"
        )
    return holdout_split(len(images), n_hold, DEFAULT_CONFIG["seed"])


def load_digits(config: dict) -> tuple[np.ndarray, np.ndarray]:
    """The run's MNIST split: (images uint8 (N, 28, 28), labels)."""
    return load_mnist(config.get("split", "train"), data_dir=config.get("data_dir"), dataset="mnist")


def check_fixed_game(config: dict, game: str) -> None:
    """A translation model plays its paper's ``game``: ValueError if --loss or --penalty was changed."""
    if config["loss"] != "nonsaturating" or config["penalty"] is not None:
        what = f"--model {config['model']} plays the paper's game ({game})"
        raise ValueError(f"{what}: --loss and --penalty do not apply to it")


class PairedData:
    """One MNIST split for a paired task: ``images`` uint8 (N, 28, 28), ``labels``, the classifier's
    ``train_idx`` / ``holdout_idx``; ``pairs(idx)`` the sampler over a subset (``data.paired``)."""

    kind = "paired"

    def __init__(self, images, labels, task: str, name: str, split: str):
        self.images, self.labels, self.task, self.name, self.split = images, labels, task, name, split
        self.train_idx, self.holdout_idx = classifier_split(images, name, split)

    def __len__(self) -> int:
        return len(self.images)

    def pairs(self, idx):
        from ..data.paired import PairedSampler

        return PairedSampler(self.images[idx], self.labels[idx], self.task, name=self.name, split=self.split)

    def held_out(self, n: int | None = None, seed: int = 0):
        """(inputs, targets, labels) of the first n held-out digits; hole positions from ``seed``."""
        idx = np.arange(len(self.holdout_idx) if n is None else min(n, len(self.holdout_idx)))
        return self.pairs(self.holdout_idx).fixed(idx, seed=seed)


def make_data(config: dict) -> PairedData:
    images, labels = load_digits(config)
    return PairedData(images, labels, TASKS[config["data"]][0], config["data"], config.get("split", "train"))


def make_models(config: dict):
    _, c_in, up = TASKS[config["data"]]
    G = dcgan_init_(UNetGenerator(c_in, 1, width=config["width"], upscale=up))
    D = dcgan_init_(PairDiscriminator(c_in, 1, up, width=config["d_width"], n_layers=config["n_layers"]))
    return G, D


def _variant(lambda_gan: float):
    def make(config: dict) -> Pix2Pix:
        check_fixed_game(config, "BCE on D's patches + L1")
        return Pix2Pix(config["lambda_l1"], lambda_gan)

    return make


def baseline(task: str, a: np.ndarray) -> np.ndarray:
    """The trivial translation the model must beat: bicubic upsampling (sr4), the hole filled with the
    image's mean (inpaint), the edge map itself (edges)."""
    from ..data import paired

    if task == "sr4":
        return paired.bicubic_upsample(a, 4)
    if task == "inpaint":
        return paired.mean_fill(a[:, :1], a[:, 1:] > 0)
    return a


def translate_batches(G, a: np.ndarray, batch: int = 500) -> np.ndarray:
    """G's outputs for inputs ``a`` (float32 NumPy), on G's device, eval mode (restored after), no graph,
    ``batch`` images at a time."""
    from ..autograd import no_grad
    from ..creation import tensor

    device = next(iter(G.parameters())).device
    was_training = G.training
    G.eval()
    try:
        with no_grad():
            out = [G(tensor(a[i : i + batch], device=device)).numpy() for i in range(0, len(a), batch)]
    finally:
        G.train(was_training)
    return np.concatenate(out).astype(np.float32)


def evaluate(data: PairedData, G, D, variant, config, n, seed, step) -> dict:
    """PSNR / SSIM against the targets next to the baseline, label preservation, image metrics (module
    docstring) on the first ``n`` held-out digits (hole positions from ``seed``)."""
    from ..metrics.classifier import load_or_train, stderr_log
    from ..metrics.image_eval import evaluate_images
    from ..metrics.similarity import psnr, ssim

    a, b, y = data.held_out(n, seed)
    out = translate_batches(G, a)
    if not np.isfinite(out).all():
        return {"summary": "translations contain NaN or inf: nothing to evaluate", "finite": False}
    base = baseline(data.task, a)
    clf = load_or_train(data.images, data.labels, dataset="mnist", log=stderr_log)

    def scores(x):
        return {
            "psnr": float(np.mean(psnr(x, b))),
            "ssim": float(np.mean(ssim(x, b))),
            "label_accuracy": clf.score(x, y),
        }

    result = {"task": data.task, "n_heldout": len(a), "model": scores(out), "baseline": scores(base)}
    result["target_label_accuracy"] = clf.score(b, y)
    images = evaluate_images(out, clf, data.images, seed=seed)
    result.update({k: images[k] for k in ("generated", "real_baseline", "n", "classifier_accuracy")})
    m, bl = result["model"], result["baseline"]
    fd, fd_real = (images[k]["frechet_distance"] for k in ("generated", "real_baseline"))
    result["summary"] = (
        f"{data.task}: PSNR {m['psnr']:.2f} dB (baseline {bl['psnr']:.2f}), SSIM {m['ssim']:.3f} "
        f"(baseline {bl['ssim']:.3f}), label preservation {100 * m['label_accuracy']:.2f} % (baseline "
        f"{100 * bl['label_accuracy']:.2f} %, targets {100 * result['target_label_accuracy']:.2f} %), "
        f"FD {fd:.2f} (real {fd_real:.2f}) on {len(a)} held-out digits"
    )
    result["report"] = (
        f"  {'':<28} {'model':>10} {'baseline':>10} {'targets':>10}\n"
        f"  {'PSNR (dB)':<28} {m['psnr']:>10.2f} {bl['psnr']:>10.2f}\n"
        f"  {'SSIM':<28} {m['ssim']:>10.3f} {bl['ssim']:>10.3f}\n"
        f"  {'label preservation (%)':<28} {100 * m['label_accuracy']:>10.2f} "
        f"{100 * bl['label_accuracy']:>10.2f} {100 * result['target_label_accuracy']:>10.2f}\n"
        + images["report"]
    )
    return result


def plot_samples(x, data: PairedData, path, title=None, G=None, **_):
    """Rows input | output | target for the first held-out digits (G's outputs; ``x`` unused)."""
    import matplotlib.pyplot as plt

    from ..viz import plot_image_rows

    a, b, _labels = data.held_out(N_SNAPSHOT)
    out = translate_batches(G, a)
    plt.close(plot_image_rows([a[:, :1], out, b], ["input", "output", "target"], title, path))


def _model(name: str, description: str, lambda_gan: float) -> ModelSpec:
    return ModelSpec(
        name,
        description,
        make_models,
        make_variant=_variant(lambda_gan),
        make_batches=lambda data, config: data.pairs(data.train_idx),  # never the held-out digits
        evaluate=evaluate,
    )


MODELS = (
    _model("pix2pix", "U-Net G, PatchGAN pair D, GAN + 100 L1 (chapter 12)", 1.0),
    _model("l1", "the pix2pix U-Net trained on the L1 loss alone (chapter 12's comparison)", 0.0),
)

for _name, (_task, _c, _up) in TASKS.items():
    registry.register(
        registry.DatasetSpec(
            name=_name,
            kind="paired",
            description=f"MNIST {_task} -> digit pairs for pix2pix (chapter 12)",
            make_data=make_data,
            models=MODELS,
            defaults=dict(PAIRED_DEFAULTS),
            plot_samples=plot_samples,
            blas_threads=1,
            eval_samples=2000,  # every held-out digit
        )
    )
