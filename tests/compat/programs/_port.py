"""What the ports share: identical starting weights in both frameworks.

Framework-agnostic: every helper takes the framework module (``torch``) as an argument, so the same code
runs on PyTorch and on any library with its API. Nothing here is part of the original programs; each
program calls ``same_start`` once per model, right after the program's own initialisation, on a line
marked ``# port:``.
"""

import argparse

import numpy as np

# buffers whose starting values are fixed by the layer (zeros / ones / 0): kept as built
_KEEP = ("running_mean", "running_var", "num_batches_tracked")


def same_start(torch, model, rng, init="default"):
    """Overwrite every parameter of ``model`` with float32 draws from the NumPy generator ``rng``.

    The draws follow the distribution the program's own initialisation has, so the port trains from a
    start like the original's:

    - ``"default"``: PyTorch's layer defaults: Linear / Conv weights and biases U(±1/sqrt(fan_in))
      (what kaiming_uniform_(a=sqrt(5)) gives), a norm layer's weight 1 and bias 0, an Embedding N(0, 1);
    - ``"dcgan"``: the DCGAN ``weights_init``: Conv weights N(0, 0.02²), norm weights N(1, 0.02²), norm
      biases 0, the rest as "default";
    - ``"normal"``: d2l's ``nn.init.normal_(w, 0, 0.02)`` on every parameter.

    Buffers (running_mean / running_var / num_batches_tracked) keep their built values. Drawn in
    state_dict order, through ``load_state_dict`` with tensors.
    """
    kinds = {name: type(m).__name__ for name, m in model.named_modules()}
    state = model.state_dict()
    new = {}
    fan_in = {}
    for key, value in state.items():
        owner, _, leaf = key.rpartition(".")
        if leaf in _KEEP:
            new[key] = value
            continue
        kind = kinds.get(owner, "")
        shape = tuple(value.shape)
        if leaf == "weight" and len(shape) >= 2:
            fan_in[owner] = int(np.prod(shape[1:]))
        if init == "normal":
            arr = rng.normal(0.0, 0.02, shape)
        elif "Norm" in kind:
            if init == "dcgan" and leaf == "weight":
                arr = rng.normal(1.0, 0.02, shape)
            else:
                arr = np.ones(shape) if leaf == "weight" else np.zeros(shape)
        elif "Embedding" in kind:
            arr = rng.normal(0.0, 1.0, shape)
        elif init == "dcgan" and "Conv" in kind and leaf == "weight":
            arr = rng.normal(0.0, 0.02, shape)
        else:
            bound = 1.0 / np.sqrt(fan_in[owner])
            arr = rng.uniform(-bound, bound, shape)
        new[key] = torch.tensor(arr.astype(np.float32))
    model.load_state_dict(new)
    return model


def set_dropout(nn, model, p):
    """Set every Dropout / Dropout2d of ``model`` to probability ``p`` (``None``: leave the program's own)."""
    if p is None:
        return
    for m in model.modules():
        if isinstance(m, (nn.Dropout, nn.Dropout2d)):
            m.p = p


def parse_options(options, argv):
    """argparse over ``options``, a table of (name, type, default) rows, reading ``argv`` (not sys.argv)."""
    parser = argparse.ArgumentParser()
    for name, kind, default in options:
        parser.add_argument("--" + name, type=kind, default=default)
    return parser.parse_args(list(argv))
