"""gradcheck and gradgradcheck: compare autograd's gradients with finite differences. Chapter 02.

The method (the same one ``gradcheck`` documents below) in one paragraph. Let ``f`` map the inputs to
outputs ``y_1 .. y_m``. Draw one random cotangent ``v_k`` (standard normal, seeded) per output and form the
scalar ``s(x) = sum_k <v_k, y_k(x)>``. Its gradient is the vector-Jacobian product ``J^T v``, which is exactly
what one ``autograd.grad(outputs, inputs, grad_outputs=v)`` call returns (the *analytic* side). The
*numeric* side perturbs each input element by ``+-eps`` and takes the float64 central difference
``(s(x + eps e_j) - s(x - eps e_j)) / (2 eps)``, whose error is O(eps^2) plus rounding O(u |s| / eps). Every
element of every differentiable input is compared (a seeded random subset for inputs over
``max_elements``).

Why one random cotangent cannot miss a wrong gradient: if autograd's Jacobian ``A`` differs from the true
``J`` in column j (input element j), the error seen at element j is ``(A - J)[:, j] . v``, a non-zero
linear function of ``v``; it vanishes only on a hyperplane, a set of probability zero for a Gaussian ``v``.
So a wrong column is caught with probability one, at the cost of one backward pass instead of one per
output element (a full Jacobian). Large and small entries alike are in the sum, and because ``v`` is
random, errors in different output entries cannot conspire to cancel except by that measure-zero accident.
What *can* hide an error is the tolerance: a gradient off by less than ``atol + rtol |numeric|`` passes.

float64 only: with float32 (unit roundoff u = 6e-8) the rounding error u |s| / eps of a central difference
is about 0.06 |s| at eps = 1e-6, so the numeric side would be noise; at a float32-friendly eps = 1e-3 the
truncation error eps^2 |f'''| would swamp ``rtol = 1e-3``. float64 (u = 1.1e-16) leaves both near 1e-10.
"""

from __future__ import annotations

import numpy as np

from ..autograd import engine
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor
from ..backend import as_numpy

DEFAULT_MAX_ELEMENTS = 2048


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference one (or has the wrong shape)."""


def gradcheck(
    fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, max_elements=None, seed: int = 0
) -> bool:
    """Check autograd's first derivatives of ``fn`` against float64 central differences; True or raise.

    fn: takes the ``inputs`` as positional arguments and returns a Tensor or a tuple of Tensors (integer
        or boolean outputs, like ``max``'s indices, are ignored).
    inputs: a Tensor or a sequence. Tensors with ``requires_grad=True`` are checked and must be float64;
        anything else (constant tensors, integer targets, Python numbers) is passed through unchanged.
    eps: half-width of the central difference. atol, rtol: element j passes when
        ``|analytic_j - numeric_j| <= atol + rtol * |numeric_j|``.
    max_elements: how many elements of each input to perturb (default: all of them, up to 2048); larger
        inputs are checked on a random subset drawn from ``seed``, which also draws the cotangents.

    Method: compares vector-Jacobian products ``J^T v`` for seeded random cotangents ``v`` (one per
    output) -- see the module docstring for why this cannot miss a wrong Jacobian column. Also checks that
    each gradient has its input's shape. Cost: one backward pass plus two calls of ``fn`` per checked
    element. Raises ``GradcheckError`` naming the input index, the element index, the analytic and the
    numeric value and the tolerance; TypeError for float32 (or other non-float64) inputs or outputs.
    """
    inputs = _as_list(inputs)
    checked = _checked_inputs(inputs, "gradcheck")
    rng = np.random.default_rng(seed)
    limit = DEFAULT_MAX_ELEMENTS if max_elements is None else int(max_elements)

    outputs = _call(fn, inputs)
    float_out = [k for k, y in enumerate(outputs) if y.dtype.kind == "f"]
    for k in float_out:
        if outputs[k].dtype != np.float64:
            raise TypeError(
                f"gradcheck: output {k} has dtype {outputs[k].dtype}; with float64 inputs fn must return "
                "float64 outputs, or finite differences lose their precision (see the module docstring)"
            )
    cotangents = {k: outputs[k].xp.asarray(rng.standard_normal(outputs[k].shape)) for k in float_out}
    analytic = _vjp(outputs, cotangents, [inputs[i] for i in checked])

    for slot, i in enumerate(checked):
        x = inputs[i]
        g = analytic[slot]
        if g is not None and tuple(g.shape) != x.shape:
            raise GradcheckError(
                f"gradcheck: the gradient of input {i} has shape {tuple(g.shape)} but the input has shape "
                f"{x.shape}"
            )
        g = np.zeros(x.shape) if g is None else as_numpy(g.array).astype(np.float64)
        _compare_input(fn, inputs, i, g, cotangents, eps, atol, rtol, _pick(x.array.size, limit, rng), seed)
    return True


def gradgradcheck(
    fn,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements=None,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> autograd.grad(fn(inputs), inputs,
    grad_outputs, create_graph=True)``; True or raise ``GradcheckError``.

    That map is linear in ``grad_outputs`` and its derivative with respect to the inputs is a
    Hessian-vector product, so a double backward that is wrong (say, a backward that treats a value
    depending on the input as a constant) is caught. ``grad_outputs`` (one float64 tensor per
    differentiable output) defaults to seeded standard-normal tensors; they are checked too. In error
    messages, inputs numbered from ``len(inputs)`` on are the grad_outputs.
    """
    inputs = _as_list(inputs)
    checked = _checked_inputs(inputs, "gradgradcheck")
    outputs = _call(fn, inputs)
    roots = [k for k, y in enumerate(outputs) if y.dtype.kind == "f" and y.requires_grad]
    if not roots:
        raise ValueError("gradgradcheck: no output of fn requires grad, so there is nothing to differentiate")
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [
            Tensor._wrap(outputs[k].xp.asarray(rng.standard_normal(outputs[k].shape)), requires_grad=True)
            for k in roots
        ]
    else:
        grad_outputs = _as_list(grad_outputs)
        if len(grad_outputs) != len(roots):
            raise ValueError(
                f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(roots)} differentiable outputs"
            )
        for k, gy in zip(roots, grad_outputs):
            if tuple(gy.shape) != outputs[k].shape:
                raise ValueError(
                    f"gradgradcheck: grad_output for output {k} has shape {tuple(gy.shape)}, but the output "
                    f"has shape {outputs[k].shape}"
                )
        grad_outputs = [Tensor._wrap(gy.array, requires_grad=True) for gy in grad_outputs]
    n = len(inputs)

    def first_derivatives(*args):
        xs, gys = list(args[:n]), list(args[n:])
        with enable_grad():
            ys = _call(fn, xs)
            wrt = [xs[i] for i in checked]
            grads = engine.grad([ys[k] for k in roots], wrt, gys, create_graph=True, allow_unused=True)
        return tuple(
            g if g is not None else Tensor._from_array(x.xp.zeros(x.shape, dtype=x.dtype))
            for g, x in zip(grads, wrt)
        )

    try:
        return gradcheck(first_derivatives, inputs + grad_outputs, eps, atol, rtol, max_elements, seed)
    except GradcheckError as err:
        raise GradcheckError(
            f"gradgradcheck (second derivatives; inputs {n} and up are the grad_outputs): {err}"
        ) from None


# -- helpers ---------------------------------------------------------------------------------------
def _as_list(inputs):
    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _checked_inputs(inputs, who):
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{who}: no input has requires_grad=True, so there is no gradient to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"{who}: input {i} has dtype {inputs[i].dtype}; gradient checks need float64 inputs. "
                "Central differences divide a difference of nearly equal values by 2*eps: in float32 the "
                "rounding error of that difference (~1e-7 relative) would swamp the derivative. "
                "Use x.double() or dtype=mg.float64."
            )
    return checked


def _call(fn, inputs):
    out = fn(*inputs)
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    for k, y in enumerate(outputs):
        if not isinstance(y, Tensor):
            raise TypeError(
                f"fn must return a Tensor or a tuple of Tensors; output {k} is a {type(y).__name__}"
            )
    return tuple(outputs)


def _vjp(outputs, cotangents, wrt):
    """J^T v for the outputs that carry a graph (the others contribute zero analytic gradient)."""
    roots = [k for k in cotangents if outputs[k].requires_grad]
    if not roots:
        return [None] * len(wrt)
    seeds = [Tensor._from_array(cotangents[k]) for k in roots]
    return engine.grad([outputs[k] for k in roots], wrt, seeds, retain_graph=False, allow_unused=True)


def _pick(size, limit, rng):
    """Flat indices of the elements to perturb: all of them, or a sorted random subset of ``limit``."""
    if size <= limit:
        return np.arange(size)
    return np.sort(rng.choice(size, size=limit, replace=False))


def _objective(fn, inputs, i, work, cotangents):
    """s = sum_k <v_k, y_k> with input i replaced by the (perturbed) array ``work``, as a float."""
    args = list(inputs)
    args[i] = Tensor._wrap(work, requires_grad=True)
    outputs = _call(fn, args)
    total = 0.0
    for k, v in cotangents.items():
        y = outputs[k].array
        total += float(as_numpy((y.astype(np.float64) * v).sum()))
    return total


def _compare_input(fn, inputs, i, analytic, cotangents, eps, atol, rtol, flat_indices, seed):
    x = inputs[i]
    work = x.array.copy()  # perturbed in place; the caller's tensor is never touched
    shape = x.shape
    first, bad = None, 0
    for flat in flat_indices:
        j = np.unravel_index(int(flat), shape)  # () for a 0-d input
        original = work[j].copy()  # a copy: on CuPy, work[j] would be a view
        work[j] = original + eps
        s_plus = _objective(fn, inputs, i, work, cotangents)
        work[j] = original - eps
        s_minus = _objective(fn, inputs, i, work, cotangents)
        work[j] = original
        numeric = (s_plus - s_minus) / (2.0 * eps)
        a = float(analytic[j])
        tol = atol + rtol * abs(numeric)
        if not abs(a - numeric) <= tol:  # also fails on nan
            bad += 1
            if first is None:
                first = (tuple(int(t) for t in j), a, numeric, tol)
    if first is not None:
        j, a, numeric, tol = first
        raise GradcheckError(
            f"gradcheck: wrong gradient for input {i} (shape {shape}) at element {j}: analytic {a:.10g}, "
            f"numeric {numeric:.10g}, |difference| {abs(a - numeric):.3g} > tolerance {tol:.3g} "
            f"(atol {atol:g} + rtol {rtol:g} * |numeric|); {bad} of {len(flat_indices)} checked elements "
            f"of this input disagree. Values are vector-Jacobian products J^T v with seeded random "
            f"cotangents v (seed={seed}), numeric = central difference with eps={eps:g}."
        )
