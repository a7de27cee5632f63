//! Stochastic gradient descent as `torch.optim.SGD` defines it.

use super::{check_at_least, distinct, value_and_grad, Optimizer};
use crate::autograd;
use crate::error::{Error, Result};
use crate::nn::Parameter;
use crate::tensor::Tensor;

/// The hyperparameters of [`Sgd`]; the defaults are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (PyTorch's default 1e-3).
    pub lr: f64,
    /// Momentum factor μ (0: plain gradient descent).
    pub momentum: f64,
    /// Dampening τ of the gradient added to the momentum buffer.
    pub dampening: f64,
    /// L2 penalty λ: the gradient used is g + λ·w.
    pub weight_decay: f64,
    /// Nesterov momentum (needs μ > 0 and τ = 0).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// SGD with momentum, as `torch.optim.SGD`. For each parameter w with
/// gradient g, at step t:
///
/// ```text
/// g ← g + λ·w                       (weight decay)
/// b ← g at t = 1, else μ·b + (1 − τ)·g   (momentum buffer, if μ ≠ 0)
/// g ← g + μ·b if Nesterov, else b
/// w ← w − lr·g
/// ```
///
/// ```
/// use chainrule::nn::Parameter;
/// use chainrule::optim::{Optimizer, Sgd, SgdConfig};
/// use chainrule::Tensor;
/// let w = Parameter::new(Tensor::scalar(1.0));
/// let cfg = SgdConfig { lr: 0.1, momentum: 0.5, ..Default::default() };
/// let mut opt = Sgd::new(vec![w.clone()], cfg).unwrap();
/// for _ in 0..2 {
///     w.value().set_grad(Some(Tensor::scalar(1.0)));
///     opt.step().unwrap();
/// }
/// // b₁ = 1, w₁ = 0.9; b₂ = 0.5 + 1 = 1.5, w₂ = 0.9 − 0.15.
/// assert!((w.value().item() - 0.75).abs() < 1e-15);
/// ```
pub struct Sgd {
    params: Vec<Parameter>,
    config: SgdConfig,
    momentum_buffers: Vec<Option<Tensor>>,
}

impl Sgd {
    /// An optimiser for `params`; an `Err` for a negative or non-finite
    /// hyperparameter, for Nesterov without momentum or with dampening, or
    /// for a parameter listed twice.
    pub fn new(params: Vec<Parameter>, config: SgdConfig) -> Result<Sgd> {
        check_at_least("learning rate", config.lr, 0.0)?;
        check_at_least("momentum", config.momentum, 0.0)?;
        check_at_least("dampening", config.dampening, 0.0)?;
        check_at_least("weight_decay", config.weight_decay, 0.0)?;
        if config.nesterov && (config.momentum <= 0.0 || config.dampening != 0.0) {
            return Err(Error::NesterovMomentum);
        }
        distinct(&params)?;
        let n = params.len();
        Ok(Sgd {
            params,
            config,
            momentum_buffers: vec![None; n],
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl Optimizer for Sgd {
    fn parameters(&self) -> &[Parameter] {
        &self.params
    }

    fn step(&mut self) -> Result<()> {
        let _no_grad = autograd::no_grad();
        let c = self.config;
        for (p, buf) in self.params.iter().zip(&mut self.momentum_buffers) {
            let Some((w, mut g)) = value_and_grad("SGD step: parameter and gradient", p)? else {
                continue;
            };
            if c.weight_decay != 0.0 {
                g = &g + &w * c.weight_decay;
            }
            // The parameter's own handle only, so that the step can write
            // into its buffer (see `Parameter::add_scaled`).
            drop(w);
            if c.momentum != 0.0 {
                let b = match buf.take() {
                    None => g.clone(),
                    Some(b) => &b * c.momentum + &g * (1.0 - c.dampening),
                };
                g = if c.nesterov {
                    &g + &b * c.momentum
                } else {
                    b.clone()
                };
                *buf = Some(b);
            }
            // w − lr·g in one pass, as PyTorch's `p.add_(g, alpha=-lr)`.
            p.add_scaled(&g, -c.lr)?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}
