"""A Wasserstein GAN with gradient penalty of our own, written from a reading of
eriklindernoren/PyTorch-GAN, ``implementations/wgan_gp/wgan_gp.py``.

Same options with the same defaults; the same networks (the fully connected generator of
Linear / ``BatchNorm1d(n, 0.8)`` / ``LeakyReLU(0.2, inplace=True)`` stages ending in Tanh, and a critic
512-256-1 with no output activation); the same penalty: a random mix of the real and fake images'
``.data``, marked with ``requires_grad_(True)``, differentiated with
``autograd.grad(..., grad_outputs=..., create_graph=True, retain_graph=True, only_inputs=True)``,
weighted by 10 as ``((g.norm(2, dim=1) - 1) ** 2).mean()``. Every batch trains the critic (its loss goes
back through the generator too); the generator's gradients are then zeroed and, on every
``n_critic``-th batch, it is trained on fresh fakes from the same z.

What the port changes, each on a line marked ``# port``:

- the framework arrives as main's arguments, and the options are parsed from ``argv``;
- the MNIST loader is the list of batches given; z and the mixing weights are drawn, in that order,
  from a seeded NumPy generator;
- the starting weights are NumPy draws, the same in both frameworks;
- a row per batch is returned, the critic's loss and, on generator batches, the generator's (the
  original prints both on the generator batches); no sample images are written.
"""

import numpy as np

from ._port import parse_options, same_start

OPTIONS = (
    ("n_epochs", int, 200),
    ("batch_size", int, 64),
    ("lr", float, 0.0002),
    ("b1", float, 0.5),
    ("b2", float, 0.999),
    ("n_cpu", int, 8),
    ("latent_dim", int, 100),
    ("img_size", int, 28),
    ("channels", int, 1),
    ("n_critic", int, 5),
    ("clip_value", float, 0.01),
    ("sample_interval", int, 400),
)


def dense(nn, n_in, n_out, batch_norm=True):
    norm = [nn.BatchNorm1d(n_out, 0.8)] if batch_norm else []
    return [nn.Linear(n_in, n_out), *norm, nn.LeakyReLU(0.2, inplace=True)]


def main(torch, nn, F, optim, autograd, batches, steps, init_seed, noise_seed=1, argv=()):
    Variable = autograd.Variable  # port: was imported from torch.autograd
    opt = parse_options(OPTIONS, argv)  # port: parses argv, not sys.argv
    print(opt)

    img_shape = (opt.channels, opt.img_size, opt.img_size)
    pixels = int(np.prod(img_shape))
    cuda = torch.cuda.is_available()

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [opt.latent_dim, 128, 256, 512, 1024]
            layers = []
            for k in range(len(widths) - 1):
                layers += dense(nn, widths[k], widths[k + 1], batch_norm=k > 0)
            self.model = nn.Sequential(*layers, nn.Linear(1024, pixels), nn.Tanh())

        def forward(self, z):
            out = self.model(z)
            return out.view(out.shape[0], *img_shape)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(
                nn.Linear(pixels, 512),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(512, 256),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(256, 1),
            )

        def forward(self, img):
            return self.model(img.view(img.shape[0], -1))

    penalty_weight = 10
    generator, discriminator = Generator(), Discriminator()
    same_start(torch, generator, np.random.default_rng(init_seed))  # port: same start
    same_start(torch, discriminator, np.random.default_rng(init_seed + 1))  # port: same start
    if cuda:
        generator.cuda()
        discriminator.cuda()

    # port: the given NumPy batches replace the MNIST DataLoader
    dataloader = [[torch.from_numpy(a) for a in batch] for batch in batches][:steps]

    optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
    noise_rng = np.random.default_rng(noise_seed)  # port: z and the mixing weights are drawn by NumPy

    def gradient_penalty(critic, real, fake):
        weight = Tensor(noise_rng.random((real.size(0), 1, 1, 1)))  # port: NumPy draw
        mixed = (weight * real + ((1 - weight) * fake)).requires_grad_(True)
        scores = critic(mixed)
        seed_grad = Variable(Tensor(real.shape[0], 1).fill_(1.0), requires_grad=False)
        grads = autograd.grad(
            outputs=scores,
            inputs=mixed,
            grad_outputs=seed_grad,
            create_graph=True,
            retain_graph=True,
            only_inputs=True,
        )[0]
        grads = grads.view(grads.size(0), -1)
        return ((grads.norm(2, dim=1) - 1) ** 2).mean()

    rows = []  # port: returned, not printed
    for _ in range(opt.n_epochs):
        for i, (imgs, _labels) in enumerate(dataloader):
            real = Variable(imgs.type(Tensor))

            optimizer_D.zero_grad()
            z = Variable(Tensor(noise_rng.normal(0, 1, (imgs.shape[0], opt.latent_dim))))  # port: NumPy z
            fakes = generator(z)
            on_real = discriminator(real)
            on_fake = discriminator(fakes)
            penalty = gradient_penalty(discriminator, real.data, fakes.data)
            loss_D = -torch.mean(on_real) + torch.mean(on_fake) + penalty_weight * penalty
            loss_D.backward()
            optimizer_D.step()
            row = [loss_D.item()]  # port: returned for every batch

            optimizer_G.zero_grad()
            if i % opt.n_critic == 0:
                fakes = generator(z)
                loss_G = -torch.mean(discriminator(fakes))
                loss_G.backward()
                optimizer_G.step()
                row.append(loss_G.item())  # port: returned
            rows.append(row)  # port: one row per batch
    return rows
