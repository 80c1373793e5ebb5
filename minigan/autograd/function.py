"""Function: one differentiable operation, its forward and its backward side by side.

Chapter 01 (autograd) builds this class. A Function's ``forward`` takes and returns raw arrays (NumPy or
CuPy); its ``backward`` takes the gradients of the outputs as Tensors and returns the gradients of the
inputs as Tensors, written with differentiable ops. That is what makes higher-order gradients work: run
the backward pass with graph recording switched on (``create_graph=True``) and it builds a graph of its
own that can be differentiated again, as DeZero does.

Calling a Function wraps inputs as Tensors, checks they share a device, runs ``forward`` and, when
gradients are being recorded and some input requires one, links the outputs to the Function so that the
engine (``engine.py``) can walk the graph backwards.
"""

from __future__ import annotations

import itertools
import weakref

import numpy as np

from ..backend import DeviceError, array_module, device_of
from .grad_mode import _grad_mode
from .tensor import Tensor, as_tensor

_call_order = itertools.count()  # ties in generation are broken by call order: a deterministic backward


class GraphFreedError(RuntimeError):
    """backward() reached a part of the graph whose saved values were already released."""


class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(*arrays) -> array or tuple of arrays`` and
    ``backward(*gys) -> Tensor, None, or tuple of them`` (one entry per input; None where an input gets no
    gradient). Inside ``backward`` the inputs are ``self.inputs`` (Tensors) and the outputs, when needed,
    ``self.output_tensors()``; anything else kept from forward goes through ``self.save(...)`` so that it is
    released with the graph. ``self.needs_input_grad[i]`` says whether input i needs a gradient, so costly
    gradients can be skipped.
    """

    differentiable = True  # False for ops whose outputs never carry gradients (argmax, comparisons)
    # Which inputs' values backward reads (True: all; a tuple of indices; () for none, as in add or
    # reshape, whose backward needs only shapes). An in-place write to one of them between forward and
    # backward makes backward raise instead of using the changed value.
    saves_inputs = True
    # True when backward reads ``output_tensors()`` as they are (an op of your own, say): then a write into
    # an output after forward makes backward refuse. minigan's tanh / sigmoid / softmax instead recompute an
    # output that was written (ops/activations.py, ``_output``), so they leave this False.
    saves_outputs = False
    cross_device = False  # True only for the op that moves data between devices

    def __call__(self, *inputs):
        tensors = [as_tensor(x) for x in inputs]
        if not self.cross_device:
            _check_same_device(self, tensors)
        arrays = [t.array for t in tensors]
        try:
            ys = self.forward(*arrays)
        except (ValueError, IndexError, TypeError) as err:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise type(err)(f"{self.name}: {err} (input shapes: {shapes})") from err
        single = not isinstance(ys, tuple)
        if single:
            ys = (ys,)
        record = self.differentiable and _grad_mode.enabled and any(t.requires_grad for t in tensors)
        outputs = []
        for i, y in enumerate(ys):
            out = Tensor._from_array(y)
            if getattr(y, "base", None) is not None:  # a view: of an input, it shares its version counter
                _share_version(out, tensors)
            if record and y.dtype.kind == "f":  # integer outputs (max's indices) carry no graph
                out.requires_grad = True
                out.creator = self
                out.output_index = i
            outputs.append(out)
        if record:
            self.inputs = tensors
            self.saved_versions = [t._version_counter[0] for t in tensors]
            self.needs_input_grad = tuple(t.requires_grad for t in tensors)
            self.generation = max(t.generation for t in tensors)
            self.order = next(_call_order)
            for out in outputs:
                out.generation = self.generation + 1
            self._outputs = [weakref.ref(o) for o in outputs]
            self.saved_output_versions = [o._version_counter[0] for o in outputs]
            self.output_meta = [(o.shape, o.dtype) for o in outputs]
            self.released = False
        return outputs[0] if single else tuple(outputs)

    # -- to implement --------------------------------------------------------------------------------
    def forward(self, *xs):
        raise NotImplementedError(f"{self.name}.forward")

    def backward(self, *gys):
        raise NotImplementedError(
            f"{self.name}.backward is not implemented: {self.name} is not differentiable"
        )

    # -- helpers for subclasses -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return type(self).__name__

    def save(self, *values):
        """Keep values from forward for backward; they are released with the graph."""
        self.saved = values

    def output_tensors(self):
        """The output Tensors (None where the user dropped one); for backwards written with outputs."""
        return [ref() for ref in self._outputs]

    def check_versions(self):
        """Raise PyTorch's in-place error if a value backward needs was written after forward saved it."""
        saved = range(len(self.inputs)) if self.saves_inputs is True else self.saves_inputs
        for i in saved:
            x = self.inputs[i]
            if x._version_counter[0] != self.saved_versions[i]:
                raise InplaceModifiedError(
                    _inplace_message(x, f"input {i} of {self.name}", self.saved_versions[i])
                )
        if self.saves_outputs:
            for k, y in enumerate(self.output_tensors()):
                if y is not None and y._version_counter[0] != self.saved_output_versions[k]:
                    where = f"output {k} of {self.name}"
                    raise InplaceModifiedError(_inplace_message(y, where, self.saved_output_versions[k]))

    def release(self):
        """Drop everything kept for backward (called after backward unless ``retain_graph=True``)."""
        self.inputs = None
        self.saved = None
        self.released = True

    def __repr__(self):
        return f"<{self.name}>"


def _share_version(out, tensors):
    """Give ``out`` (whose array is a view) the version counter of the input whose memory it views.

    NumPy keeps ``view.base`` pointing at the array that owns the memory, so a view of input ``a`` has
    ``base is a`` (a owns its data) or ``base is a.base`` (a is itself a view): two identity tests. Other
    array modules get the general, slower overlap test."""
    y = out.array
    base = y.base
    numpy = isinstance(y, np.ndarray)
    for t in tensors:
        a = t.array
        if (
            base is a
            or (base is getattr(a, "base", None))
            or (not numpy and array_module(y).may_share_memory(y, a))
        ):
            out._version_counter = t._version_counter
            return


class InplaceModifiedError(RuntimeError):
    """backward() needs a value that an in-place write changed after the forward pass saved it."""


def _inplace_message(x, where, expected):
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{x.dtype} tensor of shape {x.shape}], which is {where}, is at version {x._version_counter[0]}; "
        f"expected version {expected} instead. Hint: something wrote into it in place (an optimizer "
        "step, fill_, x[...] = v, x.data.*_) after the forward pass; call backward() before that write, "
        "or compute from x.clone()."
    )


def _check_same_device(fn, tensors):
    devices = {device_of(t.array) for t in tensors}
    if len(devices) > 1:
        where = ", ".join(f"input {i} on {device_of(t.array)}" for i, t in enumerate(tensors))
        raise DeviceError(
            f"{fn.name}: expected all tensors on the same device, but found both cpu and cuda ({where}). "
            "Move them with .to(device) first."
        )
