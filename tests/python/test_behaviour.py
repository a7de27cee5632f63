"""PyTorch's and SymPy's behaviour where the seeds do not reach, against
values from the real libraries written here (not computed at test time)."""

import numpy as np
import pytest

import chainrule.sympy as sp
import chainrule.torch as torch
import chainrule.torch.nn.functional as F


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda x: x * 2, "MulBackward0"),
        (lambda x: 2 * x, "MulBackward0"),
        (lambda x: x * x, "MulBackward0"),
        (lambda x: x + 1, "AddBackward0"),
        (lambda x: x - 1, "SubBackward0"),
        (lambda x: x / 2, "DivBackward0"),
        (lambda x: x**2, "PowBackward0"),
        (lambda x: -x, "NegBackward0"),
        (lambda x: torch.exp(x), "ExpBackward0"),
        (lambda x: torch.sin(x), "SinBackward0"),
        (lambda x: torch.tanh(x), "TanhBackward0"),
        (lambda x: torch.sigmoid(x), "SigmoidBackward0"),
        (lambda x: torch.relu(x), "ReluBackward0"),
        (lambda x: x.sum(), "SumBackward0"),
        (lambda x: x.mean(), "MeanBackward0"),
    ],
)
def test_grad_fn_names(make, name):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    assert y.grad_fn.name() == name
    assert repr(y.grad_fn).startswith(f"<{name} object at 0x")
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf


def test_printing():
    assert repr(torch.tensor(34.0)) == "tensor(34.)"
    assert repr(torch.tensor([0.8374, 0.8251, 0.5206], requires_grad=True)) == (
        "tensor([0.8374, 0.8251, 0.5206], requires_grad=True)"
    )
    x = torch.tensor([2.0], requires_grad=True)
    assert str(x * 2) == "tensor([4.], grad_fn=<MulBackward0>)"
    assert repr(torch.tensor(1.0, dtype=torch.float64)) == "tensor(1., dtype=torch.float64)"
    assert repr(torch.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(torch.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert f"{torch.tensor(0.5):.2f}" == "0.50"


def test_backward_twice_raises_and_retain_graph_allows_it():
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0


def test_create_graph_nesting():
    x = torch.tensor(2.0, requires_grad=True)
    y = x**3
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    assert g.item() == 12.0 and g.grad_fn is not None
    (g2,) = torch.autograd.grad(g, x, create_graph=True)
    assert g2.item() == 12.0
    (g3,) = torch.autograd.grad(g2, x)
    assert g3.item() == 6.0
    # backward with create_graph: x.grad is itself differentiable.
    x = torch.tensor(2.0, requires_grad=True)
    (x**3).backward(create_graph=True)
    assert x.grad.requires_grad


def test_no_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.no_grad():
        z = x * 2
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()
    assert not z.requires_grad and z.grad_fn is None

    @torch.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert (x * 3).requires_grad


def test_broadcasting():
    a = torch.tensor([[1.0], [2.0]], requires_grad=True)
    b = torch.tensor([10.0, 20.0, 30.0], requires_grad=True)
    c = a + b
    assert c.shape == (2, 3)
    assert c.tolist() == [[11.0, 21.0, 31.0], [12.0, 22.0, 32.0]]
    c.sum().backward()
    assert a.grad.tolist() == [[3.0], [3.0]]
    assert b.grad.tolist() == [2.0, 2.0, 2.0]


def test_dtype_promotion():
    f32 = torch.tensor([1.0, 2.0])
    f64 = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert f32.dtype == torch.float32
    assert (f32 * 2.5).dtype == torch.float32
    assert (f32 + f64).dtype == torch.float64
    assert (f32 + torch.tensor(1.0, dtype=torch.float64)).dtype == torch.float32
    assert torch.tensor([1, 2]).dtype == torch.int64
    assert torch.tensor(True).dtype == torch.bool
    assert (torch.tensor(0.1) * 3).item() == 0.30000001192092896
    assert torch.tensor(0.1, dtype=torch.float64).item() == 0.1


def test_errors_are_exceptions():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError):
        x.numpy()
    with pytest.raises(RuntimeError):
        x.item()
    with pytest.raises(RuntimeError):
        (x * 2).requires_grad_(False)
    with pytest.raises(RuntimeError):
        torch.tensor([1.0, 2.0]) + torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError):
        torch.tensor(1.0).backward()
    with pytest.raises(RuntimeError):
        x -= 1.0
    with pytest.raises(IndexError):
        x[5]
    with pytest.raises(TypeError):
        torch.tensor("abc")
    with pytest.raises(ValueError):
        torch.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError):
        sp.sympify("x +")
    with pytest.raises(TypeError):
        torch.tensor(1.0, dtype="int8")


def test_grad_accumulates_and_zero():
    w = torch.tensor(1.0, requires_grad=True)
    (w * 3).backward()
    (w * 3).backward()
    assert w.grad.item() == 6.0
    w.grad.zero_()
    assert w.grad.item() == 0.0
    w.grad = None
    assert w.grad is None


def test_retain_grad_and_detach():
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = y * y
    z.backward()
    assert y.grad.item() == 12.0
    assert x.grad.item() == 36.0
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.item() == 6.0


def test_numpy_round_trip():
    a = np.array([[1.5, 2.0], [3.0, 4.0]], dtype=np.float32)
    t = torch.from_numpy(a)
    assert t.dtype == torch.float32 and t.shape == (2, 2)
    assert t.numpy().dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), a)
    t64 = torch.from_numpy(a.astype(np.float64))
    assert t64.dtype == torch.float64
    assert (t * np.float32(2.0)).tolist() == [[3.0, 4.0], [6.0, 8.0]]


def test_functional_and_constructors():
    x = torch.tensor([1.0, 2.0, 3.0])
    s = F.softmax(x, dim=0)
    np.testing.assert_allclose(s.numpy(), [0.09003057, 0.24472848, 0.66524094], rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(x, dim=0).numpy(), [-2.4076061, -1.4076061, -0.40760612], rtol=1e-6)
    logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], requires_grad=True)
    loss = F.cross_entropy(logits, torch.tensor([1, 2]))
    assert abs(loss.item() - 0.286985124314705) < 1e-6
    assert abs(F.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0])).item() - 2.5) < 1e-7
    assert torch.zeros(2, 3).shape == (2, 3)
    assert torch.ones(2).tolist() == [1.0, 1.0]
    assert repr(torch.arange(3)) == "tensor([0, 1, 2])"
    assert torch.arange(0.0, 1.0, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    torch.manual_seed(0)
    a = torch.rand(4)
    torch.manual_seed(0)
    b = torch.rand(4)
    assert a.tolist() == b.tolist()


def test_nn_linear_and_optimizers():
    torch.manual_seed(1)
    lin = torch.nn.Linear(2, 1)
    params = list(lin.parameters())
    assert [tuple(p.shape) for p in params] == [(1, 2), (1,)]
    X = torch.tensor([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [0.0, 1.0]])
    Y = torch.tensor([[5.0], [4.0], [9.0], [2.0]])  # y = x0 + 2 x1
    for opt_cls, kw in [(torch.optim.SGD, dict(lr=0.05, momentum=0.9)), (torch.optim.Adam, dict(lr=0.1))]:
        torch.manual_seed(1)
        lin = torch.nn.Linear(2, 1)
        opt = opt_cls(lin.parameters(), **kw)
        for _ in range(300):
            opt.zero_grad()
            loss = F.mse_loss(lin(X), Y)
            loss.backward()
            opt.step()
        assert loss.item() < 1e-3, (opt_cls, loss.item())


def test_sympy_behaviour():
    x, y = sp.symbols("x y")
    assert str(x**2 * y + 3 * x) in ("x**2*y + 3*x",)
    assert str(sp.diff(sp.sin(x) * x, x)) == "x*cos(x) + sin(x)"
    assert str(sp.diff(x**3, x, 2)) == "6*x"
    assert str(sp.diff(x**2 * y, x, y)) == "2*x"
    assert (x**2).subs(x, 3) == 9
    assert str((x**2 + y).subs({x: 2, y: 1})) == "5"
    assert str(sp.sqrt(2).evalf()) == "1.41421356237310"
    assert str((x / 2).evalf(subs={x: 1})) == "0.500000000000000"
    f = sp.lambdify((x, y), x**2 * y)
    assert f(3.0, 2.0) == 18.0
    np.testing.assert_allclose(sp.lambdify(x, sp.sin(x))(np.array([0.0, 1.0])), [0.0, 0.8414709848078965])
    assert sp.latex(x**2) == "x^{2}"
    assert x._repr_latex_() == "$\\displaystyle x$"
    assert sp.simplify(x + x) == 2 * x
    assert sp.symbols("x") == x and hash(sp.Symbol("x")) == hash(x)
    assert sp.taylor_derivatives(sp.sin(x), x, 0.0, 3)[1:] == [1.0, 0.0, -1.0]


def test_a_session_gets_formula_memory_back():
    # Issue 16: formulas no Python object holds are freed once the arena has
    # doubled; the ones held survive every collection, unchanged, and keep
    # their hash (dict keys stay valid).
    x, y = sp.symbols("x y")
    kept = sp.diff(sp.sin(x) * x, x)
    table = {kept: "kept"}
    for k in range(3000):
        sp.diff(x**k * sp.exp(y * x) + sp.sin(k * x + y), x, 2)
    assert str(kept) == "x*cos(x) + sin(x)"
    assert table[sp.diff(sp.sin(x) * x, x)] == "kept"
    assert str(sp.diff(kept, x)) == "2*cos(x) - x*sin(x)"
