//! tanh's partials kept from `jacfwd`'s primal for its tangent pass.
//!
//! Inside a `jacfwd` call whose primal no one sees ([`super::LanePrimal`]),
//! a large tanh is computed in lanes together with its partial
//! `cosh(u)⁻²` ([`super::tanh::tanh_sech2_lanes`], one exponential for
//! both). The partial is kept here, keyed by the addresses of the tanh's
//! input and output buffers, until the tangent pass of the same call
//! multiplies it into the tangent ([`take`]), so that pass reads `m`
//! values where it computed a second exponential per value.
//!
//! An entry holds a handle to the output's buffer, so that buffer cannot
//! be freed and its address given to another array while the entry
//! lives: an address found here is that tanh's. Entries are dropped when
//! the `jacfwd` call that made them ends (its [`super::LanePrimal`]), and
//! at most [`MAX_ENTRIES`] are kept (a function with more large tanh has
//! the rest computed in the tangent pass, as before); their buffers are
//! reused by the next call, so a warm call allocates none.

use std::cell::RefCell;

use ndarray::{ArcArray, IxDyn};

use crate::tensor::Data;

/// The most partials kept at once.
const MAX_ENTRIES: usize = 16;

/// One tanh's partial.
struct Entry {
    /// The transform depth of the `jacfwd` call that made it.
    depth: usize,
    /// The input's and the output's first value's addresses, and their length.
    key: (usize, usize, usize),
    /// The output's buffer, held (a reference count, no copy) so that its
    /// address is not reused.
    _output: ArcArray<f64, IxDyn>,
    /// `cosh(u)⁻²` for each input value `u`.
    sech2: Vec<f64>,
}

/// The kept partials and the spare buffers for the next ones.
#[derive(Default)]
struct Kept {
    entries: Vec<Entry>,
    spare: Vec<Vec<f64>>,
}

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(Kept::default());
}

/// A buffer of `len` values to fill with partials (a spare one when there
/// is one large enough; its old values are kept, the caller writes every
/// one), or `None` when no more partials are kept now.
pub(crate) fn buffer(len: usize) -> Option<Vec<f64>> {
    KEPT.with(|k| {
        let mut k = k.try_borrow_mut().ok()?;
        if k.entries.len() >= MAX_ENTRIES {
            return None;
        }
        let mut v = match k.spare.iter().position(|b| b.capacity() >= len) {
            Some(i) => k.spare.swap_remove(i),
            None => Vec::with_capacity(len),
        };
        if v.len() >= len {
            v.truncate(len);
        } else {
            v.resize(len, 0.0);
        }
        Some(v)
    })
}

/// Keeps the partials `sech2` of the tanh of the values at `input` whose
/// result is `output` (contiguous f64, `sech2.len()` values), for the
/// transform call at `depth`.
pub(crate) fn keep(depth: usize, input: &[f64], output: &Data, sech2: Vec<f64>) {
    let (Data::Array(held), Some(out)) = (output, output.as_slice()) else {
        return;
    };
    let key = (input.as_ptr() as usize, out.as_ptr() as usize, sech2.len());
    KEPT.with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            k.entries.push(Entry {
                depth,
                key,
                _output: ArcArray::clone(held),
                sech2,
            });
        }
    });
}

/// The kept partials of the tanh from `input` to `output` (both contiguous
/// f64 of one length), no longer kept; `None` when they were not kept.
/// Hand the buffer back with [`give_back`] when done.
pub(crate) fn take(input: &[f64], output: &[f64]) -> Option<Vec<f64>> {
    let key = (
        input.as_ptr() as usize,
        output.as_ptr() as usize,
        input.len(),
    );
    let entry = KEPT.with(|k| {
        let mut k = k.try_borrow_mut().ok()?;
        let i = k.entries.iter().position(|e| e.key == key)?;
        Some(k.entries.swap_remove(i))
    })?;
    #[cfg(test)]
    TAKEN.with(|t| t.set(t.get() + 1));
    Some(entry.sech2)
}

/// Drops the partials kept by the transform calls at `depth` and deeper
/// (their buffers kept for the next ones).
pub(crate) fn forget(depth: usize) {
    KEPT.with(|k| {
        let Ok(mut k) = k.try_borrow_mut() else {
            return;
        };
        let Kept { entries, spare } = &mut *k;
        entries.retain_mut(|e| {
            if e.depth < depth {
                return true;
            }
            if spare.len() < MAX_ENTRIES {
                spare.push(std::mem::take(&mut e.sech2));
            }
            false
        });
    });
}

/// Keeps a partials buffer for the next call (a few of them).
pub(crate) fn give_back(v: Vec<f64>) {
    KEPT.with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            if k.spare.len() < MAX_ENTRIES {
                k.spare.push(v);
            }
        }
    });
}

#[cfg(test)]
thread_local! {
    /// How many kept partials the tangent passes took on this thread.
    static TAKEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many kept partials the tangent passes took on this thread so far.
#[cfg(test)]
pub(crate) fn taken() -> usize {
    TAKEN.with(std::cell::Cell::get)
}

/// How many partials are kept now.
#[cfg(test)]
pub(crate) fn len() -> usize {
    KEPT.with(|k| k.borrow().entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functional::jacfwd;
    use crate::{Real, Tensor};

    /// `u`'s row of a Jacobian (the partial `s` times the row `w`, with
    /// the strong zero) next to `got`, to 1e-14 relative (or 1e-300
    /// absolute, below which libm's `cosh⁻²` itself underflows first).
    fn close(got: &[f64], s: f64, w: &[f64], what: &str) {
        for (&g, &w) in got.iter().zip(w) {
            let want = if s == 0.0 || w == 0.0 { 0.0 } else { s * w };
            let ok =
                (g.is_nan() && want.is_nan()) || (g - want).abs() <= 1e-14 * want.abs() + 1e-300;
            assert!(ok, "{what}: {g:e} vs {want:e}");
        }
    }

    #[test]
    fn jacfwd_takes_the_primal_s_partials_and_drops_them_after() {
        // f(x) = tanh(A x) with A's rows (z, 1/4) and x = (1, 0): the
        // tanh's input is z, with ±0, tiny and large |z| (cosh⁻² subnormal
        // or 0), ±∞ and NaN among ordinary values.
        let specials = [
            0.0,
            -0.0,
            1e-300,
            0.3,
            19.5,
            350.0,
            -360.0,
            372.0,
            400.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let m = 1200;
        let z: Vec<f64> = (0..m)
            .map(|i| match i % 7 {
                0 => specials[(i / 7) % specials.len()],
                _ => (i as f64 - 600.0) * 2.9e-2,
            })
            .collect();
        let rows: Vec<f64> = z.iter().flat_map(|&z| [z, 0.25]).collect();
        let a = Tensor::from_vec(rows.clone(), &[m, 2]).unwrap();
        let x = Tensor::from_vec(vec![1.0, 0.0], &[2]).unwrap();
        let before = taken();
        let j = jacfwd(|x: &Tensor| a.matmul(x).tanh())(&x);
        assert_eq!(taken(), before + 1, "the tangent pass took the partials");
        assert_eq!(len(), 0, "and none is left");
        let j = j.to_vec();
        for (i, &z) in z.iter().enumerate() {
            let s = z.cosh().powi(-2);
            close(
                &j[2 * i..][..2],
                s,
                &rows[2 * i..][..2],
                &format!("z = {z:e}"),
            );
        }
        // The same Jacobian by reverse mode (the tape's own tanh) on the
        // finite rows alone (reverse mode's product with Aᵀ has 0 · ∞ = NaN
        // in every row once one row of A is infinite).
        let finite: Vec<f64> = z.iter().copied().filter(|z| z.is_finite()).collect();
        let rows: Vec<f64> = finite.iter().flat_map(|&z| [z, 0.25]).collect();
        let a = Tensor::from_vec(rows, &[finite.len(), 2]).unwrap();
        let f = |x: &Tensor| a.matmul(x).tanh();
        let (fwd, rev) = (
            jacfwd(f)(&x).to_vec(),
            crate::functional::jacrev(f)(&x).to_vec(),
        );
        for (g, w) in fwd.iter().zip(&rev) {
            assert!((g - w).abs() <= 1e-14 * w.abs() + 1e-300, "{g} vs {w}");
        }
    }

    #[test]
    fn partials_are_kept_only_inside_jacfwd_and_only_so_many() {
        let x = Tensor::from_vec((0..100).map(|i| i as f64 * 0.01).collect(), &[100]).unwrap();
        // A plain call, jvp and jacrev keep nothing.
        let _ = x.tanh();
        let _ = crate::functional::jvp(|x: &Tensor| x.tanh(), &x, &x);
        let _ = crate::functional::jacrev(|x: &Tensor| x.tanh())(&x);
        assert_eq!(len(), 0);
        // More tanh than kept entries: the rest take the tangent pass's
        // own exponential, and the Jacobian is the same.
        let before = taken();
        let chain = |x: &Tensor| {
            let mut y = x.clone();
            for _ in 0..MAX_ENTRIES + 3 {
                y = y.tanh();
            }
            y
        };
        let fwd = jacfwd(chain)(&x).to_vec();
        assert_eq!(taken(), before + MAX_ENTRIES);
        assert_eq!(len(), 0);
        let rev = crate::functional::jacrev(chain)(&x).to_vec();
        for (g, w) in fwd.iter().zip(&rev) {
            assert!((g - w).abs() <= 1e-14, "{g} vs {w}");
        }
        // A nested jacfwd's partials go with it; the outer call's stay
        // until its own tangent pass. (Nested in a recorded function, a
        // jacfwd records, and keeps none: its result may be differentiated.)
        let nested = |x: &Tensor| {
            let inner = {
                let _plain = crate::autograd::no_grad();
                jacfwd(|v: &Tensor| v.tanh().sum())(&x.detach())
            };
            x.tanh() * inner.sum().item()
        };
        let before = taken();
        let _ = jacfwd(nested)(&x);
        assert_eq!(len(), 0);
        assert_eq!(taken(), before + 2);
    }
}
