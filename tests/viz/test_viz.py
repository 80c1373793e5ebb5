"""The figures: they build under Agg, write PNG/GIF files, and contain what they claim to."""

import json
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

import minigan as mg
from minigan.data import get_dataset, ring8
from minigan.viz import (
    animate_samples,
    discriminator_fn,
    make_grid,
    plot_density_1d,
    plot_image_grid,
    plot_samples_2d,
    plot_training_curves,
    plot_vector_field,
    read_metrics,
    sigmoid,
)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png_ok(path):
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 50 and im.size[1] > 50


def _labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_density_1d_draws_pg_pdata_d_and_dstar(tmp_path):
    ds = get_dataset("gaussian1d")
    fake = np.random.default_rng(0).normal(2.0, 1.0, size=(500, 1))
    path = tmp_path / "sub" / "density.png"
    fig = plot_density_1d(fake, p_data=ds.density, d_fn=lambda x: sigmoid(x[:, 0] - 3.0), path=path)
    _png_ok(path)
    ax, ax2 = fig.axes
    assert {"p_g (KDE)", "p_data"} <= set(_labels(ax))
    assert {"D(x)", "D*(x)"} <= set(_labels(ax2))
    # the D* line is p_data / (p_data + p_g) of the plotted curves
    x, pg = next(line.get_data() for line in ax.get_lines() if line.get_label() == "p_g (KDE)")
    pd = next(line.get_ydata() for line in ax.get_lines() if line.get_label() == "p_data")
    dstar = next(line.get_ydata() for line in ax2.get_lines() if line.get_label() == "D*(x)")
    shown = ~np.isnan(dstar)
    np.testing.assert_allclose(dstar[shown], (pd / (pd + pg))[shown])
    assert shown.mean() > 0.5 and np.all((pd + pg)[~shown] < 1e-3 * (pd + pg).max())
    assert len(ax.patches) == 60  # histogram bars
    lo, hi = ax.get_xlim()
    assert lo < 0.0 and hi > 5.5  # the default range spans the samples and p_data


def test_density_1d_with_exact_pg():
    ds = get_dataset("gaussian1d")
    fig = plot_density_1d(
        np.zeros(10), p_data=ds.density, p_g=lambda x: 0.5 * (np.abs(x - 3) < 1), x_range=(0, 6)
    )
    ax, ax2 = fig.axes
    x, pg = next(ln.get_data() for ln in ax.get_lines() if ln.get_label() == "p_g")
    np.testing.assert_array_equal(pg, 0.5 * (np.abs(x - 3) < 1))
    dstar = next(ln.get_ydata() for ln in ax2.get_lines() if ln.get_label() == "D*(x)")
    inside = np.abs(x - 3) < 1
    np.testing.assert_allclose(dstar[inside], ds.density(x[inside]) / (ds.density(x[inside]) + 0.5))


def test_density_1d_without_data_or_d():
    fig = plot_density_1d(np.zeros(10) + 1.0)
    assert _labels(fig.axes[0]) == ["p_g (KDE)"]


def test_samples_2d_over_d_contours(tmp_path):
    ds = ring8()
    fake = ds.sample(300, np.random.default_rng(0))
    calls = []

    def d_fn(p):
        calls.append(p.shape)
        return sigmoid(3 - 10 * np.abs(np.linalg.norm(p, axis=1) - 1))

    path = tmp_path / "s.png"
    fig = plot_samples_2d(fake, real=ds.sample(100, 1), modes=ds.modes, d_fn=d_fn, n_grid=40, path=path)
    _png_ok(path)
    assert calls == [(1600, 2)]  # one batched evaluation of the 40 x 40 grid
    ax = fig.axes[0]
    offsets = [c.get_offsets() for c in ax.collections if hasattr(c, "get_offsets") and len(c.get_offsets())]
    sizes = sorted(len(o) for o in offsets)
    assert 300 in sizes and 100 in sizes and 8 in sizes  # fake, real, modes
    assert len(fig.axes) == 2  # plus the colour bar
    assert ax.get_aspect() == 1.0


def test_samples_2d_rejects_wrong_shape_and_skips_nan():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot_samples_2d(np.zeros((5, 3)))
    fig = plot_samples_2d(np.array([[0.0, 0.0], [np.nan, 1.0], [1.0, 1.0]]))
    assert len(fig.axes[0].collections[0].get_offsets()) == 2


def test_discriminator_fn_wraps_a_tensor_callable():
    w = mg.tensor([[2.0, -1.0]])

    def D(x):  # a logit d(x) = 2 x_0 - x_1, on minigan tensors
        assert isinstance(x, mg.Tensor) and x.dtype == np.float32
        return (x * w).sum(dim=1, keepdim=True)

    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [100.0, 0.0]])
    f = discriminator_fn(D, batch=3)  # two chunks
    np.testing.assert_allclose(f(x), [0.5, sigmoid(2.0), sigmoid(-1.0), 1.0], rtol=1e-6)
    np.testing.assert_allclose(discriminator_fn(D, logits=False)(x), [0.0, 2.0, -1.0, 200.0])


def test_sigmoid_is_stable():
    s = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])


def test_training_curves_from_records_and_jsonl(tmp_path):
    records = [
        {"step": i, "loss_D": 1.4 - 0.01 * i, "loss_G": 0.7, "D(x)": 0.6, "D(G(z))": 0.4, "V": -1.3}
        for i in range(20)
    ]
    jsonl = tmp_path / "metrics.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    assert read_metrics(jsonl) == records
    path = tmp_path / "curves.png"
    fig = plot_training_curves(jsonl, smooth=5, path=path)
    _png_ok(path)
    ax_loss, ax_d = fig.axes
    assert {"loss_D", "loss_G"} <= set(_labels(ax_loss)) and {"D(x)", "D(G(z))"} <= set(_labels(ax_d))
    line = next(ln for ln in ax_loss.get_lines() if ln.get_label() == "loss_D")
    assert len(line.get_xdata()) == 16  # 20 points, moving average of 5
    assert any(np.allclose(ln.get_ydata(), math.log(4)) for ln in ax_loss.get_lines())


def test_training_curves_read_the_trainers_key_spelling():
    records = [{"step": i + 1, "loss_D": 1.0, "loss_G": 0.5, "D_x": 0.7, "D_G_z": 0.2} for i in range(4)]
    ax_d = plot_training_curves(records).axes[1]
    line = next(ln for ln in ax_d.get_lines() if ln.get_label() == "D(G(z))")
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), [0.2] * 4)


def test_training_curves_partial_keys_and_error():
    fig = plot_training_curves([{"loss_D": 1.0}, {"loss_D": 0.9}])
    assert [ln.get_label() for ln in fig.axes[0].get_lines()][0] == "loss_D"
    with pytest.raises(ValueError, match="no records with any of"):
        plot_training_curves([{"lr": 1.0}])


def test_make_grid_layout_and_values():
    imgs = np.stack([np.full((1, 4, 5), v) for v in (-1.0, 0.0, 1.0)])  # 3 images of 4 x 5
    g = make_grid(imgs, nrow=2, padding=1, pad_value=0.25)
    assert g.shape == (2 * 5 + 1, 2 * 6 + 1, 1)
    assert np.all(g[1:5, 1:6] == 0.0) and np.all(g[1:5, 7:12] == 0.5) and np.all(g[6:10, 1:6] == 1.0)
    assert np.all(g[6:10, 7:12] == 0.25)  # the empty cell
    assert g[0, 0, 0] == 0.25
    rgb = make_grid(np.zeros((2, 3, 2, 2)), nrow=8, padding=0)
    assert rgb.shape == (2, 4, 3) and np.all(rgb == 0.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        make_grid(np.zeros((2, 2, 4, 4)))


def test_plot_image_grid(tmp_path):
    imgs = np.random.default_rng(0).uniform(-1, 1, size=(10, 1, 8, 8))
    path = tmp_path / "grid.png"
    fig = plot_image_grid(imgs, nrow=5, path=path)
    _png_ok(path)
    (im,) = fig.axes[0].get_images()
    assert im.get_array().shape == (2 * 10 + 2, 5 * 10 + 2)


@pytest.mark.parametrize("dim", [1, 2])
def test_animate_samples_writes_a_gif(tmp_path, dim):
    rng = np.random.default_rng(0)
    frames = [rng.normal(i, 1.0, size=(50, dim)) for i in range(3)]
    path = tmp_path / f"g{dim}.gif"
    p_data = get_dataset("gaussian1d").density if dim == 1 else None
    animate_samples(frames, path, titles=["a", "b", "c"], p_data=p_data, fps=4)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 3


def test_animate_samples_errors(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        animate_samples([], tmp_path / "x.gif")
    with pytest.raises(ValueError, match="titles"):
        animate_samples([np.zeros((3, 2))], tmp_path / "x.gif", titles=["a", "b"])


def test_vector_field_quiver_and_trajectories(tmp_path):
    xs = ys = np.linspace(-2, 2, 7)
    X, Y = np.meshgrid(xs, ys)
    u, v = Y, -X  # a rotation
    t = np.linspace(0, 2 * np.pi, 50)
    circle = np.stack([np.cos(t), np.sin(t)], 1)
    path = tmp_path / "field.png"
    fig = plot_vector_field(xs, ys, u, v, trajectories=[circle, 0.5 * circle], labels=["a", "b"], path=path)
    _png_ok(path)
    ax = fig.axes[0]
    quivers = [c for c in ax.collections if isinstance(c, matplotlib.quiver.Quiver)]
    assert len(quivers) == 1 and quivers[0].N == 49
    assert {"a", "b"} <= set(_labels(ax))
    with pytest.raises(ValueError, match="u, v must have shape"):
        plot_vector_field(xs, ys, u[:3], v)


def test_image_rows_match_sizes_and_channels(tmp_path):
    from minigan.viz import plot_image_rows, same_size_rows

    small = np.linspace(-1, 1, 2 * 7 * 7, dtype=np.float32).reshape(2, 1, 7, 7)
    colour = np.zeros((3, 3, 28, 28), np.float32)
    a, b = same_size_rows([small, colour])
    assert a.shape == (2, 3, 28, 28) and b.shape == colour.shape
    np.testing.assert_array_equal(a[:, 0, :4, :4], np.broadcast_to(small[:, 0, :1, :1], (2, 4, 4)))  # nearest
    fig = plot_image_rows([small, colour], ["input", "output"], "t", tmp_path / "rows.png")
    assert (tmp_path / "rows.png").stat().st_size > 0 and len(fig.axes) == 2
