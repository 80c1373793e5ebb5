"""The fitting check of chapter 14 (``minigan.gan.fit_bench``): both generators, built as the runs build
them, lower the least-squares error on fixed (z, image) pairs, with the style-based G's noise held off."""

import numpy as np
import pytest

from minigan.gan.fit_bench import fit, generator

SMALL = {
    "stylegan": {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "width": 4},
    "dcgan": {"z_dim": 8, "width": 4},
}


@pytest.mark.parametrize("name, lr, betas", [("stylegan", 0.002, (0.0, 0.99)), ("dcgan", 2e-3, (0.5, 0.999))])
def test_fit_lowers_the_error(name, lr, betas):
    G, z_dim = generator(name, SMALL[name])
    assert z_dim == 8
    if name == "stylegan":
        assert all(not c.noise_strength.requires_grad for c in G.synthesis.convs)
    x = np.random.default_rng(1).uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    lines = []
    out = fit(G, z_dim, x, steps=20, lr=lr, betas=betas, every=10, log=lines.append)
    assert [s for s, _, _ in out] == [0, 10, 20] and len(lines) == 3
    assert out[-1][1] < out[0][1]
