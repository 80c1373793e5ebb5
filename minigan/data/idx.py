"""The IDX file format (MNIST, Fashion-MNIST): read, validate and write. Chapter 08 (DCGAN on MNIST).

An IDX file is a tiny header followed by a C-order array, all big-endian:

    bytes 0-1   0x00 0x00                      (the magic number starts with two zero bytes)
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d (1 for labels, 3 for images)
    4*d bytes   the dimensions, each an unsigned 32-bit big-endian integer (N, then 28, 28 for MNIST)
    the rest    prod(dims) elements of the element type, big-endian, row-major

So MNIST's image file starts ``00 00 08 03 | 00 00 27 10 | 00 00 00 1c | 00 00 00 1c`` (10000 x 28 x 28
uint8) and its label file ``00 00 08 01 | 00 00 27 10`` (10000 uint8). Files usually come gzipped;
``read_idx`` accepts both and tells them apart by gzip's own magic (``1f 8b``), not by the file name.

Every check raises ``IDXError`` with a message that names the file and says what is wrong and what was
expected (a truncated download, an HTML error page saved under a ``.gz`` name, a wrong header), instead of a
NumPy reshape error three calls later.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

# element type byte -> big-endian NumPy dtype
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """An IDX file (or byte string) is truncated, corrupt, or not what was expected."""


def parse_idx(buf: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array stored in the (uncompressed) IDX bytes ``buf``, in native byte order.

    Validates the magic number, the element type, the header length and that the payload holds exactly
    ``prod(dims)`` elements; ``name`` is used in error messages. The result is a fresh, writable array.
    """
    buf = memoryview(buf).cast("B")
    if len(buf) < 4:
        raise IDXError(f"{name}: {len(buf)} bytes is too short for an IDX header (needs at least 4)")
    if buf[0] != 0 or buf[1] != 0:
        hint = " (it looks gzip-compressed; use read_idx)" if bytes(buf[:2]) == GZIP_MAGIC else ""
        raise IDXError(
            f"{name}: bad IDX magic number {bytes(buf[:4]).hex(' ')}: the first two bytes must be 00 00{hint}"
        )
    code, ndim = buf[2], buf[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IDXError(f"{name}: unknown IDX element type 0x{code:02X} (expected one of {known})")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header says 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise IDXError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} header bytes, file has {len(buf)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(buf[4:header], dtype=">u4"))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(buf) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise IDXError(
            f"{name}: IDX payload {what}: header says shape {dims} of {dtype.newbyteorder('=').name} "
            f"({expected} bytes after the {header}-byte header), file has {got}"
        )
    return np.frombuffer(buf[header:], dtype=dtype).astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def decompress(raw: bytes, name: str = "<bytes>") -> bytes:
    """``raw`` gunzipped if it starts with gzip's magic, else unchanged; IDXError on a broken gzip stream."""
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise IDXError(
            f"{name}: corrupt or truncated gzip data ({err}); delete the file and fetch it again"
        ) from err


def read_idx(path, expect_shape: tuple | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a native-order NumPy array.

    ``expect_shape`` optionally checks the dimensions, with None as a wildcard: ``(None, 28, 28)`` for
    MNIST images. Raises FileNotFoundError for a missing file and IDXError for anything malformed.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    array = parse_idx(decompress(raw, path), path)
    if expect_shape is not None:
        check_shape(array, expect_shape, path)
    return array


def check_shape(array: np.ndarray, expect_shape: tuple, name: str) -> None:
    """IDXError unless ``array.shape`` matches ``expect_shape`` (None entries match any length)."""
    ok = len(array.shape) == len(expect_shape) and all(
        e is None or e == s for s, e in zip(array.shape, expect_shape)
    )
    if not ok:
        want = "(" + ", ".join("N" if e is None else str(e) for e in expect_shape) + ")"
        raise IDXError(f"{name}: expected an IDX array of shape {want}, found {array.shape}")


def to_idx_bytes(array) -> bytes:
    """The IDX encoding of ``array`` (uint8, int8, int16, int32, float32 or float64), uncompressed."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(
            f"IDX cannot store dtype {array.dtype}; use one of uint8, int8, int16, int32, float32, float64"
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    if any(d >= 2**32 for d in array.shape):
        raise ValueError(f"IDX dimensions must fit in 32 bits, got {array.shape}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path, array, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file; gzipped when ``compress`` is True or, if None, the name ends in .gz."""
    path = os.fspath(path)
    data = to_idx_bytes(array)
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)
