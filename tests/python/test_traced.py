"""Issue 15's overhead fixes: a Hessian from Python calls the function once
and finishes in Rust; Taylor-mode derivatives of a formula replay a plan
traced once. Values against closed forms and against the nested paths."""

import math

import numpy as onp
import pytest

import chainrule.autograd.numpy as np
import chainrule.sympy as sp
import chainrule.torch as torch
from chainrule.autograd import grad, hessian, jacobian

A = onp.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.5, 0.0, 4.0]])
x0 = onp.array([0.3, -0.7, 1.1])


def test_hessian_calls_the_function_once():
    calls = []

    def f(x):
        calls.append(1)
        return 0.5 * np.dot(x, np.dot(A, x)) + np.sum(np.sin(x))

    h = hessian(f)(x0)
    assert len(calls) == 1
    onp.testing.assert_allclose(h, 0.5 * (A + A.T) - onp.diag(onp.sin(x0)), rtol=1e-14, atol=1e-15)


def test_hessian_of_a_scalar_function_of_a_scalar_is_a_float():
    # d²/dx² x³ sin x = 6x sin x + 6x² cos x - x³ sin x
    x = 0.7
    h = hessian(lambda t: t**3 * np.sin(t))(x)
    assert isinstance(h, float)
    assert h == pytest.approx(6 * x * math.sin(x) + 6 * x * x * math.cos(x) - x**3 * math.sin(x), rel=1e-14)


def test_hessian_follows_python_control_flow_at_each_point():
    # Data-dependent branches are fine: the function runs (once) at each point.
    f = lambda x: np.sum(x**3) if float(np.sum(x).item()) > 0 else np.sum(x**2)
    onp.testing.assert_allclose(hessian(f)(onp.array([1.0, 2.0])), onp.diag([6.0, 12.0]))
    onp.testing.assert_allclose(hessian(f)(onp.array([-1.0, -2.0])), onp.diag([2.0, 2.0]))


def test_hessian_of_a_constant_is_zero():
    onp.testing.assert_array_equal(hessian(lambda x: 3.0)(x0), onp.zeros((3, 3)))


def test_hessian_nested_in_another_transform_stays_differentiable():
    # d/dx of the Hessian of t⁴ at x: d/dx 12x² = 24x (the nested path, on the tape).
    g = grad(lambda x: hessian(lambda t: t**4)(x))
    assert g(1.5) == pytest.approx(36.0, rel=1e-14)


def test_hessian_errors_are_python_exceptions():
    def boom(x):
        raise KeyError("inside")

    with pytest.raises(KeyError):
        hessian(boom)(x0)
    with pytest.raises(RuntimeError):
        hessian(lambda x: x * 2)(x0)  # not a scalar


def test_torch_functional_hessian_in_float32_and_float64():
    for dtype in (torch.float32, torch.float64):
        a = torch.tensor(A, dtype=dtype)
        x = torch.tensor(x0, dtype=dtype)
        h = torch.autograd.functional.hessian(lambda v: 0.5 * (v * torch.matmul(a, v)).sum(), x)
        assert h.dtype == dtype
        assert not h.requires_grad
        onp.testing.assert_allclose(h.numpy(), 0.5 * (A + A.T), rtol=1e-6)
    # create_graph keeps the (nested) tape path.
    x = torch.tensor(x0, dtype=torch.float64)
    h = torch.autograd.functional.hessian(lambda v: (v**3).sum(), x, create_graph=True)
    onp.testing.assert_allclose(h.detach().numpy(), onp.diag(6 * x0), rtol=1e-14)


def test_taylor_derivatives_replay_the_traced_plan():
    x, y = sp.symbols("x y")
    f = sp.tanh(x)
    # The seed's 4th derivative of tanh at 0.5 (HIPS autograd: 3.9522195637245825)
    # and d^8, d^16 from the closed forms' values.
    first = sp.taylor_derivatives(f, x, 0.5, 16)
    again = sp.taylor_derivatives(f, x, 0.5, 16)
    assert first == again
    assert first[4] == pytest.approx(3.9522195637245825, rel=1e-14)
    assert first[8] == pytest.approx(322.8593181, rel=1e-9)
    assert first[16] == pytest.approx(-7381543787, rel=1e-9)
    # The same plan at other points and orders: exp(2x) has 2^k exp(2x).
    g = sp.exp(2 * x)
    for at in (0.0, 0.3, -1.0):
        ds = sp.taylor_derivatives(g, x, at, 6)
        for k, d in enumerate(ds):
            assert d == pytest.approx(2.0**k * math.exp(2 * at), rel=1e-14)
    # A formula of two symbols: the other one has no value.
    h = x**2 * sp.sin(y)
    with pytest.raises(ValueError):
        sp.taylor_derivatives(h, x, 0.5, 2)
    with pytest.raises(ValueError):
        sp.taylor_derivatives(h, y, 0.5, 2)
    assert sp.taylor_derivatives(x**2 * sp.sin(x), x, 0.5, 2)[2] == pytest.approx(
        2 * math.sin(0.5) + 4 * 0.5 * math.cos(0.5) - 0.25 * math.sin(0.5), rel=1e-14
    )


def test_nth_derivative_traces_the_function_once():
    from chainrule.autograd import nth_derivative

    calls = []

    def f(x):
        calls.append(1)
        return np.tanh(x)

    d4 = nth_derivative(f, 4)
    # The seed's value (HIPS autograd, four nested grads): 3.9522195637245825.
    assert d4(0.5) == pytest.approx(3.9522195637245825, rel=1e-14)
    assert d4(0.0) == 0.0
    assert len(calls) == 1
    # d^16 tanh at 0.5 in one pass (nested grads grow exponentially with k).
    assert nth_derivative(np.tanh, 16)(0.5) == pytest.approx(-7381543787, rel=1e-9)
    # The same as four nested grads.
    nested = grad(grad(grad(grad(np.tanh))))
    assert d4(1.3) == pytest.approx(nested(1.3), rel=1e-13)


def test_nth_derivative_falls_back_when_the_function_branches():
    from chainrule.autograd import nth_derivative

    # Ordering a formula raises, so this runs as nested grads, per point.
    f = lambda x: x**3 if x > 0 else -(x**2)
    d2 = nth_derivative(f, 2)
    assert d2(2.0) == pytest.approx(12.0)
    assert d2(-2.0) == pytest.approx(-2.0)
    # An operation formulas lack (numpy's log1p on a formula) falls back too.
    g = nth_derivative(lambda x: np.log1p(x) * 1.0, 1)
    assert g(0.5) == pytest.approx(1 / 1.5, rel=1e-14)


def test_nth_derivative_is_a_builtin_bound_to_its_native_object():
    from chainrule import _native
    from chainrule.autograd import nth_derivative

    d4 = nth_derivative(np.tanh, 4)
    # A builtin function (called by vectorcall), named for what it computes.
    assert type(d4).__name__ == "builtin_function_or_method"
    assert d4.__name__ == "nth_derivative(tanh, 4)"
    assert repr(d4).startswith("<built-in method nth_derivative(tanh, 4) of chainrule._native.NthDerivative object")
    assert "4-th derivative of tanh" in d4.__doc__
    native = d4.__self__
    assert isinstance(native, _native.NthDerivative)
    assert repr(native) == "<nth_derivative(tanh, 4)>"
    assert native.n == 4 and native.traced is None
    # The seed's value (HIPS autograd, four nested grads): 3.9522195637245825.
    assert d4(0.5) == pytest.approx(3.9522195637245825, rel=1e-14)
    assert native.traced is True
    # The native object answers the same, through its __call__.
    assert native(0.5) == d4(0.5)
    # Ints and numpy floats are numbers too (tanh is odd: even derivatives are 0 at 0).
    assert d4(0) == 0.0
    assert d4(onp.float64(0.5)) == d4(0.5)
    assert nth_derivative(np.tanh, 1)(1) == pytest.approx(1 / math.cosh(1) ** 2, rel=1e-15)
    # One positional argument, no keywords: TypeErrors, as for any builtin.
    with pytest.raises(TypeError):
        d4()
    with pytest.raises(TypeError):
        d4(0.5, 0.5)
    with pytest.raises(TypeError):
        d4(x=0.5)
    # Not a number: float('a')'s ValueError, not a crash.
    with pytest.raises(ValueError):
        d4("a")
