//! Optimisers with PyTorch's update rules: [`Sgd`] (momentum, dampening,
//! Nesterov, weight decay) and [`Adam`] (bias-corrected moments).
//!
//! An optimiser holds the [`Parameter`]s of a model (their shared slots).
//! [`Optimizer::zero_grad`] clears their gradients, `loss.backward()` fills
//! them, and [`Optimizer::step`] computes each new value under
//! [`no_grad`](crate::autograd::no_grad) (nothing is recorded), keeping the
//! gradient, as `optimizer.step()` leaves `.grad` in place. SGD writes
//! w − lr·g in one pass into the parameter's own buffer when no graph or
//! other handle holds the value (PyTorch's in-place `p.add_(g, alpha=-lr)`);
//! otherwise, and for Adam, the new value is installed as a fresh leaf (a
//! graph built on the old value then refuses its backward pass). A
//! parameter without a gradient is skipped.
//!
//! ```
//! use chainrule::nn::Parameter;
//! use chainrule::optim::{Optimizer, Sgd, SgdConfig};
//! use chainrule::{Real, Tensor};
//! // Minimise (w − 3)² from w = 1 with lr 0.25: w ← w − 0.25·2(w − 3).
//! let w = Parameter::new(Tensor::scalar(1.0));
//! let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 0.25, ..Default::default() }).unwrap();
//! let loss = opt.step_with(|| Ok((w.value() - 3.0).powi(2))).unwrap();
//! assert_eq!(loss, 4.0);
//! assert_eq!(w.value().item(), 2.0);
//! ```

mod adam;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::error::{Error, Result};
use crate::nn::Parameter;
use crate::tensor::Tensor;

/// What every optimiser does: clear gradients and take a step.
pub trait Optimizer {
    /// The parameters this optimiser updates, in the order it was given them.
    fn parameters(&self) -> &[Parameter];

    /// Updates every parameter that has a gradient, without recording a
    /// graph; an `Err` if a gradient's shape differs from its parameter's.
    fn step(&mut self) -> Result<()>;

    /// The learning rate.
    fn learning_rate(&self) -> f64;

    /// Changes the learning rate (for a schedule).
    fn set_learning_rate(&mut self, lr: f64);

    /// Clears the gradients of every parameter (`set_to_none=True`).
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// One training iteration: `zero_grad`, evaluate `loss`, backward,
    /// `step`; returns the loss value (before the step).
    fn step_with(&mut self, loss: impl FnOnce() -> Result<Tensor>) -> Result<f64>
    where
        Self: Sized,
    {
        self.zero_grad();
        let l = loss()?;
        l.backward()?;
        self.step()?;
        l.try_item()
    }
}

/// The parameter's value and gradient if it has one; an `Err` naming `op`
/// if their shapes differ.
pub(crate) fn value_and_grad(op: &'static str, p: &Parameter) -> Result<Option<(Tensor, Tensor)>> {
    let Some(g) = p.grad() else { return Ok(None) };
    let w = p.value();
    if g.shape() != w.shape() {
        return Err(Error::ShapeMismatch {
            op,
            left: w.shape().to_vec(),
            right: g.shape().to_vec(),
        });
    }
    Ok(Some((w, g)))
}

/// An `Err` if a parameter appears twice (it would be updated twice per
/// step), as PyTorch refuses.
pub(crate) fn distinct(params: &[Parameter]) -> Result<()> {
    for (i, p) in params.iter().enumerate() {
        if params[..i].iter().any(|q| q.same(p)) {
            return Err(Error::DuplicateParameter { index: i });
        }
    }
    Ok(())
}

/// An `Err` unless `v` is a finite number of at least `lo`.
pub(crate) fn check_at_least(what: &'static str, v: f64, lo: f64) -> Result<()> {
    if v.is_finite() && v >= lo {
        Ok(())
    } else {
        Err(Error::InvalidHyperparameter {
            name: what,
            value: v,
        })
    }
}
