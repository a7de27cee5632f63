//! Loss functions, each the mean over the batch (PyTorch's default
//! `reduction='mean'`). Shapes and class indices come from data read at run
//! time, so a mismatch is an `Err`, not a panic.
//!
//! The cross-entropies are computed from logits through stable forms
//! (log-softmax, softplus), so logits of ±1000 give finite losses and
//! gradients.

use crate::error::{Error, Result};
use crate::real::Real;
use crate::tensor::Tensor;

/// A shape `Err` naming the loss unless the two shapes are equal.
fn same_shape(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            op,
            left: a.shape().to_vec(),
            right: b.shape().to_vec(),
        })
    }
}

/// Mean squared error mean((pred − target)²), as `torch.nn.functional.mse_loss`;
/// the shapes must be equal (PyTorch would broadcast with a warning).
///
/// ```
/// use chainrule::nn::loss::mse;
/// use chainrule::tensor;
/// let l = mse(&tensor![1.0, 2.0], &tensor![0.0, 4.0]).unwrap();
/// assert_eq!(l.item(), 2.5);
/// ```
pub fn mse(pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    same_shape("mse: prediction and target", pred, target)?;
    Ok((pred - target).square().mean())
}

/// The batch size and number of classes of `scores` (`[N, C]`, or `[C]` for
/// one sample), checked against the targets.
fn batch_and_classes(
    op: &'static str,
    scores: &Tensor,
    targets: &[usize],
) -> Result<(usize, usize)> {
    let (n, c) = match scores.shape() {
        [c] => (1, *c),
        [n, c] => (*n, *c),
        s => {
            return Err(Error::WrongRank {
                op,
                expected: "scores of shape [batch, classes] or [classes]",
                shape: s.to_vec(),
            })
        }
    };
    if targets.len() != n {
        return Err(Error::ShapeMismatch {
            op,
            left: scores.shape().to_vec(),
            right: vec![targets.len()],
        });
    }
    if n == 0 {
        return Err(Error::EmptyBatch { op });
    }
    if let Some((i, &t)) = targets.iter().enumerate().find(|&(_, &t)| t >= c) {
        return Err(Error::ClassOutOfRange {
            op,
            label: t,
            sample: i,
            classes: c,
        });
    }
    Ok((n, c))
}

/// Negative log-likelihood `−mean_i log_probs[i, targets[i]]`, as
/// `torch.nn.functional.nll_loss`: `log_probs` is `[N, C]` (or `[C]` with
/// one target), the targets are class indices.
///
/// The entries are picked by index, so a −inf log-probability of a class
/// that is not a target does no harm.
///
/// ```
/// use chainrule::nn::loss::nll;
/// use chainrule::tensor;
/// let lp = tensor![[-0.1, -2.0], [-3.0, -0.5]];
/// assert!((nll(&lp, &[0, 1]).unwrap().item() - 0.3).abs() < 1e-15);
/// assert!(nll(&lp, &[0, 2]).is_err());
/// ```
pub fn nll(log_probs: &Tensor, targets: &[usize]) -> Result<Tensor> {
    let (n, c) = batch_and_classes("nll", log_probs, targets)?;
    let picks: Vec<usize> = targets
        .iter()
        .enumerate()
        .map(|(i, &t)| i * c + t)
        .collect();
    let picked = log_probs
        .try_reshape(&[n * c])?
        .try_index_select(0, &picks)?;
    Ok(-picked.mean())
}

/// Cross-entropy of class-index targets given raw scores (logits), as
/// `torch.nn.functional.cross_entropy`: `nll(log_softmax(logits))`, stable
/// for large logits, computed as one operation (PyTorch's grad_fn name
/// `NllLossBackward0`).
///
/// ```
/// use chainrule::nn::loss::cross_entropy;
/// use chainrule::tensor;
/// // log(e¹ + e² + e³) − 3
/// let l = cross_entropy(&tensor![[1.0, 2.0, 3.0]], &[2]).unwrap();
/// assert!((l.item() - 0.4076059644443806).abs() < 1e-15);
/// let big = cross_entropy(&tensor![[1000.0, 0.0]], &[1]).unwrap();
/// assert_eq!(big.item(), 1000.0);
/// ```
pub fn cross_entropy(logits: &Tensor, targets: &[usize]) -> Result<Tensor> {
    batch_and_classes("cross_entropy", logits, targets)?;
    // One fused operation (log-sum-exp once per row; the gradient
    // (softmax − one_hot)/N in one pass): the values of
    // nll(log_softmax(logits)), without its five intermediate arrays.
    Ok(logits.softmax_cross_entropy(targets))
}

/// Binary cross-entropy of targets in [0, 1] given logits z, as
/// `torch.nn.functional.binary_cross_entropy_with_logits`:
/// mean(softplus(z) − y·z), which equals −mean(y log σ(z) + (1 − y) log(1 − σ(z)))
/// without evaluating σ, so it stays finite for |z| = 1000.
///
/// ```
/// use chainrule::nn::loss::binary_cross_entropy_with_logits;
/// use chainrule::tensor;
/// // z = 0: σ = ½, loss = log 2 for either target.
/// let l = binary_cross_entropy_with_logits(&tensor![0.0, 0.0], &tensor![1.0, 0.0]).unwrap();
/// assert!((l.item() - 2f64.ln()).abs() < 1e-15);
/// let far = binary_cross_entropy_with_logits(&tensor![-1000.0], &tensor![1.0]).unwrap();
/// assert_eq!(far.item(), 1000.0);
/// ```
pub fn binary_cross_entropy_with_logits(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    same_shape(
        "binary_cross_entropy_with_logits: logits and targets",
        logits,
        targets,
    )?;
    Ok((logits.softplus() - targets * logits).mean())
}
