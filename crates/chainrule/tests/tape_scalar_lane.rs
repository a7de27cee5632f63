//! The backward pass's 0-d lane (issue 18, wave 7) and the 0-d operator
//! fast paths: a chain of 0-d f64 nodes that no one else holds is walked
//! with each node's operation taken out and its input handles moved into
//! the frontier. Checked against closed forms, hand-written reverse sweeps
//! and finite differences, and bit for bit against the general path (a pass
//! with `retain_graph` never takes the lane), with the PyTorch semantics
//! around it: `retain_grad`, `create_graph`, freed graphs, dtype mixes,
//! `no_grad`, and chains far deeper than the stack.

use chainrule::autograd::{self, GradOptions};
use chainrule::{DType, Error, Real, Tensor};

/// W1's chain on the tape: `h ← tanh(h·w) + h·0.1`, k times from h = x.
fn chain(x: &Tensor, w: &Tensor, k: usize) -> Tensor {
    let mut h = x.clone();
    for _ in 0..k {
        h = (&h * w).tanh() + &h * 0.1;
    }
    h
}

/// The same chain's gradient (dh/dx, dh/dw) by a hand-written forward and
/// reverse sweep (tanh' = 1 − tanh², where the rules table uses cosh⁻²).
fn manual(k: usize, x: f64, w: f64) -> (f64, f64) {
    let (mut hs, mut ts) = (Vec::new(), Vec::new());
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

fn grads(x: &Tensor, w: &Tensor) -> (f64, f64) {
    (x.grad().unwrap().item(), w.grad().unwrap().item())
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn one_step_of_the_chain_matches_its_closed_form() {
    // h = tanh(xw) + 0.1x: dh/dx = w sech²(xw) + 0.1, dh/dw = x sech²(xw).
    let (xv, wv) = (0.5f64, 0.9f64);
    let x = Tensor::scalar(xv).requires_grad();
    let w = Tensor::scalar(wv).requires_grad();
    chain(&x, &w, 1).backward().unwrap();
    let sech2 = 1.0 / (xv * wv).cosh().powi(2);
    let (gx, gw) = grads(&x, &w);
    assert!(close(gx, wv * sech2 + 0.1, 1e-15), "{gx}");
    assert!(close(gw, xv * sech2, 1e-15), "{gw}");
}

#[test]
fn the_chain_matches_a_hand_written_reverse_sweep_and_the_general_path() {
    for &(k, xv, wv) in &[(2usize, 0.5, 0.9), (25, 0.5, 0.9), (1000, -1.25, 0.7)] {
        let x = Tensor::scalar(xv).requires_grad();
        let w = Tensor::scalar(wv).requires_grad();
        chain(&x, &w, k).backward().unwrap();
        let lane = grads(&x, &w);
        let (mx, mw) = manual(k, xv, wv);
        assert!(close(lane.0, mx, 1e-12), "k={k}: {} vs {mx}", lane.0);
        assert!(close(lane.1, mw, 1e-12), "k={k}: {} vs {mw}", lane.1);
        // The general path (retain_graph keeps every operation, so no node
        // takes the lane): the same bits.
        let x2 = Tensor::scalar(xv).requires_grad();
        let w2 = Tensor::scalar(wv).requires_grad();
        chain(&x2, &w2, k)
            .backward_opts(None, GradOptions::RETAIN_GRAPH)
            .unwrap();
        let general = grads(&x2, &w2);
        assert_eq!(lane.0.to_bits(), general.0.to_bits(), "k={k}");
        assert_eq!(lane.1.to_bits(), general.1.to_bits(), "k={k}");
    }
}

/// Every kind of 0-d node the lane takes: unary, binary (both operands
/// the same tensor too), tensor ∘ constant and constant ∘ tensor, with
/// owned and borrowed operands.
fn mixed(x: &Tensor, y: &Tensor) -> Tensor {
    let a = (2.0 - x / y).exp(); // ScalarLhs(Sub), Binary(Div), Unary(Exp)
    let b = x * x; // one tensor as both operands
    let c = (a.clone() * x.sin()) - b; // owned operands
    let d = &c / 3.0 + (&c * y).cos(); // ScalarRhs(Div), Binary, Unary
    d * y.clone() - 1.5 * &a // owned, ScalarLhs(Mul)
}

#[test]
fn every_kind_of_zero_d_node_matches_finite_differences_and_the_general_path() {
    let (xv, yv) = (0.7f64, 1.3f64);
    let f = |xv: f64, yv: f64| mixed(&Tensor::scalar(xv), &Tensor::scalar(yv)).item();
    // The value itself, by hand.
    let a = (2.0 - xv / yv).exp();
    let c = a * xv.sin() - xv * xv;
    let expected = (c / 3.0 + (c * yv).cos()) * yv - 1.5 * a;
    assert!(close(f(xv, yv), expected, 1e-15));

    let x = Tensor::scalar(xv).requires_grad();
    let y = Tensor::scalar(yv).requires_grad();
    mixed(&x, &y).backward().unwrap();
    let (gx, gy) = (x.grad().unwrap().item(), y.grad().unwrap().item());
    let h = 1e-6;
    let fdx = (f(xv + h, yv) - f(xv - h, yv)) / (2.0 * h);
    let fdy = (f(xv, yv + h) - f(xv, yv - h)) / (2.0 * h);
    assert!(close(gx, fdx, 1e-8), "{gx} vs {fdx}");
    assert!(close(gy, fdy, 1e-8), "{gy} vs {fdy}");

    let x2 = Tensor::scalar(xv).requires_grad();
    let y2 = Tensor::scalar(yv).requires_grad();
    mixed(&x2, &y2)
        .backward_opts(None, GradOptions::RETAIN_GRAPH)
        .unwrap();
    assert_eq!(gx.to_bits(), x2.grad().unwrap().item().to_bits());
    assert_eq!(gy.to_bits(), y2.grad().unwrap().item().to_bits());
}

#[test]
fn a_chain_mixing_zero_d_and_n_d_nodes() {
    // s ← tanh(s·w) + 0.01·sum(v·s), three times: the 0-d nodes between
    // the sums take the lane, the products with v do not.
    let run = |sv: f64, vv: &[f64], opts: GradOptions| {
        let s0 = Tensor::scalar(sv).requires_grad();
        let v = Tensor::from_vec(vv.to_vec(), &[3]).unwrap().requires_grad();
        let w = Tensor::scalar(0.8).requires_grad();
        let mut s = s0.clone();
        for _ in 0..3 {
            s = (&s * &w).tanh() + (&v * &s).sum() * 0.01;
        }
        let out = s.item();
        s.backward_opts(None, opts).unwrap();
        (out, s0.grad().unwrap().item(), v.grad().unwrap().to_vec())
    };
    let vv = [0.5, -1.0, 2.0];
    let (_, gs, gv) = run(0.3, &vv, GradOptions::default());
    let (_, gs2, gv2) = run(0.3, &vv, GradOptions::RETAIN_GRAPH);
    assert_eq!(gs.to_bits(), gs2.to_bits());
    assert_eq!(gv, gv2);
    let h = 1e-6;
    let fd = (run(0.3 + h, &vv, GradOptions::default()).0
        - run(0.3 - h, &vv, GradOptions::default()).0)
        / (2.0 * h);
    assert!(close(gs, fd, 1e-8), "{gs} vs {fd}");
    for i in 0..3 {
        let (mut up, mut down) = (vv, vv);
        up[i] += h;
        down[i] -= h;
        let fd = (run(0.3, &up, GradOptions::default()).0
            - run(0.3, &down, GradOptions::default()).0)
            / (2.0 * h);
        assert!(close(gv[i], fd, 1e-7), "v[{i}]: {} vs {fd}", gv[i]);
    }
}

#[test]
fn grad_of_grad_runs_the_lane_over_the_recorded_first_pass() {
    // f = tanh(xw): f' = w sech²(xw), f'' = −2w² sech²(xw) tanh(xw).
    let (xv, wv) = (0.4f64, 1.7f64);
    let x = Tensor::scalar(xv).requires_grad();
    let w = Tensor::scalar(wv).requires_grad();
    let f = (&x * &w).tanh();
    let g = autograd::grad(
        &[f],
        std::slice::from_ref(&x),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .unwrap();
    let sech2 = 1.0 / (xv * wv).cosh().powi(2);
    assert!(close(g[0].item(), wv * sech2, 1e-15));
    // The second pass is an ordinary one: its 0-d nodes take the lane.
    g[0].backward().unwrap();
    let expected = -2.0 * wv * wv * sech2 * (xv * wv).tanh();
    assert!(
        close(x.grad().unwrap().item(), expected, 1e-14),
        "{}",
        x.grad().unwrap().item()
    );

    // Through W1's chain, against finite differences of the first derivative.
    let d1 = |xv: f64| {
        let x = Tensor::scalar(xv).requires_grad();
        let w = Tensor::scalar(0.9).requires_grad();
        let h = chain(&x, &w, 5);
        autograd::grad(&[h], &[x], None, GradOptions::default()).unwrap()[0].item()
    };
    let x = Tensor::scalar(0.5).requires_grad();
    let w = Tensor::scalar(0.9).requires_grad();
    let h = chain(&x, &w, 5);
    let g = autograd::grad(
        &[h],
        std::slice::from_ref(&x),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .unwrap();
    assert!(close(g[0].item(), d1(0.5), 1e-15));
    g[0].backward().unwrap();
    let step = 1e-5;
    let fd = (d1(0.5 + step) - d1(0.5 - step)) / (2.0 * step);
    assert!(
        close(x.grad().unwrap().item(), fd, 1e-7),
        "{} vs {fd}",
        x.grad().unwrap().item()
    );
}

#[test]
fn backward_twice_with_retain_graph_then_a_freed_graph() {
    let x = Tensor::scalar(0.5).requires_grad();
    let w = Tensor::scalar(0.9).requires_grad();
    let h = chain(&x, &w, 50);
    h.backward_opts(None, GradOptions::RETAIN_GRAPH).unwrap();
    let once = grads(&x, &w);
    // The second pass frees the graph as it goes (the lane).
    h.backward().unwrap();
    let twice = grads(&x, &w);
    assert_eq!(twice.0.to_bits(), (once.0 + once.0).to_bits());
    assert_eq!(twice.1.to_bits(), (once.1 + once.1).to_bits());
    // A third pass meets the freed graph: an error, not a panic, and the
    // leaves' gradients are untouched.
    assert!(matches!(h.backward(), Err(Error::FreedGraph)));
    assert_eq!(grads(&x, &w), twice);
    assert_eq!(h.grad_fn(), Some("AddBackward0"));
}

#[test]
fn a_held_intermediate_is_freed_with_its_name_and_a_pass_through_it_fails() {
    let x = Tensor::scalar(0.5).requires_grad();
    let w = Tensor::scalar(0.9).requires_grad();
    let a = &x * &w;
    let b = a.tanh();
    let h = &b + &(&x * 0.1);
    h.backward().unwrap();
    assert_eq!(a.grad_fn(), Some("MulBackward0"));
    assert!(matches!(b.backward(), Err(Error::FreedGraph)));
    // A new unshared node on top of the freed `a`: the lane meets it.
    let e = (&a * 3.0).sin() * 2.0;
    assert!(matches!(e.backward(), Err(Error::FreedGraph)));
    // The thread's next pass starts clean.
    let y = Tensor::scalar(2.0).requires_grad();
    ((&y * &y).sin() + 1.0).backward().unwrap();
    assert!(close(y.grad().unwrap().item(), 4.0 * 4f64.cos(), 1e-15));
}

#[test]
fn retain_grad_and_pass_inputs_inside_the_chain() {
    let x = Tensor::scalar(0.5).requires_grad();
    let w = Tensor::scalar(0.9).requires_grad();
    let mid = chain(&x, &w, 3);
    mid.retain_grad();
    let h = chain(&mid, &w, 4);
    // dh/dmid by the hand-written sweep of the last four steps.
    let (dmid, _) = manual(4, mid.item(), 0.9);
    h.backward().unwrap();
    assert!(close(mid.grad().unwrap().item(), dmid, 1e-13));
    // grad() asks for an intermediate and a leaf: the same bits as .grad.
    let x2 = Tensor::scalar(0.5).requires_grad();
    let w2 = Tensor::scalar(0.9).requires_grad();
    let mid2 = chain(&x2, &w2, 3);
    let h2 = chain(&mid2, &w2, 4);
    let g = autograd::grad(&[h2], &[mid2, x2], None, GradOptions::default()).unwrap();
    assert_eq!(g[0].item().to_bits(), mid.grad().unwrap().item().to_bits());
    assert_eq!(g[1].item().to_bits(), x.grad().unwrap().item().to_bits());
}

#[test]
fn dtypes_no_grad_and_constants_around_the_lane() {
    // An f32 leaf in an f64 chain: its gradient is f32, the rest f64
    // (`h · 0.1` of the f32 leaf is an f32 0.05, so the values are the
    // f64 chain's to f32 precision), and the lane gives the general
    // path's bits.
    let run = |opts: GradOptions| {
        let x = Tensor::scalar(0.5).to_dtype(DType::F32).requires_grad();
        let w = Tensor::scalar(0.9).requires_grad();
        let h = chain(&x, &w, 4);
        assert_eq!(h.dtype(), DType::F64);
        h.backward_opts(None, opts).unwrap();
        let gx = x.grad().unwrap();
        assert_eq!(gx.dtype(), DType::F32);
        (gx.item(), w.grad().unwrap().item())
    };
    let (gx, gw) = run(GradOptions::default());
    let (mx, mw) = manual(4, 0.5, 0.9);
    assert!(close(gx, mx, 1e-6), "{gx} vs {mx}");
    assert!(close(gw, mw, 1e-6), "{gw} vs {mw}");
    let (gx2, gw2) = run(GradOptions::RETAIN_GRAPH);
    assert_eq!((gx.to_bits(), gw.to_bits()), (gx2.to_bits(), gw2.to_bits()));

    // A constant (no gradient) and a no_grad value in the chain: they get
    // no gradient and record nothing.
    let x = Tensor::scalar(1.5).requires_grad();
    let c = Tensor::scalar(3.0);
    let frozen = autograd::no_grad_scope(|| &x * 2.0);
    assert!(!frozen.is_requires_grad() && frozen.grad_fn().is_none());
    let y = (&x * &c).sin() + &frozen * &x;
    assert!(y.is_requires_grad());
    y.backward().unwrap();
    // dy/dx = 3 cos(3x) + frozen (frozen is a constant 3).
    assert!(close(
        x.grad().unwrap().item(),
        3.0 * 4.5f64.cos() + 3.0,
        1e-15
    ));
    assert!(c.grad().is_none() && frozen.grad().is_none());
    // Operators on values that need no gradient record nothing.
    let z = (&c * &c).tanh() + Tensor::scalar(1.0) * c.clone();
    assert!(!z.is_requires_grad() && z.grad_fn().is_none());
    assert!(close(z.item(), 9f64.tanh() + 3.0, 1e-15));
}

#[test]
fn a_chain_of_a_million_nodes_on_a_small_stack() {
    // 250,000 steps of four nodes: forward, backward (the lane) and the
    // drop of a second such chain never backpropagated, on a 256 KB stack.
    let r = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let x = Tensor::scalar(0.5).requires_grad();
            let w = Tensor::scalar(0.9).requires_grad();
            let k = 250_000;
            chain(&x, &w, k).backward().unwrap();
            let got = grads(&x, &w);
            drop(chain(&x, &w, k));
            (got, manual(k, 0.5, 0.9))
        })
        .unwrap()
        .join()
        .unwrap();
    let ((gx, gw), (mx, mw)) = r;
    assert!(close(gx, mx, 1e-8), "{gx} vs {mx}");
    assert!(close(gw, mw, 1e-8), "{gw} vs {mw}");
}

/// The distance in ulp of two values of one sign (0 for equal bits).
fn ulps(a: f64, b: f64) -> u64 {
    a.to_bits().abs_diff(b.to_bits())
}

/// tanh's partial in a pass that records nothing (wave 8): `(1 − t)(1 + t)`
/// from the output where |t| ≤ ½, else `4e/(1 + e)²` with one exponential
/// `e = exp(−2|u|)`, instead of the rules table's `cosh(u)⁻²`.
fn tanh_partial(u: f64) -> f64 {
    let x = Tensor::scalar(u).requires_grad();
    x.tanh().backward().unwrap();
    x.grad().unwrap().item()
}

#[test]
fn tanh_partial_is_within_two_ulp_of_sech_squared() {
    // sech²(u) = 1/cosh²(u), by mpmath at 300 bits, rounded to f64 (0 where
    // it is below half the least subnormal; the 370 value is subnormal).
    let table: [(f64, f64); 23] = [
        (0.0, 1.0),
        (1e-300, 1.0),
        (1e-08, 0.9999999999999999),
        (0.1, 0.9900662908474398),
        (0.3, 0.9151369618266292),
        (0.5, 0.7864477329659274),
        (0.5493061443340549, 0.75), // atanh(½): where the two formulas meet
        (0.55, 0.7494795181900823),
        (0.75, 0.5965858082813315),
        (1.0, 0.4199743416140261),
        (2.0, 0.07065082485316447),
        (5.0, 0.0001815832309438067),
        (10.0, 8.244614455767397e-09),
        (20.0, 1.6993417021166355e-17),
        (40.0, 7.219405551381661e-35),
        (100.0, 5.53558610694695e-87),
        (300.0, 1.0601586212017243e-260),
        (350.0, 3.943870617503908e-304),
        (354.0, 1.3230212014553631e-307),
        (360.0, 8.12892320967e-313),
        (370.0, 1.675e-321),
        (400.0, 0.0),
        (800.0, 0.0),
    ];
    for (u, want) in table {
        for u in [u, -u] {
            let got = tanh_partial(u);
            assert!(
                got >= 0.0 && ulps(got, want) <= 2,
                "u = {u:e}: {got:e} vs {want:e} ({} ulp)",
                ulps(got, want)
            );
        }
    }
    // Exactly 1 at ±0, exactly 0 at ±∞, NaN at NaN.
    assert_eq!(tanh_partial(0.0), 1.0);
    assert_eq!(tanh_partial(-0.0), 1.0);
    assert_eq!(tanh_partial(f64::INFINITY).to_bits(), 0f64.to_bits());
    assert_eq!(tanh_partial(f64::NEG_INFINITY).to_bits(), 0f64.to_bits());
    assert!(tanh_partial(f64::NAN).is_nan());
}

#[test]
fn tanh_partial_agrees_with_the_recorded_rule() {
    // A recorded pass (create_graph) keeps the rules table's cosh(u)⁻²; the
    // plain pass's partial is within a few ulp of it on this sweep of
    // [−30, 30]: both are a few ulp from sech² (against mpmath at 120 bits
    // on the same points, offline: the plain partial at most 4 ulp, at
    // u ≈ 1.728; cosh⁻² at most 5, at u ≈ −10.409; the two at most 7
    // apart, at u ≈ −7.626). Beyond, the plain partial is below 1e-300
    // where cosh² overflows and the rule gives 0.
    let mut worst = 0;
    for i in -30_000..=30_000 {
        let u = i as f64 * 1e-3 + 1.234e-7;
        let plain = tanh_partial(u);
        let x = Tensor::scalar(u).requires_grad();
        let g = autograd::grad(
            &[x.tanh()],
            std::slice::from_ref(&x),
            None,
            GradOptions::CREATE_GRAPH,
        )
        .unwrap();
        let recorded = g[0].item();
        assert!(g[0].is_requires_grad());
        worst = worst.max(ulps(plain, recorded));
    }
    assert!(worst <= 8, "{worst} ulp");
    for u in [356.0, 400.0, 710.0, 1e5] {
        assert!(tanh_partial(u) < 1e-300 && tanh_partial(-u) < 1e-300);
    }
}

#[test]
fn w1_on_the_tape_matches_the_hand_written_sweep_and_the_compiled_program() {
    // W1 itself: K = 25,000 steps from x = 0.5, w = 0.9.
    let k = 25_000;
    let x = Tensor::scalar(0.5).requires_grad();
    let w = Tensor::scalar(0.9).requires_grad();
    chain(&x, &w, k).backward().unwrap();
    let (gx, gw) = grads(&x, &w);
    let (mx, mw) = manual(k, 0.5, 0.9);
    assert!(close(gx, mx, 1e-12), "{gx} vs {mx}");
    assert!(close(gw, mw, 1e-12), "{gw} vs {mw}");
    // dh/dw printed by the benchmark's check before wave 8 (cosh⁻² partials).
    assert!(close(gw, 113.41528859401018, 1e-12), "{gw}");
    // The compiled program takes tanh's partial the same way and sums in
    // the same order: the same bits.
    let mut program = chainrule::compiled::grad_program(2, |v| {
        let (mut h, w) = (v[0], v[1]);
        for _ in 0..k {
            h = (h * w).tanh() + h * 0.1;
        }
        h
    })
    .unwrap();
    let mut g = [0.0; 2];
    program.eval(&[0.5, 0.9], &mut g);
    assert_eq!(gx.to_bits(), g[0].to_bits(), "{gx} vs {}", g[0]);
    assert_eq!(gw.to_bits(), g[1].to_bits(), "{gw} vs {}", g[1]);
}
