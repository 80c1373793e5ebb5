"""Test configuration: hypothesis profiles, the CUDA-simulator split, and the gpu marker.

- Hypothesis: profile "ci" (the default) is derandomized with bounded examples and no deadline, so a run
  is reproducible and never flaky on a loaded 2-core machine; HYPOTHESIS_PROFILE=dev explores more.
- tests/cudasim/ runs only in its own process with NUMBA_ENABLE_CUDASIM=1 (set before numba is imported);
  the main run leaves it out.
- Tests marked ``gpu`` need CuPy and a real CUDA GPU; without one they are deselected (not counted).
"""

import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

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
