//! The 1-d lane (`small.rs`: kept arrays by length, one loop per
//! operation) against the general path, bit for bit: a corpus of
//! operations on small 1-d arrays is run twice, once as it is and once with
//! the lane turned off on the thread, and every value, gradient and second
//! derivative must have the same bits (NaN = NaN), in f64 and f32.

use super::small::{lane_taken, without_lane, LANE_MAX};
use super::Tensor;
use crate::autograd::{self, GradOptions};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;

/// Values with the special cases in them (signed zeros, a subnormal,
/// infinities, NaN) and ordinary ones of both signs.
fn values(n: usize, salt: u64) -> Vec<f64> {
    let special = [
        0.0,
        -0.0,
        1.5,
        -2.25,
        f64::MIN_POSITIVE / 4.0,
        0.75,
        f64::INFINITY,
        -0.5,
        f64::NAN,
        3.0,
        f64::NEG_INFINITY,
        0.3,
    ];
    (0..n)
        .map(|i| {
            let k = (i as u64).wrapping_mul(7).wrapping_add(salt) % special.len() as u64;
            special[k as usize]
        })
        .collect()
}

/// Finite values away from the edges of every domain (for gradients).
fn tame(n: usize, salt: u64) -> Vec<f64> {
    (0..n)
        .map(|i| 0.2 + 0.13 * ((i as u64 * 5 + salt) % 7) as f64)
        .collect()
}

/// A result's dtype, shape and bits (NaN = NaN).
type Bits = (crate::DType, Vec<usize>, Vec<u64>);

/// `t`'s dtype, shape and bits. The corpora take each result's bits at
/// once and drop it, so that its array is kept and the next operation of
/// its length runs in the lane (a corpus holding every result would leave
/// the lane nothing to take).
fn bits(t: Tensor) -> Bits {
    let v = t
        .to_vec()
        .iter()
        .map(|x| if x.is_nan() { u64::MAX } else { x.to_bits() })
        .collect();
    (t.dtype(), t.shape().to_vec(), v)
}

/// The forward corpus on arrays of `n` values (f32 when `f32`).
fn forward_corpus(n: usize, f32: bool) -> Vec<Bits> {
    let cast = |t: Tensor| if f32 { t.float() } else { t };
    let x = cast(Tensor::from_vec(values(n, 1), &[n]).unwrap());
    let y = cast(Tensor::from_vec(values(n, 5), &[n]).unwrap());
    let one = cast(Tensor::from_vec(vec![-1.25], &[1]).unwrap());
    let s = Tensor::scalar(0.625);
    let mut out = Vec::new();
    for op in UnaryOp::ALL {
        out.push(bits(x.unary_op(op)));
    }
    for op in BinaryOp::ALL {
        out.push(bits(x.binary_op(op, &y)));
        out.push(bits(x.binary_op(op, &s)));
        out.push(bits(s.binary_op(op, &x)));
        out.push(bits(x.binary_op(op, &one)));
        out.push(bits(one.binary_op(op, &y)));
        out.push(bits(x.binary_scalar(op, -1.5)));
        out.push(bits(Tensor::scalar_binary(2.5, op, &y)));
    }
    // A chain that reuses kept arrays as it goes.
    let mut h = x.clone();
    for k in 0..6 {
        h = (&h * 0.5 + &y).tanh() - k as f64;
    }
    out.push(bits(h));
    for t in [
        x.gt(&y),
        x.le(&s),
        Tensor::where_(&x.ge(&y), &x, &s),
        x.sum(),
        x.mean(),
        x.amax(&[0], false),
        x.prod_dim(&[0], true),
        y.softmax(0),
        y.logsumexp(0, false),
        x.reshape(&[1, n]),
        x.unsqueeze(0).sum_dim(&[0], false),
        x.expand(&[2, n]),
        x.get(&[n - 1]),
        x.narrow(0, 0, n.div_ceil(2)),
        x.index_select(0, &[n - 1, 0]),
        Tensor::cat(&[x.clone(), y.clone()], 0),
        Tensor::stack(&[x.clone(), y.clone()], 0),
        x.dot(&y),
        x.reshape(&[n, 1]).matmul(&y.reshape(&[1, n])),
        Tensor::full(&[n], 0.1),
        Tensor::zeros(&[n]) + &x,
    ] {
        out.push(bits(t));
    }
    out
}

/// Gradients and second derivatives on arrays of `n` values.
fn grad_corpus(n: usize, f32: bool) -> Vec<Bits> {
    let cast = |t: Tensor| if f32 { t.float() } else { t };
    let x = cast(Tensor::from_vec(tame(n, 2), &[n]).unwrap()).requires_grad();
    let y = cast(Tensor::from_vec(tame(n, 3), &[n]).unwrap());
    let w = Tensor::scalar(0.7).requires_grad();
    let mut out = Vec::new();
    // W2's step: the loss, w's gradient, the update.
    let loss = (&w * &x - &y).powi(2).mean();
    loss.backward().unwrap();
    out.push(bits(loss));
    out.push(bits(w.grad().unwrap()));
    out.push(bits(x.grad().unwrap()));
    // Every elementwise op's gradient through a sum.
    for op in UnaryOp::ALL {
        let g = autograd::grad(
            &[x.unary_op(op).sum()],
            std::slice::from_ref(&x),
            None,
            GradOptions::default(),
        )
        .unwrap();
        out.extend(g.into_iter().map(bits));
    }
    for op in BinaryOp::ALL {
        let z = x.binary_op(op, &y) + x.binary_op(op, &w) + w.binary_op(op, &x);
        let g = autograd::grad(
            &[z.mean()],
            &[x.clone(), w.clone()],
            None,
            GradOptions::default(),
        )
        .unwrap();
        out.extend(g.into_iter().map(bits));
    }
    // Grad of grad: f = Σ sin(x)·x + x³/(1 + x), ∂f/∂x then Σ ∂f/∂x again.
    let f = (x.sin() * &x + x.powi(3) / (&x + 1.0)).sum();
    let g = autograd::grad(
        &[f],
        std::slice::from_ref(&x),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .unwrap();
    let gg = autograd::grad(
        &[g[0].sum()],
        std::slice::from_ref(&x),
        None,
        GradOptions::default(),
    )
    .unwrap();
    out.extend(g.into_iter().map(bits));
    out.extend(gg.into_iter().map(bits));
    // A few descent steps, reusing the kept arrays step after step.
    let mut v = w.detach().requires_grad();
    for _ in 0..5 {
        let loss = (&v * &x.detach() - &y).powi(2).mean();
        loss.backward().unwrap();
        let g = v.grad().unwrap();
        v = autograd::no_grad_scope(|| &v - 0.01 * g).requires_grad();
        out.push(bits(v.clone()));
    }
    out
}

#[test]
fn the_one_d_lane_gives_the_general_paths_bits() {
    for f32 in [false, true] {
        for n in (1..=6).chain([LANE_MAX, LANE_MAX + 1]) {
            let taken = lane_taken();
            let lane = forward_corpus(n, f32);
            // The lane ran (f64 values of at most LANE_MAX), and the
            // general path took nothing from it.
            let ran = lane_taken() - taken;
            assert!(f32 || n > LANE_MAX || ran > 100, "n = {n}: {ran}");
            let taken = lane_taken();
            let general = without_lane(|| forward_corpus(n, f32));
            assert_eq!(lane_taken(), taken);
            assert_eq!(lane.len(), general.len());
            for (i, (a, b)) in lane.iter().zip(&general).enumerate() {
                assert_eq!(a, b, "forward item {i}, n = {n}, f32 = {f32}");
            }
            let lane = grad_corpus(n, f32);
            let general = without_lane(|| grad_corpus(n, f32));
            assert_eq!(lane.len(), general.len());
            for (i, (a, b)) in lane.iter().zip(&general).enumerate() {
                assert_eq!(a, b, "gradient item {i}, n = {n}, f32 = {f32}");
            }
        }
    }
}

#[test]
fn kept_arrays_by_length_are_reused_and_never_shared() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
    // Warm the bin of length 4, then check that values made in kept
    // arrays stay their own while later results reuse freed ones.
    let _ = (&x * 2.0).exp();
    let a = &x * 2.0;
    let b = &a + 1.0;
    let c = b.sqrt();
    drop(b);
    let d = &a - 1.0;
    assert_eq!(a.to_vec(), vec![2.0, 4.0, 6.0, 8.0]);
    assert_eq!(c.to_vec(), [3.0f64, 5.0, 7.0, 9.0].map(f64::sqrt).to_vec());
    assert_eq!(d.to_vec(), vec![1.0, 3.0, 5.0, 7.0]);
    // A clone shares its buffer: it is not kept while the clone lives.
    let e = a.detach();
    drop(a);
    let f = &x * 3.0;
    assert_eq!(e.to_vec(), vec![2.0, 4.0, 6.0, 8.0]);
    assert_eq!(f.to_vec(), vec![3.0, 6.0, 9.0, 12.0]);
    assert_eq!(x.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn short_lane_sums_have_the_eight_lane_folds_bits() {
    // Under eight values the lane sums in one loop from +0: the same bits
    // as `fold_lanes` (its zero lanes first), −0 and NaN included.
    for n in 1..=LANE_MAX {
        for v in [vec![-0.0; n], values(n, 3), values(n, 8), tame(n, 1)] {
            let x = Tensor::from_vec(v, &[n]).unwrap();
            let (s, m) = (bits(x.sum()), bits(x.mean()));
            let (gs, gm) = without_lane(|| (bits(x.sum()), bits(x.mean())));
            assert_eq!((s, m), (gs, gm), "n = {n}");
        }
    }
    assert_eq!(
        Tensor::from_vec(vec![-0.0; 3], &[3])
            .unwrap()
            .sum()
            .item()
            .to_bits(),
        0
    );
}
