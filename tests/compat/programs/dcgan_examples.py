"""A DCGAN trainer of our own, written from a reading of pytorch/examples, ``dcgan/main.py``.

It re-implements that program's MNIST run and makes the same PyTorch calls in the same order: its
command-line options with their defaults; ``cudnn.benchmark``; the accelerator / CPU device choice;
``weights_init`` picking layers by ``m.__class__.__name__``; a generator of ``ConvTranspose2d`` /
``BatchNorm2d`` / ``ReLU(True)`` stages and a discriminator of ``Conv2d`` / ``BatchNorm2d`` /
``LeakyReLU(0.2, inplace=True)`` stages, each an ``nn.Sequential`` called through
``nn.parallel.data_parallel`` when the input is on one of several GPUs; ``BCELoss`` against labels made by
``torch.full(..., dtype=..., device=...)`` and switched with ``label.fill_``; a discriminator update on a
real and a detached fake batch, then a generator update; ``torch.save`` of both state dicts after every
epoch, and ``torch.load`` of them with ``--netG`` / ``--netD``.

What the port changes, each on a line marked ``# port``:

- the framework arrives as main's arguments, and the options are parsed from ``argv``;
- only the MNIST dataset is supported, and the data loader is the list of batches given;
- the starting weights are NumPy draws made after the program's own initialisation (and after a
  loaded checkpoint), and so is the noise, so that both frameworks compute with the same numbers;
- the values the original prints per step are returned instead; no sample images are written.
"""

import argparse
import os
import random

import numpy as np

from ._port import same_start

INT_OPTIONS = {"workers": 2, "batchSize": 64, "imageSize": 64, "nz": 100, "ngf": 64, "ndf": 64, "niter": 25}


def parse_options(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", required=True, help="which data set (here: mnist)")
    parser.add_argument("--dataroot", required=False)
    for name, default in INT_OPTIONS.items():
        parser.add_argument("--" + name, type=int, default=default)
    parser.add_argument("--lr", type=float, default=0.0002)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--dry-run", action="store_true", help="stop after one batch")
    parser.add_argument("--ngpu", type=int, default=1)
    parser.add_argument("--netG", default="", help="generator checkpoint to start from")
    parser.add_argument("--netD", default="", help="discriminator checkpoint to start from")
    parser.add_argument("--outf", default=".", help="where checkpoints go")
    parser.add_argument("--manualSeed", type=int)
    parser.add_argument("--classes", default="bedroom")
    parser.add_argument("--accel", action="store_true", default=False)
    return parser.parse_args(list(argv))  # port: parses argv, not sys.argv


def main(torch, nn, F, optim, autograd, batches, steps, init_seed, noise_seed=1, argv=()):
    cudnn = torch.backends.cudnn  # port: the original imports it as a module

    opt = parse_options(argv)
    print(opt)
    os.makedirs(opt.outf, exist_ok=True)

    if opt.manualSeed is None:
        opt.manualSeed = random.randint(1, 10000)
    print("seed", opt.manualSeed)
    random.seed(opt.manualSeed)
    torch.manual_seed(opt.manualSeed)
    cudnn.benchmark = True

    if opt.accel and torch.accelerator.is_available():
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")
    print("device", device)

    assert opt.dataset == "mnist"  # port: no other data sets
    nc = 1
    # port: the given NumPy batches replace the MNIST DataLoader
    dataloader = [[torch.from_numpy(a) for a in batch] for batch in batches][:steps]

    ngpu, nz, ngf, ndf = int(opt.ngpu), int(opt.nz), int(opt.ngf), int(opt.ndf)

    def weights_init(m):
        kind = m.__class__.__name__
        if "Conv" in kind:
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif "BatchNorm" in kind:
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)

    class Tower(nn.Module):
        """``self.main``, an nn.Sequential, on one device or spread over ``ngpu`` GPUs."""

        def __init__(self, ngpu, layers):
            super().__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(*layers)

        def forward(self, input):
            if (input.is_cuda or input.is_xpu) and self.ngpu > 1:
                return nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            return self.main(input)

    def up(c_in, c_out, stride, padding):
        conv = nn.ConvTranspose2d(c_in, c_out, 4, stride, padding, bias=False)
        return [conv, nn.BatchNorm2d(c_out), nn.ReLU(True)]

    def down(c_in, c_out):
        conv = nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)
        return [conv, nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, inplace=True)]

    class Generator(Tower):
        def __init__(self, ngpu):
            # nz -> 8 ngf (4 x 4) -> 4 ngf -> 2 ngf -> ngf (32 x 32) -> nc (64 x 64)
            layers = up(nz, ngf * 8, 1, 0)
            for k in (8, 4, 2):
                layers += up(ngf * k, ngf * k // 2, 2, 1)
            super().__init__(ngpu, [*layers, nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()])

    class Discriminator(Tower):
        def __init__(self, ngpu):
            # nc (64 x 64) -> ndf (32 x 32) -> 2 ndf -> 4 ndf -> 8 ndf (4 x 4) -> 1
            layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
            for k in (1, 2, 4):
                layers += down(ndf * k, ndf * k * 2)
            super().__init__(ngpu, [*layers, nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid()])

        def forward(self, input):
            return super().forward(input).view(-1, 1).squeeze(1)

    def build(cls, checkpoint, seed):
        net = cls(ngpu).to(device)
        net.apply(weights_init)
        if checkpoint != "":
            net.load_state_dict(torch.load(checkpoint))
        same_start(torch, net, np.random.default_rng(seed), init="dcgan")  # port: same start everywhere
        print(net)
        return net

    netG = build(Generator, opt.netG, init_seed)
    netD = build(Discriminator, opt.netD, init_seed + 1)

    criterion = nn.BCELoss()
    noise_rng = np.random.default_rng(noise_seed)  # port: the noise is drawn by NumPy
    torch.randn(opt.batchSize, nz, 1, 1, device=device)  # the original's fixed noise, for its sample images
    real_label, fake_label = 1, 0

    optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

    if opt.dry_run:
        opt.niter = 1

    rows = []  # port: what the original prints, returned
    for epoch in range(opt.niter):
        for data in dataloader:
            netD.zero_grad()
            real = data[0].to(device)
            n = real.size(0)
            label = torch.full((n,), real_label, dtype=real.dtype, device=device)
            scores = netD(real)
            loss_real = criterion(scores, label)
            loss_real.backward()
            mean_real = scores.mean().item()

            # port: z comes from NumPy
            z = torch.from_numpy(noise_rng.standard_normal((n, nz, 1, 1), dtype=np.float32)).to(device)
            fake = netG(z)
            label.fill_(fake_label)
            scores = netD(fake.detach())
            loss_fake = criterion(scores, label)
            loss_fake.backward()
            mean_fake_before = scores.mean().item()
            loss_d = loss_real + loss_fake
            optimizerD.step()

            netG.zero_grad()
            label.fill_(real_label)
            scores = netD(fake)
            loss_g = criterion(scores, label)
            loss_g.backward()
            mean_fake_after = scores.mean().item()
            optimizerG.step()

            rows.append([loss_d.item(), loss_g.item(), mean_real, mean_fake_before, mean_fake_after])  # port
            if opt.dry_run:
                break
        torch.save(netG.state_dict(), f"{opt.outf}/netG_epoch_{epoch}.pth")
        torch.save(netD.state_dict(), f"{opt.outf}/netD_epoch_{epoch}.pth")
    return rows
