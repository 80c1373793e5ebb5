"""Runs the ported programs (tests/compat/programs/) on a framework: real PyTorch or minigan.

The programs never name a framework: each is ``main(torch, nn, F, optim, autograd, batches, steps,
init_seed, ...)``. Here ``framework("minigan")`` is ``import minigan as torch`` (and minigan.nn as nn, ...)
and ``framework("torch")`` is PyTorch itself; before a program runs, the runner performs the program's own
``import torch.xxx`` lines (``IMPORTS``) on that framework, so ``torch.backends.cudnn`` and the like are
reachable exactly when they are in the original. The data are small synthetic NumPy batches, drawn from a
seeded generator, in the shapes the programs' data loaders produce.
"""

import importlib
import os
import tempfile

import numpy as np

PROGRAMS = ("dcgan_examples", "d2l_gan", "d2l_dcgan", "pgan_gan", "pgan_dcgan", "pgan_cgan", "pgan_wgan_gp")

# the sub-modules each original imports (`import torch.nn.parallel`, `import torch.backends.cudnn`, ...)
IMPORTS = {
    "dcgan_examples": ("nn", "nn.parallel", "backends.cudnn", "optim"),
    "d2l_gan": ("nn",),
    "d2l_dcgan": ("nn",),
    "pgan_gan": ("nn", "nn.functional", "autograd"),
    "pgan_dcgan": ("nn", "nn.functional", "autograd"),
    "pgan_cgan": ("nn", "nn.functional", "autograd"),
    "pgan_wgan_gp": ("nn", "nn.functional", "autograd"),
}

_SMALL = ["--n_epochs", "1", "--batch_size", "8", "--latent_dim", "16", "--img_size", "16"]

# per program: the shrunk settings (argv for the argparse programs, keyword arguments for the d2l ones),
# the number of steps, and the batches' shapes. dropout_p=0.0: the comparison runs without dropout.
SETTINGS = {
    "dcgan_examples": dict(
        steps=3,
        argv=[
            "--dataset",
            "mnist",
            "--batchSize",
            "4",
            "--imageSize",
            "64",
            "--nz",
            "8",
            "--ngf",
            "4",
            "--ndf",
            "4",
            "--niter",
            "1",
            "--manualSeed",
            "1",
        ],
        images=(4, 1, 64, 64),
    ),
    "d2l_gan": dict(steps=4, points=(8, 2)),
    "d2l_dcgan": dict(steps=3, kwargs=dict(n_G=4, n_D=4, latent_dim=8), images=(4, 3, 64, 64)),
    "pgan_gan": dict(steps=4, argv=_SMALL, images=(8, 1, 16, 16)),
    "pgan_dcgan": dict(steps=4, argv=_SMALL, images=(8, 1, 16, 16), kwargs=dict(dropout_p=0.0)),
    "pgan_cgan": dict(steps=4, argv=_SMALL, images=(8, 1, 16, 16), kwargs=dict(dropout_p=0.0)),
    "pgan_wgan_gp": dict(steps=6, argv=_SMALL + ["--n_critic", "2"], images=(8, 1, 16, 16)),
}

INIT_SEED = 0
NOISE_SEED = 1
DATA_SEED = 2


def framework(name):
    """(torch, nn, F, optim, autograd) of ``name``: "torch" or "minigan" (``import minigan as torch``)."""
    torch = importlib.import_module(name)
    nn = importlib.import_module(name + ".nn")
    F = importlib.import_module(name + ".nn.functional")
    optim = importlib.import_module(name + ".optim")
    autograd = importlib.import_module(name + ".autograd")
    return torch, nn, F, optim, autograd


def make_batches(program, steps=None):
    """The program's batches: NumPy arrays as its DataLoader would give them (images in [-1, 1], labels)."""
    s = SETTINGS[program]
    steps = s["steps"] if steps is None else steps
    rng = np.random.default_rng(DATA_SEED)
    if "points" in s:
        return [rng.standard_normal(s["points"]).astype(np.float32) for _ in range(steps)]
    shape = s["images"]
    out = []
    for _ in range(steps):
        # smooth-ish images: a random low-resolution pattern, upsampled and squashed into [-1, 1]
        n, c, h, w = shape
        low = rng.standard_normal((n, c, h // 4, w // 4))
        imgs = np.tanh(np.repeat(np.repeat(low, 4, axis=2), 4, axis=3)).astype(np.float32)
        labels = rng.integers(0, 10, n).astype(np.int64)
        out.append((imgs, labels))
    return out


def run(program, fw="minigan", steps=None, checkpoints=None, **overrides):
    """Run ``program`` on framework ``fw`` with the SETTINGS; returns its list of per-step loss rows.

    ``checkpoints``: a list, extended with the names of the files the program wrote to its --outf.
    """
    s = SETTINGS[program]
    steps = s["steps"] if steps is None else steps
    for sub in IMPORTS[program]:
        importlib.import_module(f"{fw}.{sub}")
    mod = importlib.import_module(f".programs.{program}", package=__package__)
    kwargs = dict(s.get("kwargs", {}))
    kwargs.update(overrides)
    with tempfile.TemporaryDirectory() as outf:
        if "argv" in s:
            # dcgan_examples writes its checkpoints to --outf: a temporary folder
            kwargs.setdefault("argv", s["argv"] + (["--outf", outf] if program == "dcgan_examples" else []))
        rows = mod.main(
            *framework(fw), make_batches(program, steps), steps, INIT_SEED, noise_seed=NOISE_SEED, **kwargs
        )
        if checkpoints is not None:
            checkpoints.extend(sorted(os.listdir(outf)))
    return [[float(v) for v in row] for row in rows]
