//! Small f64 arrays kept whole for reuse.
//!
//! An array value is three allocations (its values, the `Arc` that shares
//! them, the `Box` that keeps a node small) plus ndarray's dynamic-shape
//! bookkeeping: about a thousand instructions to make and free, which for
//! a four-element array is nearly all of an operation (W2 at n = 4 made
//! four of them per step). A training loop makes the same shapes again in
//! every step, so an array released by a node ([`keep`]) is kept here as
//! it is, and the next operation producing that shape writes its values
//! into it ([`array_with`]): no allocation and no shape computation.
//!
//! Only arrays that nothing else shares are kept (a kept array is written
//! in place), in standard layout, of at most [`MAX_LEN`] values; at most
//! [`KEEP`] per thread, so the memory held is a few hundred kilobytes.

use std::cell::RefCell;

use ndarray::{ArcArray, IxDyn};

use super::Data;

/// Larger arrays are left to the large-buffer cache (`buffers.rs`).
const MAX_LEN: usize = 512;
/// Arrays kept per thread.
const KEEP: usize = 64;
/// How many of the most recently kept arrays are searched for a shape.
const SEARCH: usize = 8;

type Array = Box<ArcArray<f64, IxDyn>>;

thread_local! {
    static KEPT: RefCell<Vec<Array>> = const { RefCell::new(Vec::new()) };
}

/// Keeps `a` for reuse if it is small, unshared and in standard layout;
/// otherwise hands it back.
pub(crate) fn keep(a: Array) -> Option<Array> {
    match super::contiguous(&a) {
        Some(v) if v.len() <= MAX_LEN && a.is_unique() => {}
        _ => return Some(a),
    }
    let mut slot = Some(a);
    let _ = KEPT.try_with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            if k.len() < KEEP {
                // `push`, not `extend` from the option: that was a call.
                if let Some(a) = slot.take() {
                    k.push(a);
                }
            }
        }
    });
    slot
}

/// A kept array of exactly `shape`, if there is one.
fn take(shape: &[usize]) -> Option<Array> {
    KEPT.try_with(|k| {
        let mut k = k.try_borrow_mut().ok()?;
        let from = k.len().saturating_sub(SEARCH);
        let i = (from..k.len())
            .rev()
            .find(|&i| super::same_shape(k[i].shape(), shape))?;
        Some(k.swap_remove(i))
    })
    .ok()
    .flatten()
}

/// A new f64 array of `shape` whose values `write` sets (every one of
/// them), in a kept array when one of that shape is free; `None` when there
/// is none (the caller makes the array its usual way).
#[inline]
pub(crate) fn array_with(shape: &[usize], write: impl FnOnce(&mut [f64])) -> Option<Data> {
    if shape.is_empty() || shape.iter().product::<usize>() > MAX_LEN {
        return None;
    }
    let a = take(shape)?;
    let n = a.len();
    // SAFETY: a kept array is the only handle to its buffer (`keep` checks
    // `is_unique`, and nothing clones it while it is kept) and in standard
    // layout, so its `n` values are contiguous from `as_ptr` and no other
    // reference to them exists. (`as_slice_mut` would prove uniqueness
    // again with an atomic operation and check the layout again: a
    // quarter of a four-value operation.)
    let values = unsafe { std::slice::from_raw_parts_mut(a.as_ptr().cast_mut(), n) };
    write(values);
    Some(Data::Array(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(v: Vec<f64>, shape: &[usize]) -> Array {
        Box::new(ArcArray::from_shape_vec(IxDyn(shape), v).unwrap())
    }

    #[test]
    fn a_kept_array_is_reused_for_its_shape_only() {
        let a = array(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        let at = a.as_ptr();
        assert!(keep(a).is_none());
        assert!(array_with(&[4], |_| unreachable!("no [4] kept")).is_none());
        let d = array_with(&[2, 2], |v| v.copy_from_slice(&[5.0, 6.0, 7.0, 8.0])).unwrap();
        let Data::Array(b) = &d else {
            panic!("an array")
        };
        assert_eq!(b.as_ptr(), at);
        assert_eq!(b.as_slice().unwrap(), &[5.0, 6.0, 7.0, 8.0]);
        assert_eq!(b.shape(), &[2, 2]);
    }

    #[test]
    fn shared_large_and_strided_arrays_are_not_kept() {
        let a = array(vec![1.0; 4], &[4]);
        let shared = a.clone();
        assert!(keep(a).is_some());
        drop(shared);
        assert!(keep(array(vec![0.0; MAX_LEN + 1], &[MAX_LEN + 1])).is_some());
        let t = Box::new(array(vec![1.0; 6], &[2, 3]).reversed_axes());
        assert!(keep(t).is_some());
    }

    #[test]
    fn tensors_made_in_kept_arrays_have_their_own_values() {
        use crate::{Real, Tensor};
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).unwrap();
        for step in 0..5 {
            let s = step as f64;
            let y = &x * s + 1.0;
            let z = (&y * &y).exp().ln();
            assert_eq!(y.to_vec(), vec![1.0 + s, 1.0 + 2.0 * s, 1.0 + 3.0 * s]);
            let expected: Vec<f64> = y.to_vec().iter().map(|v| v * v).collect();
            for (a, b) in z.to_vec().iter().zip(&expected) {
                assert!((a - b).abs() <= 1e-12 * b.abs());
            }
            // y is still readable after z was made from kept arrays.
            assert_eq!(y.get(&[0]).item(), 1.0 + s);
        }
        assert_eq!(x.to_vec(), vec![1.0, 2.0, 3.0]);
    }
}
