"""``torch.autograd``: ``grad`` with ``create_graph`` for higher derivatives."""

from .. import _native


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None):
    """The gradients of ``outputs`` with respect to ``inputs`` (a tuple), as PyTorch."""
    return _native.grad(outputs, inputs, grad_outputs, retain_graph, create_graph)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    if isinstance(tensors, _native.Tensor):
        tensors = [tensors]
    grads = grad_tensors if grad_tensors is not None else [None] * len(tensors)
    if isinstance(grads, _native.Tensor):
        grads = [grads]
    for t, g in zip(tensors, grads):
        t.backward(g, retain_graph, create_graph)


class functional:
    """``torch.autograd.functional``: jacobian and hessian of a function of one tensor."""

    @staticmethod
    def jacobian(func, inputs, create_graph=False):
        from .. import autograd as _ag

        return _ag._jacobian_tensor(func, inputs, create_graph)

    @staticmethod
    def hessian(func, inputs, create_graph=False):
        from .. import autograd as _ag

        return _ag._hessian_tensor(func, inputs, create_graph)
