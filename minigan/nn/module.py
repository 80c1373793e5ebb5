"""Module: the base class of every layer and model. Chapter 05 (layers and optimizers).

A Module is a container of state with a ``forward``. Assigning an attribute sorts it by type, as in
PyTorch: a ``Parameter`` goes into ``_parameters`` (learned, returned by ``parameters()``), a Module
into ``_modules`` (a child, so models nest), a Tensor given to ``register_buffer`` into ``_buffers``
(state that is saved but not learned, such as batch norm's running statistics). Everything else that
the recursive methods do - ``parameters()``, ``train()`` / ``eval()``, ``state_dict()``, ``to(device)``
- is a walk over that tree.

``state_dict()`` names every parameter and persistent buffer by its dotted path ("0.weight",
"1.running_mean", "1.num_batches_tracked"), the same keys PyTorch uses for the same model, and its values
convert losslessly to NumPy arrays (``np.asarray(v)``), so weights move between minigan and PyTorch in
both directions. ``load_state_dict`` copies values in place, so optimizers that hold the parameters keep
working.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.hooks import RemovableHandle
from ..autograd.tensor import Tensor
from ..backend import device_of, is_cupy_array, normalize_device
from ..backend import to_device as _array_to_device
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` found: keys the model has but the dict lacks, and the other way round."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class for layers and models: subclass it, assign parameters, buffers and sub-modules as
    attributes in ``__init__``, and write ``forward``. Calling the module calls ``forward``."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        # .get: a subclass that never called Module.__init__ still works, as it did before hooks existed
        hooks = self.__dict__.get("_forward_pre_hooks")
        if hooks:
            for hook in tuple(hooks.values()):  # a snapshot: a hook may remove itself (or others)
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``, as PyTorch does; ``args`` is the tuple of
        positional arguments (keyword arguments go to forward untouched). The hook may return None (keep
        the arguments) or replacement arguments: a tuple, or one value that becomes a 1-tuple. Hooks run in
        the order they were registered. Returns a handle whose ``.remove()`` unregisters the hook.
        Spectral normalisation (``nn.utils.spectral_norm``) is such a hook: it recomputes the weight."""
        if not callable(hook):
            raise TypeError(f"forward pre-hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.get("_forward_pre_hooks")
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, "_forward_pre_hooks", hooks)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # -- registration --------------------------------------------------------------------------------
    def _state(self, name):
        d = self.__dict__.get(name)
        if d is None:
            raise AttributeError(f"cannot assign to {type(self).__name__} before Module.__init__() call")
        return d

    def __setattr__(self, name, value):
        params, buffers, modules = (self.__dict__.get(k) for k in ("_parameters", "_buffers", "_modules"))
        if isinstance(value, Parameter):
            params = self._state("_parameters")
            self.__dict__.pop(name, None)
            buffers.pop(name, None)
            modules.pop(name, None)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}' (Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            modules = self._state("_modules")
            self.__dict__.pop(name, None)
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module '{name}' (Module or None expected)"
                )
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer '{name}' (Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers and children live in the dicts
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, {}):
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'{kind} name can\'t contain "." and can\'t be empty, got "{name}"')
        if hasattr(self, name) and name not in self.__dict__.get(
            {"parameter": "_parameters", "buffer": "_buffers", "module": "_modules"}[kind], {}
        ):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, as for ``bias=False``) under ``name``."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} as parameter '{name}' (Parameter expected)"
            )
        self._state("_parameters")[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that ``state_dict`` saves (if ``persistent``) and ``to`` moves; not learned."""
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__} as buffer '{name}' (Tensor or None expected)"
            )
        self._state("_buffers")[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what attribute assignment does, for computed names)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._state("_modules")[name] = module

    register_module = add_module

    # -- walking the tree ---------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module and every descendant, parents first, each once."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """(dotted name, Parameter) pairs, each shared parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        """Every Parameter of this module and (``recurse``) its descendants, each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every child (recursively) and then on self; returns self.
        Typical use: custom initialisation, ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -----------------------------------------------------------------------------
    def train(self, mode: bool = True):
        """Set training mode (batch norm uses batch statistics, dropout drops) on self and descendants."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        """Switch gradient tracking of every parameter (freeze a model with ``requires_grad_(False)``)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: ``grad = None`` (default) or a fresh zero tensor."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:  # a new array: the old one may be shared with another tensor's gradient
                p.grad = Tensor._from_array(p.xp.zeros_like(p.grad.array))

    # -- state_dict ---------------------------------------------------------------------------------------
    def _own_state(self):
        for name, p in self._parameters.items():
            if p is not None:
                yield name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield name, b

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """OrderedDict of dotted name -> Tensor for every parameter and persistent buffer, in PyTorch's
        order (a module's parameters, then its buffers, then its children). Values share memory with the
        module and are detached unless ``keep_vars``; ``np.asarray(value)`` gives the NumPy array."""
        destination = OrderedDict() if destination is None else destination
        for name, value in self._own_state():
            destination[prefix + name] = value if keep_vars else value.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` (name -> Tensor, NumPy/CuPy array, or anything ``np.asarray``
        takes, e.g. a torch tensor) into this module's parameters and buffers, in place, converting to
        each one's dtype and device. Shape mismatches are always an error; with ``strict`` (the default),
        missing and unexpected keys are too. Returns (missing_keys, unexpected_keys)."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        expected = OrderedDict()
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            for name, value in module._own_state():
                expected[module_prefix + ("." if module_prefix else "") + name] = value
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in expected]
        errors = []
        for key, target in expected.items():
            if key not in state_dict:
                continue
            source = _as_array(state_dict[key])
            if tuple(source.shape) != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(source.shape)} from "
                    f"checkpoint, the shape in current model is {target.shape}."
                )
                continue
            with no_grad():
                target.array[...] = _array_to_device(source, target.device).astype(target.dtype, copy=False)
                target._bump_version()
        if strict:
            if unexpected:
                errors.insert(
                    0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                )
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            )
        return IncompatibleKeys(missing, unexpected)

    # -- devices and dtypes -------------------------------------------------------------------------------
    def _apply(self, fn):
        """Replace the array of every parameter, gradient and buffer with ``fn(array)``, keeping the
        Parameter objects (so an optimizer built earlier still holds them)."""
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None:
                        continue
                    new = fn(t.array)
                    if new is not t.array:
                        t.array = new
                        t._bump_version()
                    if t.grad is not None:
                        t.grad = Tensor._from_array(fn(t.grad.array))
        return self

    def to(self, device=None, dtype=None):
        """Move parameters and buffers to ``device`` ('cpu' / 'cuda') and/or cast their floating-point
        values to ``dtype``; in place, returns self. ``model.to(np.float64)`` works too."""
        if isinstance(device, (type, np.dtype)) or (isinstance(device, str) and device.startswith("float")):
            device, dtype = None, device
        target = None if device is None else normalize_device(device)
        dtype = None if dtype is None else np.dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating-point dtypes, got {dtype}")

        def convert(a):
            if target is not None and device_of(a) != target:
                a = _array_to_device(a, target)
            if dtype is not None and a.dtype.kind == "f" and a.dtype != dtype:
                a = a.astype(dtype)
            return a

        return self._apply(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    # -- printing ---------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its constructor arguments)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def __dir__(self):
        keys = list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(keys))


def _indent(text: str, n: int) -> str:
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else lines[0] + "\n" + "\n".join(" " * n + ln for ln in lines[1:])


def _as_array(value):
    """The array inside a state_dict value: Tensor -> its data; CuPy stays CuPy; else np.asarray."""
    if isinstance(value, Tensor):
        return value.array
    if is_cupy_array(value):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu()
    return np.asarray(value)


__all__ = ["IncompatibleKeys", "Module", "RemovableHandle"]
