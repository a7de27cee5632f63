"""``torch.optim``: SGD (momentum) and Adam, updating parameters in place."""

import math as _math

from .. import _native


class Optimizer:
    def __init__(self, params, defaults):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.defaults = defaults
        self.state = {}

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    """``p -= lr * (g + weight_decay * p)``, with momentum as PyTorch."""

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay

    def step(self):
        prev = _native.set_grad_enabled(False)
        try:
            for i, p in enumerate(self.params):
                g = p.grad
                if g is None:
                    continue
                if self.weight_decay:
                    g = g + self.weight_decay * p
                if self.momentum:
                    buf = self.state.get(i)
                    buf = g if buf is None else buf * self.momentum + g
                    self.state[i] = buf
                    g = buf
                p -= self.lr * g
        finally:
            _native.set_grad_enabled(prev)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's defaults."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0

    def step(self):
        prev = _native.set_grad_enabled(False)
        try:
            self.t += 1
            b1, b2 = self.betas
            for i, p in enumerate(self.params):
                g = p.grad
                if g is None:
                    continue
                if self.weight_decay:
                    g = g + self.weight_decay * p
                m, v = self.state.get(i, (None, None))
                m = g * (1 - b1) if m is None else m * b1 + g * (1 - b1)
                v = g * g * (1 - b2) if v is None else v * b2 + g * g * (1 - b2)
                self.state[i] = (m, v)
                mhat = m / (1 - b1 ** self.t)
                vhat = v / (1 - b2 ** self.t)
                p -= self.lr * mhat / (vhat.sqrt() + self.eps)
        finally:
            _native.set_grad_enabled(prev)
