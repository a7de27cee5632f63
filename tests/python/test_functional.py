"""torch.autograd.functional.jacobian and hessian of a function of one tensor."""

import numpy as np

import chainrule.torch as torch


def test_hessian_of_a_quadratic_is_the_symmetric_part():
    a = torch.tensor([[1.0, 2.0], [4.0, 3.0]], dtype=torch.float64)
    x = torch.tensor([0.5, -1.0], dtype=torch.float64)
    h = torch.autograd.functional.hessian(lambda v: 0.5 * (v * torch.matmul(a, v)).sum(), x)
    # ½ xᵀAx has Hessian (A + Aᵀ)/2 = [[1, 3], [3, 3]].
    assert np.allclose(h.numpy(), [[1.0, 3.0], [3.0, 3.0]], rtol=0, atol=1e-12)
    assert not h.requires_grad


def test_jacobian_of_an_elementwise_square_is_diagonal():
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    j = torch.autograd.functional.jacobian(lambda v: v * v, x)
    assert np.allclose(j.numpy(), np.diag([2.0, 4.0, 6.0]), rtol=0, atol=1e-12)
