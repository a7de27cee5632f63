//! Classification metrics.

use crate::error::{Error, Result};
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
