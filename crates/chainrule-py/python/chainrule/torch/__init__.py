"""The PyTorch subset that the seed notebooks use, over chainrule's tensors.

``import chainrule.torch as torch`` and write PyTorch: tensors are float32 by
default (``dtype=torch.float64`` for f64), operations record a graph when an
input requires grad, ``.backward()`` fills ``.grad``, ``grad_fn`` carries
PyTorch's names, and tensors print as PyTorch prints them.
"""

import contextlib as _contextlib
import functools as _functools

from .. import _native

Tensor = _native.Tensor


class dtype(str):
    """A dtype (``torch.float32``); compares equal to its name."""

    def __repr__(self):
        return str(self)

    @property
    def is_floating_point(self):
        return self in ("torch.float32", "torch.float64")


float32 = float = dtype("torch.float32")
float64 = double = dtype("torch.float64")
int64 = long = dtype("torch.int64")
bool = dtype("torch.bool")  # noqa: A001 (PyTorch's name)

tensor = _native.tensor
from_numpy = _native.from_numpy
zeros = _native.zeros
ones = _native.ones
full = _native.full
rand = _native.rand
randn = _native.randn
arange = _native.arange
manual_seed = _native.manual_seed
is_grad_enabled = _native.is_grad_enabled


def as_tensor(data, dtype=None):
    """``torch.as_tensor``: the tensor itself, or a new one from data."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    return tensor(data, dtype=dtype)


def zeros_like(x, dtype=None, requires_grad=False):
    return zeros(*x.shape, dtype=dtype or (x.dtype if x.dtype.startswith("torch.float") else None), requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return ones(*x.shape, dtype=dtype or (x.dtype if x.dtype.startswith("torch.float") else None), requires_grad=requires_grad)


def is_tensor(x):
    return isinstance(x, Tensor)


# Elementwise functions: the Tensor methods themselves (``torch.exp(x)``).
exp = Tensor.exp
log = Tensor.log
log2 = Tensor.log2
log10 = Tensor.log10
sqrt = Tensor.sqrt
sin = Tensor.sin
cos = Tensor.cos
tan = Tensor.tan
asin = Tensor.asin
acos = Tensor.acos
atan = Tensor.atan
sinh = Tensor.sinh
cosh = Tensor.cosh
tanh = Tensor.tanh
asinh = Tensor.asinh
acosh = Tensor.acosh
atanh = Tensor.atanh
sigmoid = Tensor.sigmoid
relu = Tensor.relu
abs = Tensor.abs  # noqa: A001
erf = Tensor.erf
sign = Tensor.sign
reciprocal = Tensor.reciprocal
square = Tensor.square
matmul = Tensor.matmul
dot = Tensor.dot
softmax = Tensor.softmax
log_softmax = Tensor.log_softmax
logsumexp = Tensor.logsumexp
flatten = Tensor.flatten
squeeze = Tensor.squeeze
unsqueeze = Tensor.unsqueeze
argmax = Tensor.argmax


def sum(input, dim=None, keepdim=False):  # noqa: A001
    return input.sum(dim, keepdim)


def mean(input, dim=None, keepdim=False):
    return input.mean(dim, keepdim)


def max(input, dim=None, keepdim=False):  # noqa: A001
    return input.max(dim, keepdim)


def min(input, dim=None, keepdim=False):  # noqa: A001
    return input.min(dim, keepdim)


def pow(input, exponent):  # noqa: A001
    return input ** exponent


def reshape(input, shape):
    return input.reshape(shape)


def t(input):
    return input.t()


def transpose(input, dim0, dim1):
    return input.transpose(dim0, dim1)


def numel(input):
    return input.numel()


def _grad_mode(enabled):
    class _Mode(_contextlib.ContextDecorator):
        def __enter__(self):
            self._prev = _native.set_grad_enabled(enabled)
            return self

        def __exit__(self, *exc):
            _native.set_grad_enabled(self._prev)
            return False

    return _Mode


class no_grad(_grad_mode(False)):
    """``with torch.no_grad():`` (also a decorator): nothing is recorded."""


class enable_grad(_grad_mode(True)):
    """``with torch.enable_grad():``: recording back on."""


class set_grad_enabled(_contextlib.ContextDecorator):
    """``torch.set_grad_enabled(mode)``: a function and a context manager."""

    def __init__(self, mode):
        self._prev = _native.set_grad_enabled(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _native.set_grad_enabled(self._prev)
        return False


def allclose(a, b, rtol=1e-05, atol=1e-08):
    import numpy as _np

    return _np.allclose(_np.asarray(a.detach().numpy()), _np.asarray(b.detach().numpy()), rtol=rtol, atol=atol)


cat = _native.cat
stack = _native.stack
concat = cat

from . import autograd, nn, optim  # noqa: E402,F401
