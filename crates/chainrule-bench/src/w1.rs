//! W1 scalar-chain: `h = tanh(h·w) + h·0.1` K times from h = x = 0.5, w = 0.9,
//! then dh/dx and dh/dw. Unit ns/op = time(forward + backward) / (4K); check dh/dw.

use std::hint::black_box;

use chainrule::compiled::{self, GradProgram};
use chainrule::{Real, Tensor};

use crate::registry::{Entry, Mode, Prepared};

/// The chain length of every mode (a call takes about a millisecond, smoke included).
pub const K: usize = 25_000;

/// Hand-written forward sweep (storing the tape of h and tanh values) and
/// reverse sweep; returns (dh/dx, dh/dw).
pub fn manual(k: usize, x: f64, w: f64) -> (f64, f64) {
    let mut hs = Vec::with_capacity(k);
    let mut ts = Vec::with_capacity(k);
    let mut h = x;
    for _ in 0..k {
        let t = (h * w).tanh();
        hs.push(h);
        ts.push(t);
        h = t + h * 0.1;
    }
    let (mut gh, mut gw) = (1.0, 0.0);
    for (&h, &t) in hs.iter().zip(&ts).rev() {
        let ga = gh * (1.0 - t * t);
        gw += ga * h;
        gh = ga * w + gh * 0.1;
    }
    (gh, gw)
}

/// The chain, generic over [`Real`]: `h ← tanh(h·w) + h·0.1`, k times from h = x.
pub fn chain<T: Real>(k: usize, x: T, w: T) -> T {
    let mut h = x;
    for _ in 0..k {
        h = (h.clone() * w.clone()).tanh() + h * 0.1;
    }
    h
}

/// The chain traced once and compiled with its gradient (inputs x, w).
pub fn compile(k: usize) -> Result<GradProgram, chainrule::Error> {
    compiled::grad_program(2, |v| chain(k, v[0], v[1]))
}

/// The chain on the tape, as a PyTorch user writes it: 0-d tensors, the
/// operators, `backward()` and the leaves' `.grad`; returns (dh/dx, dh/dw).
pub fn eager(k: usize, x: f64, w: f64) -> (f64, f64) {
    let x = Tensor::scalar(x).requires_grad();
    let w = Tensor::scalar(w).requires_grad();
    let mut h = x.clone();
    for _ in 0..k {
        h = (&h * &w).tanh() + &h * 0.1;
    }
    h.backward().expect("h is a scalar computed from x and w");
    let grad = |t: &Tensor| t.grad().map_or(f64::NAN, |g| g.item());
    (grad(&x), grad(&w))
}

/// W1's implementations.
pub fn entries(_mode: &Mode) -> Vec<Entry> {
    let size = format!("K={K}");
    vec![
        Entry::compiled(
            "W1",
            "chainrule-compiled",
            size.clone(),
            "ns/op",
            "compiled::grad_program: the chain traced once (generic code on Traced values) \
             into one flat program, forward then adjoint instructions (partials from the rules \
             table), replayed; s/compile is the tracing, reverse sweep and lowering",
            || {
                let mut program = compile(K).map_err(|e| e.to_string())?;
                let mut grad = [0.0; 2];
                Ok(Prepared::new(move || {
                    program.eval(black_box(&[0.5, 0.9]), &mut grad);
                    grad[1]
                })
                .scale(1e9 / (4 * K) as f64))
            },
        ),
        Entry::timed(
            "W1",
            "chainrule-manual",
            size.clone(),
            "ns/op",
            "hand-written forward sweep (tape of h and tanh in Vecs) and reverse sweep",
            || {
                Prepared::new(|| manual(black_box(K), black_box(0.5), black_box(0.9)).1)
                    .scale(1e9 / (4 * K) as f64)
            },
        ),
        Entry::timed(
            "W1",
            "chainrule-eager",
            size,
            "ns/op",
            "0-d tensors on the tape, backward() into the leaves' .grad; graph building, \
             backward and freeing the graph timed",
            || {
                Prepared::new(|| eager(black_box(K), black_box(0.5), black_box(0.9)).1)
                    .scale(1e9 / (4 * K) as f64)
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_chain_against_the_chain_rule_by_hand() {
        // K = 1: h = tanh(xw) + 0.1x; dh/dx = (1 − t²)w + 0.1, dh/dw = (1 − t²)x.
        let t = (0.5f64 * 0.9).tanh();
        let (gx, gw) = manual(1, 0.5, 0.9);
        assert!((gx - ((1.0 - t * t) * 0.9 + 0.1)).abs() < 1e-15);
        assert!((gw - (1.0 - t * t) * 0.5).abs() < 1e-15);
    }

    #[test]
    fn compiled_chain_agrees_with_the_hand_written_sweep() {
        for k in [1, 50, 2000] {
            let mut p = compile(k).unwrap();
            let mut g = [0.0; 2];
            let h = p.eval(&[0.5, 0.9], &mut g);
            assert_eq!(
                h,
                chain(k, 0.5, 0.9),
                "the same operations in the same order"
            );
            let (gx, gw) = manual(k, 0.5, 0.9);
            assert!(
                (g[0] - gx).abs() <= 1e-12 * gx.abs().max(1e-300),
                "{} vs {gx}",
                g[0]
            );
            assert!((g[1] - gw).abs() <= 1e-12 * gw.abs(), "{} vs {gw}", g[1]);
        }
    }

    #[test]
    fn long_chain_against_finite_differences() {
        let h = |x: f64, w: f64| (0..50).fold(x, |h, _| (h * w).tanh() + h * 0.1);
        let (gx, gw) = manual(50, 0.5, 0.9);
        let e = 1e-6;
        let fx = (h(0.5 + e, 0.9) - h(0.5 - e, 0.9)) / (2.0 * e);
        let fw = (h(0.5, 0.9 + e) - h(0.5, 0.9 - e)) / (2.0 * e);
        assert!((gx - fx).abs() < 1e-8 * fx.abs().max(1.0), "{gx} vs {fx}");
        assert!((gw - fw).abs() < 1e-8 * fw.abs().max(1.0), "{gw} vs {fw}");
    }

    #[test]
    fn eager_agrees_with_the_hand_written_sweep() {
        // Both are checked against the chain rule above; the tape must give the
        // same numbers to rounding, at the benchmark's length too.
        for k in [1, 50, K] {
            let (mx, mw) = manual(k, 0.5, 0.9);
            let (ex, ew) = eager(k, 0.5, 0.9);
            assert!(
                (ex - mx).abs() <= 1e-12 * mx.abs().max(1.0),
                "{k}: {ex} vs {mx}"
            );
            assert!(
                (ew - mw).abs() <= 1e-12 * mw.abs().max(1.0),
                "{k}: {ew} vs {mw}"
            );
        }
    }
}
