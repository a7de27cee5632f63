"""``torch.nn.functional``: activations and losses."""

from ... import _native

Tensor = _native.Tensor


def relu(input):
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def softmax(input, dim=None):
    return input.softmax(-1 if dim is None else dim)


def log_softmax(input, dim=None):
    return input.log_softmax(-1 if dim is None else dim)


def _reduce(x, reduction):
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"{reduction} is not a valid value for reduction")


def mse_loss(input, target, reduction="mean"):
    return _reduce((input - target) ** 2, reduction)


def cross_entropy(input, target, reduction="mean"):
    """Cross-entropy of logits ``input`` ([N, C] or [C]) and class indices ``target``."""
    logp = input.log_softmax(-1)
    if input.dim() == 1:
        return -logp[int(target.item()) if isinstance(target, Tensor) else int(target)]
    labels = target.tolist() if isinstance(target, Tensor) else list(target)
    n, c = input.shape
    for label in labels:
        if not 0 <= int(label) < c:
            raise IndexError(f"Target {int(label)} is out of bounds.")
    import numpy as _np

    onehot = _np.zeros((n, c), dtype=_np.float64)
    onehot[_np.arange(n), _np.asarray(labels, dtype=_np.int64)] = 1.0
    picked = -(logp * _native.tensor(onehot, dtype=input.dtype)).sum(1)
    return _reduce(picked, reduction)


def nll_loss(input, target, reduction="mean"):
    n, c = input.shape
    import numpy as _np

    onehot = _np.zeros((n, c), dtype=_np.float64)
    onehot[_np.arange(n), _np.asarray(target.tolist(), dtype=_np.int64)] = 1.0
    return _reduce(-(input * _native.tensor(onehot, dtype=input.dtype)).sum(1), reduction)
