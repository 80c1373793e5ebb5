"""Shared pieces of the ``minigan`` subcommands: the error type, devices, and loading a finished run.

Any ``CLIError`` (and the library errors converted to one) ends the command with ONE line on stderr and
a non-zero exit code; files are only ever replaced atomically, so a failing command overwrites nothing.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import io
from ..autograd import no_grad
from ..backend import DeviceError, normalize_device, require_cupy
from ..creation import tensor
from ..gan import registry
from .rundir import RunDir, RunDirError


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Run the block with at most ``n`` BLAS threads (via threadpoolctl when it is installed; otherwise,
    or for ``n=None``, unchanged). OpenBLAS's threads spin on small matrices; on a busy 2-core machine a
    toy GAN step took 16x longer with them."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if n is None or threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


class CLIError(Exception):
    """A failure to report as one line on stderr; ``code`` is the exit status (2 = bad usage)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def check_device(device: str | None) -> str:
    """'cpu' or 'cuda', after checking that CUDA can be used when asked for."""
    try:
        device = normalize_device(device)
        if device == "cuda":
            require_cupy()
    except DeviceError as err:
        raise CLIError(str(err)) from None
    return device


def get_spec(name: str):
    try:
        return registry.get(name)
    except ValueError as err:
        raise CLIError(str(err), code=2) from None


def load_run(path, device: str = "cpu"):
    """(config, spec, data, G, D, checkpoint) of the run in ``path``, G and D with the saved weights."""
    rd = RunDir(path)
    try:
        config = rd.read_config()
        state = io.load_checkpoint(rd.checkpoint)
    except (RunDirError, io.CheckpointError) as err:
        raise CLIError(str(err)) from None
    spec = get_spec(config["data"])
    try:
        data = spec.make_data(config)
    except (OSError, ValueError) as err:  # missing / corrupt dataset files: one line, not a traceback
        raise CLIError(str(err)) from None
    G, D = spec.make_models(config)
    try:
        G.load_state_dict(state["trainer"]["G"])
        D.load_state_dict(state["trainer"]["D"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CLIError(f"checkpoint {rd.checkpoint} does not fit the run's models: {err}") from None
    G.to(device)
    D.to(device)
    return config, spec, data, G, D, state


def generate(G, n: int, z_dim: int, seed: int, device: str = "cpu", batch: int = 4096) -> np.ndarray:
    """``n`` samples of G (eval mode, no graph) from noise drawn with ``np.random.default_rng(seed)``;
    float32 NumPy array (n, ...)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, z_dim)).astype(np.float32)
    G.eval()
    out = []
    with no_grad():
        for i in range(0, n, batch):
            out.append(G(tensor(z[i : i + batch], device=device)).numpy())
    G.train()
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0,), np.float32)
