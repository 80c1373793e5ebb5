"""What a style-based generator is measured and drawn by: the truncation sweep, perceptual path length in
w and z, and the style-mixing figure. Chapter 14; ``minigan eval`` / ``minigan sample`` call these.

    truncation_sweep   precision, recall, FD and class KL of G_ema at psi = 1.0, 0.9, 0.7, 0.5: psi < 1
                       pulls every w towards w_avg, trading variety (recall) for typical, clean digits
                       (precision)
    path_length        ``metrics.ppl``'s end-point path length, in w (lerp of mapped styles) or z (slerp
                       of the noise), for a style-based G; in z for any other unconditional G (DCGAN)
    mixing_grid        the StyleGAN figure: coarse styles (ws[:, :4], the 4 x 4 and 7 x 7 layers) from
                       each row's source, fine styles (ws[:, 4:], 14 x 14 and 28 x 28) from each
                       column's source

Every image comes from G in eval mode (the moving average) with no graph; latents from
``np.random.default_rng(seed)``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..creation import tensor
from ..metrics import ppl as P
from ..ops.indexing import cat
from .stylegan_g import COARSE, StyleGenerator

TRUNCATIONS = (1.0, 0.9, 0.7, 0.5)
N_PPL = 2000  # pairs per path length (NVlabs: 100 000 with LPIPS on a GPU)


def _device(G) -> str:
    return next(iter(G.parameters())).device


def images(G, z: np.ndarray, psi: float = 1.0, batch: int = 500) -> np.ndarray:
    """G's images (N, C, 28, 28) float32 for noise z (N, z_dim), eval mode, truncation psi (style-based
    G only; 1: none)."""
    G.eval()
    out = []
    with no_grad():
        for i in range(0, len(z), batch):
            zb = tensor(np.asarray(z[i : i + batch], np.float32), device=_device(G))
            out.append((G(zb, psi) if isinstance(G, StyleGenerator) else G(zb)).numpy())
    return np.concatenate(out).astype(np.float32)


def truncation_sweep(G: StyleGenerator, data, classifier, n: int, seed: int = 0, psis=TRUNCATIONS) -> dict:
    """{psi: precision, recall, FD, class KL} of n images at each psi, from the same noise (seed)."""
    from ..metrics.image_eval import evaluate_images

    z = np.random.default_rng(seed).standard_normal((n, G.z_dim)).astype(np.float32)
    out = {}
    for psi in psis:
        gen = evaluate_images(images(G, z, psi), classifier, data.images, seed=seed)["generated"]
        out[str(psi)] = {k: gen[k] for k in ("precision", "recall", "frechet_distance", "class_kl")}
    return out


def path_length(G, classifier, space: str = "w", n: int | None = None, seed: int = 0, eps: float = P.EPS,
                batch: int = 250) -> dict:  # fmt: skip
    """End-point perceptual path length of G (module docstring) over n pairs (default ``N_PPL``):
    {"space", "eps", "ppl", "stderr", "n_pairs", "n_kept"}."""
    n = N_PPL if n is None else n
    style = isinstance(G, StyleGenerator)
    if space not in ("w", "z") or (space == "w" and not style):
        raise ValueError(f"path length in {space!r}: use 'z', or 'w' for a style-based generator")
    z_dim = G_z_dim(G)
    rng = np.random.default_rng([seed, 15])
    z0, z1 = rng.standard_normal((2, n, z_dim))
    G.eval()
    values = []
    with no_grad():
        for i in range(0, n, batch):
            a, b = z0[i : i + batch], z1[i : i + batch]
            xa, xb = _pair_images(G, a, b, space, eps)
            values.append(P.pair_distances(classifier.features(xa), classifier.features(xb), eps))
    return {"space": space, "eps": eps, **P.summarize(np.concatenate(values))}


def _pair_images(G, z0: np.ndarray, z1: np.ndarray, space: str, eps: float):
    """Images at a path's start and eps along it; a style-based G draws both with the same noise."""
    G.eval()
    with no_grad():
        return _pair_images_eval(G, z0, z1, space, eps)


def _pair_images_eval(G, z0, z1, space, eps):
    dev = _device(G)
    if not isinstance(G, StyleGenerator):
        za, zb = P.slerp(z0, z1, 0.0), P.slerp(z0, z1, eps)
        return (G(tensor(za.astype(np.float32), device=dev)).numpy(),
                G(tensor(zb.astype(np.float32), device=dev)).numpy())  # fmt: skip
    net = G.current
    noise = G.eval_noise(tensor(z0.astype(np.float32), device=dev))
    if space == "z":
        za, zb = P.slerp(z0, z1, 0.0), P.slerp(z0, z1, eps)
        wa = net.mapping_ws(tensor(za.astype(np.float32), device=dev))
        wb = net.mapping_ws(tensor(zb.astype(np.float32), device=dev))
    else:
        w0 = net.mapping(tensor(z0.astype(np.float32), device=dev)).numpy()
        w1 = net.mapping(tensor(z1.astype(np.float32), device=dev)).numpy()
        ends = (w0, P.lerp(w0, w1, eps))
        wa, wb = (_broadcast(net, tensor(w.astype(np.float32), device=dev)) for w in ends)
    return net.synthesis(wa, noise).numpy(), net.synthesis(wb, noise).numpy()


def _broadcast(net, w):
    return w.reshape(w.shape[0], 1, net.w_dim).expand(w.shape[0], net.num_ws, net.w_dim)


def G_z_dim(G) -> int:  # noqa: N802 - the generator's name in the math
    """The noise size of an unconditional G: its ``z_dim`` attribute, else its first layer's inputs."""
    if hasattr(G, "z_dim"):
        return int(G.z_dim)
    first = next(iter(G.parameters()))
    return int(first.shape[1] if first.ndim == 2 else first.shape[0])


def mixing_grid(G: StyleGenerator, n_rows: int = 5, n_cols: int = 6, seed: int = 0, psi: float = 1.0,
                coarse: int = COARSE) -> np.ndarray:  # fmt: skip
    """(n_rows + 1, n_cols + 1, C, 28, 28) images: [0, 0] blank (-1), [0, c] column sources, [r, 0] row
    sources, [r, c] coarse styles ws[:, :coarse] of row r with fine styles ws[:, coarse:] of column c."""
    rng = np.random.default_rng([seed, 16])
    zr, zc = (rng.standard_normal((k, G.z_dim)).astype(np.float32) for k in (n_rows, n_cols))
    G.eval()
    net, dev = G.current, _device(G)
    with no_grad():
        wr = net.mapping_ws(tensor(zr, device=dev), psi)
        wc = net.mapping_ws(tensor(zc, device=dev), psi)
        noise_r, noise_c = G.eval_noise(tensor(zr, device=dev)), G.eval_noise(tensor(zc, device=dev))
        rows, cols = net.synthesis(wr, noise_r).numpy(), net.synthesis(wc, noise_c).numpy()
        grid = np.full((n_rows + 1, n_cols + 1, *rows.shape[1:]), -1.0, np.float32)
        grid[0, 1:], grid[1:, 0] = cols, rows
        for r in range(n_rows):
            idx = np.full(n_cols, r)
            ws = _mix(wr, wc, idx, coarse)
            noise = [m[tensor(idx, device=dev)] for m in noise_r]  # the row source's stochastic detail
            grid[r + 1, 1:] = net.synthesis(ws, noise).numpy()
    return grid


def _mix(wr, wc, rows: np.ndarray, coarse: int):
    idx = tensor(rows.astype(np.int64), device=wr.device)
    return cat([wr[idx][:, :coarse], wc[:, coarse:]], 1)


def evaluate(data, G, D, variant, config, n, seed, step=None) -> dict:
    """The stylegan model's evaluation: the MNIST figures of n samples at psi = 1 (``mnist_run.evaluate``),
    the truncation sweep on the same noise, and path lengths in w and z."""
    from ..metrics.classifier import load_or_train, stderr_log
    from .mnist_run import evaluate as image_evaluate

    z = np.random.default_rng(seed).standard_normal((n, G.z_dim)).astype(np.float32)
    result = image_evaluate(data, images(G, z))
    if "report" not in result:  # non-finite samples: nothing more to measure
        return result
    clf = load_or_train(data.images, data.labels, dataset=data.name, log=stderr_log)
    sweep = truncation_sweep(G, data, clf, n, seed)
    lengths = {space: path_length(G, clf, space, seed=seed) for space in ("w", "z")}
    result["truncation"], result["path_length"] = sweep, lengths
    result["summary"] += (
        f"; psi 0.7: precision {sweep['0.7']['precision']:.2f} recall {sweep['0.7']['recall']:.2f}; "
        f"path length w {lengths['w']['ppl']:.4g}, z {lengths['z']['ppl']:.4g}"
    )
    result["report"] += "\n" + format_style(sweep, lengths)
    return result


def format_style(sweep: dict, lengths: dict) -> str:
    """The truncation sweep and the path lengths as the lines ``minigan eval`` prints."""
    lines = ["  truncation   precision   recall      FD   class KL"] if sweep else []
    for psi, r in sweep.items():
        lines.append(f"  psi {float(psi):.1f}    {r['precision']:9.3f} {r['recall']:8.3f} "
                     f"{r['frechet_distance']:7.2f} {r['class_kl']:10.4f}")  # fmt: skip
    for space, r in lengths.items():
        lines.append(f"  path length in {space}: {r['ppl']:.4g} +- {r['stderr']:.2g} ({r['n_kept']} of "
                     f"{r['n_pairs']} pairs, eps {r['eps']:g}, end points)")  # fmt: skip
    return "\n".join(lines)
