"""``torch.nn``: ``Module``, ``Parameter``, ``Linear``, ``Sequential``, activations and losses."""

import math as _math

from ... import _native
from . import functional  # noqa: F401

Tensor = _native.Tensor


def Parameter(data, requires_grad=True):
    """A leaf tensor that requires grad (PyTorch's ``nn.Parameter``)."""
    p = data.detach()
    p.requires_grad_(requires_grad)
    return p


class Module:
    """The base of layers: parameters of attributes, ``__call__`` runs ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_modules" not in self.__dict__:
            Module.__init__(self)
        if isinstance(value, Module):
            self._modules[name] = value
        elif isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
            self._params[name] = value
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def named_parameters(self, prefix=""):
        for name in self._params:
            yield prefix + name, getattr(self, name)
        for mname, m in self._modules.items():
            yield from m.named_parameters(prefix + mname + ".")

    def parameters(self):
        for _, p in self.named_parameters():
            yield p

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        self.training = mode
        for m in self._modules.values():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)


class Linear(Module):
    """``y = x W^T + b`` with PyTorch's initialisation U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / _math.sqrt(in_features)
        self.weight = Parameter(_native.rand(out_features, in_features, dtype=dtype) * (2 * k) - k)
        if bias:
            self.bias = Parameter(_native.rand(out_features, dtype=dtype) * (2 * k) - k)
        else:
            self.bias = None

    def forward(self, x):
        y = x.matmul(self.weight.t())
        return y + self.bias if self.bias is not None else y

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None})"


class Sequential(Module):
    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)
        self._layers = list(layers)

    def forward(self, x):
        for layer in self._layers:
            x = layer(x)
        return x


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class MSELoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return functional.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return functional.cross_entropy(input, target, reduction=self.reduction)
