"""``nn.MinibatchStdDev`` (chapter 10): shapes, ProGAN's grouping, the value of the appended maps, its
errors, and the DCGAN discriminator's ``mbstd`` option. (Values, gradients and second derivatives against
a NumPy loop over random shapes: the "minibatch_std" entry of tests/ops/registry.py.)"""

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.gan.dcgan import count_parameters, dcgan, dcgan_discriminator
from minigan.gan.penalties import r1_penalty
from minigan.nn.minibatch_std import minibatch_std
from minigan.testing import gradgradcheck


def test_shapes_4d_and_2d():
    assert nn.MinibatchStdDev()(mg.randn(8, 3, 5, 5)).shape == (8, 4, 5, 5)
    assert nn.MinibatchStdDev(2, num_channels=3)(mg.randn(6, 6, 2, 2)).shape == (6, 9, 2, 2)
    assert nn.MinibatchStdDev()(mg.randn(4, 7)).shape == (4, 8)
    assert nn.MinibatchStdDev(4)(mg.randn(2, 3, 2, 2)).shape == (2, 4, 2, 2)  # G = min(4, N) = 2


def test_groups_are_every_m_th_sample_and_the_map_is_the_mean_group_std():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 2, 2))
    y = nn.MinibatchStdDev(group_size=3)(mg.tensor(x)).numpy()
    np.testing.assert_array_equal(y[:, :3], x)  # x itself comes first, unchanged
    # G = 3, M = 2: samples {0, 2, 4} and {1, 3, 5} are the groups
    for members in ([0, 2, 4], [1, 3, 5]):
        s = np.sqrt(x[members].var(axis=0) + 1e-8).mean()
        for i in members:
            np.testing.assert_allclose(y[i, 3], np.full((2, 2), s), rtol=1e-12)
    assert y[0, 3, 0, 0] != y[1, 3, 0, 0]


def test_a_collapsed_batch_shows_no_spread():
    x = np.repeat(np.random.default_rng(1).standard_normal((1, 2, 3, 3)), 4, axis=0)
    y = nn.MinibatchStdDev()(mg.tensor(x, dtype=mg.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy()[:, 2], 1e-4, rtol=1e-3)  # sqrt(0 + 1e-8)


def test_errors_name_n_and_g():
    with pytest.raises(ValueError, match=r"N=6 samples does not split into groups of G=4"):
        nn.MinibatchStdDev()(mg.randn(6, 2))
    with pytest.raises(ValueError, match="C=3 features do not split into num_channels=2"):
        nn.MinibatchStdDev(num_channels=2)(mg.randn(4, 3))
    with pytest.raises(ValueError, match=r"\(N, C, \.\.\.\) input"):
        minibatch_std(mg.randn(4))
    for kwargs in ({"group_size": 0}, {"num_channels": 1.5}, {"group_size": True}):
        with pytest.raises(ValueError, match="must be an int >= 1"):
            nn.MinibatchStdDev(**kwargs)
    assert repr(nn.MinibatchStdDev(2)) == "MinibatchStdDev(group_size=2, num_channels=1)"
    assert list(nn.MinibatchStdDev().state_dict()) == []


def test_twice_differentiable_as_a_module():
    x = mg.tensor(np.random.default_rng(2).standard_normal((4, 2, 2, 1)), requires_grad=True)
    assert gradgradcheck(nn.MinibatchStdDev(2), [x])


# -- the DCGAN discriminator's option -------------------------------------------------------------------
def test_dcgan_mbstd_adds_one_map_before_the_last_layer_and_leaves_the_default_alone():
    plain, with_std = dcgan_discriminator(), dcgan_discriminator(mbstd=True)
    assert not any(isinstance(m, nn.MinibatchStdDev) for m in plain.modules())
    assert count_parameters(plain) == 1_024 + 64 + 131_072 + 128 + 256 + 6_272 + 1  # the chapter-08 D
    layers = list(with_std)
    assert isinstance(layers[-3], nn.MinibatchStdDev) and isinstance(layers[-2], nn.Flatten)
    assert layers[-1].in_features == 129 * 7 * 7
    assert count_parameters(with_std) == count_parameters(plain) + 49
    mg.manual_seed(0)
    G0, D0 = dcgan()
    mg.manual_seed(0)
    G1, D1 = dcgan(mbstd=True)
    for (k, a), (_, b) in zip(G0.state_dict().items(), G1.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)  # the same G from the same seed
    assert D1(mg.randn(8, 1, 28, 28)).shape == (8, 1)


def test_r1_differentiates_through_the_mbstd_discriminator():
    mg.manual_seed(0)
    D = dcgan_discriminator(8, 1, width=2, mbstd=True)
    x = mg.randn(4, 1, 8, 8)
    penalty = r1_penalty(D, x, 1.0)
    penalty.backward()
    head = list(D)[-1]  # reads (N, 2 + 1, 4, 4): the std map is its last 16 inputs
    assert np.isfinite(penalty.item()) and head.in_features == 48
    assert np.abs(head.weight.grad.numpy()[:, 32:]).max() > 0  # the second derivative through the map
