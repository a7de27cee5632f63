"""chainrule.autograd (HIPS autograd / JAX style) and seed 004's exercises."""

import math

import numpy as onp
import pytest

import chainrule.autograd.numpy as np
import chainrule.torch as torch
from chainrule.autograd import (
    elementwise_grad,
    grad,
    hessian,
    jacobian,
    jvp,
    nth_derivative,
    value_and_grad,
    vjp,
)


def test_fourth_derivative_of_tanh_by_nested_grads():
    d4 = grad(grad(grad(grad(np.tanh))))
    assert d4(0.5) == pytest.approx(3.9522195637245825, rel=1e-12)
    assert nth_derivative(np.tanh, 4)(0.5) == pytest.approx(3.9522195637245825, rel=1e-12)
    assert grad(np.tanh)(0.5) == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15)


def test_value_and_grad_and_elementwise():
    v, g = value_and_grad(lambda x: x**3)(2.0)
    assert (v, g) == (8.0, 12.0)
    xs = onp.array([0.0, 0.5, 1.0])
    onp.testing.assert_allclose(elementwise_grad(np.tanh)(xs), 1 - onp.tanh(xs) ** 2, rtol=1e-14)
    assert grad(lambda x, y: x * y, argnum=1)(3.0, 4.0) == 3.0


def test_taylor_cosine():
    """Seed 004, exercise 1: the gradient of a Taylor series of cos."""

    def taylor_cosine(x):  # Taylor approximation to cosine function
        ans = currterm = 1
        i = 0
        while np.abs(currterm) > 0.001:
            currterm = -currterm * x**2 / ((2 * i + 1) * (2 * i + 2))
            ans = ans + currterm
            i += 1
        return ans

    x = onp.pi
    # The derivative of the same truncated series, term by term.
    terms, k, t = [], 0, 1.0
    while abs(t) > 0.001:
        k += 1
        t = (-1) ** k * x ** (2 * k) / math.factorial(2 * k)
        terms.append((-1) ** k * 2 * k * x ** (2 * k - 1) / math.factorial(2 * k))
    assert grad(taylor_cosine)(x) == pytest.approx(sum(terms), rel=1e-12)
    assert abs(grad(taylor_cosine)(x) + math.sin(x)) < 1e-2


def test_linear_regression_autograd_vs_manual():
    """Seed 004, exercise 2: the manual-gradient loop and the autograd loop agree."""
    X = onp.array([1, 2, 3, 4], dtype=onp.float32)
    Y = onp.array([2, 4, 6, 8], dtype=onp.float32)
    learning_rate, n_iters = 0.01, 20

    w = onp.float32(0.0)
    manual = []
    for epoch in range(n_iters):
        y_pred = w * X
        l = ((y_pred - Y) ** 2).mean()
        dw = (2 * X * (y_pred - Y)).mean()
        w -= learning_rate * dw
        manual.append((float(w), float(l)))

    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    wt = torch.tensor(0.0, dtype=torch.float32, requires_grad=True)
    auto = []
    for epoch in range(n_iters):
        y_pred = wt * Xt
        l = ((y_pred - Yt) ** 2).mean()
        l.backward()
        with torch.no_grad():
            wt -= learning_rate * wt.grad
        wt.grad.zero_()
        auto.append((wt.item(), l.item()))
    for (a, b), (c, d) in zip(manual, auto):
        assert c == pytest.approx(a, rel=1e-6) and d == pytest.approx(b, rel=1e-5, abs=1e-9)
    assert f"{(wt * 5).item():.3f}" == f"{manual[-1][0] * 5:.3f}"


A = onp.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.5, 0.0, 4.0]])
B = onp.array([[1.0, -1.0], [2.0, 0.5], [0.0, 1.0]])
b = onp.array([1.0, -2.0, 0.5])
x0 = onp.array([0.3, -0.7, 1.1])


def test_hessian_of_quadratic_form():
    f = lambda x: 0.5 * np.dot(x, np.dot(A, x)) + np.dot(b, x) + 3.0
    onp.testing.assert_allclose(grad(f)(x0), 0.5 * (A + A.T) @ x0 + b, rtol=1e-14)
    onp.testing.assert_allclose(hessian(f)(x0), 0.5 * (A + A.T), rtol=1e-14)


def test_gradient_of_trace():
    """f(X) = tr(A X B): the gradient is Aᵀ Bᵀ."""
    A2 = onp.array([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])  # 2x3
    B2 = onp.array([[1.0, 2.0], [3.0, 4.0]])  # 2x2
    X0 = onp.arange(6.0).reshape(3, 2)
    f = lambda X: np.trace(np.dot(np.dot(A2, X), B2))
    onp.testing.assert_allclose(grad(f)(X0), A2.T @ B2.T, rtol=1e-14)


def test_least_squares():
    f = lambda x: 0.5 * np.sum((np.dot(A, x) - b) ** 2)
    onp.testing.assert_allclose(grad(f)(x0), A.T @ (A @ x0 - b), rtol=1e-13)
    onp.testing.assert_allclose(hessian(f)(x0), A.T @ A, rtol=1e-13)


def test_log_one_plus_exp():
    a = onp.array([0.5, -1.0, 2.0])
    f = lambda x: np.log(1 + np.exp(np.dot(a, x)))
    s = 1 / (1 + onp.exp(-a @ x0))
    onp.testing.assert_allclose(grad(f)(x0), s * a, rtol=1e-13)
    onp.testing.assert_allclose(hessian(f)(x0), s * (1 - s) * onp.outer(a, a), rtol=1e-12)


def test_jacobian_jvp_vjp():
    f = lambda x: np.sin(x) * 2
    J = jacobian(f)(x0)
    onp.testing.assert_allclose(J, onp.diag(2 * onp.cos(x0)), rtol=1e-14, atol=1e-300)
    v = onp.array([1.0, 2.0, 3.0])
    y, jv = jvp(f, x0, v)
    onp.testing.assert_allclose(y, 2 * onp.sin(x0))
    onp.testing.assert_allclose(jv, 2 * onp.cos(x0) * v, rtol=1e-14)
    y, pullback = vjp(f, x0)
    onp.testing.assert_allclose(pullback(v), 2 * onp.cos(x0) * v, rtol=1e-14)
    onp.testing.assert_allclose(jacobian(lambda x: np.dot(B.T, x))(x0), B.T, rtol=1e-15)


def test_torch_functions_under_autograd():
    assert grad(lambda x: torch.sigmoid(x))(0.0) == pytest.approx(0.25)
    assert grad(lambda x: (x * x).sum())(onp.array([1.0, 2.0])).tolist() == [2.0, 4.0]
