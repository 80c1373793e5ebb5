"""Semi-supervised GAN (Salimans et al., 2016, "Improved techniques for training GANs"). Chapter 15.

The discriminator is a K-class classifier (K = 10 digits) whose logits l(x) also say "real or fake":
with Z(x) = sum_k exp l_k(x), read D(x) = Z(x) / (Z(x) + 1), i.e. the real / fake logit is
s(x) = logsumexp_k l_k(x) (a (K+1)-th "fake" class with its logit fixed at 0). Then

    D step:  L_D = CE(l(x_lab), y_lab)                                    supervised, on the few labels
                 + 1/2 [- E log D(x_unl) - E log(1 - D(G(z)))]            unsupervised, on everything else
                 = CE + 1/2 [E softplus(-s(x_unl)) + E softplus(s(G(z)))]  (the 1/2 as in the paper's code)
    G step:  feature matching: L_G = || E f(x_unl) - E f(G(z)) ||^2 / dim f
             f = the activations of D's last hidden layer (G matches the statistics D looks at instead
             of maximising D's output, which keeps G from over-training on the current D)

Why it helps: telling real digits from almost-real ones forces D's features to describe digits well,
and the classifier on top of them then needs few labels. The models follow the paper's MNIST ones:

    D: x (N, 1, 28, 28) -> flatten -> noise(0.6) -> [NormedLinear -> ReLU -> noise(0.5)] for widths 1000,
       500, 250, 250, 250 (f = the last ReLU's output, (N, 250), before its noise) -> NormedLinear(250, 10)
       = class logits l (N, 10)
    G: z (N, 100) -> [Linear -> BatchNorm1d -> Softplus] for widths 500, 500 -> NormedLinear(500, 784)
       -> Tanh -> (N, 1, 28, 28)
    noise(s): adds N(0, s^2) in training only, the paper's regulariser (its 0.3 on pixels in [0, 1] is
       0.6 on our pixels in [-1, 1])
    NormedLinear: weight normalisation, W = g v / ||v|| row by row. In D, g and b are set from the first
       training batch so that every unit starts with mean 0 and variance 1 on it (data-dependent
       initialisation), and only the output layer's g is trained afterwards; every unit of the hidden
       layers sees its input through a weight vector of fixed length, so D's features cannot grow
       without bound while G chases their means. In G's output layer g is trained from 1.

A batch is (x_unl (N, 1, 28, 28), x_lab (N, 1, 28, 28), y_lab int64 (N,)) from ``SemiSupervisedBatches``:
``labeled`` images of the training part (labeled / 10 per class, chosen by the seed), drawn with
replacement, and unlabelled images from all of it; ``--set max_shift=S`` (default 0, the paper's) moves
every real image by a random shift of up to S pixels, a regulariser for a D that sees only 8 000 images
here (the supervised baseline gets the same shifts). The held-out images (the evaluation classifier's
2 000, ``metrics.classifier.holdout_split``) are never drawn. ``minigan eval`` reports D's accuracy on them
next to the same D trained on the labelled images alone (``evaluate`` below). As in the paper's code, the
images are classified with a moving average of D's weights (``AveragedDiscriminator``, config key
``d_average_steps``: its half-life in steps; 0 scores with the last step's weights, as runs written before
the key existed do), and the last step's weights are reported beside it.
"""

from __future__ import annotations

import numpy as np

from ... import nn
from ...autograd import no_grad
from ...creation import ones, randn, tensor, zeros
from ...metrics.classifier import random_shift
from ...nn import functional as F
from ...ops.linear import linear
from .. import losses
from ..averaged import Averaged, update_averages
from ..registry import ModelSpec
from .base import Variant

N_CLASSES = 10


class GaussianNoise(nn.Module):
    """x + N(0, std^2) in training (drawn from minigan's default generator), x itself in eval mode."""

    def __init__(self, std: float):
        super().__init__()
        self.std = float(std)

    def forward(self, x):
        if not self.training or self.std == 0:
            return x
        return x + self.std * randn(*x.shape, dtype=x.dtype, device=x.device)


class NormedLinear(nn.Module):
    """y = x W^T + b with W = g * v / ||v|| row by row: weight normalisation, each output unit's weight
    vector of length g. x (N, in_features) -> (N, out_features).

    ``train_scale=False`` keeps g fixed (a buffer) after it is set; ``data_init=True`` sets g and b from
    the first batch seen in training, so that the layer's outputs on it have mean 0 and variance 1 per
    unit (the data-dependent initialisation of weight normalisation: every layer of a deep MLP then starts
    in the same range). ``initialised`` (a buffer) records that it happened, so a resumed run does not
    repeat it, and a frozen layer (D during G's step) never does it. v starts N(0, 0.1^2), g at 1, b at 0."""

    def __init__(self, in_features: int, out_features: int, train_scale=False, data_init=False):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.v = nn.Parameter(randn(out_features, in_features) * 0.1)
        self.bias = nn.Parameter(zeros(out_features))
        if train_scale:
            self.g = nn.Parameter(ones(out_features))
        else:
            self.register_buffer("g", ones(out_features))
        self.register_buffer("initialised", tensor(0.0 if data_init else 1.0))
        self._pending = data_init  # the buffer is read (a host sync on a GPU) until it is 1, then never

    def weight(self):
        return self.v * (self.g / (self.v * self.v).sum(1).sqrt()).reshape(-1, 1)

    def forward(self, x):
        if self._pending and self.training and self.v.requires_grad:  # frozen (G's step): not now
            if not self.initialised.item():  # 0 in a fresh layer; 1 in one loaded from a checkpoint
                with no_grad():
                    a = linear(x, self.weight())
                    m = a.mean(0)
                    s = ((a - m) ** 2).mean(0).sqrt()
                    self.g.copy_(self.g / s)
                    self.bias.copy_(-m / s)
                    self.initialised.fill_(1.0)
            self._pending = False
        return linear(x, self.weight(), self.bias)


class ClassifierDiscriminator(nn.Module):
    """x (N, 1, 28, 28) -> class logits (N, 10); ``features(x)`` -> the last hidden layer f (N, 250)."""

    def __init__(self, widths=(1000, 500, 250, 250, 250), n_classes=N_CLASSES, noise=(0.6, 0.5)):
        super().__init__()
        layers, width = [nn.Flatten(), GaussianNoise(noise[0])], 28 * 28
        for w in widths:
            layers += [NormedLinear(width, w, data_init=True), nn.ReLU(), GaussianNoise(noise[1])]
            width = w
        self.body = nn.Sequential(*layers[:-1])  # f: the last hidden layer, before its noise
        self.noise = layers[-1]
        self.head = NormedLinear(width, n_classes, train_scale=True, data_init=True)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.noise(self.body(x)))


class AveragedDiscriminator(Averaged):
    """The classifier D (``.net``, trained) and the moving average of its weights (``.avg``), which
    answers in eval mode (``minigan.gan.averaged``): the paper's code scores test images with averaged
    weights too. Its half-life here is in steps (the paper: a rate of 1e-4 per step from 0 over its
    180 000 steps; here from D's weights at the first update, which follows D's data-dependent
    initialisation, and shorter, to suit runs of ~10 000 steps)."""

    def __init__(self, half_life: float = 1000.0, **kwargs):
        super().__init__(ClassifierDiscriminator(**kwargs), half_life)

    def features(self, x):
        return self.current.features(x)


def make_discriminator(config: dict) -> nn.Module:
    """The run's D: averaged (``d_average_steps`` > 0, the default) or plain (0, and runs written before
    the key existed, which were built without the average)."""
    half_life = config.get("d_average_steps", 0)
    return AveragedDiscriminator(half_life) if half_life else ClassifierDiscriminator()


def mlp_generator(z_dim: int = 100, widths=(500, 500)) -> nn.Sequential:
    layers, width = [], z_dim
    for w in widths:
        layers += [nn.Linear(width, w), nn.BatchNorm1d(w), nn.Softplus()]
        width = w
    out = NormedLinear(width, 28 * 28, train_scale=True)
    return nn.Sequential(*layers, out, nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))


def real_fake_logit(logits):
    """s(x) = logsumexp_k l_k(x): D(x) = sigmoid(s) = Z / (Z + 1)."""
    return logits.logsumexp(1, keepdim=True)


class SemiSupervised(Variant):
    """The semi-supervised game (module docstring). D(x) -> class logits; the loss is fixed (the
    non-saturating one on s(x)), and there is no penalty."""

    name = "sgan"

    def __init__(self):
        super().__init__("nonsaturating", None, None)

    def d_loss(self, t, batch):
        x_unl, x_lab, y_lab = batch
        with no_grad():
            x_fake = t.G(t.sample_z(x_unl.shape[0]))
        l_lab = t.D(x_lab)
        sup = F.cross_entropy(l_lab, y_lab)
        real, fake = real_fake_logit(t.D(x_unl)), real_fake_logit(t.D(x_fake))
        unsup = 0.5 * losses.d_loss("nonsaturating", real, fake)
        record = self.adversarial_record(unsup, None, real, fake)
        record["loss_sup"] = float(sup.item())
        with no_grad():
            record["acc_lab"] = float((l_lab.argmax(1) == y_lab).float().mean().item())
        return sup + unsup, record

    def g_loss(self, t, n):
        x_unl = t.real_batch(n)[0]  # a fresh unlabelled batch: the statistics G must match
        with no_grad():
            f_real = t.D.features(x_unl).mean(0)
        f_fake = t.D.features(t.G(t.sample_z(n))).mean(0)
        loss = ((f_real - f_fake) ** 2).mean()
        return loss, {"loss_G": float(loss.item())}


class SemiSupervisedBatches:
    """(x_unl, x_lab, y_lab) batches over the training part of ``data`` (module docstring). With
    ``max_shift`` > 0 every real image (labelled or not) is moved by its own random (dy, dx) of up to that
    many pixels (``metrics.classifier.random_shift``; 0, the paper's setting, draws nothing)."""

    def __init__(self, data, labeled: int, seed: int, max_shift: int = 0):
        from ...metrics.classifier import DEFAULT_CONFIG, holdout_split

        self.data, self.max_shift = data, int(max_shift)
        self.train_idx, self.holdout_idx = holdout_split(
            len(data), DEFAULT_CONFIG["n_holdout"], DEFAULT_CONFIG["seed"]
        )
        problem = labeled_problem(labeled, data.labels[self.train_idx])
        if problem:
            raise ValueError(problem)
        rng = np.random.default_rng([seed, 7])
        y = data.labels[self.train_idx]
        per_class = labeled // N_CLASSES
        picks = [rng.choice(self.train_idx[y == c], per_class, replace=False) for c in range(N_CLASSES)]
        self.labeled_idx = np.sort(np.concatenate(picks))

    def sample(self, n: int, generator):
        from ...data.mnist import to_unit_range

        unl = self.train_idx[generator.integers(0, len(self.train_idx), n)]
        lab = self.labeled_idx[generator.integers(0, len(self.labeled_idx), n)]
        images, labels = self.data.images, self.data.labels
        x_unl = random_shift(to_unit_range(images[unl]), self.max_shift, generator)
        x_lab = random_shift(to_unit_range(images[lab]), self.max_shift, generator)
        return x_unl, x_lab, labels[lab].astype(np.int64)


def make_batches(data, config: dict) -> SemiSupervisedBatches:
    """The run's batches (``max_shift`` 0 for runs written before the key existed)."""
    return SemiSupervisedBatches(data, config["labeled"], config["seed"], config.get("max_shift", 0))


def labeled_problem(labeled: int, train_labels) -> str | None:
    """Why ``--labeled`` cannot be used with these training labels (None if it can)."""
    counts = np.bincount(np.asarray(train_labels), minlength=N_CLASSES)
    if labeled < N_CLASSES or labeled % N_CLASSES:
        return f"--labeled {labeled} must be a positive multiple of {N_CLASSES} (the same number per class)"
    if labeled // N_CLASSES > counts.min():
        return (
            f"--labeled {labeled} is larger than the training part of the split allows: it needs "
            f"{labeled // N_CLASSES} images of every class, and class {counts.argmin()} has {counts.min()} "
            f"(of {len(train_labels)} training images)"
        )
    return None


def accuracy(D, images, labels, batch: int = 1000) -> float:
    """D's class accuracy on uint8 ``images`` (N, 28, 28) with ``labels`` (N,), in eval mode (no noise)."""
    from ...creation import tensor
    from ...data.mnist import to_unit_range

    was_training = D.training
    D.eval()
    right = 0
    try:
        with no_grad():
            for i in range(0, len(images), batch):
                logits = D(tensor(to_unit_range(images[i : i + batch]), device=_device(D)))
                right += int((logits.argmax(1).numpy() == labels[i : i + batch]).sum())
    finally:
        D.train(was_training)
    return right / len(images)


def _device(module) -> str:
    return next(iter(module.parameters())).device


def supervised_baseline(batches: SemiSupervisedBatches, config: dict, steps: int) -> nn.Module:
    """The same D trained on the labelled images alone: ``steps`` Adam steps of CE on batches drawn from
    them, with the run's batch size, learning rate and schedule, seeded by the run's seed, shifted as the
    run's real images are (``max_shift``), and averaged as the run's D is (``make_discriminator``). The
    global RNG state is restored afterwards."""
    from ... import optim
    from ...creation import tensor
    from ...data.mnist import to_unit_range
    from ...optim.schedule import lr_factor, set_lr
    from ...random import get_rng_state, manual_seed, set_rng_state

    saved = get_rng_state()
    try:
        manual_seed(config["seed"])
        D = make_discriminator(config)
        opt = optim.Adam([p for p in D.parameters() if p.requires_grad], lr=config["lr"],
                         betas=tuple(config["betas"]))  # fmt: skip
        rng = np.random.default_rng([config["seed"], 8])
        images, labels = batches.data.images, batches.data.labels
        for step in range(steps):
            set_lr([opt], config["lr"] * lr_factor(step, config["lr_decay_steps"]))
            idx = batches.labeled_idx[rng.integers(0, len(batches.labeled_idx), config["batch_size"])]
            x = random_shift(to_unit_range(images[idx]), batches.max_shift, rng)
            loss = F.cross_entropy(D(tensor(x)), tensor(labels[idx].astype(np.int64)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            update_averages(D)
    finally:
        set_rng_state(saved)
    return D


def evaluate(data, G, D, variant, config, n, seed, step) -> dict:
    """D's accuracy on the held-out images, next to the supervised baseline trained for ``step`` steps.
    With an averaged D the headline figures are the averages' (as the paper's), and the last step's
    weights are reported beside them (``*_last``)."""
    batches = make_batches(data, config)
    hold = batches.holdout_idx
    images, labels = data.images[hold], data.labels[hold]
    base_D = supervised_baseline(batches, config, step).to(_device(D))
    acc, base = accuracy(D, images, labels), accuracy(base_D, images, labels)
    err, err_b = 1 - acc, 1 - base
    out = {
        "labeled": config["labeled"],
        "n_train": len(batches.train_idx),
        "n_heldout": len(hold),
        "averaged": isinstance(D, AveragedDiscriminator),
        "accuracy": acc,
        "error": err,
        "baseline_accuracy": base,
        "baseline_error": err_b,
        "error_ratio": err_b / err if err > 0 else float("inf"),
    }
    which = ""
    if out["averaged"]:
        out["error_last"] = 1 - accuracy(D.net, images, labels)
        out["baseline_error_last"] = 1 - accuracy(base_D.net, images, labels)
        last, last_b = 100 * out["error_last"], 100 * out["baseline_error_last"]
        which = (f" (weights averaged, half-life {config['d_average_steps']} steps; the last step's: "
                 f"{last:.2f} % and {last_b:.2f} %)")  # fmt: skip
    out["summary"] = (
        f"semi-supervised D: {100 * err:.2f} % error on {len(hold)} held-out images "
        f"({config['labeled']} labels, {len(batches.train_idx)} training images); the same D trained on "
        f"the {config['labeled']} labelled images alone: {100 * err_b:.2f} %{which}"
    )
    return out


MODEL = ModelSpec(
    "sgan",
    "semi-supervised GAN: D a 10-class classifier from --labeled labels, feature matching (chapter 15)",
    lambda config: (mlp_generator(config["z_dim"]), make_discriminator(config)),
    make_variant=lambda config: SemiSupervised(),
    make_batches=make_batches,
    defaults={
        "labeled": 100,
        "max_shift": 0,
        "d_average_steps": 1000,
        "batch_size": 100,
        "lr": 3e-3,
        "betas": [0.5, 0.999],
        "penalty": None,
        "gamma": None,
        "steps": 12000,
        "lr_decay_steps": 12000,
    },
    evaluate=evaluate,
)
