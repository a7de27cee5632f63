//! Work cut into bands, one per thread: the calling thread takes the first
//! band and the band pool the others (a large matrix product's bands of the
//! output, an optimiser update's bands of a large parameter, a large
//! elementwise map's shares of its values: [`unary`]).

use ndarray::ArrayD;

use super::{buffers, contiguous, Data};
use crate::ops::UnaryOp;

/// Runs `work` on every band, the first on the calling thread and the
/// others on the band pool ([`pool`], `in_place_scope`), and returns when
/// all are done.
///
/// A pool thread that was asleep wakes while the caller works on its own
/// band. The caller then waits in the scope's blocking wait: spinning
/// there (tried, up to 200 µs) kept a pool thread off the caller's CPU
/// when the other CPU was busy, and made W3's step a third slower under
/// load.
pub(crate) fn run<B: Send>(bands: Vec<B>, work: impl Fn(B) + Sync) {
    let mut bands = bands.into_iter();
    let Some(first) = bands.next() else {
        return;
    };
    let work = &work;
    match pool() {
        Some(pool) => pool.in_place_scope(|s| spawn_then_work(s, bands, first, work)),
        None => rayon::in_place_scope(|s| spawn_then_work(s, bands, first, work)),
    }
}

/// [`run`]'s scope, whichever pool it is on: every band but `first`
/// spawned, then `first` worked on the calling thread.
fn spawn_then_work<'s, B: Send + 's, W: Fn(B) + Sync>(
    s: &rayon::Scope<'s>,
    bands: impl Iterator<Item = B>,
    first: B,
    work: &'s W,
) {
    for band in bands {
        s.spawn(move |_| work(band));
    }
    work(first);
}

/// The threads that take the bands after the caller's own: one fewer
/// than [`super::matmul_threads`] (the caller multiplies a band itself),
/// made on first use; `None` (rayon's global pool then) if they cannot be
/// started.
///
/// Rayon's global pool has a thread per core besides the caller, so on 2
/// cores a product in two bands woke one pool thread and left the other
/// spinning in `sched_yield` for work that never came, on the CPUs the
/// two bands were using (W3 on 2 cores: 3 threads for 2 CPUs, ~2.5% of
/// the step's samples in task switches).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(super::matmul_threads().saturating_sub(1).max(1))
            .thread_name(|i| format!("chainrule-band-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// The fewest values of a libm-type elementwise map (tanh, exp, sin, …:
/// tens of nanoseconds a value) worth a thread of their own: 2¹¹ of them
/// take about what waking a pool thread costs several times over.
const MIN_COSTLY_SHARE: usize = 1 << 11;

/// The fewest values of the forward engine's lane tanh
/// ([`crate::forward::tanh_lanes`], a few nanoseconds a value) worth a
/// thread of their own.
const MIN_LANES_SHARE: usize = 1 << 14;

/// Whether one value of `op` costs a libm-type call (not a few
/// instructions, as the ops left out here do, whose large maps stay on one
/// thread: they are bound by memory, not arithmetic).
fn costly(op: UnaryOp) -> bool {
    use UnaryOp as U;
    !matches!(
        op,
        U::Neg | U::Sqrt | U::Relu | U::Abs | U::Sign | U::Step | U::Powi(_)
    )
}

/// A unary op's values of a contiguous f64 array when they are worth
/// computing apart from the one-thread loop: a libm-type op of at least
/// 2·2¹¹ values, split into contiguous shares over up to
/// [`super::matmul_threads`] cores (each value is `op.eval(x)` in any share:
/// the same bits as one thread), or a tanh inside a `jacfwd` call whose
/// primal no one sees ([`crate::forward::lane_primal`]), computed in lanes
/// (split above 2·2¹⁴ values). `None`: the caller's loop.
pub(crate) fn unary(op: UnaryOp, d: &Data) -> Option<Data> {
    let Data::Array(a) = d else {
        return None;
    };
    let lanes = op == UnaryOp::Tanh && crate::forward::lane_primal();
    let min_share = if lanes {
        MIN_LANES_SHARE
    } else if costly(op) {
        MIN_COSTLY_SHARE
    } else {
        return None;
    };
    let x = contiguous(a)?;
    let threads = super::matmul_threads().min(x.len() / min_share).max(1);
    if threads == 1 && !lanes {
        return None;
    }
    // Every value is written below, none read first.
    let mut v = buffers::take_dirty::<f64>(x.len());
    // The lanes' partials, kept for the tangent pass (`forward::kept`).
    let mut sech2 = lanes
        .then(|| crate::forward::kept::buffer(x.len()))
        .flatten();
    match &mut sech2 {
        Some(s) => tanh_sech2_on(threads, x, &mut v, s),
        None => map_on(threads, op, lanes, x, &mut v),
    }
    let a = ArrayD::from_shape_vec(a.raw_dim(), v).expect("the input's size");
    let out = Data::from_array(a);
    if let Some(s) = sech2 {
        crate::forward::kept::keep(crate::functional::depth(), x, &out, s);
    }
    Some(out)
}

/// `out = op(x)` value by value (`op.eval`, or [`crate::forward::tanh_lanes`]
/// when `lanes`), `x` cut into `threads` contiguous shares run by [`run`].
fn map_on(threads: usize, op: UnaryOp, lanes: bool, x: &[f64], out: &mut [f64]) {
    let share = x.len().div_ceil(threads.max(1)).max(1);
    let shares: Vec<_> = out.chunks_mut(share).zip(x.chunks(share)).collect();
    run(shares, |(o, x)| {
        if lanes {
            crate::forward::tanh_lanes(x, o);
        } else {
            o.iter_mut().zip(x).for_each(|(o, &x)| *o = op.eval(x));
        }
    });
}

/// `out = tanh(x)` and `sech2 = cosh(x)⁻²` by
/// [`crate::forward::tanh_sech2_lanes`], cut as [`map_on`] cuts.
fn tanh_sech2_on(threads: usize, x: &[f64], out: &mut [f64], sech2: &mut [f64]) {
    let share = x.len().div_ceil(threads.max(1)).max(1);
    if threads <= 1 {
        return crate::forward::tanh_sech2_lanes(x, out, sech2);
    }
    let shares: Vec<_> = out
        .chunks_mut(share)
        .zip(sech2.chunks_mut(share))
        .zip(x.chunks(share))
        .collect();
    run(shares, |((o, s), x)| {
        crate::forward::tanh_sech2_lanes(x, o, s)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_band_runs_once_on_the_band_pool() {
        // The pool has a thread fewer than the products' count (the
        // caller takes a band itself), at least one; more bands than
        // threads, one band and none still run each band exactly once.
        let pool = pool().expect("the band pool starts");
        let threads = super::super::matmul_threads();
        assert_eq!(pool.current_num_threads(), threads.saturating_sub(1).max(1));
        for count in [0, 1, 2, 3, 8] {
            let mut hits = vec![0u32; count];
            run(hits.iter_mut().enumerate().collect(), |(i, h)| {
                *h += i as u32 + 1
            });
            let want: Vec<u32> = (1..=count as u32).collect();
            assert_eq!(hits, want, "{count} bands");
        }
    }

    #[test]
    fn a_split_map_has_the_bits_of_one_thread() {
        // Every op, values with 0, −0, ±∞, NaN and the edges of the ops'
        // branches, on 1, 2, 3 and 7 shares (uneven ones included).
        let specials = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e-300,
            710.0,
        ];
        let x: Vec<f64> = (0..10_007)
            .map(|i| match i % 11 {
                j @ 0..=6 => specials[j],
                _ => (i as f64 - 5_000.0) * 7.3e-3,
            })
            .collect();
        let same = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        };
        for op in UnaryOp::ALL.iter().copied() {
            let want: Vec<f64> = x.iter().map(|&v| op.eval(v)).collect();
            let modes: &[bool] = if op == UnaryOp::Tanh {
                &[false, true]
            } else {
                &[false]
            };
            for &lanes in modes {
                let mut one = vec![f64::NAN; x.len()];
                map_on(1, op, lanes, &x, &mut one);
                if !lanes {
                    assert!(same(&one, &want), "{op:?}: one thread vs eval");
                }
                for threads in [2, 3, 7] {
                    let mut split = vec![f64::NAN; x.len()];
                    map_on(threads, op, lanes, &x, &mut split);
                    assert!(
                        same(&split, &one),
                        "{op:?}, {threads} shares, lanes {lanes}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_large_tensor_map_is_the_elementwise_definition() {
        // Through the public operation: large enough to be split here (2
        // cores), its values are libm's, bit for bit, as a small one's.
        let _plain = crate::autograd::no_grad();
        let n = 3 * MIN_COSTLY_SHARE + 5;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 - 3000.0) * 1e-2).collect();
        let t = crate::Tensor::from_vec(x.clone(), &[n]).unwrap();
        for (op, f) in [
            (UnaryOp::Tanh, f64::tanh as fn(f64) -> f64),
            (UnaryOp::Exp, f64::exp),
            (UnaryOp::Sin, f64::sin),
        ] {
            let got = t.unary_op(op).to_vec();
            assert!(got
                .iter()
                .zip(&x)
                .all(|(g, &v)| g.to_bits() == f(v).to_bits()));
        }
        // A cheap op is not split (and still right); a small array neither.
        assert_eq!(unary(UnaryOp::Neg, t.data()).map(|_| ()), None);
        let small = crate::Tensor::from_vec(vec![0.5; 10], &[10]).unwrap();
        assert_eq!(unary(UnaryOp::Tanh, small.data()).map(|_| ()), None);
    }

    #[test]
    fn every_band_is_worked_once() {
        let mut v = vec![0u64; 1000];
        let bands: Vec<&mut [u64]> = v.chunks_mut(300).collect();
        run(bands, |b| b.iter_mut().for_each(|x| *x += 1));
        assert!(v.iter().all(|&x| x == 1));
        run(Vec::<&mut [u64]>::new(), |_| unreachable!("no band"));
    }
}
