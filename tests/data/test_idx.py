"""IDX reading and writing (minigan.data.idx): round trips, and clear errors for every kind of damage."""

import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigan.data.idx import IDXError, parse_idx, read_idx, to_idx_bytes, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]

arrays = st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(
        dt,
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
        elements=hnp.from_dtype(np.dtype(dt), allow_nan=False),
    )
)


@given(arrays)
def test_round_trip_bytes(a):
    b = parse_idx(to_idx_bytes(a))
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(b, a)
    assert b.flags.writeable and b.dtype.isnative


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_file(tmp_path, compress):
    a = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4) - 7
    path = tmp_path / ("x.idx.gz" if compress else "x.idx")
    write_idx(path, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    np.testing.assert_array_equal(read_idx(path, expect_shape=(None, 3, 4)), a)


def test_header_layout_matches_mnist():
    images = np.zeros((10000, 28, 28), np.uint8)
    assert to_idx_bytes(images)[:16].hex() == "00000803000027100000001c0000001c"
    assert to_idx_bytes(np.zeros(10000, np.uint8))[:8].hex() == "0000080100002710"


def test_big_endian_payload():
    assert to_idx_bytes(np.array([1, 258], np.int32))[8:] == bytes([0, 0, 0, 1, 0, 0, 1, 2])
    np.testing.assert_array_equal(parse_idx(bytes.fromhex("00000b01 00000002 0102 fffe")), [258, -2])


@given(arrays.filter(lambda a: a.size > 0), st.data())
def test_truncated_payload_is_named(a, data):
    buf = to_idx_bytes(a)
    cut = data.draw(st.integers(0, len(buf) - 1))
    with pytest.raises(IDXError, match="truncated|too short"):
        parse_idx(buf[:cut], "cut.idx")


def test_trailing_bytes():
    with pytest.raises(IDXError, match=r"trailing bytes.*shape \(3,\)"):
        parse_idx(to_idx_bytes(np.zeros(3, np.uint8)) + b"\x00", "extra.idx")


def test_bad_magic_and_type():
    good = to_idx_bytes(np.zeros((2, 2), np.uint8))
    with pytest.raises(IDXError, match="magic number 01 00 08 02"):
        parse_idx(b"\x01" + good[1:], "m.idx")
    with pytest.raises(IDXError, match="unknown IDX element type 0x07"):
        parse_idx(good[:2] + b"\x07" + good[3:])
    with pytest.raises(IDXError, match="0 dimensions"):
        parse_idx(b"\x00\x00\x08\x00")
    with pytest.raises(IDXError, match="gzip-compressed"):
        parse_idx(gzip.compress(good))


def test_expect_shape(tmp_path):
    write_idx(tmp_path / "a.idx", np.zeros((4, 28, 27), np.uint8))
    with pytest.raises(IDXError, match=r"expected an IDX array of shape \(N, 28, 28\), found \(4, 28, 27\)"):
        read_idx(tmp_path / "a.idx", expect_shape=(None, 28, 28))


def test_corrupt_and_truncated_gzip(tmp_path):
    gz = gzip.compress(to_idx_bytes(np.arange(1000, dtype=np.int32)))
    (tmp_path / "short.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(IDXError, match=r"short\.gz: corrupt or truncated gzip"):
        read_idx(tmp_path / "short.gz")
    bad = bytearray(gz)
    bad[len(bad) // 2] ^= 0xFF
    (tmp_path / "flip.gz").write_bytes(bytes(bad))
    with pytest.raises(IDXError):
        read_idx(tmp_path / "flip.gz")
    (tmp_path / "page.gz").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(IDXError, match="bad IDX magic"):
        read_idx(tmp_path / "page.gz")


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_crash_otherwise(buf):
    """Any byte string either parses into an array whose size matches the length, or raises IDXError."""
    try:
        a = parse_idx(buf)
    except IDXError:
        return
    assert 4 + 4 * a.ndim + a.nbytes == len(buf)


@given(arrays, st.data())
def test_header_corruption_detected_or_consistent(a, data):
    buf = bytearray(to_idx_bytes(a))
    i = data.draw(st.integers(0, 4 + 4 * a.ndim - 1))
    buf[i] ^= data.draw(st.integers(1, 255))
    try:
        b = parse_idx(bytes(buf))
    except IDXError:
        return
    # the only corruptions that parse are ones that keep the byte count consistent (e.g. a dtype swap of
    # equal item size, or dims permuted to the same product)
    assert b.nbytes == a.nbytes


def test_unwritable_dtypes():
    with pytest.raises(TypeError, match="IDX cannot store dtype int64"):
        to_idx_bytes(np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        to_idx_bytes(np.float32(1.0))
