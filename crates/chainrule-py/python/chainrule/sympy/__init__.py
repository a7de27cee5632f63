"""SymPy-style symbolic differentiation over chainrule's formulas.

``import chainrule.sympy as sp``: ``sp.symbols('x1 x2')``, arithmetic,
``sp.diff``, ``.subs``, ``.evalf(subs=...)``, ``sp.latex``, ``sp.lambdify``
(a compiled program). Formulas print as SymPy prints them (``2*x1 + 3*x2``)
and render as LaTeX in Jupyter.
"""

import math as _math

from .. import _native

Expr = Symbol = Basic = _native.Expr


class Float(float):
    """A number printed as SymPy prints a Float (15 significant digits)."""

    def __repr__(self):
        x = float(self)
        if x == 0:
            return "0"
        if not _math.isfinite(x):
            return {True: "oo", False: "-oo"}[x > 0] if not _math.isnan(x) else "nan"
        e = _math.floor(_math.log10(abs(x)))
        if -5 <= e < 15:
            return f"{x:.{max(14 - e, 0)}f}" if e < 14 else f"{x:.1f}"
        m = f"{x:.14e}"
        mant, exp = m.split("e")
        return f"{mant}e{int(exp):+d}"

    __str__ = __repr__

    def _repr_latex_(self):
        return f"$\\displaystyle {self!r}$"


def Symbol(name, **assumptions):  # noqa: F811
    """A symbol (assumptions are accepted and ignored)."""
    return _native.symbol(name)


def symbols(names, **assumptions):
    """``symbols('x y')`` or ``symbols('x, y')``: a tuple; one name: one symbol."""
    if isinstance(names, (list, tuple)):
        return type(names)(symbols(n) for n in names)
    parts = [p for p in names.replace(",", " ").split() if p]
    out = []
    for p in parts:
        if ":" in p:
            # x0:3 -> x0, x1, x2
            head = p.rstrip("0123456789:")
            lo, hi = p[len(head):].split(":")
            out.extend(_native.symbol(f"{head}{i}") for i in range(int(lo or 0), int(hi)))
        else:
            out.append(_native.symbol(p))
    if len(out) == 1 and "," not in names and ":" not in names:
        return out[0]
    return tuple(out)


def sympify(x):
    if isinstance(x, _native.Expr):
        return x
    if isinstance(x, str):
        return _native.parse(x)
    if isinstance(x, int):
        return _native.rational(x, 1)
    return _native.number(float(x))


S = sympify


def Rational(p, q=1):
    return _native.rational(int(p), int(q))


Integer = Rational
pi = _native.constant("pi")
E = _native.constant("E")


def Number(x):
    return sympify(x)


def diff(f, *args):
    """``diff(f, x)``, ``diff(f, x, 2)``, ``diff(f, x, y)``."""
    return sympify(f).diff(*args)


def simplify(f):
    """chainrule keeps formulas in a simplified canonical form: ``f`` itself."""
    return sympify(f)


expand = simplify


def latex(f):
    return sympify(f).latex()


def N(f, n=15):
    return sympify(f).evalf(n)


def _fn(method):
    def f(x):
        return getattr(sympify(x), method)()

    f.__name__ = method.lstrip("_")
    return f


exp = _fn("_exp")
log = ln = _fn("_log")
sqrt = _fn("_sqrt")
sin = _fn("_sin")
cos = _fn("_cos")
tan = _fn("_tan")
asin = _fn("_asin")
acos = _fn("_acos")
atan = _fn("_atan")
sinh = _fn("_sinh")
cosh = _fn("_cosh")
tanh = _fn("_tanh")
asinh = _fn("_asinh")
acosh = _fn("_acosh")
atanh = _fn("_atanh")
erf = _fn("_erf")
Abs = _fn("_abs")


class Matrix(list):
    """A list of rows of formulas (what ``hessian`` and ``jacobian`` return)."""

    def __repr__(self):
        return "Matrix([" + ", ".join("[" + ", ".join(str(e) for e in row) + "]" for row in self) + "])"

    @property
    def shape(self):
        return (len(self), len(self[0]) if self else 0)

    def subs(self, *args):
        return Matrix([[e.subs(*args) for e in row] for row in self])

    def evalf(self, n=15, subs=None):
        return Matrix([[e.evalf(n, subs=subs) for e in row] for row in self])

    def _repr_latex_(self):
        rows = r" \\ ".join(" & ".join(e.latex() for e in row) for row in self)
        return f"$\\displaystyle \\left[\\begin{{matrix}}{rows}\\end{{matrix}}\\right]$"


def hessian(f, variables):
    f = sympify(f)
    return Matrix([[f.diff(a, b) for b in variables] for a in variables])


def derive_by_array(f, variables):
    return [sympify(f).diff(v) for v in variables]


def taylor_derivatives(f, x, at, k):
    """The derivatives 0..k of ``f`` in ``x`` at ``at``, by Taylor mode (one pass)."""
    # The formula's traced plan is kept with it, so a call is one crossing.
    return _native.taylor_derivatives(f if type(f) is _native.Expr else sympify(f), x, at, k)


def lambdify(args, expr, modules=None):
    """A Python function evaluating ``expr`` through chainrule's compiled program.

    ``args`` is a symbol or a sequence of symbols; ``expr`` a formula or a
    list of formulas. NumPy arrays are evaluated elementwise.
    """
    single_arg = isinstance(args, _native.Expr)
    syms = [args] if single_arg else list(args)
    many = isinstance(expr, (list, tuple))
    exprs = [sympify(e) for e in (expr if many else [expr])]
    program = _native.compile(exprs, syms)

    def f(*values):
        if len(values) != len(syms):
            raise TypeError(f"expected {len(syms)} arguments, got {len(values)}")
        if any(hasattr(v, "__len__") for v in values):
            import numpy as np

            arrs = np.broadcast_arrays(*[np.asarray(v, dtype=np.float64) for v in values])
            out = np.empty((len(exprs),) + arrs[0].shape)
            for idx in np.ndindex(arrs[0].shape):
                out[(slice(None),) + idx] = program.eval([float(a[idx]) for a in arrs])
            return list(out) if many else out[0]
        r = program.eval([float(v) for v in values])
        return r if many else r[0]

    return f
