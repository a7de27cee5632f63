"""HIPS autograd / JAX-style transforms over Python functions.

Write the function with ``chainrule.autograd.numpy`` (or ``chainrule.torch``
operations); ``grad(f)`` returns the function computing the gradient, and
transforms nest to any order::

    import chainrule.autograd.numpy as np
    from chainrule.autograd import grad
    d4 = grad(grad(grad(grad(np.tanh))))
    d4(0.5)  # 3.9522195637245825

Inputs are taken as float64. A Python float in gives a float out, a NumPy
array gives an array; inside another transform the values are tensors.
"""

import numpy as _np

from .. import _native

Tensor = _native.Tensor
_TRACER = _native.symbol("_x_")

__all__ = [
    "grad",
    "elementwise_grad",
    "value_and_grad",
    "jacobian",
    "hessian",
    "jvp",
    "vjp",
    "nth_derivative",
    "derivative",
]


def _lift(x):
    """The input as a float64 tensor to differentiate with respect to, and
    whether it came from an enclosing transform (then results stay tensors)."""
    if isinstance(x, Tensor):
        if x.requires_grad:
            return x.clone(), True
        return x.detach().double().requires_grad_(True), False
    return _native.tensor(_np.asarray(x, dtype=_np.float64), dtype="torch.float64", requires_grad=True), False


def _lower(t, like, nested):
    """A result tensor in the caller's type: a tensor inside a transform,
    else a float for a scalar input, an array for an array input."""
    if nested:
        return t
    t = t.detach()
    if _np.ndim(like) == 0 and not isinstance(like, _np.ndarray) and t.numel() == 1:
        return t.item()
    return t.numpy()


def _as_tensor(y, like):
    if isinstance(y, Tensor):
        return y
    return _native.tensor(_np.asarray(y, dtype=_np.float64), dtype="torch.float64")


def _grad_of(y, x, nested):
    if not y.requires_grad:
        return _native.zeros(*x.shape, dtype=x.dtype)
    if y.numel() != 1:
        raise TypeError(f"Grad only applies to real scalar-output functions. Try jacobian, elementwise_grad or holomorphic_grad. (output shape {tuple(y.shape)})")
    (g,) = _native.grad([y], [x], None, nested, nested)
    return g


def value_and_grad(fun, argnum=0):
    """``(f(x), ∇f(x))`` of a scalar function of argument ``argnum``."""

    def vg(*args, **kwargs):
        x, nested = _lift(args[argnum])
        args = list(args)
        like = args[argnum]
        args[argnum] = x
        y = _as_tensor(fun(*args, **kwargs), x)
        g = _grad_of(y, x, nested)
        return _lower(y, _np.float64(0.0) if y.numel() == 1 and y.dim() == 0 else y, nested), _lower(g, like, nested)

    vg.__name__ = f"value_and_grad({getattr(fun, '__name__', 'f')})"
    return vg


def grad(fun, argnum=0):
    """The gradient of a scalar function of argument ``argnum`` (HIPS autograd's ``grad``)."""
    vg = value_and_grad(fun, argnum)

    def g(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    g.__name__ = f"grad({getattr(fun, '__name__', 'f')})"
    g.__doc__ = f"The gradient of {getattr(fun, '__name__', 'f')}."
    return g


def elementwise_grad(fun, argnum=0):
    """The gradient of ``sum(f(x))``: the derivative of each element for elementwise ``f``."""

    def g(*args, **kwargs):
        x, nested = _lift(args[argnum])
        like = args[argnum]
        args = list(args)
        args[argnum] = x
        y = _as_tensor(fun(*args, **kwargs), x)
        if not y.requires_grad:
            return _lower(_native.zeros(*x.shape, dtype=x.dtype), like, nested)
        (gx,) = _native.grad([y.sum()], [x], None, nested, nested)
        return _lower(gx, like, nested)

    return g


def jacobian(fun, argnum=0):
    """The Jacobian: shape ``f(x).shape + x.shape``."""

    def jac(*args, **kwargs):
        x, nested = _lift(args[argnum])
        like = args[argnum]
        args = list(args)
        args[argnum] = x
        y = _as_tensor(fun(*args, **kwargs), x)
        flat = y.reshape(-1)
        rows = []
        for i in range(flat.shape[0]):
            if y.requires_grad:
                (gi,) = _native.grad([flat[i]], [x], None, True, nested)
            else:
                gi = _native.zeros(*x.shape, dtype=x.dtype)
            rows.append(gi)
        if not rows:
            j = _native.zeros(*(tuple(y.shape) + tuple(x.shape)), dtype=x.dtype)
        else:
            j = _native.stack(rows, 0).reshape(tuple(y.shape) + tuple(x.shape))
        if not nested:
            j = j.detach()
            return j.item() if (j.numel() == 1 and _np.ndim(like) == 0 and y.dim() == 0) else j.numpy()
        return j

    return jac


def hessian(fun, argnum=0):
    """The Hessian of a scalar function: the Jacobian of its gradient.

    Outside other transforms the function is called once, on a tensor that
    records it, and the Hessian is computed from that record in Rust (a
    recorded gradient and one batched backward pass); inside a transform
    (whose result must stay differentiable) it is ``jacobian(grad(fun))``.
    """
    nested_form = jacobian(grad(fun, argnum), argnum)

    def h(*args, **kwargs):
        like = args[argnum]
        if isinstance(like, Tensor) and like.requires_grad:
            return nested_form(*args, **kwargs)
        x, _ = _lift(like)

        def at(t):
            a = list(args)
            a[argnum] = t
            return fun(*a, **kwargs)

        return _lower(_native.hessian(at, x), like, False)

    h.__name__ = f"hessian({getattr(fun, '__name__', 'f')})"
    return h


def _jacobian_tensor(func, inputs, create_graph=False):
    """``torch.autograd.functional.jacobian`` of a function of one tensor:
    a tensor of shape ``func(inputs).shape + inputs.shape``."""
    j = jacobian(func)(inputs.detach().requires_grad_(True))
    return j if create_graph else j.detach()


def _hessian_tensor(func, inputs, create_graph=False):
    """``torch.autograd.functional.hessian`` of a scalar function of one
    tensor: in Rust after one call of ``func`` (see ``hessian``), or with
    ``create_graph`` as ``jacobian(grad(func))`` on the tape."""
    if not create_graph:
        return _native.hessian(func, inputs)
    return jacobian(grad(func))(inputs.detach().requires_grad_(True))


def jvp(fun, x, v):
    """``(f(x), J(x) v)``: JAX's ``jvp`` (primals and tangents as single arrays)."""
    xt, nested = _lift(x)
    y = _as_tensor(fun(xt), xt)
    vt = _as_tensor(v, xt)
    # J v through two reverse passes: u ↦ Jᵀu is linear, and its gradient is J v.
    u = _native.zeros(*y.shape, dtype=y.dtype, requires_grad=True)
    (jtu,) = _native.grad([y], [xt], [u], True, True) if y.requires_grad else (_native.zeros(*xt.shape, dtype=xt.dtype),)
    if jtu.requires_grad:
        (jv,) = _native.grad([(jtu * vt).sum()], [u], None, True, nested)
    else:
        jv = _native.zeros(*y.shape, dtype=y.dtype)
    return _lower(y, x if y.dim() == 0 else _np.zeros(1), nested), _lower(jv, x if jv.dim() == 0 else _np.zeros(1), nested)


def vjp(fun, x):
    """``(f(x), vjp_fn)`` with ``vjp_fn(v) = vᵀ J(x)``."""
    xt, nested = _lift(x)
    y = _as_tensor(fun(xt), xt)

    def vjp_fn(v):
        vt = _as_tensor(v, xt)
        if not y.requires_grad:
            return _lower(_native.zeros(*xt.shape, dtype=xt.dtype), x, nested)
        (g,) = _native.grad([y], [xt], [vt], True, nested)
        return _lower(g, x, nested)

    return _lower(y, x if y.dim() == 0 else _np.zeros(1), nested), vjp_fn


def _trace(fun):
    """``fun`` called once on a symbol: its formula, or None when it is not
    a formula of that symbol (the function compares or converts its value,
    or uses an operation formulas lack)."""
    t = _TRACER
    try:
        with _np.errstate(all="ignore"):
            out = fun(t)
    except Exception:  # noqa: BLE001 (any failure means: not traceable)
        return None
    return out if isinstance(out, _native.Expr) else None


def _scalar(x):
    """A plain number as a float, or None for a tensor or an array (which
    go through the nested grads)."""
    if not isinstance(x, Tensor) and _np.ndim(x) == 0 and not isinstance(x, _np.ndarray):
        return float(x)
    return None


def nth_derivative(fun, n):
    """The n-th derivative of a scalar function of one scalar.

    Traced as ``jax.jit`` traces: the first call with a number runs ``fun``
    once on a symbol; if it returns a formula, that is recorded into a plan
    and every call with a number replays the plan by Taylor mode in Rust
    (one crossing, a float back, no Python per operation, any order in one
    pass). A function that branches on its argument (``if x > 0``: ordering
    a formula raises) or uses an operation formulas lack is not traceable
    and runs as ``n`` nested ``grad``s. The contract, as for ``jax.jit``:
    the function's operations must not depend on the value of its argument
    other than through such a comparison (an ``x == 0`` test compares
    formulas, so it takes the branch of a symbol). Inside another transform
    (a tensor argument), nested ``grad``s too.

    The result is a builtin function bound to a native ``NthDerivative``
    (its ``__self__``, which says whether it was ``traced``), so that a
    call is CPython's vectorcall, as cheap as any builtin function's.
    """
    nested_form = fun
    for _ in range(n):
        nested_form = grad(nested_form)
    name = f"nth_derivative({getattr(fun, '__name__', 'f')}, {n})"
    return _native.NthDerivative(fun, n, nested_form, _trace, _scalar, _TRACER, name).function()


derivative = nth_derivative
