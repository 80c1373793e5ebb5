"""A network and the moving average of its weights, the average answering in eval mode. Chapters 11, 15.

Playing the game moves both networks every step: G chases D and D chases G, so the weights of either at
any one step carry that step's jitter. An exponential moving average of the weights (Polyak averaging)
sits near the middle of the motion. The semi-supervised GAN's paper scores test images with an averaged
D (chapter 15); large conditional GANs sample from an averaged G (BigGAN; StyleGAN's own average of G is
chapter 14's ``StyleGenerator``). Training only ever sees the network itself.

    after every step:  theta_avg <- beta theta_avg + (1 - beta) theta,   beta = 0.5^(1 / half_life)

a half-life of ``half_life`` steps. The first update copies the network (after anything it does on its
first batch, such as a data-dependent initialisation); until then eval mode answers with the network
itself. Buffers (batch norm's running statistics, fixed weight-norm gains) are copied from the network at
every update, not averaged. State-dict keys: ``net.*`` (the network), ``avg.module.*`` and
``avg.n_averaged``. An update costs one pass over the parameters, O(#params).
"""

from __future__ import annotations

from .. import nn
from ..optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


class Averaged(nn.Module):
    """``net`` (trained) and ``avg`` (its moving average, no gradients). In training mode calls go to
    ``net``, in eval mode to the average (once it has been updated). ``update_average()`` after a step."""

    def __init__(self, net: nn.Module, half_life: float):
        super().__init__()
        if not (isinstance(half_life, (int, float)) and half_life > 0):
            raise ValueError(f"the average's half-life must be a positive number of steps, got {half_life!r}")
        self.half_life = float(half_life)
        self.net = net
        self.avg = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.5 ** (1.0 / half_life)))
        for p in self.avg.parameters():
            p.requires_grad = False

    def update_average(self) -> None:
        self.avg.update_parameters(self.net)

    @property
    def current(self) -> nn.Module:
        """The network that answers now: ``net`` in training mode, the average in eval mode once it exists."""
        if self.training or not int(self.avg.n_averaged.item()):
            return self.net
        return self.avg.module

    def forward(self, *args, **kwargs):
        return self.current(*args, **kwargs)


def update_averages(*modules) -> None:
    """``update_average()`` of each of ``modules`` that is an ``Averaged`` (the game loop's G and D)."""
    for m in modules:
        if isinstance(m, Averaged):
            m.update_average()


def averaged_generator(G: nn.Module, config: dict) -> nn.Module:
    """G itself, or G with a moving average of its weights when the run's ``g_ema_kimg`` (config key,
    ``--set g_ema_kimg=K``) is above 0: a half-life of K thousand images, i.e. K * 1000 / batch_size steps
    (NVlabs' unit; their StyleGAN uses 10). Runs written before the key existed have none."""
    kimg = config.get("g_ema_kimg", 0.0)
    return Averaged(G, kimg * 1000.0 / config["batch_size"]) if kimg else G
