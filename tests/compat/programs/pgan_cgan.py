"""A class-conditional GAN of our own, written from a reading of eriklindernoren/PyTorch-GAN,
``implementations/cgan/cgan.py``.

Same options with the same defaults; the same networks: both look the class up in an
``nn.Embedding(n_classes, n_classes)`` and join it to their input with ``torch.cat(..., -1)`` (the
generator puts the embedding first, the discriminator after the flattened image); the generator's
Linear / ``BatchNorm1d(n, 0.8)`` / ``LeakyReLU(0.2, inplace=True)`` stages 128-256-512-1024 end in Tanh,
the discriminator is Linear layers 512-512-512-1 with ``Dropout(0.4)`` before the second and third
LeakyReLU; ``MSELoss``; ``FloatTensor`` / ``LongTensor`` picked by ``torch.cuda.is_available()``, with the
old-style ``Variable`` and ``.type(...)`` calls; per batch a generator step on random classes, then a
discriminator step on the real images with their labels and the detached fakes with theirs.

What the port changes, each on a line marked ``# port``:

- the framework arrives as main's arguments, and the options are parsed from ``argv``;
- the MNIST loader is the list of batches given (images and labels); z and the generator's classes are
  drawn, in that order, from a seeded NumPy generator;
- the starting weights are NumPy draws, the same in both frameworks;
- ``dropout_p`` sets the Dropout probability: None keeps 0.4, the comparison with PyTorch uses 0.0;
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
    ("n_classes", int, 10),
    ("img_size", int, 32),
    ("channels", int, 1),
    ("sample_interval", int, 400),
)


def dense(nn, n_in, n_out, batch_norm=True):
    norm = [nn.BatchNorm1d(n_out, 0.8)] if batch_norm else []
    return [nn.Linear(n_in, n_out), *norm, nn.LeakyReLU(0.2, inplace=True)]


def main(torch, nn, F, optim, autograd, batches, steps, init_seed, noise_seed=1, argv=(), dropout_p=None):
    Variable = autograd.Variable  # port: was imported from torch.autograd
    opt = parse_options(OPTIONS, argv)  # port: parses argv, not sys.argv
    print(opt)

    img_shape = (opt.channels, opt.img_size, opt.img_size)
    pixels = int(np.prod(img_shape))
    classes = opt.n_classes
    cuda = torch.cuda.is_available()

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.label_emb = nn.Embedding(classes, classes)
            widths = [opt.latent_dim + classes, 128, 256, 512, 1024]
            layers = []
            for k in range(len(widths) - 1):
                layers += dense(nn, widths[k], widths[k + 1], batch_norm=k > 0)
            self.model = nn.Sequential(*layers, nn.Linear(1024, pixels), nn.Tanh())

        def forward(self, noise, labels):
            out = self.model(torch.cat((self.label_emb(labels), noise), -1))
            return out.view(out.size(0), *img_shape)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.label_embedding = nn.Embedding(classes, classes)
            layers = [nn.Linear(classes + pixels, 512), nn.LeakyReLU(0.2, inplace=True)]
            for _ in range(2):
                layers += [nn.Linear(512, 512), nn.Dropout(0.4), nn.LeakyReLU(0.2, inplace=True)]
            self.model = nn.Sequential(*layers, nn.Linear(512, 1))

        def forward(self, img, labels):
            joined = torch.cat((img.view(img.size(0), -1), self.label_embedding(labels)), -1)
            return self.model(joined)

    mse = torch.nn.MSELoss()
    generator, discriminator = Generator(), Discriminator()
    set_dropout(nn, discriminator, dropout_p)  # port: 0.0 for the comparison, None keeps 0.4
    same_start(torch, generator, np.random.default_rng(init_seed))  # port: same start
    same_start(torch, discriminator, np.random.default_rng(init_seed + 1))  # port: same start
    if cuda:
        for part in (generator, discriminator, mse):
            part.cuda()

    # port: the given NumPy batches (images in [-1, 1], int64 labels) replace the MNIST DataLoader
    dataloader = [[torch.from_numpy(a) for a in batch] for batch in batches][:steps]

    optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
    FloatTensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
    LongTensor = torch.cuda.LongTensor if cuda else torch.LongTensor
    noise_rng = np.random.default_rng(noise_seed)  # port: z and the classes are drawn by NumPy

    rows = []  # port: returned, not printed
    for _ in range(opt.n_epochs):
        for imgs, labels in dataloader:
            n = imgs.shape[0]
            ones = Variable(FloatTensor(n, 1).fill_(1.0), requires_grad=False)
            zeros = Variable(FloatTensor(n, 1).fill_(0.0), requires_grad=False)
            real = Variable(imgs.type(FloatTensor))
            labels = Variable(labels.type(LongTensor))

            optimizer_G.zero_grad()
            z = Variable(FloatTensor(noise_rng.normal(0, 1, (n, opt.latent_dim))))  # port: NumPy z
            wanted = Variable(LongTensor(noise_rng.integers(0, classes, n)))  # port: NumPy classes
            generated = generator(z, wanted)
            loss_G = mse(discriminator(generated, wanted), ones)
            loss_G.backward()
            optimizer_G.step()

            optimizer_D.zero_grad()
            loss_real = mse(discriminator(real, labels), ones)
            loss_fake = mse(discriminator(generated.detach(), wanted), zeros)
            loss_D = (loss_real + loss_fake) / 2
            loss_D.backward()
            optimizer_D.step()

            rows.append([loss_D.item(), loss_G.item()])  # port: returned
    return rows
