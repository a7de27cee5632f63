//! The compiled reverse mode (`chainrule::compiled`): values equal to the
//! function evaluated on f64, gradients equal to the tape's (to 1e-12
//! relative) and to finite differences (Richardson, to 1e-6), on random
//! formulas; the fused per-sample data pass equal to summing one sample at
//! a time; deep chains without recursion; errors.

use chainrule::check::{numerical_derivative, FdOptions};
use chainrule::compiled::{grad_program, per_sample, Traced};
use chainrule::{Real, Tensor};
use proptest::prelude::*;

mod common;
use common::{close, richardson, smooth_tree, tape_gradient, Tree};

/// ∂t/∂x_i at p by Richardson-extrapolated central differences.
fn finite_difference(t: &Tree, p: &[f64; 3], i: usize) -> f64 {
    richardson(
        |h| {
            let mut q = *p;
            q[i] = h;
            t.eval(&q)
        },
        p[i],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn value_and_grad_matches_f64_the_tape_and_finite_differences(
        t in smooth_tree(),
        p in proptest::array::uniform3(-2.0f64..2.0),
    ) {
        let mut program = grad_program(3, |v| t.eval(v)).unwrap();
        let mut g = [0.0; 3];
        let value = program.eval(&p, &mut g);
        // The same operations in the same order: the same number.
        prop_assert_eq!(value, t.eval(&p));
        let tape = tape_gradient(&t, &p);
        for i in 0..3 {
            prop_assert!(close(g[i], tape[i], 1e-12), "d/dx{}: compiled {} vs tape {}", i, g[i], tape[i]);
            let fd = finite_difference(&t, &p, i);
            prop_assert!(close(g[i], fd, 1e-6), "d/dx{}: compiled {} vs finite difference {}", i, g[i], fd);
        }
        // Replaying is repeatable.
        let mut again = [0.0; 3];
        prop_assert_eq!(program.eval(&p, &mut again), value);
        prop_assert_eq!(again, g);
    }

    #[test]
    fn per_sample_sums_match_one_sample_at_a_time(
        t in smooth_tree(),
        params in proptest::array::uniform2(-2.0f64..2.0),
        data in proptest::collection::vec(-2.0f64..2.0, 0..400),
    ) {
        // Variables 0 and 1 are parameters, variable 2 the sample.
        let mut fused = per_sample(2, 1, |w, s| t.eval(&[w[0], w[1], s[0]])).unwrap();
        let mut one = grad_program(3, |v| t.eval(v)).unwrap();
        let (mut value, mut grad) = (0.0, [0.0; 2]);
        for &x in &data {
            let mut g = [0.0; 3];
            value += one.eval(&[params[0], params[1], x], &mut g);
            grad[0] += g[0];
            grad[1] += g[1];
        }
        let mut g = [0.0; 2];
        let v = fused.sum_value_and_grad(&params, &[&data], &mut g).unwrap();
        let scale = data.len().max(1) as f64;
        prop_assert!(close(v / scale, value / scale, 1e-12), "{} vs {}", v, value);
        for i in 0..2 {
            prop_assert!(close(g[i] / scale, grad[i] / scale, 1e-12), "{} vs {}", g[i], grad[i]);
        }
    }
}

/// W1's chain, by hand: forward storing h and tanh(hw), then the reverse
/// sweep with tanh' = 1 − t² (an independent formula for the derivative).
fn chain_by_hand(k: usize, x: f64, w: f64) -> (f64, f64, f64) {
    let (mut hs, mut ts) = (Vec::with_capacity(k), Vec::with_capacity(k));
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
    (h, gh, gw)
}

#[test]
fn a_100000_op_chain_compiles_and_replays_without_recursion() {
    let k = 25_000;
    let mut program = grad_program(2, |v| {
        let (mut h, w) = (v[0], v[1]);
        for _ in 0..k {
            h = (h * w).tanh() + h * 0.1;
        }
        h
    })
    .unwrap();
    let mut g = [0.0; 2];
    let h = program.eval(&[0.5, 0.9], &mut g);
    let (hh, gx, gw) = chain_by_hand(k, 0.5, 0.9);
    assert_eq!(h, hh);
    assert!(
        close(g[0], gx, 1e-12) && close(g[1], gw, 1e-12),
        "{g:?} vs {gx} {gw}"
    );
    // At most 5 instructions per link of the chain (its 4 ops and their
    // adjoints, fused: tanh(h·w) with its derivative is one, h·0.1 + t one,
    // the adjoints three), and registers for about two values per link.
    assert!(program.len() <= 5 * k, "{} instructions", program.len());
    assert!(
        program.n_registers() < 3 * k,
        "{} registers",
        program.n_registers()
    );
}

/// A chain whose steps read the step before in many operand positions
/// (first or second of −, / and atan2; in products, differences of
/// products, a product subtracted; the argument of tanh(h·a)), which the
/// scalar interpreter passes in a register, in the forward chain and in its
/// adjoints: inputs a, b, c, values kept moderate (c ≥ 1 divides, atan2
/// bounds).
fn every_position_chain<T: Real>(v: &[T]) -> T {
    let (a, b, c) = (v[0].clone(), v[1].clone(), v[2].clone());
    let mut h = a.clone() * c.clone();
    for _ in 0..3 {
        h = a.clone() - h; // previous result second
        h = h - b.clone(); // first
        h = h / c.clone(); // first of a division
        h = b.clone() / (h.square() + 1.0); // second of a division
        h = (h * a.clone()) * b.clone(); // inside (h·a)·b
        h = c.clone() * b.clone() - h * a.clone(); // second product of a difference
        h = h * a.clone() - c.clone(); // a product, minus
        h = c.clone() - h * b.clone(); // minus a product
        h = h.atan2(&c); // first of atan2
        h = a.atan2(&h); // second
        h = (h.clone() * a.clone()).tanh() + h * 0.1; // tanh(h·a) with its derivative
        h = c.pow(&(h.clone() * 0.3)) + h.powi(3) - h.sin(); // pow's exponent
        h = -h + a.clone();
    }
    h
}

#[test]
fn chains_through_every_operand_position_match_f64_and_the_tape() {
    let mut program = grad_program(3, every_position_chain).unwrap();
    for p in [[0.7, 1.3, 1.1], [-0.4, 1.9, 1.6], [1.2, 1.0, 2.0]] {
        let mut g = [0.0; 3];
        let value = program.eval(&p, &mut g);
        assert_eq!(value, every_position_chain(&p), "{p:?}");
        let xs: Vec<Tensor> = p
            .iter()
            .map(|&v| Tensor::scalar(v).requires_grad())
            .collect();
        every_position_chain(&xs).backward().unwrap();
        for i in 0..3 {
            let tape = xs[i].grad().unwrap().item();
            assert!(
                close(g[i], tape, 1e-12),
                "{p:?} d/dx{i}: {} vs tape {tape}",
                g[i]
            );
            let at = |t: f64| {
                let mut q = p;
                q[i] = t;
                every_position_chain(&q)
            };
            let steps = FdOptions {
                step: 1e-3,
                relative: false,
                rounds: 1,
            };
            let fd = numerical_derivative(at, p[i], steps);
            assert!(close(g[i], fd, 1e-6), "{p:?} d/dx{i}: {} vs {fd}", g[i]);
        }
    }
}

#[test]
fn kinks_follow_the_rules_table() {
    // relu'(0) = 0, |x|'(0) = 0, max and min give a tie to the first argument.
    let mut p = grad_program(2, |v| v[0].relu() + v[1].abs() + v[0].max(&v[1]) * 10.0).unwrap();
    let mut g = [0.0; 2];
    assert_eq!(p.eval(&[0.0, 0.0], &mut g), 0.0);
    assert_eq!(g, [10.0, 0.0]);
    let mut p = grad_program(2, |v| v[0].min(&v[1])).unwrap();
    p.eval(&[1.0, 1.0], &mut g);
    assert_eq!(g, [1.0, 0.0]);
    p.eval(&[2.0, 1.0], &mut g);
    assert_eq!(g, [0.0, 1.0]);
}

#[test]
fn constants_and_unused_inputs_have_zero_gradients() {
    let mut p = grad_program(3, |v| v[1].sin() * 2.0 + Traced::from_f64(5.0)).unwrap();
    let mut g = [7.0; 3];
    let y = p.eval(&[1.0, 0.5, -3.0], &mut g);
    assert_eq!(y, 0.5f64.sin() * 2.0 + 5.0);
    assert_eq!(g, [0.0, 0.5f64.cos() * 2.0, 0.0]);
    let mut c = grad_program(1, |_| Traced::from_f64(2.5)).unwrap();
    let mut g = [1.0];
    assert_eq!(c.eval(&[9.0], &mut g), 2.5);
    assert_eq!(g, [0.0]);
    assert!(c.is_empty());
}

#[test]
fn sech2_stays_accurate_in_the_tails() {
    // d/dx tanh(x) at 20 is sech²(20) ≈ 1.7e-17, not 1 − tanh² = 0.
    let mut p = grad_program(1, |v| v[0].tanh()).unwrap();
    let mut g = [0.0];
    for x in [0.0, 0.3, -0.7, 3.0, 20.0, -20.0] {
        p.eval(&[x], &mut g);
        let exact = 4.0 * (-2.0 * f64::abs(x)).exp() / (1.0 + (-2.0 * f64::abs(x)).exp()).powi(2);
        assert!(
            (g[0] - exact).abs() <= 1e-15 * exact,
            "{x}: {} vs {exact}",
            g[0]
        );
    }
}

#[test]
fn least_squares_over_blocks_tails_and_threads() {
    // mean (w·x − y)² with y = 2x: d/dw = 2(w − 2)·mean(x²).
    let mut p = per_sample(1, 2, |w, s| (w[0] * s[0] - s[1]).square()).unwrap();
    for (n, threads) in [(5, 1), (300, 1), (200_003, 1), (200_003, 2)] {
        p.set_threads(threads);
        let x: Vec<f64> = (0..n).map(|i| 1.0 + 3.0 * i as f64 / n as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
        let m2 = x.iter().map(|v| v * v).sum::<f64>() / n as f64;
        let mut g = [0.0];
        let loss = p.mean_value_and_grad(&[0.5], &[&x, &y], &mut g).unwrap();
        assert!(close(loss, 2.25 * m2, 1e-12), "n = {n}: {loss}");
        assert!(close(g[0], -3.0 * m2, 1e-12), "n = {n}: {}", g[0]);
    }
    assert_eq!(p.threads(), 2);
    let mut g = [0.0];
    let empty: [f64; 0] = [];
    assert!(p
        .mean_value_and_grad(&[0.5], &[&empty, &empty], &mut g)
        .unwrap()
        .is_nan());
}

#[test]
fn wrong_lengths_and_misuse_are_errors() {
    let mut p = grad_program(2, |v| v[0] * v[1]).unwrap();
    assert!(p.try_eval(&[1.0], &mut [0.0; 2]).is_err());
    assert!(p.try_eval(&[1.0, 2.0], &mut [0.0; 3]).is_err());
    let mut s = per_sample(1, 2, |w, d| w[0] * d[0] + d[1]).unwrap();
    let mut g = [0.0];
    assert!(s
        .sum_value_and_grad(&[1.0], &[&[1.0, 2.0], &[1.0]], &mut g)
        .is_err());
    assert!(s.sum_value_and_grad(&[1.0], &[&[1.0]], &mut g).is_err());
    assert!(s
        .sum_value_and_grad(&[], &[&[1.0], &[1.0]], &mut g)
        .is_err());
    // Traces do not nest.
    let nested = grad_program(1, |v| {
        assert!(grad_program(1, |u| u[0]).is_err());
        v[0]
    });
    assert!(nested.is_ok());
    // A value of a finished trace is refused, and panics when used.
    let mut leaked = None;
    grad_program(1, |v| {
        leaked = Some(v[0]);
        v[0]
    })
    .unwrap();
    let leaked = leaked.unwrap();
    assert!(grad_program(1, |_| leaked).is_err());
    assert!(std::panic::catch_unwind(move || leaked.sin()).is_err());
}
