"""Test configuration: hypothesis profiles, the CUDA-simulator split, and the gpu marker.

- Hypothesis: profile "ci" (the default) is derandomized with bounded examples and no deadline, so a run
  is reproducible and never flaky on a loaded 2-core machine; HYPOTHESIS_PROFILE=dev explores more.
- tests/cudasim/ runs only in its own process with NUMBA_ENABLE_CUDASIM=1 (set before numba is imported);
  the main run leaves it out.
- Tests marked ``gpu`` need CuPy and a real CUDA GPU; without one they are deselected (not counted).
- ``minigan.kernels.tune_process(keep_freed_memory=False)`` first: OpenMP's passive wait policy unless
  set, so Numba's worker threads sleep, not spin, while they wait.
- ``MINIGAN_DATA`` points at a folder of the session for the whole run (``_private_data_root``), so no
  test, whatever the order its fixtures are set up in, reads or writes the user's data cache (the
  evaluation's classifiers, downloads); modules that want their own cache set it again.
- ``chapter_cache``: one folder of executed chapters for the whole session, shared by the notebook tests
  (tests/test_tutorials.py) and the book's site build (tests/docs/), so no chapter runs twice as a notebook.
"""

import os
from pathlib import Path

import matplotlib
import minigan.kernels
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")
# before Numba starts its OpenMP threads, as the training entry points do (this process and, through the
# environment, every one it starts): threads that sleep while they wait, not spin. The suite's arrays are
# small and it runs beside its own subprocesses (chapters, CLI runs, MPI ranks), where spinning workers
# steal the cores: tests/kernels, nn and autograd took 104 s with OpenMP's default policy and 87 s with
# the passive one on this project's 2-core machine, nothing else running. A value set outside is kept;
# malloc is left as it is.
minigan.kernels.tune_process(keep_freed_memory=False)

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CUDASIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
collect_ignore_glob = [] if CUDASIM else ["cudasim/*"]


def pytest_collection_modifyitems(config, items):
    # get_closest_marker, not `"gpu" in item.keywords`: keywords also hold directory names (tests/gpu/)
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    from minigan.backend import cuda_is_available

    if CUDASIM or not cuda_is_available():
        config.hook.pytest_deselected(items=gpu_items)
        items[:] = [item for item in items if item.get_closest_marker("gpu") is None]


@pytest.fixture(scope="session", autouse=True)
def _private_data_root(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINIGAN_DATA", str(tmp_path_factory.mktemp("minigan-data")))
        yield


@pytest.fixture(scope="session")
def chapter_cache(tmp_path_factory):
    """The session's executed-chapter cache (see minigan/docs/chapters.py); ``MINIGAN_CHAPTER_CACHE=DIR``
    keeps it across runs (entries are keyed by chapter and library source, so none is ever stale)."""
    kept = os.environ.get("MINIGAN_CHAPTER_CACHE")
    if kept:
        os.makedirs(kept, exist_ok=True)
        return Path(kept)
    return tmp_path_factory.mktemp("chapter-cache")
