"""Shared convolution test cases for tests/kernels: the error norm, seeded data for a geometry, and the
hypothesis strategy that draws geometries (every size valid: the kernel fits the padded input)."""

import numpy as np
from hypothesis import strategies as st
from minigan.kernels import reference as R


def rel_err(out, ref):
    """max|out - ref| / max|ref| (the norm the kernels are held to: <= 1e-5 in float32)."""
    return float(np.max(np.abs(out - ref)) / max(np.max(np.abs(ref)), 1e-30))


def case(n, c, o, h, w, kh, kw, stride, padding, seed, dtype=np.float32):
    """Seeded x (n, c, h, w), weight (o, c, kh, kw) and output gradient gy for one geometry."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c, kh, kw)).astype(dtype)
    ho, wo = R.conv_output_size(h, w, kh, kw, stride, padding)
    gy = rng.standard_normal((n, o, ho, wo)).astype(dtype)
    return x, wt, gy


@st.composite
def geometry(draw, max_side=9, max_n=3, max_c=4, max_o=5):
    """A conv geometry dict (the keyword arguments of ``case``): sides 1..max_side, kernels up to 5 that
    fit the padded input, strides 1-3 and paddings 0-2 per axis."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    return dict(
        n=draw(st.integers(1, max_n)),
        c=draw(st.integers(1, max_c)),
        o=draw(st.integers(1, max_o)),
        h=h,
        w=w,
        kh=draw(st.integers(1, min(5, h + 2 * ph))),
        kw=draw(st.integers(1, min(5, w + 2 * pw))),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=(ph, pw),
        seed=draw(st.integers(0, 2**31)),
    )
