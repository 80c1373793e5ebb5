"""Our own program for d2l.ai's first GAN example (learning a 2-D Gaussian), written from a reading of
d2l-ai/d2l-en, ``chapter_generative-adversarial-networks/gan.md`` (its PyTorch code) and of the two
library functions it calls from ``d2l/torch.py``, ``update_D`` and ``update_G``.

Same computation as the chapter: "real" points ``X @ A + b`` (``b`` an integer tensor), a one-layer
linear generator, a Tanh MLP discriminator, ``BCEWithLogitsLoss(reduction='sum')``, every parameter
initialised by ``nn.init.normal_(w, 0, 0.02)``, two Adam optimisers with their own learning rates, and per
batch an ``update_D`` (real and detached fake, averaged) followed by an ``update_G`` on the same Z.

What the port changes, each on a line marked ``# port``:

- the framework arrives as main's arguments;
- the N(0, 1) points behind the data are the given batches, and Z is drawn by NumPy; the batches are
  taken in order (d2l's loader shuffles);
- the starting weights are NumPy draws made after the chapter's own initialisation;
- one epoch instead of twenty; the per-batch losses and the epoch's means are returned (no plots).
"""

import numpy as np

from ._d2l import library
from ._port import same_start


def main(torch, nn, F, optim, autograd, batches, steps, init_seed, noise_seed=1, argv=()):
    d2l = library(torch)  # the d2l functions the chapter calls
    # port: the standard-normal points are the given batches
    X = torch.tensor(np.concatenate([np.asarray(b, dtype=np.float32) for b in batches][:steps]))
    A = torch.tensor([[1, 2], [-0.1, 0.5]])
    b = torch.tensor([1, 2])
    data = torch.matmul(X, A) + b
    print(f"covariance of the real data:\n{torch.matmul(A.T, A)}")

    batch_size = 8
    # port: in order, not shuffled
    data_iter = [(data[start : start + batch_size],) for start in range(0, data.shape[0], batch_size)]

    net_G = nn.Sequential(nn.Linear(2, 2))
    net_D = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 1))

    noise_rng = np.random.default_rng(noise_seed)  # port: Z is drawn by NumPy

    def draw_Z(n, latent_dim):
        # port: was torch.normal
        return torch.tensor(noise_rng.normal(0, 1, size=(n, latent_dim)), dtype=torch.float32)

    def train(net_D, net_G, data_iter, num_epochs, lr_D, lr_G, latent_dim, data):
        loss = nn.BCEWithLogitsLoss(reduction="sum")
        for net in (net_D, net_G):
            for w in net.parameters():
                nn.init.normal_(w, 0, 0.02)
        same_start(torch, net_D, np.random.default_rng(init_seed + 1), init="normal")  # port: same start
        same_start(torch, net_G, np.random.default_rng(init_seed), init="normal")  # port: same start
        trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D)
        trainer_G = torch.optim.Adam(net_G.parameters(), lr=lr_G)
        rows = []  # port: returned, not plotted
        for _ in range(num_epochs):
            total_D = total_G = seen = 0.0
            for (X,) in data_iter:
                n = X.shape[0]
                Z = draw_Z(n, latent_dim)
                loss_D = d2l.update_D(X, Z, net_D, net_G, loss, trainer_D)
                loss_G = d2l.update_G(Z, net_D, net_G, loss, trainer_G)
                total_D, total_G, seen = total_D + float(loss_D), total_G + float(loss_G), seen + float(n)
                rows.append([float(loss_D), float(loss_G)])  # port: returned
            samples = net_G(draw_Z(100, latent_dim)).detach().numpy()
            assert samples.shape == (100, 2) and data.shape[1] == 2
            rows.append([total_D / seen, total_G / seen])  # port: returned
        return rows

    lr_D, lr_G, latent_dim, num_epochs = 0.05, 0.005, 2, 1  # port: one epoch
    return train(net_D, net_G, data_iter, num_epochs, lr_D, lr_G, latent_dim, data[:100].numpy())
