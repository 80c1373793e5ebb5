"""Every CUDA kernel compiles to PTX for an H100 (compute capability 9.0) - no GPU needed.

The simulator (tests/cudasim) checks the arithmetic but accepts code the real compiler rejects, so each
kernel is also compiled here with ``numba.cuda.compile_ptx``, in the main (non-simulator) test process.
That needs libNVVM + libdevice (/usr/local/cuda, or the pip wheels listed in kernels/cuda/ptx.py). Without
them the tests are skipped with the reason (pytest -ra shows it); they never pass vacuously. They live
outside tests/gpu because conftest deselects every test whose keywords include "gpu", directory included.

Besides compiling, the PTX is checked for what the docstrings claim: register-blocked kernels keep their
accumulators in registers (no local memory), do tm*tn FMAs per tm+tn shared loads, the double-buffered
kernel needs one barrier per k-step, and only the split-K weight gradient uses atomics.
"""

import os
import re

import numpy as np
import pytest
from minigan.kernels.cuda import ptx as P

pytestmark = pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="PTX compilation needs the real numba.cuda"
)


@pytest.fixture(scope="module")
def compiled():
    problem = P.toolchain_problem(P.H100)
    if problem:
        pytest.skip(f"no NVVM toolchain to compile PTX with ({problem})")
    return P.compile_all(P.H100, np.float32)


def test_every_kernel_compiles_for_sm90(compiled):
    assert set(compiled) == set(P.kernels(np.float32))
    for name, text in compiled.items():
        assert ".target sm_90" in text, name
        assert ".visible .entry" in text, name
        s = P.stats(text)
        assert s["fma"] > 0, name
        assert s["local_bytes"] == 0, f"{name} spills {s['local_bytes']} bytes to local memory"


def test_register_blocking_shows_in_the_instruction_mix(compiled):
    tiled, blocked, prefetch = (P.stats(compiled[f"matmul_{k}"]) for k in ("tiled", "blocked", "prefetch"))
    assert tiled["fma"] * 2 == tiled["ld.shared"]  # tiled: two shared loads per FMA
    for s in (blocked, prefetch):  # 8x8 per thread: 64 FMAs per 8 + 8 shared loads
        assert s["fma"] == 4 * s["ld.shared"]
    assert tiled["bar.sync"] == 2 and blocked["bar.sync"] == 2
    assert prefetch["bar.sync"] == 1  # double buffering: one barrier per k-step


def test_inner_loops_have_no_index_wraparound_overhead(compiled):
    """Between the two barriers of a k-step lies the shared-memory loop. With unsigned indices its loads
    take immediate offsets: measured 8 integer instructions per 64 FMAs in matmul_blocked (63 with signed
    indices) and 23 per 32 in conv2d (35 per 16 with signed indices)."""
    for name, max_int_per_fma in (("matmul_blocked", 0.25), ("conv2d", 1.0)):
        body = compiled[name].split("bar.sync")[1]
        fma = len(re.findall(r"\bfma\.rn\.f32", body))
        integer = len(re.findall(r"\b(?:add|sub|shl|and|selp|mul)\.[su]?\d*", body))
        assert fma > 0 and integer <= max_int_per_fma * fma, (name, fma, integer)


def test_only_split_k_uses_atomics(compiled):
    for name, text in compiled.items():
        atomics = P.stats(text)["atomics"]
        assert (atomics > 0) == name.endswith("_splitk"), (name, atomics)


def test_float64_kernels_compile(compiled):
    kernels = P.kernels(np.float64)
    for name in ("matmul_blocked", "conv2d_backward_weight_splitk"):
        text = P.compile_kernel(*kernels[name], cc=P.H100)
        assert ".target sm_90" in text and "fma.rn.f64" in text, name


def test_command_line_writes_ptx_files(compiled, tmp_path, capsys):
    assert P.main(["--cc", "9.0", "--out", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.ptx")) == sorted(compiled)
    assert "matmul_blocked" in capsys.readouterr().out
