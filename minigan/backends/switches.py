"""On/off switches that PyTorch scripts set and minigan accepts without acting on. Chapter 01 (devices).

``SwitchModule`` is a module whose listed attributes are switches: setting one to a non-bool, or setting
a name that is not a switch (a typo such as ``cudnn.benchmak``), raises one line naming it, so a script
cannot believe it changed something it did not. ``Switches`` is the same for a plain object
(``minigan.backends.cuda.matmul``).
"""

from __future__ import annotations

import types

import numpy as np


class _Checked:
    __slots__ = ()  # a mixin: adds no storage, so a module's class can be swapped for SwitchModule
    _switches: tuple = ()
    _where = ""

    def __setattr__(self, name, value):
        if name in self._switches:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{self._where}.{name} must be True or False, got {value!r}")
            value = bool(value)
        elif not name.startswith("_"):
            raise AttributeError(
                f"{self._where} has no setting {name!r}; it has {', '.join(self._switches)} (none of which "
                f"changes what minigan computes)"
            )
        super().__setattr__(name, value)


class SwitchModule(_Checked, types.ModuleType):
    """Give a module this class (``sys.modules[__name__].__class__ = ...``) after its switches are set."""


class Switches(_Checked):
    """An object holding switches: a subclass sets ``_switches``, ``_where``, and ``__slots__`` to the
    switches' names."""

    __slots__ = ()

    def __init__(self, **defaults):
        for name, value in defaults.items():
            setattr(self, name, value)

    def __repr__(self):
        return f"{self._where}({', '.join(f'{n}={getattr(self, n)}' for n in self._switches)})"
