"""Pictures and explanations of an expression's computational graph, for Jupyter.

``chainrule.graph(expr, at=...)`` draws the graph (Jupyter shows it as SVG);
``chainrule.explain(expr, at=...)`` writes the forward and reverse sweeps
(Jupyter shows them as HTML tables, ``print`` as text). Both are the Rust
library's ``chainrule::graph``, the same as the ``chainrule graph`` and
``chainrule explain`` commands.
"""

from . import _native

__all__ = ["graph", "explain", "Graph", "Explanation"]


def _point(at, values):
    point = {}
    for name, value in dict(at or {}, **values).items():
        point[str(name)] = float(value)
    return list(point.items())


def _source(expr):
    # A chainrule.sympy formula prints as SymPy does (``x**2``), which the grammar reads.
    return expr if isinstance(expr, str) else str(expr)


class _Wengert:
    def __init__(self, expr, at, values):
        self._w = _native.wengert(_source(expr), _point(at, values))

    @property
    def value(self):
        """The output's value."""
        return self._w.value

    @property
    def gradient(self):
        """``{input name: ∂f/∂input}``."""
        return dict(self._w.gradient)

    @property
    def nodes(self):
        """Every node as ``(name, kind, formula, value, adjoint)``, in evaluation order."""
        return self._w.nodes


class Graph(_Wengert):
    """The computational graph of an expression at a point; Jupyter shows it as SVG."""

    @property
    def svg(self):
        """The SVG document."""
        return self._w.svg()

    @property
    def dot(self):
        """Graphviz DOT text."""
        return self._w.dot()

    def _repr_svg_(self):
        return self._w.svg()

    def save(self, path):
        """Writes the SVG (or DOT, for a path ending in .dot or .gv) to ``path``."""
        text = self.dot if str(path).lower().endswith((".dot", ".gv")) else self.svg
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def __repr__(self):
        w = self._w
        grads = ", ".join(f"∂{w.output}/∂{n} = {g!r}" for n, g in w.gradient)
        return (
            f"<chainrule.Graph of {w.output} = {w.expr} at {w.point}: "
            f"{len(w.nodes)} nodes; {w.output} = {w.value!r}"
            + (f"; {grads}" if grads else "")
            + ">"
        )


class Explanation(_Wengert):
    """The forward and reverse sweeps; Jupyter shows them as HTML tables, print as text."""

    @property
    def text(self):
        """The explanation as text (what ``chainrule explain`` prints)."""
        return self._w.text()

    @property
    def html(self):
        """The explanation as HTML tables."""
        return self._w.html()

    def _repr_html_(self):
        return self._w.html()

    def __repr__(self):
        return self._w.text()

    __str__ = __repr__


def graph(expr, at=None, **values):
    """The computational graph of ``expr`` at a point, as a picture.

    ``expr`` is a string in chainrule's grammar (``"tanh(log(1 + z*(2*x)/sin(y)))"``)
    or a ``chainrule.sympy`` formula; the point is ``at={"x": 1, "y": 2}`` and/or
    keyword arguments (``x=1, y=2``). Jupyter shows the result as SVG; ``.svg``,
    ``.dot``, ``.value``, ``.gradient`` and ``.save(path)`` give it otherwise.
    A parse error or a variable without a value raises ``ValueError``.
    """
    return Graph(expr, at, values)


def explain(expr, at=None, **values):
    """The forward and reverse sweeps of reverse-mode differentiation of ``expr``.

    Arguments as for :func:`graph`. Jupyter shows the result as HTML tables
    (the Wengert list with values; each adjoint as a sum over users of
    ∂f/∂u · ∂u/∂v; the gradient); ``print`` shows the same as text.
    """
    return Explanation(expr, at, values)
