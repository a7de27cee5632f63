//! Matrix functions beyond the product: the trace.

use ndarray::{ArrayD, IxDyn};

use super::{Data, Tensor};
use crate::error::{Error, Result};

impl Tensor {
    /// The sum of the main diagonal of a matrix (0-d), as `torch.trace`
    /// (a non-square matrix sums its `min(m, n)` diagonal entries); an
    /// `Err` if the tensor is not 2-d.
    ///
    /// ```
    /// use chainrule::tensor;
    /// assert_eq!(tensor![[1.0, 2.0], [3.0, 4.0]].trace().item(), 5.0);
    /// ```
    pub fn try_trace(&self) -> Result<Tensor> {
        if self.ndim() != 2 {
            return Err(Error::Invalid(format!(
                "trace: expected a matrix (2-d tensor), got shape {:?}",
                self.shape()
            )));
        }
        let (m, n) = (self.shape()[0], self.shape()[1]);
        let sum = self
            .0
            .data
            .with_view(|a| (0..m.min(n)).map(|i| a[[i, i]]).sum());
        Ok(Tensor::custom(
            Data::Scalar(sum),
            "TraceBackward0",
            vec![self.clone()],
            move |g, _, _| vec![Some(diagonal_mask(m, n) * g)],
        ))
    }

    /// The trace of a matrix (see [`Tensor::try_trace`]).
    ///
    /// # Panics
    /// If the tensor is not 2-d; the message names its shape.
    pub fn trace(&self) -> Tensor {
        self.try_trace().unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The m×n matrix with ones on the main diagonal: ∂ tr(M)/∂M.
fn diagonal_mask(m: usize, n: usize) -> Tensor {
    Tensor::from_array(ArrayD::from_shape_fn(IxDyn(&[m, n]), |i| {
        if i[0] == i[1] {
            1.0
        } else {
            0.0
        }
    }))
}
