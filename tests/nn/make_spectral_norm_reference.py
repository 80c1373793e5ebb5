"""Writes tests/nn/spectral_norm_reference.json: PyTorch's spectral_norm on a few small layers.

Run by hand, from the repository root, where PyTorch is installed (CI never imports torch):

    python tests/nn/make_spectral_norm_reference.py

Per case (a layer, its spectral_norm arguments, an input x and a cotangent g, all float64) it records the
state_dict right after ``spectral_norm`` (keys in order and values), then, after 1 and after 3 training
forwards: the state_dict, ``module.weight`` and the output; after the first also the gradient of
sum(g * y) with respect to weight_orig; then one eval-mode forward; then ``remove_spectral_norm``'s
weight and keys. tests/nn/test_spectral_norm.py loads the initial state into minigan's layer and replays
the same steps.
"""

import json
import os
import platform
import re

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spectral_norm_reference.json")

CASES = {
    "linear": ("Linear", [4, 3], {}, {}, [2, 4]),
    "linear_nobias_dim1_3iters": (
        "Linear",
        [5, 3],
        {"bias": False},
        {"n_power_iterations": 3, "dim": 1},
        [2, 5],
    ),
    "conv2d": ("Conv2d", [2, 3, 3], {"stride": 1, "padding": 1}, {}, [2, 2, 4, 4]),
    "conv_transpose2d": ("ConvTranspose2d", [3, 2, 3], {"stride": 2, "padding": 1}, {}, [2, 3, 3, 3]),
}


def as_list(t):
    return t.detach().cpu().numpy().tolist()


def state(module):
    return {k: as_list(v) for k, v in module.state_dict().items()}


def main():
    import torch
    from torch import nn
    from torch.nn.utils import remove_spectral_norm, spectral_norm

    torch.manual_seed(0)
    cases = {}
    for name, (layer, args, kwargs, sn_kwargs, x_shape) in CASES.items():
        m = getattr(nn, layer)(*args, **kwargs).double()
        spectral_norm(m, **sn_kwargs)
        x = torch.randn(*x_shape, dtype=torch.float64)
        case = {"layer": layer, "args": args, "kwargs": kwargs, "spectral_norm": sn_kwargs}
        case["keys"] = list(m.state_dict())
        case["init"] = state(m)
        case["x"] = as_list(x)
        m.train()
        y = m(x)
        g = torch.randn_like(y)
        (y * g).sum().backward()
        case["g"] = as_list(g)
        case["after_1"] = {"state": state(m), "weight": as_list(m.weight), "y": as_list(y)}
        case["after_1"]["grad_weight_orig"] = as_list(m.weight_orig.grad)
        for _ in range(2):
            y = m(x)
        case["after_3"] = {"state": state(m), "weight": as_list(m.weight), "y": as_list(y)}
        m.eval()
        y = m(x)
        case["eval"] = {"state": state(m), "weight": as_list(m.weight), "y": as_list(y)}
        remove_spectral_norm(m)
        case["removed"] = {"keys": list(m.state_dict()), "weight": as_list(m.weight)}
        cases[name] = case
    doc = {
        "about": "torch.nn.utils.spectral_norm on small float64 layers, by make_spectral_norm_reference.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cases": cases,
    }
    text = json.dumps(doc, indent=1)
    # one line per innermost list: small and diff-friendly
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
