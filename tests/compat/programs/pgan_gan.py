"""A fully connected GAN of our own, written from a reading of eriklindernoren/PyTorch-GAN,
``implementations/gan/gan.py``.

Same options with the same defaults, same networks (a generator of Linear / ``BatchNorm1d(n, 0.8)`` /
``LeakyReLU(0.2, inplace=True)`` stages 128-256-512-1024 ending in Tanh, a discriminator
512-256-1 ending in Sigmoid, ``BCELoss``) and the same old-style calls: ``Variable(...)``,
``Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor``, targets ``Tensor(n, 1).fill_(...)``,
``imgs.type(Tensor)``, z as ``Tensor(ndarray)``; per batch a generator step, then a discriminator step on
the real images and the detached fakes.

What the port changes, each on a line marked ``# port``:

- the framework arrives as main's arguments, and the options are parsed from ``argv``;
- the MNIST loader is the list of batches given; z is drawn from a seeded NumPy generator;
- the starting weights are NumPy draws, the same in both frameworks;
- the losses the original prints are returned; no sample images are written.
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
            return out.view(out.size(0), *img_shape)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(
                nn.Linear(pixels, 512),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(512, 256),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(256, 1),
                nn.Sigmoid(),
            )

        def forward(self, img):
            return self.model(img.view(img.size(0), -1))

    bce = torch.nn.BCELoss()
    generator, discriminator = Generator(), Discriminator()
    same_start(torch, generator, np.random.default_rng(init_seed))  # port: same start
    same_start(torch, discriminator, np.random.default_rng(init_seed + 1))  # port: same start
    if cuda:
        for part in (generator, discriminator, bce):
            part.cuda()

    # port: the given NumPy batches replace the MNIST DataLoader
    dataloader = [[torch.from_numpy(a) for a in batch] for batch in batches][:steps]

    optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
    noise_rng = np.random.default_rng(noise_seed)  # port: z is drawn by NumPy

    rows = []  # port: returned, not printed
    for _ in range(opt.n_epochs):
        for imgs, _labels in dataloader:
            ones = Variable(Tensor(imgs.size(0), 1).fill_(1.0), requires_grad=False)
            zeros = Variable(Tensor(imgs.size(0), 1).fill_(0.0), requires_grad=False)
            real = Variable(imgs.type(Tensor))

            optimizer_G.zero_grad()
            z = Variable(Tensor(noise_rng.normal(0, 1, (imgs.shape[0], opt.latent_dim))))  # port: NumPy z
            generated = generator(z)
            loss_G = bce(discriminator(generated), ones)
            loss_G.backward()
            optimizer_G.step()

            optimizer_D.zero_grad()
            loss_D = (bce(discriminator(real), ones) + bce(discriminator(generated.detach()), zeros)) / 2
            loss_D.backward()
            optimizer_D.step()

            rows.append([loss_D.item(), loss_G.item()])  # port: returned
    return rows
