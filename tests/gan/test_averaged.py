"""minigan.gan.averaged: a network with the moving average of its weights, used by the conditional
models' G (``g_ema_kimg``) and the semi-supervised D."""

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.gan.averaged import Averaged, averaged_generator, update_averages


def test_average_follows_the_ema_formula_and_answers_only_in_eval_mode():
    mg.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    a = Averaged(net, half_life=3.0)
    x = mg.randn(8, 3)
    a.eval()
    with mg.no_grad():
        np.testing.assert_array_equal(a(x).numpy(), net(x).numpy())  # not updated yet: the network
    a.train()
    a(x)  # batch norm's running statistics move (a buffer: copied, not averaged)
    update_averages(a, net)  # a plain module is skipped
    w0 = net[0].weight.detach().numpy().copy()
    np.testing.assert_array_equal(a.avg.module[0].weight.detach().numpy(), w0)  # the first update copies
    with mg.no_grad():
        net[0].weight.add_(1.0)
    a.update_average()
    beta = 0.5 ** (1 / 3.0)
    want = beta * w0 + (1 - beta) * (w0 + 1.0)
    np.testing.assert_allclose(a.avg.module[0].weight.detach().numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(a.avg.module[1].running_mean.numpy(), net[1].running_mean.numpy())
    a.eval()
    with mg.no_grad():
        np.testing.assert_array_equal(a(x).numpy(), a.avg.module(x).numpy())
    assert all(not p.requires_grad for p in a.avg.parameters())
    assert {k.split(".")[0] for k in a.state_dict()} == {"net", "avg"}


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "10"])
def test_half_life_must_be_a_positive_number(bad):
    with pytest.raises(ValueError, match="half-life must be a positive number of steps"):
        Averaged(nn.Linear(2, 2), bad)


def test_averaged_generator_converts_thousands_of_images_to_steps():
    G = nn.Linear(2, 2)
    assert averaged_generator(G, {"batch_size": 64}) is G  # a run from before the key: no average
    assert averaged_generator(G, {"g_ema_kimg": 0.0, "batch_size": 64}) is G
    a = averaged_generator(G, {"g_ema_kimg": 10.0, "batch_size": 64})
    assert isinstance(a, Averaged) and a.half_life == pytest.approx(10_000 / 64)


@pytest.mark.parametrize("data", ["mnist", "stacked-mnist"])
def test_the_unconditional_dcgan_averages_g_only_when_asked(data):
    from minigan.gan import registry

    spec = registry.get(data)
    model = spec.model(None)
    assert model.defaults["g_ema_kimg"] == 0.0
    config = {**spec.defaults, **model.defaults, "data": data}
    G, _ = model.make_models(config)
    assert not isinstance(G, Averaged)
    G, _ = model.make_models({**config, "g_ema_kimg": 10.0})
    assert isinstance(G, Averaged) and G.half_life == pytest.approx(10_000 / config["batch_size"])
