//! The full-batch training loop of a classifier, shared by the moons
//! example and its test: a [`Module`] from [`crate::nn`] stepped by an
//! [`Optimizer`] from [`crate::optim`] (kept out of both, so that neither
//! imports the other).

use crate::error::Result;
use crate::nn::loss::cross_entropy;
use crate::nn::{accuracy, Module};
use crate::optim::Optimizer;
use crate::tensor::Tensor;

/// What one epoch of [`train_classifier`] measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The cross-entropy loss before this epoch's step.
    pub loss: f64,
    /// The training accuracy before this epoch's step (from the same logits).
    pub accuracy: f64,
}

/// Trains `model` on the whole batch for `epochs` epochs: each epoch is
/// `zero_grad`, forward, cross-entropy, backward, `step`, as a PyTorch loop
/// writes it; `on_epoch` sees each epoch's numbers (for a progress bar).
/// Returns them all.
///
/// ```
/// use chainrule::nn::{Linear, Module};
/// use chainrule::optim::{Sgd, SgdConfig};
/// use chainrule::random::SplitMix64;
/// use chainrule::tensor;
/// use chainrule::train::train_classifier;
/// let x = tensor![[-1.0], [-0.5], [0.5], [1.0]];
/// let model = Linear::new(1, 2, &mut SplitMix64::new(0));
/// let mut opt = Sgd::new(model.parameters(), SgdConfig { lr: 0.5, ..Default::default() }).unwrap();
/// let hist = train_classifier(&model, &mut opt, &x, &[0, 0, 1, 1], 50, |_| {}).unwrap();
/// assert!(hist[49].loss < hist[0].loss);
/// assert_eq!(hist[49].accuracy, 1.0);
/// ```
pub fn train_classifier<M, O>(
    model: &M,
    optimizer: &mut O,
    inputs: &Tensor,
    labels: &[usize],
    epochs: usize,
    mut on_epoch: impl FnMut(&EpochStats),
) -> Result<Vec<EpochStats>>
where
    M: Module + ?Sized,
    O: Optimizer + ?Sized,
{
    let mut history = Vec::with_capacity(epochs);
    for epoch in 1..=epochs {
        optimizer.zero_grad();
        let logits = model.forward(inputs)?;
        let loss = cross_entropy(&logits, labels)?;
        loss.backward()?;
        optimizer.step()?;
        let stats = EpochStats {
            epoch,
            loss: loss.try_item()?,
            accuracy: accuracy(&logits, labels)?,
        };
        on_epoch(&stats);
        history.push(stats);
    }
    Ok(history)
}
