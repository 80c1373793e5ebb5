"""Shared pieces of the ``minigan`` subcommands (chapter 07): the error type, devices, memory estimates,
and loading a finished run.

Any ``CLIError`` (and the library errors converted to one) ends the command with ONE line on stderr and
a non-zero exit code; files are only ever replaced atomically, so a failing command overwrites nothing.
Sizes are checked before they are allocated: ``check_memory`` compares a command's estimated need with
the memory available (``/proc/meminfo``'s MemAvailable, or the GPU's free memory) and names the flag to
lower, rather than letting the operating system kill the process halfway through.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from .. import io
from ..autograd import no_grad
from ..backend import DeviceError, normalize_device, require_cupy
from ..creation import tensor
from ..gan import registry
from .config import GENERIC_DEFAULTS, ConfigError, check
from .rundir import RunDir, RunDirError


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Run the block with at most ``n`` BLAS threads (via threadpoolctl when it is installed; otherwise,
    or for ``n=None``, unchanged). OpenBLAS's threads spin on small matrices; on a busy 2-core machine a
    toy GAN step took many times longer with them."""
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


def known_settings(data: str, spec) -> dict:
    """Every key a run of dataset ``data`` has, with its default value."""
    return {"data": data, **GENERIC_DEFAULTS, **spec.defaults}


def read_run_config(rd: RunDir) -> tuple[dict, registry.DatasetSpec]:
    """(config, spec) of the run in ``rd``, every entry of its config.json checked (``config.check``);
    RunDirError naming the file otherwise."""
    config = rd.read_config()
    where = rd / RunDir.CONFIG
    if not isinstance(config["data"], str) or config["data"] not in registry.names():
        names = ", ".join(registry.names())
        raise RunDirError(f"{where}: data {config['data']!r} is not a dataset (those are: {names})")
    spec = registry.get(config["data"])
    try:
        known = known_settings(config["data"], spec)
        config = check({**GENERIC_DEFAULTS, **config}, known, lambda k: f"{where}: {k}")
    except ConfigError as err:
        raise RunDirError(str(err)) from None
    return config, spec


def load_run(path, device: str = "cpu"):
    """(config, spec, data, G, D, checkpoint) of the run in ``path``, G and D with the saved weights."""
    rd = RunDir(path)
    try:
        config, spec = read_run_config(rd)
        state = io.load_checkpoint(rd.checkpoint)
    except (RunDirError, io.CheckpointError) as err:
        raise CLIError(str(err)) from None
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


def available_memory(device: str = "cpu") -> int | None:
    """Bytes that can be allocated now on ``device`` without swapping (None where it cannot be told)."""
    if normalize_device(device) == "cuda":
        try:
            return int(require_cupy().cuda.Device().mem_info[0])
        except Exception:  # noqa: BLE001 - no answer is not an error: the MemoryError check remains
            return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    raise AssertionError("unreachable")


def check_memory(nbytes: float, flag: str, value, device: str, what: str) -> None:
    """CLIError naming ``flag`` if ``nbytes`` (the estimate for ``what``) exceed the available memory."""
    avail = available_memory(device)
    if avail is not None and nbytes > avail:
        raise CLIError(
            f"{flag} {value} is too large: {what} needs about {human_bytes(nbytes)}, more than the "
            f"{human_bytes(avail)} of {device} memory available; use a smaller {flag}"
        )


def check_sample_memory(n: int, config: dict, data, device: str, copies: int) -> None:
    """Refuse an ``--n`` whose samples (and noise), held ``copies`` times over, would not fit in memory."""
    out_size = int(np.prod(np.shape(data.sample(1, np.random.default_rng(0)))[1:]))
    nbytes = 4.0 * n * (config["z_dim"] + copies * out_size)
    check_memory(nbytes, "--n", n, device, f"{n} samples")


def activation_bytes(model, x) -> tuple[float, tuple]:
    """(bytes of the activations per sample of one forward pass of ``model`` on batch ``x``, the output
    shape without the batch). Layer by layer for a Sequential, else just the output; no graph, eval mode,
    no random draws, so measuring changes nothing."""
    layers = list(model) if hasattr(model, "__iter__") else [model]
    total, was_training = 0, model.training
    model.eval()
    try:
        with no_grad():
            for layer in layers:
                x = layer(x)
                total += x.array.nbytes
    finally:
        model.train(was_training)
    return total / len(x), tuple(x.shape[1:])


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
