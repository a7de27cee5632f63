//! A per-thread cache of large value buffers.
//!
//! A training step frees its large temporaries and allocates the same sizes
//! again in the next step. Left to the system allocator, a freed buffer of
//! megabytes goes back to the kernel and the next one is faulted in page by
//! page: at n = 10⁶ (W2) that was half of each step. Buffers of at least
//! [`MIN_LEN`] values released by a dropped node are kept here (at most
//! [`MAX_TOTAL`] values per thread) and handed to the kernels that make new
//! arrays.

use std::cell::RefCell;

/// Smaller buffers are left to the allocator (its own caches serve them).
pub(crate) const MIN_LEN: usize = 1 << 15;
/// At most this many bytes (64 MB) are kept per thread.
const MAX_BYTES: usize = 8 << 23;

/// The cached buffers, one shelf per element type.
#[derive(Default)]
pub(crate) struct Cache {
    f64s: Vec<Vec<f64>>,
    f32s: Vec<Vec<f32>>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// An element type whose buffers are cached (f64 and f32 on separate shelves).
pub(crate) trait Pooled: Sized + Copy {
    /// Zero, for the part of a buffer that was never written.
    const ZERO: Self;
    /// This type's buffers in the cache.
    fn shelf(c: &mut Cache) -> &mut Vec<Vec<Self>>;
}

impl Pooled for f64 {
    const ZERO: f64 = 0.0;
    fn shelf(c: &mut Cache) -> &mut Vec<Vec<f64>> {
        &mut c.f64s
    }
}

impl Pooled for f32 {
    const ZERO: f32 = 0.0;
    fn shelf(c: &mut Cache) -> &mut Vec<Vec<f32>> {
        &mut c.f32s
    }
}

/// Keeps `v` for reuse if it is large and there is room. Its values are
/// kept too (see [`take_dirty`]).
pub(crate) fn give<T: Pooled>(v: Vec<T>) {
    let cap = v.capacity();
    if cap < MIN_LEN {
        return;
    }
    let bytes = cap * std::mem::size_of::<T>();
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            if c.bytes + bytes <= MAX_BYTES {
                c.bytes += bytes;
                T::shelf(&mut c).push(v);
            }
        }
    });
}

/// An empty vector with room for `len` values, reusing a cached buffer of
/// about that size when there is one.
pub(crate) fn take<T: Pooled>(len: usize) -> Vec<T> {
    let mut v = cached(len);
    v.clear();
    v
}

/// `len` values that the caller overwrites, every one, without reading
/// them (a gemm's output): a cached buffer keeps whatever it held, so no
/// pass zeroes it first (at W3's 784 × 256 gradient that pass was 1.6 MB
/// of writes a step). Values past a cached buffer's old length, or a new
/// buffer's, are zero.
pub(crate) fn take_dirty<T: Pooled>(len: usize) -> Vec<T> {
    let mut v = cached(len);
    if v.len() >= len {
        v.truncate(len);
    } else {
        v.resize(len, T::ZERO);
    }
    v
}

/// A cached buffer with room for `len` values (holding its old values), or
/// a new empty one.
fn cached<T: Pooled>(len: usize) -> Vec<T> {
    if len >= MIN_LEN {
        let found = CACHE
            .try_with(|c| {
                let mut c = c.try_borrow_mut().ok()?;
                let shelf = T::shelf(&mut c);
                let i = shelf
                    .iter()
                    .position(|b| b.capacity() >= len && b.capacity() <= 2 * len)?;
                let b = shelf.swap_remove(i);
                c.bytes -= b.capacity() * std::mem::size_of::<T>();
                Some(b)
            })
            .ok()
            .flatten();
        if let Some(b) = found {
            return b;
        }
    }
    Vec::with_capacity(len)
}

/// `len` copies of `value`, in a reused buffer when large.
pub(crate) fn filled(len: usize, value: f64) -> Vec<f64> {
    let mut v = take(len);
    v.resize(len, value);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_are_reused_and_small_ones_are_not_kept() {
        let v = vec![1.0; MIN_LEN];
        let ptr = v.as_ptr();
        give(v);
        let w: Vec<f64> = take(MIN_LEN);
        assert!(w.is_empty() && w.capacity() >= MIN_LEN);
        assert_eq!(w.as_ptr(), ptr);
        // A dirty buffer keeps its values; its new tail is zero.
        let mut two = Vec::with_capacity(2 * MIN_LEN);
        two.resize(MIN_LEN, 2.0);
        give(two);
        let d: Vec<f64> = take_dirty(MIN_LEN + 3);
        assert_eq!(d[..MIN_LEN], vec![2.0; MIN_LEN]);
        assert_eq!(d[MIN_LEN..], [0.0; 3]);
        give(d);
        let d: Vec<f64> = take_dirty(MIN_LEN);
        assert_eq!(d, vec![2.0; MIN_LEN]);
        let fresh: Vec<f64> = take_dirty(5);
        assert_eq!(fresh, vec![0.0; 5]);
        // A buffer more than twice the request is not handed out for it.
        let big = vec![0.0; 4 * MIN_LEN];
        let big_ptr = big.as_ptr();
        give(big);
        let other: Vec<f64> = take(MIN_LEN);
        assert_ne!(other.as_ptr(), big_ptr);
        let reused: Vec<f64> = take(3 * MIN_LEN);
        assert_eq!(reused.as_ptr(), big_ptr);
        let small = vec![0.0; 8];
        give::<f64>(small);
        // f32 buffers have a shelf of their own.
        let f = vec![1.0f32; MIN_LEN];
        let fptr = f.as_ptr();
        give(f);
        let g: Vec<f32> = take(MIN_LEN);
        assert_eq!(g.as_ptr(), fptr);
        assert_eq!(filled(3, 1.5), vec![1.5; 3]);
    }
}
