"""Spectral normalisation of a layer's weight (Miyato et al. 2018), with PyTorch's semantics. Chapter 10.

A discriminator that is K-Lipschitz cannot change its verdict faster than K times the change of its input,
which keeps its gradients - the generator's training signal - bounded. A linear map's Lipschitz constant
is its largest singular value sigma(W), so dividing every weight by its own sigma makes every linear
layer 1-Lipschitz (and, with 1-Lipschitz activations such as ReLU or LeakyReLU, the whole D).

    W_SN = W / sigma(W),        sigma(W) = max_{h != 0} ||W h|| / ||h|| = u1^T W v1

with u1, v1 the first left and right singular vectors. A weight of any shape is read as a matrix:

    W_mat = W with axis ``dim`` moved first, reshaped to (h, w),  h = W.shape[dim],  w = W.numel() / h

(``dim`` = 0, the output axis, for Linear (out, in) and Conv2d (out, in, kh, kw); 1 for ConvTranspose2d,
whose weight is (in, out, kh, kw)).

Instead of an SVD at every step, sigma is estimated by power iteration with a vector pair (u, v) of
shapes (h,) and (w,) that persists across steps:

    v <- normalize(W_mat^T u),   u <- normalize(W_mat v),   sigma = u^T W_mat v,
    normalize(x) = x / max(||x||, eps)

Since W changes little per optimiser step, one iteration per forward (the default) keeps (u, v) close to
the top singular pair: the error of the vectors shrinks by (sigma_2 / sigma_1) per iteration, and sigma,
a Rayleigh quotient, is off by about the square of that error.

``spectral_norm(module)`` installs this as a forward pre-hook (``Module.register_forward_pre_hook``):

- the parameter ``weight`` becomes ``weight_orig`` (the same Parameter object, so an optimiser built
  earlier still updates it), and buffers ``weight_u`` (h,) and ``weight_v`` (w,) are registered,
  initialised as normalize(randn) from minigan's default generator. ``state_dict`` keys are PyTorch's:
  "weight_orig", "weight_u", "weight_v"; "weight" is a plain attribute, not saved.
- before every forward, ``module.weight`` is recomputed as W_orig / sigma. In training mode the power
  iteration first updates u and v in place (under ``no_grad``); in eval mode they stay as they are.
- the backward pass treats u and v as constants: the gradient is that of W / (u^T W v) in W alone,
  built of minigan ops, so it can be differentiated again (R1 and WGAN-GP penalties, ``create_graph``).

Cost per forward, for a weight of N = h * w elements: N multiply-adds for sigma (W_mat v, then a dot
with u) and N divisions for W / sigma; each power iteration adds 2 N (W_mat^T u and W_mat v); the
backward adds a few N. Small next to a convolution, which spends N multiply-adds per output pixel.
"""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor, as_tensor
from ...creation import randn
from ...ops.elementwise import clamp
from ...ops.inplace import copy_
from ...ops.matmul import matmul
from ...ops.norm import norm
from ...ops.shape import clone, permute, reshape, transpose
from ..module import Module
from ..parameter import Parameter

# the layers whose weight is (in, out, ...): their output axis is 1. minigan has ConvTranspose2d; the
# names of the other two are here so that a user's (or a port's) ConvTranspose1d / 3d gets dim=1 too
_TRANSPOSED_CONVS = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


class ParameterNotFoundError(KeyError):
    """``spectral_norm`` was given a parameter name the module does not have. A KeyError, as in PyTorch,
    whose message prints as written (a plain KeyError would print it in quotes)."""

    def __str__(self):
        return str(self.args[0])


def weight_matrix(weight: Tensor, dim: int = 0) -> Tensor:
    """W_mat: ``weight`` with axis ``dim`` (>= 0) moved first and the other axes flattened, shape
    (weight.shape[dim], numel / weight.shape[dim]). A permute and a reshape: differentiable, no copy
    when dim is 0 and the weight is contiguous."""
    if dim != 0:
        weight = permute(weight, dim, *[d for d in range(weight.ndim) if d != dim])
    return reshape(weight, weight.shape[0], -1)


def normalize(x: Tensor, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_2, eps) for a vector x: the unit vector along x; when ||x|| < eps, where the
    direction means nothing, x / eps (shorter than 1) instead of a division by about 0."""
    return x / clamp(norm(x), min=eps)


def power_iteration(W_mat: Tensor, u: Tensor, v: Tensor, n_power_iterations: int = 1, eps: float = 1e-12):
    """``n_power_iterations`` steps of v <- normalize(W_mat^T u), u <- normalize(W_mat v), written into
    ``u`` (h,) and ``v`` (w,) in place (their versions move on), under ``no_grad``. Returns (u, v).

    In place because u and v are the module's buffers: the estimate must carry over to the next step, and
    whoever holds the buffers (a state_dict, a deepcopy made later) sees the current one. Cost: 2 h w
    multiply-adds per step."""
    W_mat = W_mat.detach()
    with no_grad():
        u_k, v_k = u, v
        for _ in range(n_power_iterations):
            v_k = normalize(matmul(transpose(W_mat, 0, 1), u_k), eps)
            u_k = normalize(matmul(W_mat, v_k), eps)
        copy_(v, v_k)
        copy_(u, u_k)
    return u, v


def spectral_normalize(weight: Tensor, u, v, dim: int = 0) -> Tensor:
    """W / sigma with sigma = u^T W_mat v (see ``weight_matrix``); u (h,) and v (w,) as given, so with u, v
    not requiring grad the gradient is that of W / (u^T W v) in W alone. Same shape as ``weight``;
    differentiable twice and more. Cost: N multiply-adds and N divisions for N = weight.numel()."""
    u, v = as_tensor(u), as_tensor(v)
    W_mat = weight_matrix(weight, dim)
    sigma = matmul(u, matmul(W_mat, v))
    return weight / sigma


class SpectralNorm:
    """The forward pre-hook that ``spectral_norm`` registers: before each forward it sets
    ``module.<name>`` to W_orig / sigma (see the module docstring). Holds only its settings, so a
    deep copy of the module copies it along."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12):
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.dim = dim
        self.eps = eps

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """W_orig / sigma from the module's current W_orig, u and v; with ``do_power_iteration``, u and v
        are first updated in place."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        if do_power_iteration:
            power_iteration(weight_matrix(weight.detach(), self.dim), u, v, self.n_power_iterations, self.eps)
        # copies, not the buffers: the graph of this weight saves u and v for backward, and the next
        # training forward writes into the buffers (D(real) and D(fake) before one backward, or R1's
        # forward reused for the loss) - backward would refuse the changed values
        return spectral_normalize(weight, clone(u), clone(v), self.dim)

    def __call__(self, module: Module, args) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def remove(self, module: Module) -> None:
        """Put back a plain Parameter ``<name>`` holding W_orig / sigma with the current u, v (no
        iteration), and delete ``<name>_orig``, ``<name>_u``, ``<name>_v``."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))


def _default_dim(module: Module) -> int:
    return 1 if any(c.__name__ in _TRANSPOSED_CONVS for c in type(module).__mro__) else 0


def _spectral_norm_hook(module: Module, name: str):
    """(key, hook) of the SpectralNorm on parameter ``name`` of ``module``, or None."""
    for key, hook in module.__dict__.get("_forward_pre_hooks", {}).items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            return key, hook
    return None


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Spectrally normalise parameter ``name`` of ``module``: before every forward, ``module.<name>`` is
    set to W_orig / sigma(W_orig) (see the module docstring). Returns the module, changed in place.

    n_power_iterations: power-iteration steps per training forward (>= 1). eps: the floor of the norms in
    ``normalize``. dim: the output axis of the weight; default 0, or 1 for ConvTranspose1d/2d/3d.

    Errors (PyTorch's types): TypeError if ``module`` is not a Module; RuntimeError if ``name`` is already
    spectrally normalised; ValueError if n_power_iterations < 1 or the parameter is None (``bias=False``);
    a KeyError naming the module type, the parameter and the parameters it has if it has no ``name``;
    IndexError for a ``dim`` outside the weight's axes.

        D = nn.Sequential(spectral_norm(nn.Conv2d(1, 64, 4, 2, 1)), nn.LeakyReLU(0.2), ...)
    """
    if not isinstance(module, Module):
        raise TypeError(f"spectral_norm: expected a minigan nn.Module, got {type(module).__name__}")
    if _spectral_norm_hook(module, name) is not None:
        raise RuntimeError(
            f"Cannot register two spectral_norm hooks on the same parameter {name} of {type(module).__name__}"
        )
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, (int, np.integer)):
        raise TypeError(f"n_power_iterations must be an int, got {type(n_power_iterations).__name__}")
    if n_power_iterations <= 0:
        raise ValueError(
            f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations} "
            f"(spectral_norm of {name!r} in {type(module).__name__})"
        )
    params = module._parameters
    if name not in params:
        have = ", ".join(f"'{p}'" for p in params) or "none"
        raise ParameterNotFoundError(
            f"spectral_norm: {type(module).__name__} has no parameter '{name}' (its parameters: {have})"
        )
    weight = params[name]
    if weight is None:
        raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
    if dim is None:
        dim = _default_dim(module)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"spectral_norm: dim must be an int, got {type(dim).__name__}")
    if weight.ndim == 0:
        raise ValueError(f"spectral_norm: parameter '{name}' is 0-d; it needs at least one axis")
    if not -weight.ndim <= dim < weight.ndim:
        raise IndexError(
            f"spectral_norm: dim {dim} is out of range for the {weight.ndim}-d parameter '{name}' "
            f"of shape {weight.shape}"
        )
    for taken in (name + "_orig", name + "_u", name + "_v"):
        if hasattr(
            module, taken
        ):  # checked before anything changes, so a failure leaves the module as it was
            raise KeyError(f"spectral_norm: {type(module).__name__} already has an attribute '{taken}'")

    fn = SpectralNorm(name, int(n_power_iterations), int(dim) % weight.ndim, eps)
    h, w = weight_matrix(weight.detach(), fn.dim).shape
    with no_grad():
        u = normalize(randn(h, dtype=weight.dtype, device=weight.device), eps)
        v = normalize(randn(w, dtype=weight.dtype, device=weight.device), eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    # until the first forward, module.<name> is W_orig's storage itself, so code that reads or initialises
    # the weight in between (nn.init, printing a layer) finds it; it is not a parameter, so not saved
    setattr(module, name, weight.data)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``module.<name>`` becomes a new Parameter holding the current
    W_orig / sigma (u, v as they are, no iteration), and ``<name>_orig``, ``<name>_u``, ``<name>_v`` are
    removed. Returns the module. ValueError if ``name`` is not spectrally normalised. An optimiser that
    held ``<name>_orig`` must be rebuilt, as in PyTorch."""
    found = _spectral_norm_hook(module, name) if isinstance(module, Module) else None
    if found is None:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    key, hook = found
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module


__all__ = [
    "ParameterNotFoundError",
    "SpectralNorm",
    "normalize",
    "power_iteration",
    "remove_spectral_norm",
    "spectral_norm",
    "spectral_normalize",
    "weight_matrix",
]
