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

use super::{Data, Tensor};

/// Larger arrays are left to the large-buffer cache (`buffers.rs`).
const MAX_LEN: usize = 512;
/// Arrays of other shapes kept per thread.
const KEEP: usize = 64;
/// How many of the most recently kept arrays are searched for a shape.
const SEARCH: usize = 8;
/// 1-d arrays of at most this many values are kept in a bin per length
/// (the 1-d lane: taking one is a pop, with no search and no shape
/// compared; W2's arrays at n = 4).
pub(crate) const LANE_MAX: usize = 16;
/// Arrays kept per bin.
const BIN_KEEP: usize = 8;

type Array = Box<ArcArray<f64, IxDyn>>;

/// The kept arrays of one thread: 1-d ones by length, others in a list.
struct Kept {
    bins: [Vec<Array>; LANE_MAX + 1],
    rest: Vec<Array>,
}

thread_local! {
    static KEPT: RefCell<Kept> = const {
        RefCell::new(Kept {
            bins: [const { Vec::new() }; LANE_MAX + 1],
            rest: Vec::new(),
        })
    };
}

/// Keeps `a` for reuse if it is small, unshared and in standard layout;
/// otherwise hands it back. Inlined into its one caller (`release_data`);
/// arrays of other shapes take [`keep_other`] (a call, so that the 1-d
/// bins' path needs no large frame).
#[inline]
pub(crate) fn keep(a: Array) -> Option<Array> {
    // 1-d: shape and stride read once.
    let n = match (a.shape(), a.strides()) {
        ([n], [s]) if *n <= LANE_MAX && (*s == 1 || *n <= 1) => *n,
        _ => return keep_other(a),
    };
    if !a.is_unique() {
        return Some(a);
    }
    let mut slot = Some(a);
    let _ = KEPT.try_with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            let bin = &mut k.bins[n];
            if bin.len() < BIN_KEEP {
                // `push`, not `extend` from the option: that was a call.
                if let Some(a) = slot.take() {
                    bin.push(a);
                }
            }
        }
    });
    slot
}

/// [`keep`] for an array that is not 1-d in the lane: kept in the list of
/// other shapes if it is contiguous, unshared and small.
#[inline(never)]
fn keep_other(a: Array) -> Option<Array> {
    match super::contiguous(&a) {
        Some(v) if v.len() <= MAX_LEN && a.is_unique() => {}
        _ => return Some(a),
    }
    let mut slot = Some(a);
    let _ = KEPT.try_with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            if k.rest.len() < KEEP {
                if let Some(a) = slot.take() {
                    k.rest.push(a);
                }
            }
        }
    });
    slot
}

#[cfg(test)]
thread_local! {
    /// Tests turn the 1-d lane off to compare it with the general path.
    static LANE_OFF: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Kept 1-d arrays taken on this thread (tests check the lane ran).
    static LANE_TAKEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The number of kept 1-d arrays taken on this thread so far (tests only).
#[cfg(test)]
pub(crate) fn lane_taken() -> usize {
    LANE_TAKEN.with(|c| c.get())
}

/// Runs `f` with the 1-d lane off on this thread (no bins taken from, no
/// lane operand): every operation takes its general path (tests only).
#[cfg(test)]
pub(crate) fn without_lane<R>(f: impl FnOnce() -> R) -> R {
    LANE_OFF.with(|c| c.set(true));
    let r = f();
    LANE_OFF.with(|c| c.set(false));
    r
}

/// Whether the 1-d lane is on (always, outside tests).
#[inline(always)]
fn lane_on() -> bool {
    #[cfg(test)]
    {
        !LANE_OFF.with(|c| c.get())
    }
    #[cfg(not(test))]
    {
        true
    }
}

/// A kept 1-d array of `n` values (at most [`LANE_MAX`]), if there is one.
#[inline]
fn take_1d(n: usize) -> Option<Array> {
    if !lane_on() {
        return None;
    }
    let a = KEPT
        .try_with(|k| k.try_borrow_mut().ok()?.bins.get_mut(n)?.pop())
        .ok()
        .flatten();
    #[cfg(test)]
    if a.is_some() {
        LANE_TAKEN.with(|c| c.set(c.get() + 1));
    }
    a
}

/// A kept array of exactly `shape`, if there is one.
fn take(shape: &[usize]) -> Option<Array> {
    if let [n] = shape {
        if *n <= LANE_MAX {
            return take_1d(*n);
        }
    }
    KEPT.try_with(|k| {
        let mut k = k.try_borrow_mut().ok()?;
        let k = &mut k.rest;
        let from = k.len().saturating_sub(SEARCH);
        let i = (from..k.len())
            .rev()
            .find(|&i| super::same_shape(k[i].shape(), shape))?;
        Some(k.swap_remove(i))
    })
    .ok()
    .flatten()
}

/// The `n` values of a kept array (its length), to write (every one of
/// them).
#[inline(always)]
fn values_of(a: &mut Array, n: usize) -> &mut [f64] {
    // SAFETY: a kept array is the only handle to its buffer (`keep` checks
    // `is_unique`, and nothing clones it while it is kept) and in standard
    // layout, so its `n` values are contiguous from `as_ptr` and no other
    // reference to them exists; the caller writes them before the array is
    // handed out. (`as_slice_mut` would prove uniqueness again with an
    // atomic operation and check the layout again: a quarter of a
    // four-value operation.)
    unsafe { std::slice::from_raw_parts_mut(a.as_ptr().cast_mut(), n) }
}

/// A new f64 array of `shape` whose values `write` sets (every one of
/// them), in a kept array when one of that shape is free; `None` when there
/// is none (the caller makes the array its usual way).
#[inline]
pub(crate) fn array_with(shape: &[usize], write: impl FnOnce(&mut [f64])) -> Option<Data> {
    if shape.is_empty() || shape.iter().product::<usize>() > MAX_LEN {
        return None;
    }
    let mut a = take(shape)?;
    let n = a.len();
    write(values_of(&mut a, n));
    Some(Data::Array(a))
}

/// An f64 operand of the 1-d lane: a 0-d value (`None` for its length) or
/// a contiguous 1-d array of at most [`LANE_MAX`] values (`Some(n)`),
/// with its values. Shape and stride are read once.
#[inline(always)]
pub(crate) fn lane(d: &Data) -> Option<(&[f64], Option<usize>)> {
    if !lane_on() {
        return None;
    }
    match d {
        Data::Scalar(x) => Some((std::slice::from_ref(x), None)),
        Data::Array(a) => match (a.shape(), a.strides()) {
            ([n], [s]) if *n <= LANE_MAX && (*s == 1 || *n <= 1) => {
                // SAFETY: a 1-d array of stride 1 (or of at most one value)
                // holds its `n` values contiguously from `as_ptr`; the slice
                // borrows `d`.
                let v = unsafe { std::slice::from_raw_parts(a.as_ptr(), *n) };
                Some((v, Some(*n)))
            }
            _ => None,
        },
        Data::F32(_) => None,
    }
}

/// The values of `t` to write in place, in the 1-d lane: `t` is the only
/// handle to its node, whose value is a contiguous 1-d f64 array of at
/// most [`LANE_MAX`] values in a buffer no other array shares (a gradient
/// the backward pass multiplies in place). `None` otherwise.
#[inline(always)]
pub(crate) fn lane_values_mut(t: &mut Tensor) -> Option<&mut [f64]> {
    if !lane_on() {
        return None;
    }
    let node = super::NodeRc::get_mut(&mut t.0)?;
    match node.value.get_mut()? {
        Data::Array(a) => match (a.shape(), a.strides()) {
            ([n], [s]) if *n <= LANE_MAX && (*s == 1 || *n <= 1) && a.is_unique() => {
                // SAFETY: the only handle to the node (borrowed mutably
                // through `t`) and the only array of its buffer, whose `n`
                // values are contiguous from `as_ptr` (stride 1, or at most
                // one value): no other reference to them exists while the
                // slice lives.
                Some(unsafe { std::slice::from_raw_parts_mut(a.as_ptr().cast_mut(), *n) })
            }
            _ => None,
        },
        _ => None,
    }
}

/// `f` of every value of `d` in the 1-d lane (`d` a 1-d f64 array of at
/// most [`LANE_MAX`] values, a kept array of its length free): the new
/// value. `None` otherwise (the caller takes its general path; `f` has not
/// been called).
#[inline(always)]
pub(crate) fn map_1d(d: &Data, f: impl Fn(f64) -> f64) -> Option<Data> {
    let (xs, Some(n)) = lane(d)? else {
        return None;
    };
    let mut a = take_1d(n)?;
    for (o, &x) in values_of(&mut a, n).iter_mut().zip(xs) {
        *o = f(x);
    }
    Some(Data::Array(a))
}

/// `f` over two f64 values in the 1-d lane: two 1-d arrays of one length,
/// or one of them 0-d (broadcast as NumPy does), a kept array of the
/// length free. `None` otherwise (the caller takes its general path; `f`
/// has not been called).
#[inline(always)]
pub(crate) fn zip_1d(a: &Data, b: &Data, f: impl Fn(f64, f64) -> f64) -> Option<Data> {
    let ((xs, nx), (ys, ny)) = (lane(a)?, lane(b)?);
    let n = match (nx, ny) {
        (Some(n), Some(m)) if n == m => n,
        (Some(n), None) | (None, Some(n)) => n,
        _ => return None,
    };
    let mut o = take_1d(n)?;
    let out = values_of(&mut o, n);
    match (nx, ny) {
        (Some(_), Some(_)) => {
            for ((o, &u), &v) in out.iter_mut().zip(xs).zip(ys) {
                *o = f(u, v);
            }
        }
        (Some(_), None) => {
            let v = ys[0];
            for (o, &u) in out.iter_mut().zip(xs) {
                *o = f(u, v);
            }
        }
        _ => {
            let u = xs[0];
            for (o, &v) in out.iter_mut().zip(ys) {
                *o = f(u, v);
            }
        }
    }
    Some(Data::Array(o))
}

/// `value` in every entry of a 1-d array of `n` values (at most
/// [`LANE_MAX`]), a kept one; `None` when none of that length is free.
#[inline]
pub(crate) fn full_1d(n: usize, value: f64) -> Option<Data> {
    let mut a = take_1d(n)?;
    values_of(&mut a, n).fill(value);
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
