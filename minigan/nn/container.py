"""Containers: Sequential and ModuleList. Chapter 05 (layers and optimizers).

Children are registered under their position as the name ("0", "1", ...), which is where state_dict
keys such as "0.weight" come from.
"""

from __future__ import annotations

from collections import OrderedDict

from .module import Module


class _Positional(Module):
    """What Sequential and ModuleList share: children by position — ``len``, iteration, ``c[i]`` (negative
    indices too; a clear IndexError out of range), ``c[i] = m``, ``c[a:b]`` (a new container sharing the
    modules), ``append`` and ``extend``."""

    def _index(self, idx: int) -> int:
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a {type(self).__name__} of length {n}")
        return idx % n

    def _from_slice(self, items):
        raise NotImplementedError

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._from_slice(list(self._modules.items())[idx])
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules.keys())[self._index(idx)]
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class Sequential(_Positional):
    """``Sequential(*modules)`` or ``Sequential(OrderedDict(name=module))``: calls them in order.
    Supports ``len``, iteration, ``seq[i]``, ``seq[a:b]`` (a new Sequential sharing the modules), append."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def _from_slice(self, items):
        return Sequential(OrderedDict(items))

    def __delitem__(self, idx) -> None:
        keys = list(self._modules.keys())
        for key in keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]:
            del self._modules[key]
        # renumber so that the keys stay 0..n-1, as PyTorch does
        items = list(self._modules.items())
        self._modules.clear()
        for i, (_, module) in enumerate(items):
            self._modules[str(i)] = module

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_Positional):
    """A list of modules whose parameters the parent sees (a plain list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _from_slice(self, items):
        return ModuleList([module for _, module in items])

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
