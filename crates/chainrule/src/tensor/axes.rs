//! Axis arguments of the structural operations (negative axes count from
//! the end) and their shape error.

use crate::error::{Error, Result};

/// A shape error for `op`.
pub(super) fn shape_err(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Error {
    Error::ShapeMismatch {
        op,
        left: lhs.to_vec(),
        right: rhs.to_vec(),
    }
}

/// `axis` (negative counts from the end) as an index below `ndim`.
pub(super) fn norm_axis(op: &'static str, axis: isize, ndim: usize) -> Result<usize> {
    let a = if axis < 0 { axis + ndim as isize } else { axis };
    if a < 0 || a as usize >= ndim {
        return Err(Error::AxisOutOfRange { op, axis, ndim });
    }
    Ok(a as usize)
}

/// Sorted, deduplicated axes; an empty list means every axis.
pub(super) fn norm_axes(op: &'static str, axes: &[isize], ndim: usize) -> Result<Vec<usize>> {
    if axes.is_empty() {
        return Ok((0..ndim).collect());
    }
    let mut v = axes
        .iter()
        .map(|&a| norm_axis(op, a, ndim))
        .collect::<Result<Vec<_>>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}
