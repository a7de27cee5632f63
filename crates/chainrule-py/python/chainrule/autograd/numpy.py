"""A thin NumPy namespace for ``chainrule.autograd``: each function works on
NumPy values as NumPy does, on the tensors a transform passes in by
recording the operation (so the function can be differentiated), and the
elementwise functions also on formulas (``chainrule.sympy``), which is how
``nth_derivative`` traces a function."""

import numpy as _np
from numpy import *  # noqa: F401,F403  (constants, dtypes, creation functions)

from .. import _native

Tensor = _native.Tensor


def _t(x):
    return isinstance(x, Tensor)


def _any_t(*xs):
    return any(isinstance(x, Tensor) for x in xs)


def _unary(name, method=None):
    method = method or name
    npf = getattr(_np, name)

    def f(x, *args, **kwargs):
        if _t(x):
            return getattr(x, method)()
        if isinstance(x, _native.Expr) and hasattr(x, "_" + method):
            # A formula (nth_derivative traces functions on a symbol).
            return getattr(x, "_" + method)()
        return npf(x, *args, **kwargs)

    f.__name__ = name
    f.__doc__ = f"numpy.{name}, recorded on tensors."
    return f


exp = _unary("exp")
log = _unary("log")
log2 = _unary("log2")
log10 = _unary("log10")
sqrt = _unary("sqrt")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
arcsin = _unary("arcsin", "asin")
arccos = _unary("arccos", "acos")
arctan = _unary("arctan", "atan")
sinh = _unary("sinh")
cosh = _unary("cosh")
tanh = _unary("tanh")
arcsinh = _unary("arcsinh", "asinh")
arccosh = _unary("arccosh", "acosh")
arctanh = _unary("arctanh", "atanh")
abs = _unary("abs")  # noqa: A001
absolute = abs
sign = _unary("sign")
square = _unary("square")
reciprocal = _unary("reciprocal")
negative = _unary("negative", "__neg__")


def log1p(x):
    return log(1 + x) if _t(x) else _np.log1p(x)


def expm1(x):
    return exp(x) - 1 if _t(x) else _np.expm1(x)


def power(x, p):
    return x ** p if _any_t(x, p) else _np.power(x, p)


def _asx(x, like):
    if _t(x):
        return x
    return _native.tensor(_np.asarray(x, dtype=_np.float64), dtype=like.dtype)


def dot(a, b):
    """numpy.dot: a scalar for two vectors, a matrix product otherwise."""
    if _any_t(a, b):
        like = a if _t(a) else b
        a, b = _asx(a, like), _asx(b, like)
        if a.dim() == 0 or b.dim() == 0:
            return a * b
        return a.matmul(b)
    return _np.dot(a, b)


def matmul(a, b):
    return dot(a, b)


def inner(a, b):
    return dot(a, b)


def outer(a, b):
    if _any_t(a, b):
        like = a if _t(a) else b
        a, b = _asx(a, like), _asx(b, like)
        return a.reshape(-1, 1) * b.reshape(1, -1)
    return _np.outer(a, b)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return x.sum(axis, keepdims) if _t(x) else _np.sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return x.mean(axis, keepdims) if _t(x) else _np.mean(x, axis=axis, keepdims=keepdims)


def prod(x):
    return x.prod() if _t(x) else _np.prod(x)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return x.max(axis, keepdims) if _t(x) else _np.max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return x.min(axis, keepdims) if _t(x) else _np.min(x, axis=axis, keepdims=keepdims)


def transpose(x):
    return x.T if _t(x) else _np.transpose(x)


def trace(x):
    if _t(x):
        n = x.shape[0]
        return (x * _native.tensor(_np.eye(n), dtype=x.dtype)).sum()
    return _np.trace(x)


def reshape(x, shape):
    return x.reshape(shape) if _t(x) else _np.reshape(x, shape)


def maximum(a, b):
    if _any_t(a, b):
        # max(a, b) = (a + b + |a - b|) / 2, differentiable where a != b.
        return (a + b + abs(a - b)) / 2
    return _np.maximum(a, b)


def minimum(a, b):
    if _any_t(a, b):
        return (a + b - abs(a - b)) / 2
    return _np.minimum(a, b)


def where(c, a, b):
    if _any_t(a, b):
        cc = _asx(c, a if _t(a) else b) if not _t(c) else c
        return cc * a + (1 - cc) * b
    return _np.where(c, a, b)


def array(x, dtype=None, **kwargs):
    """numpy.array; a list holding tensors becomes one tensor (stacked)."""
    if _t(x):
        return x
    if isinstance(x, (list, tuple)) and any(_t(e) or isinstance(e, (list, tuple)) for e in x):
        items = [array(e) for e in x]
        if any(_t(e) for e in items):
            like = next(e for e in items if _t(e))
            return _native.stack([_asx(e, like) for e in items], 0)
        return _np.array(items, dtype=dtype)
    return _np.array(x, dtype=dtype, **kwargs)


def stack(xs, axis=0):
    if any(_t(e) for e in xs):
        like = next(e for e in xs if _t(e))
        return _native.stack([_asx(e, like) for e in xs], axis)
    return _np.stack(xs, axis)


def concatenate(xs, axis=0):
    if any(_t(e) for e in xs):
        like = next(e for e in xs if _t(e))
        return _native.cat([_asx(e, like) for e in xs], axis)
    return _np.concatenate(xs, axis)


class linalg:
    """numpy.linalg's ``norm`` (2-norm of a vector, Frobenius of a matrix)."""

    @staticmethod
    def norm(x):
        return sqrt(sum(x * x)) if _t(x) else _np.linalg.norm(x)

    inv = staticmethod(_np.linalg.inv)
    solve = staticmethod(_np.linalg.solve)
