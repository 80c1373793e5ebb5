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
from dataclasses import dataclass

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
    """A failure to report as one line on stderr; ``code`` is the exit status (2 = bad usage);
    ``every_rank``: in a data-parallel run, every rank met it at the same point (a NaN), so each stops by
    itself and rank 0 alone reports it."""

    def __init__(self, message: str, code: int = 1, every_rank: bool = False):
        super().__init__(message)
        self.code, self.every_rank = code, every_rank

    def line(self) -> str:
        """The message as ONE line (a multi-line message joined)."""
        return " ".join(line.strip() for line in str(self).splitlines())


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


def get_model(spec, name: str | None):
    """The ``ModelSpec`` called ``name`` (None: the dataset's default); CLIError (exit 2) naming the valid
    ones otherwise."""
    try:
        return spec.model(name)
    except ValueError as err:
        raise CLIError(str(err), code=2) from None


def known_settings(data: str, spec, model: str | None = None) -> dict:
    """Every key a run of dataset ``data`` with ``model`` (None: the default) has, with its default value."""
    m = spec.model(model)
    return {"data": data, "model": m.name, **GENERIC_DEFAULTS, **spec.defaults, **m.defaults}


def read_run_config(rd: RunDir) -> tuple[dict, registry.DatasetSpec]:
    """(config, spec) of the run in ``rd``, every entry of its config.json checked (``config.check``);
    RunDirError naming the file otherwise."""
    config = rd.read_config()
    where = rd / RunDir.CONFIG
    if not isinstance(config["data"], str) or config["data"] not in registry.names():
        names = ", ".join(registry.names())
        raise RunDirError(f"{where}: data {config['data']!r} is not a dataset (those are: {names})")
    spec = registry.get(config["data"])
    config.setdefault("model", spec.default_model)  # runs from before --model existed
    if config["model"] not in spec.model_names():
        models = ", ".join(spec.model_names())
        raise RunDirError(f"{where}: model {config['model']!r} is not a model of {config['data']} ({models})")
    try:
        known = known_settings(config["data"], spec, config["model"])
        config = check({**GENERIC_DEFAULTS, **config}, known, lambda k: f"{where}: {k}")
    except ConfigError as err:
        raise RunDirError(str(err)) from None
    return config, spec


@dataclass
class LoadedRun:
    """A finished run read back: its config, dataset and model specs, variant, data, and G and D with
    the saved weights (``state``: the whole checkpoint)."""

    config: dict
    spec: registry.DatasetSpec
    model: registry.ModelSpec
    variant: object
    data: object
    G: object
    D: object
    state: dict


def load_run(path, device: str = "cpu") -> LoadedRun:
    """The run in ``path``, G and D with the saved weights; CLIError with one line otherwise."""
    rd = RunDir(path)
    try:
        config, spec = read_run_config(rd)
        state = io.load_checkpoint(rd.checkpoint)
    except (RunDirError, io.CheckpointError) as err:
        raise CLIError(str(err)) from None
    model = get_model(spec, config["model"])
    try:
        data = spec.make_data(config)
    except (OSError, ValueError) as err:  # missing / corrupt dataset files: one line, not a traceback
        raise CLIError(str(err)) from None
    G, D = model.make_models(config)
    try:
        G.load_state_dict(state["trainer"]["G"])
        D.load_state_dict(state["trainer"]["D"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CLIError(f"checkpoint {rd.checkpoint} does not fit the run's models: {err}") from None
    G.to(device)
    D.to(device)
    return LoadedRun(config, spec, model, model.make_variant(config), data, G, D, state)


def evaluate_run(run: LoadedRun, n: int, seed: int, device: str, step: int) -> dict:
    """The figures of a run's evaluation: the model's own (the semi-supervised GAN's accuracy), or the
    dataset's on n samples of G from noise ``seed`` (drawn n / 10 per class for a conditional model)."""
    if run.model.evaluate is not None:
        return run.model.evaluate(run.data, run.G, run.D, run.variant, run.config, n, seed, step)
    if not run.model.conditional:
        return run.spec.evaluate(run.data, generate(run.G, n, run.config["z_dim"], seed, device))
    from ..metrics.conditional import balanced_labels

    labels = balanced_labels(n)
    x = generate(run.G, n, run.config["z_dim"], seed, device, variant=run.variant, labels=labels)
    return run.spec.evaluate(run.data, x, labels=labels)


def check_eval_n(n: int, run_model, flag: str = "--n") -> None:
    """A conditional evaluation draws n / 10 images of each class: refuse an n that does not divide."""
    if run_model.conditional and n % 10:
        raise CLIError(f"{flag} {n}: a conditional model is evaluated on n / 10 images per class; use a "
                       "multiple of 10", 2)  # fmt: skip


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


def activation_bytes(model, x, *extra) -> float:
    """Bytes per sample of what one forward pass of ``model`` on batch ``x`` (and ``extra`` inputs, such as
    labels) keeps for its backward pass. A Sequential is summed layer by layer (no graph); any other model
    runs once with its graph and is measured by what the graph holds (tracemalloc, which NumPy reports to;
    CuPy's memory pool on a GPU). Eval mode, no random draws, no state updates: measuring changes nothing."""
    was_training = model.training
    model.eval()
    try:
        if hasattr(model, "__iter__") and not extra:
            total = 0
            with no_grad():
                for layer in model:
                    x = layer(x)
                    total += x.array.nbytes
            return total / len(x)
        return _graph_bytes(lambda: model(x, *extra), x.device) / len(x)
    finally:
        model.train(was_training)


def _graph_bytes(forward, device: str) -> int:
    """Memory held by the output of ``forward()`` and its autograd graph."""
    if device == "cuda":
        pool = require_cupy().get_default_memory_pool()
        before = pool.used_bytes()
        out = forward()  # noqa: F841 - kept alive until measured
        return pool.used_bytes() - before
    import tracemalloc

    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = forward()  # noqa: F841 - kept alive until measured
        return max(0, tracemalloc.get_traced_memory()[0] - before)
    finally:
        if started:
            tracemalloc.stop()


def generate(
    G,
    n: int,
    z_dim: int,
    seed: int,
    device: str = "cpu",
    batch: int = 4096,
    variant=None,
    labels=None,
    truncation: float | None = None,
) -> np.ndarray:
    """``n`` samples of G (eval mode, no graph) from noise drawn with ``np.random.default_rng(seed)``, for
    the int ``labels`` (n,) if given (a conditional G, called through ``variant.generate``), at
    ``truncation`` psi (a style-based G; None: none); float32 NumPy array (n, ...)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, z_dim)).astype(np.float32)
    G.eval()
    out = []
    with no_grad():
        for i in range(0, n, batch):
            zb = tensor(z[i : i + batch], device=device)
            if truncation is not None:
                out.append(G(zb, truncation).numpy())
            elif labels is None:
                out.append(G(zb).numpy())
            else:
                yb = tensor(np.asarray(labels[i : i + batch], dtype=np.int64), device=device)
                out.append(variant.generate(G, zb, yb).numpy())
    G.train()
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0,), np.float32)
