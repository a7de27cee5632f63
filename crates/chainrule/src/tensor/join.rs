//! Joining: [`Tensor::cat`] along an existing axis and [`Tensor::stack`]
//! along a new one.

use ndarray::{ArrayD, Axis};

use super::axes::{norm_axis, shape_err};
use super::{Data, Tensor};
use crate::error::{Error, Result};
use crate::forward::tangents::{batch_len, or_zeros};
use crate::macros::panicking;

impl Tensor {
    /// Concatenates tensors along an existing `axis`.
    pub fn try_cat(tensors: &[Tensor], axis: isize) -> Result<Tensor> {
        let first = tensors.first().ok_or(Error::EmptyList { op: "cat" })?;
        let ax = norm_axis("cat", axis, first.ndim())?;
        for t in &tensors[1..] {
            let ok = t.ndim() == first.ndim()
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(i, (a, b))| i == ax || a == b);
            if !ok {
                return Err(shape_err("cat", first.shape(), t.shape()));
            }
        }
        let arrays: Vec<ArrayD<f64>> = tensors.iter().map(|t| t.0.data().to_array()).collect();
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        let out = ndarray::concatenate(Axis(ax), &views)
            // The shapes agree off `ax`, so only the size can fail.
            .map_err(|_| {
                let mut shape = first.shape().to_vec();
                shape[ax] = tensors
                    .iter()
                    .fold(0, |n, t| n.saturating_add(t.shape()[ax]));
                Error::ShapeOverflow { op: "cat", shape }
            })?;
        let lens: Vec<usize> = tensors.iter().map(|t| t.shape()[ax]).collect();
        let jvp = move |ts: &[Option<Tensor>], _: &Tensor, inp: &[Tensor]| {
            // The tangents joined the same way (zeros for a constant piece).
            let k = batch_len(ts);
            let parts: Vec<Tensor> = ts
                .iter()
                .zip(inp)
                .map(|(t, x)| or_zeros(t, x.shape(), k))
                .collect();
            Tensor::cat(&parts, ax as isize)
        };
        Ok(Tensor::custom(
            Data::from_array(out),
            "CatBackward0",
            tensors.to_vec(),
            move |g, _, inp, b| {
                let mut offset = 0;
                lens.iter()
                    .zip(inp)
                    .map(|(&len, t)| {
                        let piece = t
                            .is_requires_grad()
                            .then(|| g.narrow(b.axis(ax) as isize, offset, len));
                        offset += len;
                        piece
                    })
                    .collect()
            },
            jvp,
        ))
    }

    panicking! {
        /// Concatenates along `axis`.
        ///
        /// # Panics
        /// If the list is empty or the shapes differ off `axis`.
        pub fn cat(tensors: &[Tensor], axis: isize) -> Tensor = try_cat;
    }

    /// Stacks tensors of equal shape along a new `axis`.
    pub fn try_stack(tensors: &[Tensor], axis: isize) -> Result<Tensor> {
        let first = tensors.first().ok_or(Error::EmptyList { op: "stack" })?;
        if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
            return Err(shape_err("stack", first.shape(), t.shape()));
        }
        let parts = tensors
            .iter()
            .map(|t| t.try_unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        Tensor::try_cat(&parts, axis)
    }

    panicking! {
        /// Stacks along a new `axis`.
        ///
        /// # Panics
        /// If the list is empty or the shapes differ.
        pub fn stack(tensors: &[Tensor], axis: isize) -> Tensor = try_stack;
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn cat_and_stack() {
        let x = Tensor::arange(0.0, 6.0, 1.0).unwrap().reshape(&[2, 3]);
        assert_eq!(Tensor::cat(&[x.clone(), x.clone()], 0).shape(), &[4, 3]);
        assert_eq!(Tensor::stack(&[x.clone(), x], 1).shape(), &[2, 2, 3]);
    }
}
