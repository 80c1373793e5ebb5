"""The GAN objectives, written on the discriminator's raw outputs (logits). Chapters 06 (minimax,
non-saturating) and 10 (least squares, hinge, Wasserstein).

Notation: D outputs a real number d(x) per sample, the *logit*; for the probabilistic losses the
discriminator's probability is D(x) = sigmoid(d(x)). ``real`` = d(x) on a batch of data, ``fake`` =
d(G(z)). Every function returns a scalar to MINIMISE, averaged over the batch. The identities

    log D(x)       = log sigmoid(d)  = -softplus(-d)
    log(1 - D(x))  = log sigmoid(-d) = -softplus(d)

turn every log of a probability into a softplus of a logit, which never takes log(0) and never overflows
(softplus(t) = max(t, 0) + log(1 + exp(-|t|))), however confident D is.

=============  ===========================================  ===========================================
loss           discriminator (critic) minimises              generator minimises
=============  ===========================================  ===========================================
minimax        -E log D(x) - E log(1 - D(G(z)))               E log(1 - D(G(z)))        (saturating)
               = E softplus(-real) + E softplus(fake)         = -E softplus(fake)
nonsaturating  same as minimax                                -E log D(G(z)) = E softplus(-fake)
lsgan          1/2 E (d(x) - 1)^2 + 1/2 E d(G(z))^2           1/2 E (d(G(z)) - 1)^2     (Mao et al. 2017)
hinge          E relu(1 - d(x)) + E relu(1 + d(G(z)))         -E d(G(z))                (Lim & Ye 2017)
wasserstein    E d(G(z)) - E d(x)                            -E d(G(z))                (Arjovsky et al. 2017)
=============  ===========================================  ===========================================

Minimax is the game of Goodfellow et al. (2014), min_G max_D V(D, G) with
V(D, G) = E log D(x) + E log(1 - D(G(z))); at the optimum D*(x) = p_data / (p_data + p_g) and
V(D*, G) = -log 4 + 2 JSD(p_data || p_g). Its generator gradient vanishes when D confidently rejects the
fakes (early in training), hence the non-saturating generator loss of the same paper. The Wasserstein
critic needs a Lipschitz constraint (``penalties.gradient_penalty``: WGAN-GP).
"""

from __future__ import annotations

from ..nn import functional as F

LOSSES = ("minimax", "nonsaturating", "lsgan", "hinge", "wasserstein")

# losses whose D output is a logit of a probability: D(x) = sigmoid(d(x)) is what gets reported
PROBABILISTIC = ("minimax", "nonsaturating")


def check_loss(name: str) -> str:
    """``name`` if it is a known loss, else a ValueError listing the valid ones."""
    if name not in LOSSES:
        raise ValueError(f"unknown GAN loss {name!r}; valid losses: {', '.join(LOSSES)}")
    return name


def d_loss(name: str, real, fake):
    """The discriminator's (critic's) loss to minimise, from logits ``real`` = d(x), ``fake`` = d(G(z)).

    Shapes: (N, 1) or (N,) each (the two batch sizes may differ); returns a 0-d tensor.
    """
    check_loss(name)
    if name in ("minimax", "nonsaturating"):
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if name == "lsgan":
        return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()
    if name == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()  # wasserstein


def g_loss(name: str, fake):
    """The generator's loss to minimise, from the logits ``fake`` = d(G(z)); returns a 0-d tensor."""
    check_loss(name)
    if name == "minimax":
        return -F.softplus(fake).mean()  # E log(1 - D(G(z)))
    if name == "nonsaturating":
        return F.softplus(-fake).mean()  # -E log D(G(z))
    if name == "lsgan":
        return 0.5 * ((fake - 1.0) ** 2).mean()
    return -fake.mean()  # hinge and wasserstein


def value(real, fake):
    """The minimax value V(D, G) = E log D(x) + E log(1 - D(G(z))), with D = sigmoid(logit).

    -log 4 ~ -1.386 at the game's equilibrium (D = 1/2 everywhere). Meaningful for the probabilistic
    losses; for the others it is what V would be if their outputs were read as logits.
    """
    return F.logsigmoid(real).mean() + F.logsigmoid(-fake).mean()
