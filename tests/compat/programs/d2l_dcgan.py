"""Our own program for d2l.ai's DCGAN example, written from a reading of d2l-ai/d2l-en,
``chapter_generative-adversarial-networks/dcgan.md`` (its PyTorch code) and of the library functions it
calls from ``d2l/torch.py`` (``update_D``, ``update_G``, ``try_gpu``).

Same computation as the chapter: generator blocks of ``ConvTranspose2d(bias=False)`` + ``BatchNorm2d`` +
``ReLU()`` and discriminator blocks of ``Conv2d(bias=False)`` + ``BatchNorm2d`` +
``LeakyReLU(0.2, inplace=True)``, built with the chapter's constructor arguments (``strides``,
``padding``, ``alpha``, extra keywords passed on to ``nn.Module``) and keyword-argument layers at the
ends; the chapter's shape checks on zero inputs; ``nn.init.normal_(w, 0, 0.02)`` on every parameter;
``BCEWithLogitsLoss(reduction='sum')``; Adam with ``betas`` given as a list; per batch ``update_D`` then
``update_G`` on the same Z.

What the port changes, each on a line marked ``# port``:

- the framework arrives as main's arguments; the widths ``n_G``, ``n_D`` and ``latent_dim`` (64, 64 and
  100 in the chapter) are keyword arguments, so the test can use small networks;
- the Pokemon image folder and its loader are the given batches (3 x 64 x 64, in [-1, 1]), and Z is
  drawn by NumPy;
- the starting weights are NumPy draws made after the chapter's own initialisation;
- one epoch instead of twenty; the per-batch losses and the epoch's means are returned (no plots).
"""

import numpy as np

from ._d2l import library
from ._port import same_start


def main(torch, nn, F, optim, autograd, batches, steps, init_seed, noise_seed=1, **widths):
    d2l = library(torch)  # the d2l functions the chapter calls
    # port: the widths can be given, to shrink the networks
    n_G, n_D, latent_dim = widths.pop("n_G", 64), widths.pop("n_D", 64), widths.pop("latent_dim", 100)
    assert not widths, f"unknown keyword arguments {sorted(widths)}"

    # port: the given NumPy batches (images, labels) replace the image folder's loader
    data_iter = [[torch.from_numpy(a) for a in batch] for batch in batches][:steps]

    class UpBlock(nn.Module):
        def __init__(self, out_channels, in_channels=3, kernel_size=4, strides=2, padding=1, **kwargs):
            super().__init__(**kwargs)
            conv = nn.ConvTranspose2d
            self.conv = conv(in_channels, out_channels, kernel_size, strides, padding, bias=False)
            self.norm = nn.BatchNorm2d(out_channels)
            self.act = nn.ReLU()

        def forward(self, X):
            return self.act(self.norm(self.conv(X)))

    class DownBlock(nn.Module):
        def __init__(self, out_channels, in_channels=3, kernel_size=4, strides=2, padding=1, alpha=0.2, **kw):
            super().__init__(**kw)
            self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding, bias=False)
            self.norm = nn.BatchNorm2d(out_channels)
            self.act = nn.LeakyReLU(alpha, inplace=True)

        def forward(self, X):
            return self.act(self.norm(self.conv(X)))

    def shape_of(net, *shape):
        return tuple(net(torch.zeros(shape)).shape)

    assert shape_of(UpBlock(20), 2, 3, 16, 16) == (2, 20, 32, 32)
    assert shape_of(UpBlock(20, strides=1, padding=0), 2, 3, 1, 1) == (2, 20, 4, 4)

    # latent_dim x 1 x 1 -> 8 n_G x 4 x 4 -> 4 n_G x 8 x 8 -> 2 n_G x 16 x 16 -> n_G x 32 x 32 -> 3 x 64 x 64
    net_G = nn.Sequential(
        UpBlock(in_channels=latent_dim, out_channels=n_G * 8, strides=1, padding=0),
        *[UpBlock(in_channels=n_G * k, out_channels=n_G * k // 2) for k in (8, 4, 2)],
        nn.ConvTranspose2d(in_channels=n_G, out_channels=3, kernel_size=4, stride=2, padding=1, bias=False),
        nn.Tanh(),
    )
    assert shape_of(net_G, 1, latent_dim, 1, 1) == (1, 3, 64, 64)

    assert shape_of(DownBlock(20), 2, 3, 16, 16) == (2, 20, 8, 8)

    # 3 x 64 x 64 -> n_D x 32 x 32 -> ... -> 8 n_D x 4 x 4 -> 1 x 1 x 1
    net_D = nn.Sequential(
        DownBlock(n_D),
        *[DownBlock(in_channels=n_D * k, out_channels=n_D * k * 2) for k in (1, 2, 4)],
        nn.Conv2d(in_channels=n_D * 8, out_channels=1, kernel_size=4, bias=False),
    )
    assert shape_of(net_D, 1, 3, 64, 64) == (1, 1, 1, 1)

    noise_rng = np.random.default_rng(noise_seed)  # port: Z is drawn by NumPy

    def train(net_D, net_G, data_iter, num_epochs, lr, latent_dim, device=None):
        device = d2l.try_gpu() if device is None else device
        loss = nn.BCEWithLogitsLoss(reduction="sum")
        for net in (net_D, net_G):
            for w in net.parameters():
                nn.init.normal_(w, 0, 0.02)
        same_start(torch, net_D, np.random.default_rng(init_seed + 1), init="normal")  # port: same start
        same_start(torch, net_G, np.random.default_rng(init_seed), init="normal")  # port: same start
        net_D, net_G = net_D.to(device), net_G.to(device)
        adam = {"lr": lr, "betas": [0.5, 0.999]}
        trainer_D = torch.optim.Adam(net_D.parameters(), **adam)
        trainer_G = torch.optim.Adam(net_G.parameters(), **adam)
        rows = []  # port: returned, not plotted
        for _ in range(num_epochs):
            total_D = total_G = seen = 0.0
            for X, _ in data_iter:
                n = X.shape[0]
                # port: was torch.normal
                Z = torch.tensor(noise_rng.normal(0, 1, size=(n, latent_dim, 1, 1)), dtype=torch.float32)
                X, Z = X.to(device), Z.to(device)
                loss_D = d2l.update_D(X, Z, net_D, net_G, loss, trainer_D)
                loss_G = d2l.update_G(Z, net_D, net_G, loss, trainer_G)
                total_D, total_G, seen = total_D + float(loss_D), total_G + float(loss_G), seen + float(n)
                rows.append([float(loss_D), float(loss_G)])  # port: returned
            rows.append([total_D / seen, total_G / seen])  # port: returned
        return rows

    lr, num_epochs = 0.005, 1  # port: one epoch
    return train(net_D, net_G, data_iter, num_epochs, lr, latent_dim)
