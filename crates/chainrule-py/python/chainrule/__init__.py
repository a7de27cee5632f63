"""chainrule: automatic and symbolic differentiation in Rust, from Python.

- ``chainrule.torch``: the PyTorch subset (tensors, autograd, nn, optim).
- ``chainrule.autograd``: HIPS autograd / JAX-style transforms over Python functions.
- ``chainrule.sympy``: SymPy-style symbolic differentiation.
- ``chainrule.matrix``: matrix calculus (derivatives as matrix formulas).
- ``chainrule.graph(expr, at=...)`` and ``chainrule.explain(expr, at=...)``: the
  computational graph as SVG and the forward and reverse sweeps as HTML tables,
  for Jupyter.
"""

from . import _native
from .display import Explanation, Graph, explain, graph

__all__ = ["torch", "autograd", "sympy", "matrix", "graph", "explain", "Graph", "Explanation"]


def __getattr__(name):
    # Subpackages load on first use (``chainrule.torch`` etc.).
    if name in __all__:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
