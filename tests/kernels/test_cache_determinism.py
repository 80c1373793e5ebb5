"""One seed, the same bits: whether Numba compiled the kernels just now or loaded them from its on-disk
cache, and whatever the thread count (kernels/cpu/matmul.py explains the compiler flags that make it so).

Fresh Python processes run the same kernels on the same data: first with an empty ``NUMBA_CACHE_DIR``
(everything is compiled, and cached; two processes side by side, each compiling half of the kernels, since
compiling them is most of this test's time), then one with that now-warm folder (everything is loaded),
then one warm on one thread. Their outputs must agree byte for byte. Covered: the batch-norm
passes (both layouts), the packed convolutions (forward, input and weight gradients) and the blocked
matmul, the kernels of a DCGAN training step.
"""

import os
import subprocess
import sys

import numpy as np

CHILD = """
import sys
import numpy as np
import minigan.kernels as K
from minigan.kernels.cpu import matmul as M

parts = sys.argv[2].split(",")  # of: bn, conv, conv_grads, matmul
rng = np.random.default_rng(0)
f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
out = {}
for name, shape in (("bn2d", (16, 32, 7, 7)), ("bn1d", (16, 600))):
    x, gy, gamma, beta = 3 * f32(*shape) + 1, f32(*shape), f32(shape[1]), f32(shape[1])
    if "bn" in parts:
        with K.use("kernels"):
            y, x_hat, mean, var, invstd = K.batch_norm_forward(x, gamma, beta, 1e-5)
            gx, g_gamma, g_beta = K.batch_norm_backward(gy, x_hat, gamma, invstd, True)
        got = dict(y=y, mean=mean, var=var, gx=gx, g_gamma=g_gamma)
        out.update({f"{name}_{k}": v for k, v in got.items()})
x, w = f32(4, 8, 14, 14), f32(16, 8, 4, 4)
gy = f32(4, 16, 7, 7)
with K.use("kernels"):
    if "conv" in parts:
        out["conv_y"] = K.conv2d(x, w, 2, 1)
    if "conv_grads" in parts:
        out["conv_gx"] = K.conv2d_backward_input(gy, w, x.shape, 2, 1)
        out["conv_gw"] = K.conv2d_backward_weight(x, gy, w.shape, 2, 1)
a, b = f32(70, 600), f32(600, 300)
if "matmul" in parts:
    out["matmul_blocked"] = M.matmul_blocked(a, b)
np.savez(sys.argv[1], **out)
"""


ALL = "bn,conv,conv_grads,matmul"
HALVES = ("conv,bn", "conv_grads,matmul")  # about equal compile times


def _start(path, cache, parts, **env):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), **env)
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), parts], env=env)


def _results(proc, path):
    assert proc.wait(timeout=300) == 0, f"the child for {path.name} failed (its traceback is above)"
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def run_child(path, cache, parts=ALL, **env):
    return _results(_start(path, cache, parts, **env), path)


def test_fresh_compile_warm_cache_and_one_thread_give_the_same_bits(tmp_path):
    cache = tmp_path / "numba-cache"
    paths = [tmp_path / f"fresh{i}.npz" for i in range(len(HALVES))]
    procs = [_start(path, cache, parts) for path, parts in zip(paths, HALVES)]
    fresh = {k: v for proc, path in zip(procs, paths) for k, v in _results(proc, path).items()}
    assert any(cache.rglob("*.nbc")), "the first run should have filled the cache"
    warm = run_child(tmp_path / "warm.npz", cache)
    one_thread = run_child(tmp_path / "one.npz", cache, NUMBA_NUM_THREADS="1")
    assert len(fresh) == 14 and sorted(fresh) == sorted(warm) == sorted(one_thread)
    for label, other in (("warm cache", warm), ("warm cache, 1 thread", one_thread)):
        differ = {
            k: int((a.view(np.uint8) != other[k].view(np.uint8)).sum())
            for k, a in fresh.items()
            if a.tobytes() != other[k].tobytes()
        }
        assert not differ, f"fresh compile vs {label}: bytes differ in {differ}"
