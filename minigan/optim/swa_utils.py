"""Weight averaging: ``AveragedModel`` (an exponential or running average of a model's parameters) and
``update_bn`` (recompute batch norm statistics for averaged weights). Chapter 08 (the generator's EMA).

PyTorch's ``torch.optim.swa_utils`` names and semantics. A GAN's generator does not converge to a point:
alternating gradient steps make it circle around an equilibrium (chapter 06's Dirac-GAN), so the weights
of any single step carry a bit of whatever the discriminator punished last - on MNIST, too many of one
digit this hundred steps, too few of another the next. Averaging the weights over time (Yazici et al.
2019, "The unusual effectiveness of averaging in GAN training"; Karras et al. 2018 use it for every
ProGAN / StyleGAN figure) damps that circling without changing the game: the averaged copy is only
ever *evaluated*, never trained against.

    ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    for step in ...:
        ... opt_G.step()
        ema.update_parameters(G)            # theta_ema <- 0.999 theta_ema + 0.001 theta   (O(#params))
    update_bn(noise_batches, ema)           # batch norm statistics of the AVERAGED weights
    x = ema(z)                              # in eval mode

Averaging functions (on arrays, NumPy or CuPy; ``n`` is how many models were averaged before):

    EMA   avg <- decay * avg + (1 - decay) * p          (get_ema_avg_fn / get_ema_multi_avg_fn)
    SWA   avg <- avg + (p - avg) / (n + 1)              (the default: the plain mean of every model seen)

The first ``update_parameters`` call copies the model's parameters (an average of one model). Buffers
(batch norm's running mean / var) are copied from the model at every update unless ``use_buffers=True``,
which averages them like parameters. Neither gives statistics that match the averaged weights, which is
what ``update_bn`` is for: it resets every batch norm layer and feeds batches through the model in
training mode with a cumulative average (``momentum=None``), then restores momenta and the mode.
"""

from __future__ import annotations

import copy

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..creation import tensor
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from .optimizer import lerp_


def get_ema_avg_fn(decay: float = 0.999):
    """``avg_fn(avg, p, n) -> decay * avg + (1 - decay) * p``, one parameter at a time."""
    _check_decay(decay)

    def ema_update(avg, p, num_averaged):
        return decay * avg + (1.0 - decay) * p

    return ema_update


def get_ema_multi_avg_fn(decay: float = 0.999):
    """``multi_avg_fn(avgs, ps, n)``: the EMA of ``get_ema_avg_fn`` in place on lists of arrays.
    Integer arrays (``num_batches_tracked`` with ``use_buffers=True``) are copied rather than blended."""
    _check_decay(decay)

    def ema_update(avgs, ps, num_averaged):
        for avg, p in zip(avgs, ps):
            if np.issubdtype(avg.dtype, np.floating):
                lerp_(avg, p, 1.0 - decay)
            else:
                avg[...] = p
        return avgs

    return ema_update


def get_swa_avg_fn():
    """``avg_fn(avg, p, n) -> avg + (p - avg) / (n + 1)``: the running mean of every model seen."""

    def swa_update(avg, p, num_averaged):
        return avg + (p - avg) / (num_averaged + 1)

    return swa_update


def _check_decay(decay) -> None:
    if not (isinstance(decay, (int, float)) and 0.0 <= decay <= 1.0):
        raise ValueError(f"decay must be a number in [0, 1], got {decay!r}")


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are an average of ``model``'s over the calls to
    ``update_parameters(model)``. Calling it calls the copy (``self.module``).

    avg_fn(avg, p, num_averaged) -> new array, or multi_avg_fn(avgs, ps, num_averaged) updating the lists
    in place (at most one of the two; neither: the equal-weight SWA mean). ``use_buffers``: average the
    buffers too (else copy them from ``model``). The state dict holds ``module.*`` and ``n_averaged``, as
    PyTorch's. Cost of an update: one pass over the parameters, O(#params).
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel expects a minigan nn.Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("give AveragedModel avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module.to(device)
        self.register_buffer("n_averaged", tensor(np.array(0, dtype=np.int64)))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, bool(use_buffers)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model: Module) -> list:
        out = list(model.parameters())
        if self.use_buffers:
            out += [b for b in model.buffers() if b is not None]
        return out

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers with ``use_buffers``) into the average."""
        mine, theirs = self._tensors(self.module), self._tensors(model)
        if len(mine) != len(theirs):
            raise ValueError(
                f"update_parameters: the model has {len(theirs)} parameters/buffers to average, the "
                f"averaged copy {len(mine)}: not the same architecture"
            )
        for a, p in zip(mine, theirs):
            if a.shape != p.shape or a.device != p.device:
                raise ValueError(
                    f"update_parameters: parameter of shape {p.shape} on {p.device} does not match the "
                    f"averaged copy's {a.shape} on {a.device}"
                )
        n = int(self.n_averaged.array)
        with no_grad():
            avgs, ps = [a.array for a in mine], [p.array for p in theirs]
            if n == 0:
                for a, p in zip(avgs, ps):
                    a[...] = p
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(avgs, ps, n)
            else:
                fn = self.avg_fn or get_swa_avg_fn()
                for a, p in zip(avgs, ps):
                    a[...] = fn(a, p, n)
            if not self.use_buffers:  # keep the buffers in sync with the model
                for a, p in zip(self.module.buffers(), model.buffers()):
                    if a is not None and p is not None:
                        a.array[...] = p.array
                        a._bump_version()
            for a in mine:
                a._bump_version()
        self.n_averaged.array[...] = n + 1
        self.n_averaged._bump_version()


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the running statistics of every batch norm layer of ``model`` from ``loader``.

    ``loader`` yields inputs (arrays or Tensors; a tuple / list yields its first element, as a
    (data, label) loader does). Each layer's statistics become the plain mean over the batches
    (momentum None) of the batch mean and unbiased batch variance. Mode and momenta are restored; no
    graph is built. A model without batch norm is left untouched.
    """
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    was_training = model.training
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    seen = 0
    try:
        with no_grad():
            for x in loader:
                if isinstance(x, (tuple, list)):
                    x = x[0]
                if not isinstance(x, Tensor):
                    x = tensor(x)
                if device is not None:
                    x = x.to(device)
                model(x)
                seen += 1
    finally:
        for m, mom in zip(bns, momenta):
            m.momentum = mom
        model.train(was_training)
    if seen == 0:
        raise ValueError("update_bn: the loader yielded no batches")
