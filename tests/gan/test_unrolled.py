"""The unrolled G step (``variants/unrolled.py``, chapter 10): steps=0 is the base game bit for bit, the
look-ahead leaves D and its optimizer as they were, the surrogate's look-ahead is the run's own D steps,
and the exact version's G gradient is the true derivative (finite differences) through the look-ahead."""

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.data.toy import get_dataset
from minigan.gan import Trainer, mlp_discriminator, mlp_generator
from minigan.gan.variants import Conditional, Unconditional
from minigan.gan.variants.unrolled import Unrolled, substituted
from minigan.random import get_rng_state, set_rng_state
from minigan.testing import gradcheck


def ring_trainer(variant, seed=0, batch_norm=False):
    """The toy game of tests/gan/test_variants.py (ring8, 16-unit MLPs); ``batch_norm``: BatchNorm1d in
    both nets, so that their buffers are in play."""
    mg.manual_seed(seed)
    ds, rng = get_dataset("ring8"), np.random.default_rng(seed)
    if batch_norm:
        G = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
        D = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    else:
        G, D = mlp_generator(2, 2, hidden=16, depth=2), mlp_discriminator(2, hidden=16, depth=2)
    t = Trainer(
        G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9)),
        optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9)), lambda n: ds.sample(n, rng),
        z_dim=2, batch_size=32, variant=variant,
    )  # fmt: skip
    t.data_rng = rng
    return t


def arrays(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def optimizer_arrays(opt):
    state = opt.state_dict()["state"]
    return {(i, k): np.array(v) for i, s in state.items() for k, v in s.items()}


@pytest.mark.parametrize(
    "loss,penalty", [("nonsaturating", None), ("nonsaturating", "r1"), ("wasserstein", "wgan-gp")]
)
def test_no_lookahead_is_the_base_game_bit_for_bit(loss, penalty):
    runs = []
    for variant in (Unconditional(loss, penalty), Unrolled(Unconditional(loss, penalty), steps=0)):
        t = ring_trainer(variant, batch_norm=True)  # each game from the same seed, played to the end
        runs.append(([t.step() for _ in range(6)], arrays(t.G), arrays(t.D), optimizer_arrays(t.opt_D)))
    (ra, ga, da, oa), (rb, gb, db, ob) = runs
    assert ra == rb
    for a, b in ((ga, gb), (da, db), (oa, ob)):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=str(key))


@pytest.mark.parametrize("exact", [False, True])
def test_a_g_step_leaves_d_and_its_optimizer_as_they_were(exact):
    t = ring_trainer(
        Unrolled(Unconditional("nonsaturating", "r1"), steps=3, create_graph=exact), batch_norm=True
    )
    for _ in range(2):
        t.step()
    t.d_step(t.sample_real(t.batch_size))
    d_before, opt_before = arrays(t.D), optimizer_arrays(t.opt_D)
    grads_before = [p.grad.numpy().copy() for p in t.D.parameters()]
    g_count = t.G[1].num_batches_tracked.item()
    record = t.g_step()
    assert np.isfinite(record["loss_G"]) and record["grad_norm_G"] > 0
    d_after = arrays(t.D)
    for key, value in d_before.items():
        if key.endswith("num_batches_tracked"):
            # L_G's own forward pass counts once, as in the base G step; the 3 look-ahead passes do not
            assert d_after[key] == value + 1
        elif "running" not in key:
            np.testing.assert_array_equal(d_after[key], value, err_msg=key)
    opt_after = optimizer_arrays(t.opt_D)
    assert opt_after.keys() == opt_before.keys()
    for key, value in opt_before.items():
        np.testing.assert_array_equal(opt_after[key], value, err_msg=str(key))
    for p, g in zip(t.D.parameters(), grads_before):
        np.testing.assert_array_equal(p.grad.numpy(), g)
    assert t.G[1].num_batches_tracked.item() == g_count + 1  # G's look-ahead passes leave G's buffers too
    assert all(p.requires_grad for p in t.D.parameters())


def test_the_surrogate_lookahead_is_k_steps_of_the_runs_own_d_optimizer():
    t = ring_trainer(Unrolled(Unconditional("nonsaturating", "r1"), steps=3))
    for _ in range(2):
        t.step()
    rng, data_rng = get_rng_state(), t.data_rng.bit_generator.state
    theta_K = t.variant.lookahead(t)
    set_rng_state(rng)
    t.data_rng.bit_generator.state = data_rng
    for _ in range(3):  # the same batches and noise, played by the trainer itself
        t.d_step(t.sample_real(t.batch_size))
    for p in t.D.parameters():
        np.testing.assert_array_equal(theta_K[id(p)].numpy(), p.detach().numpy())


# -- the exact gradient on a tiny smooth game ---------------------------------------------------------
def tiny_game(dim, variant, opt_D):
    """float64 tanh MLPs (smooth, so finite differences are accurate) on N(2, 1) data in ``dim``-D; the
    noise and the data are drawn afresh from fixed seeds at every evaluation (``reset``)."""
    mg.manual_seed(0)
    G = nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, dim)).to(mg.float64)
    D = nn.Sequential(nn.Linear(dim, 4), nn.Tanh(), nn.Linear(4, 1)).to(mg.float64)
    data = np.random.default_rng(1).standard_normal((64, dim)) + 2.0
    source = {}

    def reset():
        mg.manual_seed(5)
        source["rng"] = np.random.default_rng(7)

    t = Trainer(
        G, D, optim.SGD(G.parameters(), lr=0.1), opt_D(D.parameters()),
        lambda n: data[source["rng"].integers(0, 64, n)], z_dim=1, batch_size=8, variant=variant,
        sample_z=lambda n: mg.randn(n, 1, dtype=mg.float64),
    )  # fmt: skip
    return t, reset


def g_loss_of(t, reset, variant=None):
    """L_G of ``variant`` (default: the trainer's) as a function of G's parameters (substituted into G),
    the random draws fixed."""
    params, variant = list(t.G.parameters()), variant or t.variant

    def f(*xs):
        reset()
        with substituted(t.G, {id(p): x for p, x in zip(params, xs)}):
            return variant.g_loss(t, 8)[0]

    return f, [mg.tensor(p.detach().numpy(), requires_grad=True) for p in params]


# not WGAN-GP: its interpolates are constants of the graph (penalties.py detaches them), so its D step's
# dependence on G is left out of the exact gradient, as the module docstring says
CASES = [(1, "nonsaturating", None), (2, "nonsaturating", "r1"), (2, "lsgan", "r1"), (1, "wasserstein", None)]


@pytest.mark.parametrize("dim,loss,penalty", CASES)
def test_the_exact_g_gradient_matches_finite_differences(dim, loss, penalty):
    eta = 0.5  # large, so that D's response to G is a large part of the gradient
    exact = Unrolled(Unconditional(loss, penalty), steps=2, create_graph=True, lr=eta)
    t, reset = tiny_game(dim, exact, lambda ps: optim.SGD(ps, lr=eta))
    f, xs = g_loss_of(t, reset)
    assert gradcheck(f, xs, atol=1e-6, rtol=1e-4)

    # the same D_2 by the surrogate (SGD of the same step): the same loss, but without D's response
    f_surrogate, ys = g_loss_of(t, reset, Unrolled(Unconditional(loss, penalty), steps=2))
    l_exact, l_surrogate = f(*xs), f_surrogate(*ys)
    np.testing.assert_allclose(l_exact.item(), l_surrogate.item(), rtol=1e-12)
    g_exact = mg.autograd.grad(l_exact, xs)
    g_surrogate = mg.autograd.grad(l_surrogate, ys)
    diff = max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(g_exact, g_surrogate))
    scale = max(float(np.abs(a.numpy()).max()) for a in g_exact)
    assert diff > 1e-3 * scale  # the term through the look-ahead is really there


def test_the_exact_step_size_defaults_to_the_d_learning_rate():
    variant = Unrolled(Unconditional(), steps=1, create_graph=True)
    t, reset = tiny_game(1, variant, lambda ps: optim.SGD(ps, lr=0.3))
    f, xs = g_loss_of(t, reset)
    g, _ = g_loss_of(t, reset, Unrolled(Unconditional(), steps=1, create_graph=True, lr=0.3))
    assert f(*xs).item() == g(*xs).item()


# -- the wrapper ----------------------------------------------------------------------------------------
def test_the_wrapper_is_the_base_variant_but_for_the_g_step():
    base = Conditional("hinge", "r1", 0.5)
    u = Unrolled(base, steps=2)
    assert (u.name, u.conditional, u.labels_to_D, u.n_classes) == ("cgan", True, True, 10)
    assert (u.loss, u.penalty, u.gamma) == ("hinge", "r1", 0.5)
    assert u.state_dict() == base.state_dict() == {}
    with pytest.raises(ValueError, match="conditional"):
        u.generate(None, mg.zeros(2, 3))
    assert "steps=2" in repr(u) and "surrogate" in repr(u)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"steps": -1}, "steps .* must be an int >= 0, got -1"),
        ({"steps": 2.0}, "must be an int >= 0, got 2.0"),
        ({"lr": 0.1}, "lr is the step size of the exact look-ahead"),
        ({"create_graph": True, "lr": 0.0}, "lr must be a finite number > 0"),
        ({"create_graph": 1}, "create_graph must be True or False"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Unrolled(Unconditional(), **kwargs)
    with pytest.raises(TypeError, match="base must be a Variant"):
        Unrolled("gan")


def test_substituted_swaps_shared_parameters_everywhere_and_puts_them_back():
    lin = nn.Linear(2, 2)
    net = nn.Sequential(lin, nn.Tanh(), lin)  # one Linear used twice
    x = mg.randn(3, 2)
    w = mg.zeros(2, 2)
    weight = lin.weight
    with substituted(net, {id(weight): w}):
        assert net[0].weight is w and net[2].weight is w
        y = net(x)  # W = 0: both layers give their bias
        np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy(), (3, 2)))
    assert net[0].weight is weight and list(net.parameters()) == [weight, lin.bias]
    with pytest.raises(RuntimeError), substituted(net, {id(lin.bias): w}):
        raise RuntimeError
    assert net[0].bias is not w
