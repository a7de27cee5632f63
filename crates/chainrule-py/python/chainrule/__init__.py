"""chainrule: automatic and symbolic differentiation in Rust, from Python.

- ``chainrule.torch``: the PyTorch subset (tensors, autograd, nn, optim).
- ``chainrule.autograd``: HIPS autograd / JAX-style transforms over Python functions.
- ``chainrule.sympy``: SymPy-style symbolic differentiation.
"""

from . import _native

__all__ = ["torch", "autograd", "sympy"]


def __getattr__(name):
    # Subpackages load on first use (``chainrule.torch`` etc.).
    if name in __all__:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
