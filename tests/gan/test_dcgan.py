"""DCGAN models (minigan.gan.dcgan), the benchmark's iteration, and the MNIST training-run plugin."""

import numpy as np
import pytest

import minigan as mg
import minigan.nn.functional as F
from minigan import nn
from minigan.gan.dcgan import count_parameters, dcgan, dcgan_discriminator, dcgan_generator, dcgan_init_

G_KEYS = [
    "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
    "4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked",
    "7.weight", "7.bias",
]  # fmt: skip
D_KEYS = [
    "0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias", "3.running_mean", "3.running_var",
    "3.num_batches_tracked", "6.weight", "6.bias",
]  # fmt: skip


def test_mnist_configuration_exactly():
    G, D = dcgan_generator(), dcgan_discriminator()
    kinds = [type(m).__name__ for m in G.children()]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Unflatten", "ConvTranspose2d", "BatchNorm2d", "ReLU",
                     "ConvTranspose2d", "Tanh"]  # fmt: skip
    assert [type(m).__name__ for m in D.children()] == [
        "Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "Flatten", "Linear"]  # fmt: skip
    # the same counts as the torch.nn.Sequential of the issue: Linear 100*6272+6272, BN 2*6272, ...
    assert count_parameters(G) == 633472 + 12544 + 131136 + 128 + 1025 == 778305
    assert count_parameters(D) == 1088 + 131200 + 256 + 6273 == 138817
    assert list(G.state_dict()) == G_KEYS and list(D.state_dict()) == D_KEYS
    assert G[0].weight.shape == (6272, 100) and G[4].weight.shape == (128, 64, 4, 4)
    assert D[2].weight.shape == (128, 64, 4, 4) and D[1].negative_slope == 0.2


@pytest.mark.parametrize("size, stages", [(8, 1), (14, 1), (16, 2), (28, 2), (32, 3)])
def test_shapes_for_sizes(size, stages):
    G = dcgan_generator(size, channels=3, z_dim=5, width=4)
    D = dcgan_discriminator(size, channels=3, width=4)
    x = G(mg.randn(2, 5))
    assert x.shape == (2, 3, size, size)
    assert float(x.array.max()) <= 1 and float(x.array.min()) >= -1
    assert D(x).shape == (2, 1)
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in G.modules()) == stages
    assert sum(isinstance(m, nn.Conv2d) for m in D.modules()) == stages


def test_bad_size():
    with pytest.raises(ValueError, match="image_size 20 is not supported"):
        dcgan_generator(20)


def test_init_statistics():
    G, D = dcgan(generator=np.random.default_rng(0))
    w = G[4].weight.array
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001
    assert abs(G[0].weight.array.std() - 0.02) < 0.001
    bn = G[1].weight.array
    assert abs(bn.mean() - 1) < 0.002 and abs(bn.std() - 0.02) < 0.002
    for m in (G[0], G[4], G[7], D[0], D[2], D[6], G[1], D[3]):
        assert not m.bias.array.any()
    G2, _ = dcgan(generator=np.random.default_rng(0))
    np.testing.assert_array_equal(G2[4].weight.array, w)


def test_stride2_kernel4_has_no_checkerboard_but_kernel3_does():
    """Every interior output pixel of a k=4, s=2 transposed conv gets 4 taps; k=3, s=2 gives 1, 2, 4."""
    x = mg.ones(1, 1, 6, 6)
    even = F.conv_transpose2d(x, mg.ones(1, 1, 4, 4), stride=2, padding=1).numpy()[0, 0]
    assert even.shape == (12, 12) and set(np.unique(even[1:-1, 1:-1])) == {4.0}
    odd = F.conv_transpose2d(x, mg.ones(1, 1, 3, 3), stride=2, padding=1).numpy()[0, 0]
    assert set(np.unique(odd[1:-1, 1:-1])) == {1.0, 2.0, 4.0}


def test_one_training_step_moves_every_parameter():
    mg.manual_seed(0)
    G, D = dcgan(8, 1, z_dim=4, width=4)
    dcgan_init_(G, std=0.2)
    before = {k: v.array.copy() for k, v in list(G.named_parameters()) + list(D.named_parameters())}
    opt = mg.optim.Adam(list(G.parameters()) + list(D.parameters()), lr=1e-2)
    loss = F.binary_cross_entropy_with_logits(D(G(mg.randn(4, 4))), mg.ones(4, 1))
    loss.backward()
    opt.step()
    for k, v in list(G.named_parameters()) + list(D.named_parameters()):
        assert not np.array_equal(v.array, before[k]), k


def test_bench_iteration_and_profile():
    from minigan.gan import dcgan_bench

    G, D, x_real, iteration = dcgan_bench.build_minigan(0, batch=4)
    loss_d, loss_g = iteration()
    assert np.isfinite(loss_d.item()) and np.isfinite(loss_g.item())
    assert all(p.requires_grad for p in D.parameters())
    assert "function calls" in dcgan_bench.profile_minigan(iteration, 1, top=5)


# -- the training-run plugin ---------------------------------------------------------------------------------
def test_mnist_plugin_sampler_and_models(tmp_path):
    from minigan.data.idx import write_idx
    from minigan.gan import mnist_run, registry

    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(20, dtype=np.uint8) % 10)
    assert registry.get("mnist") is registry.get("mnist")  # registered by importing mnist_run
    spec = registry.get("mnist")
    assert (
        mnist_run.IMAGE_DEFAULTS["z_dim"] == 100
        and spec.kind == "image"
        and spec.defaults["lr"] == 2e-4
        and spec.defaults["betas"] == [0.5, 0.999]
    )
    config = {"data": "mnist", **spec.defaults, "data_dir": str(tmp_path), "split": "test"}
    data = spec.make_data(config)
    a = data.sample(5, np.random.default_rng(1))
    assert a.shape == (5, 1, 28, 28) and a.dtype == np.float32 and a.min() >= -1 and a.max() <= 1
    np.testing.assert_array_equal(a, data.sample(5, np.random.default_rng(1)))
    assert spec.default_model == "dcgan"
    G, D = spec.model().make_models(config)
    assert count_parameters(G) == 778305
    spec.plot_samples(a, data, tmp_path / "grid.png", title="t")
    assert (tmp_path / "grid.png").stat().st_size > 0
    with pytest.raises(FileNotFoundError, match="--split test"):  # DatasetNotFoundError
        spec.make_data({**config, "split": "train"})


def test_bench_cli_route_runs_a_worker(capsys, tmp_path):
    """``minigan bench --dcgan`` reaches dcgan_bench.main, which times real iterations in a subprocess."""
    import json

    from minigan.cli import main

    out = tmp_path / "bench.json"
    argv = ["bench", "--dcgan", "--frameworks", "minigan", "--iters", "1", "--warmup", "0", "--rounds", "1"]
    assert main(argv + ["--json", str(out)]) == 0
    assert "minigan: wall median" in capsys.readouterr().out
    result = json.loads(out.read_text())["minigan"]
    assert (
        len(result["times_s"]) == 1 and result["peak_rss_delta_mb"] >= 0 and result["tracemalloc_peak_mb"] > 1
    )
