"""Our own versions of the d2l library functions (``d2l/torch.py``) that the two d2l GAN chapters call:
``update_D``, ``update_G`` and ``try_gpu``, written from a reading of them. As in d2l, both chapters share
one copy; ``library(torch)`` binds it to the framework under test (the ported programs never import one).
"""

from types import SimpleNamespace


def library(torch):
    """The three functions, on ``torch`` (whichever framework the runner passes)."""

    def try_gpu(i=0):
        if torch.cuda.device_count() >= i + 1:
            return torch.device(f"cuda:{i}")
        return torch.device("cpu")

    def update_D(X, Z, net_D, net_G, loss, trainer_D):
        n = X.shape[0]
        ones = torch.ones((n,), device=X.device)
        zeros = torch.zeros((n,), device=X.device)
        trainer_D.zero_grad()
        on_real = net_D(X)
        generated = net_G(Z)
        on_fake = net_D(generated.detach())
        fit_real = loss(on_real, ones.reshape(on_real.shape))
        fit_fake = loss(on_fake, zeros.reshape(on_fake.shape))
        loss_D = (fit_real + fit_fake) / 2
        loss_D.backward()
        trainer_D.step()
        return loss_D

    def update_G(Z, net_D, net_G, loss, trainer_G):
        n = Z.shape[0]
        ones = torch.ones((n,), device=Z.device)
        trainer_G.zero_grad()
        on_fake = net_D(net_G(Z))  # D has just changed: score the fakes again
        loss_G = loss(on_fake, ones.reshape(on_fake.shape))
        loss_G.backward()
        trainer_G.step()
        return loss_G

    return SimpleNamespace(try_gpu=try_gpu, update_D=update_D, update_G=update_G)
