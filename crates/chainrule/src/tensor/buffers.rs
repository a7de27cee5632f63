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
/// At most this many values (64 MB) are kept per thread.
const MAX_TOTAL: usize = 1 << 23;

#[derive(Default)]
struct Cache {
    buffers: Vec<Vec<f64>>,
    total: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// Keeps `v` for reuse if it is large and there is room.
pub(crate) fn give(mut v: Vec<f64>) {
    let cap = v.capacity();
    if cap < MIN_LEN {
        return;
    }
    v.clear();
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            if c.total + cap <= MAX_TOTAL {
                c.total += cap;
                c.buffers.push(v);
            }
        }
    });
}

/// An empty vector with room for `len` values, reusing a cached buffer of
/// about that size when there is one.
pub(crate) fn take(len: usize) -> Vec<f64> {
    if len >= MIN_LEN {
        let found = CACHE
            .try_with(|c| {
                let mut c = c.try_borrow_mut().ok()?;
                let i = c
                    .buffers
                    .iter()
                    .position(|b| b.capacity() >= len && b.capacity() <= 2 * len)?;
                let b = c.buffers.swap_remove(i);
                c.total -= b.capacity();
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
        let w = take(MIN_LEN);
        assert!(w.is_empty() && w.capacity() >= MIN_LEN);
        assert_eq!(w.as_ptr(), ptr);
        // A buffer more than twice the request is not handed out for it.
        let big = vec![0.0; 4 * MIN_LEN];
        let big_ptr = big.as_ptr();
        give(big);
        let other = take(MIN_LEN);
        assert_ne!(other.as_ptr(), big_ptr);
        let reused = take(3 * MIN_LEN);
        assert_eq!(reused.as_ptr(), big_ptr);
        let small = vec![0.0; 8];
        give(small);
        assert_eq!(filled(3, 1.5), vec![1.5; 3]);
    }
}
