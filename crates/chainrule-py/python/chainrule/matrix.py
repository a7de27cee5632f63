"""Matrix calculus: derivatives of scalar, vector and matrix expressions as
formulas in matrix notation (``∇ tr(A*X*B) = A'*B'``).

``import chainrule.matrix as mc``::

    g = mc.derivative("tr(A*X*B)", wrt="X")
    str(g)          # "A'*B'"  (the grammar of ``chainrule matrix``; it parses back)
    g.latex()       # "A^{T} B^{T}"; Jupyter renders the formula
    g.evaluate(A=a, B=b)   # a numpy array
    mc.hessian("1/2*x'*A*x + b'*x + c", wrt="x", where="c: scalar")

``where`` declares names as ``chainrule matrix --let`` does
(``"A: n x n symmetric, x: n, c: scalar"``), or is a dict
``{"A": "n x n symmetric", "c": "scalar"}``. Undeclared names are matrices
when their first letter is upper case, vectors otherwise. Every error of
the expression, the declarations or the values is a ``ValueError`` with
the library's message.
"""

import numpy as _np

from . import _native

__all__ = ["parse", "derivative", "hessian", "Expression", "Formula"]


def _decls(where):
    if where is None:
        return ""
    if isinstance(where, dict):
        return ", ".join(f"{k}: {v}" for k, v in where.items())
    return str(where)


def _arrays(values):
    return {k: _np.asarray(v, dtype=_np.float64) for k, v in values.items()}


class Formula:
    """A formula over the names of an expression: a derivative, a Hessian,
    or the expression itself. ``str()`` is its text (which parses back),
    ``latex()`` its LaTeX, ``evaluate(**values)`` its value."""

    def __init__(self, native, expr, wrt, what):
        self._f = native
        #: The expression the formula was derived from.
        self.expr = expr
        #: The name differentiated by (``None`` for the expression itself).
        self.wrt = wrt
        #: ``"gradient"``, ``"derivative"``, ``"hessian"`` or ``"value"``.
        self.what = what
        #: The declarations of every name of the expression (its sizes as
        #: inferred), in the ``where`` syntax.
        self.where = native.decls()

    @property
    def shape(self):
        """The sizes of the formula's value: ``()`` a scalar, ``("n",)`` a
        vector, ``("m", "n")`` a matrix."""
        return tuple(self._f.shape())

    def __str__(self):
        return self._f.text()

    def __repr__(self):
        by = f" by {self.wrt}" if self.wrt is not None else ""
        return f"<{self.what}{by} of {self.expr}: {self}>"

    def latex(self):
        """The formula in LaTeX (``A^{T} B^{T}``)."""
        return self._f.latex()

    def _repr_latex_(self):
        return f"$${self._f.latex()}$$"

    def evaluate(self, **values):
        """The formula's value at ``values`` (numbers, vectors and matrices
        as numpy arrays or nested lists) as a float64 numpy array of its
        natural shape (0-d for a scalar). Only the names the formula uses
        are needed, and those that give its sizes."""
        return self._f.evaluate(_arrays(values))


class Expression:
    """A parsed, typed matrix expression (``parse``)."""

    def __init__(self, expr, where=""):
        self._decls = _decls(where)
        self._p = _native.MatrixProblem(str(expr), self._decls)
        #: The expression's text as given.
        self.expr = str(expr)

    @property
    def names(self):
        """``{name: sizes}`` in order of first appearance (``()`` a scalar)."""
        return {n: tuple(s) for n, s, _ in self._p.names()}

    @property
    def symmetric(self):
        """The names declared symmetric."""
        return [n for n, _, sym in self._p.names() if sym]

    def _wrt(self, wrt):
        if wrt is not None:
            return str(wrt)
        names = [n for n, _, _ in self._p.names()]
        if len(names) == 1:
            return names[0]
        raise ValueError(f"wrt is needed: the expression has the names {', '.join(names)}")

    def derivative(self, wrt=None):
        """The derivative by ``wrt`` (its gradient for a scalar expression,
        a Jacobian for a vector one), simplified. ``wrt`` may be left out
        when the expression has one name."""
        wrt = self._wrt(wrt)
        f = self._p.derivative(wrt)
        what = "gradient" if len(self._p.value().shape()) == 0 else "derivative"
        return Formula(f, self.expr, wrt, what)

    def hessian(self, wrt=None):
        """The Hessian of a scalar expression by a scalar or vector ``wrt``."""
        wrt = self._wrt(wrt)
        return Formula(self._p.hessian(wrt), self.expr, wrt, "hessian")

    def value(self):
        """The expression itself as a formula."""
        return Formula(self._p.value(), self.expr, None, "value")

    def evaluate(self, **values):
        """The expression's value at ``values`` (a numpy array)."""
        return self.value().evaluate(**values)

    def autodiff(self, wrt=None, hessian=False, **values):
        """Reverse-mode autodiff of the expression by ``wrt`` at ``values``
        (every name given): the gradient or Jacobian, or with ``hessian``
        the Hessian, to compare with the formulas."""
        return self._p.autodiff(self._wrt(wrt), _arrays(values), bool(hessian))

    def __str__(self):
        return self.expr

    def __repr__(self):
        return f"<matrix expression {self.expr}>"


def parse(expr, where=""):
    """Parses a matrix expression with the declarations ``where``."""
    return Expression(expr, where)


def derivative(expr, wrt=None, where=""):
    """The derivative of ``expr`` by ``wrt`` as a :class:`Formula`."""
    return parse(expr, where).derivative(wrt)


def hessian(expr, wrt=None, where=""):
    """The Hessian of the scalar ``expr`` by ``wrt`` as a :class:`Formula`."""
    return parse(expr, where).hessian(wrt)
