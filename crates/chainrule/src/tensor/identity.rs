//! The identity matrix, kept once per thread and recognised by address.
//!
//! Every Jacobian and Hessian built by reverse mode seeds one batched
//! backward pass with the n×n identity ([`Tensor::eye`]). At n = 1000 the
//! identity is 8 MB: filling it and then proving, in the matrix products
//! that meet it, that it is diagonal cost two of the four passes over
//! memory a logistic Hessian made (W4). So the last identity made is kept
//! here (up to [`MAX_LEN`] values) and handed out again; a product checks
//! an operand's address against it before scanning any values.
//!
//! Sharing is safe because buffers are copy-on-write: the cache holds a
//! reference, so no kernel ever sees the identity's buffer as its own to
//! write into, and the buffer cache never takes it back.

use std::cell::RefCell;

use ndarray::{ArcArray, ArrayView2, IxDyn};

/// Larger identities (over 16 MB) are made afresh each time.
const MAX_LEN: usize = 1 << 21;

thread_local! {
    static IDENTITY: RefCell<Option<ArcArray<f64, IxDyn>>> = const { RefCell::new(None) };
}

/// The n×n identity: the kept one when it has this size, otherwise a new
/// one (kept in turn when it is small enough).
pub(crate) fn eye(n: usize) -> ArcArray<f64, IxDyn> {
    let kept = IDENTITY.with(|c| c.borrow().as_ref().filter(|a| a.shape() == [n, n]).cloned());
    if let Some(a) = kept {
        return a;
    }
    let mut v = super::buffers::filled(n * n, 0.0);
    v.iter_mut().step_by(n + 1).for_each(|d| *d = 1.0);
    let a = ArcArray::from_shape_vec(IxDyn(&[n, n]), v).expect("n * n values");
    if n * n <= MAX_LEN {
        IDENTITY.with(|c| *c.borrow_mut() = Some(a.clone()));
    }
    a
}

/// Whether `a` is a view of the whole kept identity (as it is or
/// transposed, which is the same matrix): true only for the identity, and
/// decided without reading a value.
pub(crate) fn is_kept_identity<T>(a: &ArrayView2<'_, T>) -> bool {
    let n = a.nrows();
    if n != a.ncols() || n < 2 {
        return false;
    }
    let unit = [n as isize, 1];
    let strides = a.strides();
    let whole = strides == unit || strides == [1, n as isize];
    whole
        && IDENTITY.with(|c| {
            c.borrow()
                .as_ref()
                // The kept identity is f64: an address match is that buffer.
                .is_some_and(|i| i.shape() == [n, n] && std::ptr::eq(i.as_ptr().cast(), a.as_ptr()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn the_kept_identity_is_recognised_and_nothing_else_is() {
        let i = eye(5);
        assert_eq!(
            i.view().into_dimensionality::<ndarray::Ix2>().unwrap(),
            Array2::eye(5)
        );
        let view = i.view().into_dimensionality::<ndarray::Ix2>().unwrap();
        assert!(is_kept_identity(&view));
        assert!(is_kept_identity(&view.t()));
        // The same values elsewhere, a part of it, another size: scanned, not known.
        let copy = Array2::<f64>::eye(5);
        assert!(!is_kept_identity(&copy.view()));
        assert!(!is_kept_identity(&view.slice(ndarray::s![1.., 1..])));
        assert!(!is_kept_identity(&view.slice(ndarray::s![..;2, ..;2])));
        // Asking again hands out the same buffer; another size replaces it.
        assert!(std::ptr::eq(eye(5).as_ptr(), i.as_ptr()));
        let j = eye(3);
        assert!(!std::ptr::eq(j.as_ptr(), i.as_ptr()));
        assert!(!is_kept_identity(&view));
    }

    #[test]
    fn a_shared_identity_is_never_written_in_place() {
        use crate::Tensor;
        let i = Tensor::eye(4);
        let doubled = Tensor::eye(4) * 2.0;
        assert_eq!(doubled.get(&[1, 1]).item(), 2.0);
        assert_eq!(i.get(&[1, 1]).item(), 1.0);
        assert_eq!(Tensor::eye(4).sum().item(), 4.0);
    }
}
