//! Adam as `torch.optim.Adam` defines it.

use super::{check_at_least, distinct, value_and_grad, Optimizer};
use crate::autograd;
use crate::error::{Error, Result};
use crate::nn::Parameter;
use crate::real::Real;
use crate::tensor::Tensor;

/// The hyperparameters of [`Adam`]; the defaults are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment estimates
    /// (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator for stability (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient, g + λ·w (Adam's, not AdamW's
    /// decoupled decay).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// One parameter's state: the step count and the moment estimates.
struct State {
    step: i32,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

/// Adam, as `torch.optim.Adam` (without amsgrad). For each parameter w with
/// gradient g, at step t = 1, 2, ...:
///
/// ```text
/// g ← g + λ·w
/// m ← β₁·m + (1 − β₁)·g            (m₀ = 0)
/// v ← β₂·v + (1 − β₂)·g²           (v₀ = 0)
/// w ← w − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// The first step therefore moves every coordinate by about lr·sign(g):
///
/// ```
/// use chainrule::nn::Parameter;
/// use chainrule::optim::{Adam, AdamConfig, Optimizer};
/// use chainrule::tensor;
/// let w = Parameter::new(tensor![1.0, 1.0]);
/// let mut opt = Adam::new(vec![w.clone()], AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
/// w.value().set_grad(Some(tensor![4.0, -0.01]));
/// opt.step().unwrap();
/// let v = w.value().to_vec();
/// assert!((v[0] - 0.9).abs() < 1e-8 && (v[1] - 1.1).abs() < 1e-6);
/// ```
pub struct Adam {
    params: Vec<Parameter>,
    config: AdamConfig,
    state: Vec<Option<State>>,
}

impl Adam {
    /// An optimiser for `params`; an `Err` for a negative or non-finite
    /// learning rate, ε or weight decay, a β outside [0, 1), or a parameter
    /// listed twice.
    pub fn new(params: Vec<Parameter>, config: AdamConfig) -> Result<Adam> {
        check_at_least("learning rate", config.lr, 0.0)?;
        check_at_least("epsilon", config.eps, 0.0)?;
        check_at_least("weight_decay", config.weight_decay, 0.0)?;
        for (i, b) in [config.betas.0, config.betas.1].into_iter().enumerate() {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::InvalidBeta { index: i, value: b });
            }
        }
        distinct(&params)?;
        let n = params.len();
        Ok(Adam {
            params,
            config,
            state: (0..n).map(|_| None).collect(),
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl Optimizer for Adam {
    fn parameters(&self) -> &[Parameter] {
        &self.params
    }

    fn step(&mut self) -> Result<()> {
        let _no_grad = autograd::no_grad();
        let c = self.config;
        let (b1, b2) = c.betas;
        for (p, state) in self.params.iter().zip(&mut self.state) {
            let Some((w, mut g)) = value_and_grad("Adam step: parameter and gradient", p)? else {
                continue;
            };
            if c.weight_decay != 0.0 {
                g = &g + &w * c.weight_decay;
            }
            let s = state.get_or_insert_with(|| State {
                step: 0,
                exp_avg: w.zeros_like(),
                exp_avg_sq: w.zeros_like(),
            });
            s.step += 1;
            // PyTorch: exp_avg.lerp_(g, 1 − β₁), exp_avg_sq.mul_(β₂).addcmul_(g, g, 1 − β₂).
            s.exp_avg = &s.exp_avg + (&g - &s.exp_avg) * (1.0 - b1);
            s.exp_avg_sq = &s.exp_avg_sq * b2 + g.square() * (1.0 - b2);
            let bias_correction1 = 1.0 - b1.powi(s.step);
            let bias_correction2 = 1.0 - b2.powi(s.step);
            let step_size = c.lr / bias_correction1;
            let denom = s.exp_avg_sq.sqrt() / bias_correction2.sqrt() + c.eps;
            p.replace(&w - (&s.exp_avg / &denom) * step_size);
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
