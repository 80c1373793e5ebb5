"""Every public op of the op families is in the registry (or excluded here, with the reason)."""

import importlib
import inspect

from .registry import REGISTRY

FAMILIES = [
    "elementwise",
    "shape",
    "reduce",
    "activations",
    "indexing",
    "matmul",
    "losses",
    "pad",
    "interpolate",
    "pool",
    "separable",
    "instancenorm",
]

NOT_IN_REGISTRY = {
    "astype": "a float32 round trip cannot be finite-differenced in float64; test_astype_* covers it",
    "to_device": "needs a GPU (cpu -> cpu is the identity)",
    "view": "the same function as reshape",
    "argmax": "not differentiable; test_argmax_and_argmin_match_numpy",
    "argmin": "not differentiable; test_argmax_and_argmin_match_numpy",
    "matmul_arrays": "arrays in, arrays out: the kernel dispatch point, exercised by every matmul test",
    "nearest_matrix": "arrays in, arrays out: the matrix behind interpolate (every interpolate case)",
    "linear_matrix": "arrays in, arrays out: the matrix behind interpolate (every interpolate case)",
    "avg_pool_matrix": "arrays in, arrays out: the matrix behind avg_pool2d (every avg_pool2d case)",
    "pool_output_size": "a size formula, not an op; every pooling case checks the output shape against it",
}


def public_ops():
    names = set()
    for family in FAMILIES:
        module = importlib.import_module(f"minigan.ops.{family}")
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_"):
                names.add(name)
    return names


def test_every_public_op_is_registered():
    covered = {spec.op for spec in REGISTRY}
    missing = public_ops() - covered - set(NOT_IN_REGISTRY)
    assert not missing, f"ops without a registry entry: {sorted(missing)}"


def test_exclusions_are_still_real_ops():
    assert set(NOT_IN_REGISTRY) <= public_ops()
