"""chainrule.matrix: seed 004's exercises 4 to 7 as matrix formulas, their
printed forms (the known answers), and their values against numpy's closed
forms at random non-square sizes."""

import numpy as np
import pytest

import chainrule
import chainrule.matrix as mc

QUAD = "1/2*x'*A*x + b'*x + c"
LSQ = "1/2*norm2(A*x - b)^2"
LOGISTIC = "log(1 + exp(a'*x))"


@pytest.fixture
def rng():
    return np.random.default_rng(4)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- exercise 5: the gradient of tr(AXB) --------------------------------


def test_trace_gradient_prints_the_known_formula():
    g = mc.derivative("tr(A*X*B)", wrt="X")
    assert str(g) == "A'*B'"
    assert g.latex() == "A^{T} B^{T}"
    assert g._repr_latex_() == "$$A^{T} B^{T}$$"
    assert g.what == "gradient"
    # The gradient has X's shape.
    assert g.shape == mc.parse("tr(A*X*B)").names["X"]


def test_trace_gradient_at_non_square_values(rng):
    A, X, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    g = mc.derivative("tr(A*X*B)", wrt="X")
    got = g.evaluate(A=A, B=B)
    assert got.shape == (3, 4) and got.dtype == np.float64
    np.testing.assert_allclose(got, A.T @ B.T, rtol=1e-12, atol=1e-12)
    # The same as reverse-mode autodiff of the expression.
    p = mc.parse("tr(A*X*B)")
    np.testing.assert_allclose(p.autodiff("X", A=A, X=X, B=B), A.T @ B.T, rtol=1e-12, atol=1e-12)
    assert float(p.evaluate(A=A, X=X, B=B)) == pytest.approx(np.trace(A @ X @ B), rel=1e-12)


# --- exercise 4: the Hessian of a quadratic form -------------------------


def test_quadratic_hessian_prints_the_known_formula():
    h = mc.hessian(QUAD, wrt="x", where="c: scalar")
    assert str(h) == "1/2*(A + A')"
    assert h.latex() == r"\frac{1}{2} \left(A + A^{T}\right)"
    assert h.shape == ("n", "n")
    # Declared symmetric, A is used as such.
    assert str(mc.hessian(QUAD, "x", where="A: n x n symmetric, c: scalar")) == "A"
    # The where-dict form.
    assert str(mc.hessian(QUAD, "x", where={"c": "scalar"})) == "1/2*(A + A')"


def test_quadratic_gradient_and_hessian_values(rng):
    A, b, x = rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=4)
    p = mc.parse(QUAD, where="c: scalar")
    g = p.derivative("x")
    assert g.what == "gradient"
    np.testing.assert_allclose(g.evaluate(A=A, b=b, x=x), 0.5 * (A + A.T) @ x + b, rtol=1e-12)
    np.testing.assert_allclose(p.hessian("x").evaluate(A=A), 0.5 * (A + A.T), rtol=1e-12)
    np.testing.assert_allclose(
        p.autodiff("x", hessian=True, A=A, b=b, x=x, c=2.0), 0.5 * (A + A.T), rtol=1e-12
    )


# --- exercise 6: least squares ------------------------------------------


def test_least_squares_prints_the_known_formulas():
    assert str(mc.derivative(LSQ, "x")) == "A'*(A*x - b)"
    assert mc.derivative(LSQ, "x").latex() == r"A^{T} \left(A x - b\right)"
    assert str(mc.hessian(LSQ, "x")) == "A'*A"


def test_least_squares_at_non_square_values(rng):
    A, b, x = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=3)
    g = mc.derivative(LSQ, "x").evaluate(A=A, b=b, x=x)
    assert g.shape == (3,)
    np.testing.assert_allclose(g, A.T @ (A @ x - b), rtol=1e-12)
    np.testing.assert_allclose(mc.hessian(LSQ, "x").evaluate(A=A), A.T @ A, rtol=1e-12)
    value = mc.parse(LSQ).evaluate(A=A, b=b, x=x)
    assert value.shape == ()
    assert float(value) == pytest.approx(0.5 * np.sum((A @ x - b) ** 2), rel=1e-12)


# --- exercise 7: logistic loss -------------------------------------------


def test_logistic_gradient_and_hessian(rng):
    a, x = rng.normal(size=6), rng.normal(size=6)
    g = mc.derivative(LOGISTIC, "x")
    assert str(g) == "sigmoid(a'*x)*a"
    s = sigmoid(a @ x)
    np.testing.assert_allclose(g.evaluate(a=a, x=x), s * a, rtol=1e-12)
    h = mc.hessian(LOGISTIC, "x").evaluate(a=a, x=x)
    np.testing.assert_allclose(h, s * (1 - s) * np.outer(a, a), rtol=1e-12)


# --- other shapes ---------------------------------------------------------


def test_jacobian_of_a_matrix_vector_product(rng):
    A, x = rng.normal(size=(2, 5)), rng.normal(size=5)
    j = mc.derivative("A*x", "x")
    assert str(j) == "A" and j.what == "derivative" and j.shape == ("n", "m")
    np.testing.assert_allclose(j.evaluate(A=A), A)


def test_sizes_from_names_the_formula_does_not_use(rng):
    # The gradient of tr(X) is I; its size comes from X's value.
    g = mc.derivative("tr(X)")
    assert str(g) == "I"
    np.testing.assert_array_equal(g.evaluate(X=rng.normal(size=(3, 3))), np.eye(3))
    o = mc.derivative("sum(x)")
    assert str(o) == "ones(n)"
    np.testing.assert_array_equal(o.evaluate(x=[1.0, 2.0]), np.ones(2))


@pytest.mark.parametrize(
    "expr, wrt, where",
    [("tr(A*X*B)", "X", ""), (QUAD, "x", "c: scalar"), (LSQ, "x", ""), (LOGISTIC, "x", "")],
)
def test_printed_formulas_parse_back(expr, wrt, where, rng):
    g = mc.derivative(expr, wrt, where=where)
    back = mc.parse(str(g), where=g.where)
    sizes = {}
    values = {}
    for name, dims in mc.parse(expr, where=g.where).names.items():
        shape = tuple(sizes.setdefault(d, 2 + len(sizes)) for d in dims)
        values[name] = rng.normal(size=shape)
    used = {n: values[n] for n in back.names}
    np.testing.assert_allclose(back.evaluate(**used), g.evaluate(**values), rtol=1e-12)


def test_repr_and_package_attribute():
    g = mc.derivative("tr(A*X*B)", wrt="X")
    assert repr(g) == "<gradient by X of tr(A*X*B): A'*B'>"
    assert chainrule.matrix is mc


# --- errors: ValueError with the library's message -------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mc.derivative("tr(A*", "A"), "unexpected end of input at column 6"),
        (lambda: mc.derivative("x + y", "x", where="x: n, y: m"), "size n does not agree with size m"),
        (lambda: mc.derivative("tr(X)", "Y"), "'Y' does not occur in the expression"),
        (lambda: mc.derivative("x'*y"), "wrt is needed: the expression has the names x, y"),
        (lambda: mc.derivative("A*X", "X"), "tensor of 4 axes"),
        (lambda: mc.hessian("A*x", "x"), "a Hessian needs a scalar expression"),
        (lambda: mc.derivative("x", "x", where="x: q x"), "unexpected end of input at column 7"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("*", r"\*")):
        call()


def test_bad_values_raise_value_error(rng):
    g = mc.derivative("tr(A*X*B)", wrt="X")
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(4, 2))
    with pytest.raises(ValueError, match="'B': no value given"):
        g.evaluate(A=A)
    with pytest.raises(ValueError, match="'B': size n is 3 here but 2 elsewhere"):
        g.evaluate(A=A, B=A)
    with pytest.raises(ValueError, match="'Z': not a name of the expression"):
        g.evaluate(A=A, B=B, Z=A)
    with pytest.raises(ValueError, match=r"'B': expected a matrix, got a value of shape \[4\]"):
        g.evaluate(A=A, B=B[:, 0])
    with pytest.raises(ValueError, match="symmetric"):
        mc.hessian(QUAD, "x", where="A: n x n symmetric, c: scalar").evaluate(A=rng.normal(size=(3, 3)))


def test_jupyter_renders_the_formula_as_latex():
    # What a notebook cell whose last line is a formula shows.
    formatter = pytest.importorskip("IPython.core.formatters")
    data, _ = formatter.DisplayFormatter().format(mc.hessian(QUAD, "x", where="c: scalar"))
    assert data["text/latex"] == r"$$\frac{1}{2} \left(A + A^{T}\right)$$"
    assert data["text/plain"] == "<hessian by x of 1/2*x'*A*x + b'*x + c: 1/2*(A + A')>"
