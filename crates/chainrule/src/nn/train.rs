//! The full-batch training loop of a classifier and its accuracy, shared by
//! the examples and the tests.

use super::loss::cross_entropy;
use super::Module;
use crate::error::{Error, Result};
use crate::optim::Optimizer;
use crate::tensor::Tensor;

/// The fraction of rows of `logits` (`[N, C]`) whose largest entry is at
/// the label's index (the first on ties).
///
/// ```
/// use chainrule::nn::accuracy;
/// use chainrule::tensor;
/// let logits = tensor![[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.5, 0.4]];
/// assert_eq!(accuracy(&logits, &[0, 1, 1, 0]).unwrap(), 0.75);
/// ```
pub fn accuracy(logits: &Tensor, labels: &[usize]) -> Result<f64> {
    if logits.ndim() != 2 || logits.shape()[0] != labels.len() {
        return Err(Error::ShapeMismatch {
            op: "accuracy: logits [batch, classes] and labels",
            left: logits.shape().to_vec(),
            right: vec![labels.len()],
        });
    }
    if labels.is_empty() {
        return Err(Error::EmptyBatch { op: "accuracy" });
    }
    let predicted = logits.try_argmax_dim(1, false)?.to_vec();
    let hits = predicted
        .iter()
        .zip(labels)
        .filter(|&(&p, &l)| p as usize == l)
        .count();
    Ok(hits as f64 / labels.len() as f64)
}

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
/// use chainrule::nn::{train_classifier, Linear, Module};
/// use chainrule::optim::{Sgd, SgdConfig};
/// use chainrule::random::SplitMix64;
/// use chainrule::tensor;
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
