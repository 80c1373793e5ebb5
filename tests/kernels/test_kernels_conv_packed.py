"""The packed CPU convolutions (kernels/cpu/conv_packed.py, the default "kernels" family): each of their
paths forced on hypothesis-drawn geometries against the float64 reference, their layout helpers, and
thread-count independence.

The family picks a path by shape (dot-product panels when C*kh*kw >= DOT_MIN, else per-image axpy GEMM;
sub-pixel phases when C >= SUBPIXEL_MIN_C, else per-image GEMM + col2im). The tests set those thresholds
to force every path on every drawn geometry. Error norm: max|out - ref| / max|ref| <= 1e-5 in float32.
"""

import numba
import numpy as np
import pytest
from conv_cases import case, geometry, rel_err
from hypothesis import example, given
from minigan.kernels import dispatch
from minigan.kernels import reference as R
from minigan.kernels.cpu import conv_packed as P

PATHS = {"packed": (1, 1), "fallback": (10**9, 10**9)}  # (DOT_MIN, SUBPIXEL_MIN_C)


def run_passes(g, path, dtype=np.float32):
    """The three passes of the packed family on geometry g, with the path thresholds of ``path``."""
    x, w, gy = case(**g, dtype=dtype)
    saved = P.DOT_MIN, P.SUBPIXEL_MIN_C
    P.DOT_MIN, P.SUBPIXEL_MIN_C = PATHS[path]
    try:
        k = dispatch.conv_kernels("packed")
        s, p = g["stride"], g["padding"]
        out = (
            k["conv2d"](x, w, s, p),
            k["conv2d_backward_input"](gy, w, x.shape, s, p),
            k["conv2d_backward_weight"](x, gy, w.shape, s, p),
        )
    finally:
        P.DOT_MIN, P.SUBPIXEL_MIN_C = saved
    return (x, w, gy), out


def check_against_reference(g, path, tol=1e-5):
    (x, w, gy), (y, gx, gw) = run_passes(g, path)
    s, p = g["stride"], g["padding"]
    x64, w64, gy64 = x.astype(np.float64), w.astype(np.float64), gy.astype(np.float64)
    assert (y.shape, gx.shape, gw.shape) == (gy.shape, x.shape, w.shape)
    assert y.dtype == gx.dtype == gw.dtype == np.float32
    assert rel_err(y, R.conv2d_forward(x64, w64, s, p)) <= tol
    assert rel_err(gx, R.conv2d_backward_input(gy64, w64, x.shape, s, p)) <= tol
    assert rel_err(gw, R.conv2d_backward_weight(x64, gy64, w.shape, s, p)) <= tol


EDGE = [
    dict(n=1, c=1, o=1, h=1, w=1, kh=1, kw=1, stride=(1, 1), padding=(0, 0), seed=0),  # all ones
    dict(n=2, c=3, o=5, h=8, w=8, kh=4, kw=4, stride=(2, 2), padding=(1, 1), seed=1),  # DCGAN geometry
    dict(n=2, c=2, o=3, h=8, w=7, kh=2, kw=1, stride=(3, 3), padding=(0, 1), seed=2),  # stride > kernel
    dict(n=1, c=2, o=2, h=7, w=9, kh=3, kw=2, stride=(2, 3), padding=(2, 0), seed=3),  # unequal, ragged
    dict(n=3, c=1, o=6, h=6, w=6, kh=6, kw=6, stride=(3, 3), padding=(2, 2), seed=4),  # kernel > input
    dict(n=1, c=4, o=3, h=9, w=5, kh=3, kw=3, stride=(2, 2), padding=(0, 0), seed=5),  # rows no window reads
]


@pytest.mark.parametrize("path", PATHS)
@given(g=geometry(max_side=10, max_n=5, max_c=6, max_o=6))
@example(g=EDGE[0])
@example(g=EDGE[1])
@example(g=EDGE[2])
@example(g=EDGE[3])
@example(g=EDGE[4])
@example(g=EDGE[5])
def test_every_path_matches_reference(path, g):
    check_against_reference(g, path)


@pytest.mark.parametrize("path", PATHS)
def test_blocks_of_16_and_their_remainders(path):
    """17 images and 18 channels: the 16-wide transposes run one full block and a remainder, the GEMMs
    have ragged 4 x 4 tiles, and a DCGAN-like layer gives every path long dot products."""
    g = dict(n=17, c=18, o=7, h=10, w=9, kh=4, kw=4, stride=(2, 2), padding=(1, 1), seed=6)
    check_against_reference(g, path)


def test_float64_in_float64_out():
    g = dict(n=2, c=5, o=6, h=7, w=6, kh=3, kw=3, stride=(2, 1), padding=(1, 1), seed=7)
    (x, w, gy), (y, gx, gw) = run_passes(g, "packed", dtype=np.float64)
    s, p = g["stride"], g["padding"]
    assert y.dtype == gx.dtype == gw.dtype == np.float64
    assert rel_err(y, R.conv2d_forward(x, w, s, p)) <= 1e-12
    assert rel_err(gx, R.conv2d_backward_input(gy, w, x.shape, s, p)) <= 1e-12
    assert rel_err(gw, R.conv2d_backward_weight(x, gy, w.shape, s, p)) <= 1e-12


def test_one_thread_and_two_give_the_same_bits():
    """Threads split positions, phases' pixels and weight-gradient columns: no sum is split across
    threads, so the result does not depend on the thread count."""
    g = dict(n=5, c=8, o=6, h=8, w=8, kh=4, kw=4, stride=(2, 2), padding=(1, 1), seed=8)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        _, one = run_passes(g, "packed")
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        _, two = run_passes(g, "packed")
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_nhwc_padded_and_transpose_rows():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 19, 4, 5)).astype(np.float32)
    xh = P.nhwc_padded(x, 2, 1, 7, 8)
    want = np.zeros((3, 7, 8, 19), np.float32)
    want[:, 2:6, 1:6, :] = x.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(xh, want)
    a = rng.standard_normal((21, 6)).astype(np.float32)
    out = np.zeros((6, 21), np.float32)
    P.transpose_rows(a, out, 21)
    np.testing.assert_array_equal(out, a.T)


@pytest.mark.parametrize("k", [1, 16, 1000, 1024, 3136])
def test_lead_pads_rows_off_the_4k_stride(k):
    ld = P.lead(k)
    assert ld >= k and ld % 16 == 0 and (ld // 16) % 2 == 1 and ld - k < 48


def test_phase_planes_rows_are_the_taps_numbers():
    """xs[c, a % sh, b, (a // sh)*Wo*N : ...] holds, for every position (i, j, n), xpad[n, c, i*sh + a,
    j*sw + b]: the row of the transposed patch matrix for tap (c, a, b)."""
    rng = np.random.default_rng(10)
    n, c, h, w, kh, kw, (sh, sw), (ph, pw) = 3, 2, 7, 6, 4, 3, (2, 2), (1, 1)
    x = rng.standard_normal((n, c, h, w))
    ho, wo = R.conv_output_size(h, w, kh, kw, (sh, sw), (ph, pw))
    xs = P.phase_planes(x, kh, kw, sh, sw, ph, pw, ho, wo)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    for cc in range(c):
        for a in range(kh):
            for b in range(kw):
                start = (a // sh) * wo * n
                row = xs[cc, a % sh, b, start : start + ho * wo * n].reshape(ho, wo, n)
                want = xpad[:, cc, a : a + sh * ho : sh, b : b + sw * wo : sw].transpose(1, 2, 0)
                np.testing.assert_array_equal(row, want)
