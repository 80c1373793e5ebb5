"""The backward pass: reverse-mode differentiation over the recorded graph. Chapter 01 (autograd).

Given outputs y and seeds dL/dy, walk the graph of Functions from the outputs back to the leaves, calling
each Function's ``backward`` once, after every Function that consumed its outputs has been processed.
Generation numbers give that order without recursion: a Function's generation is the largest generation
of its inputs, its outputs are one deeper, so sorting the reachable Functions by generation, deepest first,
is a topological order. A chain of 10,000 ops is just a sorted list of 10,000 entries.

Gradients flowing into the same tensor from several consumers are summed (``x * x``, shared
sub-expressions, diamonds). With ``create_graph=True`` the backward runs with graph recording on, so the
gradients are Tensors with a graph of their own and can be differentiated again (WGAN-GP, R1).
Unless ``retain_graph`` is set, each Function drops its saved values once it has run, and a second
backward through it raises ``GraphFreedError``.

Once every leaf's ``.grad`` is written, the leaves' post-accumulate-grad hooks run (in the order their
gradients first arrived, the same on every run), then any callbacks they queued (``hooks.py``):
data-parallel training (chapter 16) averages gradients across processes there.

Cost: one ``backward`` call per Function reached, O(F log F) for the sort.
"""

from __future__ import annotations

from .function import GraphFreedError
from .grad_mode import set_grad_enabled
from .hooks import run_with_callbacks
from .tensor import Tensor, as_tensor


def backward(outputs, grad_outputs=None, retain_graph=False, create_graph=False):
    """Accumulate gradients of ``outputs`` into ``.grad`` of every leaf that requires grad.

    outputs: sequence of Tensors; grad_outputs: sequence of the same length (None entries allowed for
    one-element outputs). ``create_graph`` implies ``retain_graph``.
    """
    roots, seeds = _roots_and_seeds(outputs, grad_outputs, create_graph)
    # leaves' post-accumulate-grad hooks run as their gradients are written, then queued callbacks
    run_with_callbacks(lambda: _run(roots, seeds, retain_graph or create_graph, create_graph, targets=None))


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=False,
):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (``.grad`` untouched).

    ``only_inputs`` is PyTorch's deprecated argument: accepted for old programs, and as in PyTorch it
    changes nothing (only the inputs' gradients are ever computed and returned).

    Mirrors ``torch.autograd.grad``: ``inputs`` may be leaves or intermediate tensors; with
    ``create_graph=True`` the returned gradients are differentiable. An input the outputs do not depend
    on is an error unless ``allow_unused=True``, in which case its gradient is None.
    """
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] does not require grad, so it has no gradient to return")
    roots, seeds = _roots_and_seeds(outputs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _run(roots, seeds, retain_graph, create_graph, targets=inputs)
    for i, g in enumerate(grads):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{i}] (shape {inputs[i].shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return tuple(grads)


def _roots_and_seeds(outputs, grad_outputs, create_graph):
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"got {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    roots, seeds = [], []
    for i, (y, gy) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(
                f"element {i} of the outputs does not require grad and has no creator: nothing to "
                "differentiate (did you build it under no_grad(), or from tensors without requires_grad?)"
            )
        if gy is None:
            if y.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for outputs with one element; this output has "
                    f"shape {y.shape}: pass gradient= (a tensor of shape {y.shape})"
                )
            gy = Tensor._from_array(y.xp.ones(y.shape, dtype=y.dtype))
        else:
            gy = as_tensor(gy)
            if gy.shape != y.shape:
                raise RuntimeError(f"gradient has shape {gy.shape} but the output has shape {y.shape}")
            if not create_graph:
                gy = gy.detach()
        roots.append(y)
        seeds.append(gy)
    return roots, seeds


def _collect_functions(roots):
    """Every Function reachable from the roots, found with an explicit stack (no recursion)."""
    seen = set()
    stack = [r.creator for r in roots if r.creator is not None]
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        if f.released:
            raise GraphFreedError(_FREED_MESSAGE.format(name=f.name))
        seen.add(f)
        for x in f.inputs:
            if x.creator is not None and x.creator not in seen:
                stack.append(x.creator)
    # (generation, call order), not the set's address-dependent order: gradients from several consumers
    # are then always summed in the same order, so a run repeats bit for bit (sums of 3+ floats are not
    # associative)
    return sorted(seen, key=lambda f: (f.generation, f.order), reverse=True)


_FREED_MESSAGE = (
    "trying to backward through the graph a second time: the values {name} saved for backward were "
    "released after the first backward. Pass retain_graph=True to the first backward() if you need to "
    "go through the graph again."
)


def _needed_functions(order, targets):
    """With explicit targets, the Functions that lie on some path to a target (others are skipped)."""
    target_ids = {id(t) for t in targets}
    needed = set()
    for f in reversed(order):  # shallowest first: inputs are decided before their consumers
        if any(id(x) in target_ids or x.creator in needed for x in f.inputs):
            needed.add(f)
    return needed


def _run(roots, seeds, retain_graph, create_graph, targets):
    order = _collect_functions(roots)
    needed = _needed_functions(order, targets) if targets is not None else None
    target_index = {} if targets is None else {id(t): i for i, t in enumerate(targets)}
    captured = [None] * (0 if targets is None else len(targets))
    grads = {}  # Function -> list with one accumulated gradient per output
    leaf_grads = {}  # id(leaf) -> (leaf, accumulated gradient)

    def accumulate(x, gx):
        if x.creator is None:
            if id(x) in leaf_grads:
                gx = leaf_grads[id(x)][1] + gx
            leaf_grads[id(x)] = (x, gx)
        else:
            slots = grads.setdefault(x.creator, [None] * len(x.creator.output_meta))
            k = x.output_index
            slots[k] = gx if slots[k] is None else slots[k] + gx

    with set_grad_enabled(create_graph):
        for y, gy in zip(roots, seeds):
            accumulate(y, gy)
        # a non-leaf target's gradient is complete when its creator comes up in the order
        nonleaf_targets = {}
        for t in targets or ():
            if t.creator is not None:
                nonleaf_targets.setdefault(t.creator, []).append(t)
        for f in order:
            gys = grads.pop(f, None)
            if gys is None:
                continue  # no gradient reached this Function
            for t in nonleaf_targets.get(f, ()):
                captured[target_index[id(t)]] = gys[t.output_index]
            if needed is not None and f not in needed:
                continue
            if f.released:
                raise GraphFreedError(_FREED_MESSAGE.format(name=f.name))
            f.check_versions()
            gys = [
                g if g is not None else Tensor._from_array(f.inputs[0].xp.zeros(shape, dtype=dtype))
                for g, (shape, dtype) in zip(gys, f.output_meta)
            ]
            gxs = _call_backward(f, gys, needed, target_index)
            for i, (x, gx) in enumerate(zip(f.inputs, gxs)):
                if gx is None or not x.requires_grad:
                    continue
                gx = as_tensor(gx)
                if gx.shape != x.shape:
                    raise RuntimeError(
                        f"{f.name}.backward returned a gradient of shape {gx.shape} for input {i}, "
                        f"whose shape is {x.shape}"
                    )
                if gx.dtype != x.dtype:
                    gx = gx.to(dtype=x.dtype)
                accumulate(x, gx)
            if not retain_graph:
                f.release()

    if targets is not None:
        for x, gx in leaf_grads.values():
            if id(x) in target_index:
                captured[target_index[id(x)]] = gx
        return captured
    for x, gx in leaf_grads.values():
        if not x.requires_grad:
            continue
        if not create_graph:
            # own storage: a gradient array may be shared with a sibling's (x + y gives both gy). A leaf
            # with a gradient sink (data-parallel buckets, chapter 16) gives the storage to copy into
            sink = x.__dict__.get("_grad_sink") if x.grad is None else None
            gx = Tensor._from_array(gx.array.copy() if sink is None else sink(gx.array))
        x.grad = gx if x.grad is None else x.grad + gx
    for x, _ in leaf_grads.values():  # after every .grad is written: a hook may read its neighbours'
        hooks = x.__dict__.get("_post_accumulate_hooks")
        if hooks and x.requires_grad:
            for hook in tuple(hooks.values()):
                hook(x)
    return None


def _call_backward(f, gys, needed, target_index):
    """Run ``f.backward`` with ``needs_input_grad`` narrowed to the inputs this pass needs."""
    full_mask = f.needs_input_grad
    if needed is not None:
        f.needs_input_grad = tuple(
            m and (id(x) in target_index or x.creator in needed) for m, x in zip(full_mask, f.inputs)
        )
    try:
        gxs = f.backward(*gys)
    finally:
        f.needs_input_grad = full_mask
    if not isinstance(gxs, (tuple, list)):
        gxs = (gxs,)
    if len(gxs) != len(f.inputs):
        raise RuntimeError(f"{f.name}.backward returned {len(gxs)} gradients for {len(f.inputs)} inputs")
    return gxs
