"""The ported programs set process-wide switches (``cudnn.benchmark = True``, as their originals do);
each test puts them back, so later tests see minigan's defaults."""

import pytest

import minigan


@pytest.fixture(autouse=True)
def _restore_backend_switches():
    cudnn, matmul = minigan.backends.cudnn, minigan.backends.cuda.matmul
    names = ("benchmark", "deterministic", "enabled", "allow_tf32")
    saved = {n: getattr(cudnn, n) for n in names}, matmul.allow_tf32
    yield
    for n, v in saved[0].items():
        setattr(cudnn, n, v)
    matmul.allow_tf32 = saved[1]
