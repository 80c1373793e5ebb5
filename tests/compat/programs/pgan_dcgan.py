"""A convolutional GAN of our own, written from a reading of eriklindernoren/PyTorch-GAN,
``implementations/dcgan/dcgan.py``.

Same options with the same defaults; the same generator (Linear to 128 maps of a quarter of the image
side, ``BatchNorm2d(128)``, two ``nn.Upsample(scale_factor=2)`` + 3x3 ``Conv2d`` +
``BatchNorm2d(n, 0.8)`` + ``LeakyReLU(0.2, inplace=True)`` stages, a 3x3 convolution and Tanh) and
discriminator (four stride-2 ``Conv2d`` + LeakyReLU + ``Dropout2d(0.25)`` stages, all but the first with
``BatchNorm2d(n, 0.8)``, then Linear + Sigmoid); the ``weights_init_normal`` that picks layers by
``m.__class__.__name__`` and writes through ``m.weight.data`` / ``m.bias.data``; ``BCELoss``; the
old-style ``Variable`` / ``Tensor`` calls; per batch a generator step, then a discriminator step.

What the port changes, each on a line marked ``# port``:

- the framework arrives as main's arguments, and the options are parsed from ``argv``;
- the MNIST loader is the list of batches given; z is drawn from a seeded NumPy generator;
- the starting weights are NumPy draws made after ``weights_init_normal``, the same in both frameworks;
- ``dropout_p`` sets the Dropout2d probability: None keeps 0.25, the comparison with PyTorch uses 0.0
  (the two frameworks draw different masks);
- the losses the original prints are returned; no sample images are written.
"""

import numpy as np

from ._port import parse_options, same_start, set_dropout

OPTIONS = (
    ("n_epochs", int, 200),
    ("batch_size", int, 64),
    ("lr", float, 0.0002),
    ("b1", float, 0.5),
    ("b2", float, 0.999),
    ("n_cpu", int, 8),
    ("latent_dim", int, 100),
    ("img_size", int, 32),
    ("channels", int, 1),
    ("sample_interval", int, 400),
)


def main(torch, nn, F, optim, autograd, batches, steps, init_seed, noise_seed=1, argv=(), dropout_p=None):
    Variable = autograd.Variable  # port: was imported from torch.autograd
    opt = parse_options(OPTIONS, argv)  # port: parses argv, not sys.argv
    print(opt)
    cuda = torch.cuda.is_available()

    def weights_init_normal(m):
        kind = m.__class__.__name__
        if "Conv" in kind:
            torch.nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif "BatchNorm2d" in kind:
            torch.nn.init.normal_(m.weight.data, 1.0, 0.02)
            torch.nn.init.constant_(m.bias.data, 0.0)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.init_size = opt.img_size // 4
            self.l1 = nn.Sequential(nn.Linear(opt.latent_dim, 128 * self.init_size**2))
            self.conv_blocks = nn.Sequential(
                nn.BatchNorm2d(128),
                *self.grow(128, 128),
                *self.grow(128, 64),
                nn.Conv2d(64, opt.channels, 3, stride=1, padding=1),
                nn.Tanh(),
            )

        @staticmethod
        def grow(c_in, c_out):
            return [
                nn.Upsample(scale_factor=2),
                nn.Conv2d(c_in, c_out, 3, stride=1, padding=1),
                nn.BatchNorm2d(c_out, 0.8),
                nn.LeakyReLU(0.2, inplace=True),
            ]

        def forward(self, z):
            out = self.l1(z)
            return self.conv_blocks(out.view(out.shape[0], 128, self.init_size, self.init_size))

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            for k, (c_in, c_out) in enumerate(((opt.channels, 16), (16, 32), (32, 64), (64, 128))):
                conv = nn.Conv2d(c_in, c_out, 3, 2, 1)
                layers += [conv, nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)]
                if k > 0:
                    layers.append(nn.BatchNorm2d(c_out, 0.8))
            self.model = nn.Sequential(*layers)
            side = opt.img_size // 2**4  # four stride-2 convolutions
            self.adv_layer = nn.Sequential(nn.Linear(128 * side**2, 1), nn.Sigmoid())

        def forward(self, img):
            features = self.model(img)
            return self.adv_layer(features.view(features.shape[0], -1))

    bce = torch.nn.BCELoss()
    generator, discriminator = Generator(), Discriminator()
    set_dropout(nn, discriminator, dropout_p)  # port: 0.0 for the comparison, None keeps 0.25
    if cuda:
        for part in (generator, discriminator, bce):
            part.cuda()

    generator.apply(weights_init_normal)
    discriminator.apply(weights_init_normal)
    same_start(torch, generator, np.random.default_rng(init_seed), init="dcgan")  # port: same start
    same_start(torch, discriminator, np.random.default_rng(init_seed + 1), init="dcgan")  # port: same start

    # port: the given NumPy batches replace the MNIST DataLoader
    dataloader = [[torch.from_numpy(a) for a in batch] for batch in batches][:steps]

    optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
    noise_rng = np.random.default_rng(noise_seed)  # port: z is drawn by NumPy

    rows = []  # port: returned, not printed
    for _ in range(opt.n_epochs):
        for imgs, _labels in dataloader:
            ones = Variable(Tensor(imgs.shape[0], 1).fill_(1.0), requires_grad=False)
            zeros = Variable(Tensor(imgs.shape[0], 1).fill_(0.0), requires_grad=False)
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
