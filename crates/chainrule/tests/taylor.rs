//! Taylor mode against independently known series, against nested duals,
//! and on random compositions of primitives (where nested reverse mode,
//! `functional::grad`, joins in).

use chainrule::forward::{derivatives_at, nth_derivative_at, taylor_coefficients_at, Dual, Taylor};
use chainrule::functional::{self, grad};
use chainrule::ops::Domain;
use chainrule::{BinaryOp, Real, Tensor, UnaryOp};
use proptest::prelude::*;

mod common;
use common::squash;

const K: usize = 30;

fn factorial(k: usize) -> f64 {
    (1..=k).map(|i| i as f64).product()
}

/// |got − want| ≤ tol · max(|want|, scale), with a message.
fn assert_close(got: f64, want: f64, scale: f64, tol: f64, what: &str) {
    let bound = tol * want.abs().max(scale);
    assert!(
        (got - want).abs() <= bound,
        "{what}: got {got:e}, want {want:e} (difference {:e}, bound {bound:e})",
        (got - want).abs()
    );
}

/// f, f', …, f⁽ᴷ⁾ at x by Taylor mode both ways: one pass of order K
/// (`forward::derivatives_at`), and one pass of order k for each k
/// (`functional::derivative(f, k)`).
fn both_ways(f: impl Fn(Taylor) -> Taylor, x: f64) -> [Vec<f64>; 2] {
    let one_pass = derivatives_at(&f, x, K);
    let per_order = (0..=K).map(|k| functional::derivative(&f, k)(x)).collect();
    [one_pass, per_order]
}

#[test]
fn exp_derivatives_to_30() {
    let x = 0.3;
    for d in both_ways(|t| t.exp(), x) {
        for (k, dk) in d.iter().enumerate() {
            assert_close(*dk, x.exp(), 0.0, 1e-10, &format!("exp^({k})"));
        }
    }
}

#[test]
fn sin_derivatives_to_30() {
    // sin⁽ᵏ⁾ x = sin(x + kπ/2), cycling sin, cos, −sin, −cos.
    let x = 0.7_f64;
    let cycle = [x.sin(), x.cos(), -x.sin(), -x.cos()];
    for d in both_ways(|t| t.sin(), x) {
        for (k, dk) in d.iter().enumerate() {
            assert_close(*dk, cycle[k % 4], 0.0, 1e-10, &format!("sin^({k})"));
        }
    }
}

#[test]
fn log1p_derivatives_to_30() {
    // dᵏ/dxᵏ ln(1 + x) = (−1)^(k−1) (k−1)! / (1 + x)^k for k ≥ 1.
    let x = 0.4_f64;
    for d in both_ways(|t| (t + 1.0).ln(), x) {
        assert_close(d[0], x.ln_1p(), 0.0, 1e-15, "log1p");
        for (k, dk) in d.iter().enumerate().skip(1) {
            let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
            let want = sign * factorial(k - 1) / (1.0 + x).powi(k as i32);
            assert_close(*dk, want, 0.0, 1e-10, &format!("log1p^({k})"));
        }
    }
}

#[test]
fn geometric_derivatives_to_30() {
    // dᵏ/dxᵏ 1/(1 − x) = k! / (1 − x)^(k+1).
    let x = 0.3_f64;
    for d in both_ways(|t| 1.0 / (1.0 - t), x) {
        for (k, dk) in d.iter().enumerate() {
            let want = factorial(k) / (1.0 - x).powi(k as i32 + 1);
            assert_close(*dk, want, 0.0, 1e-10, &format!("1/(1-x)^({k})"));
        }
    }
}

#[test]
fn atan_maclaurin_to_30() {
    // atan x = Σ (−1)^m x^(2m+1)/(2m+1).
    let c = taylor_coefficients_at(|t| t.atan(), 0.0, K);
    for (k, ck) in c.iter().enumerate() {
        let want = if k % 2 == 1 {
            let m = (k - 1) / 2;
            if m % 2 == 0 {
                1.0 / k as f64
            } else {
                -1.0 / k as f64
            }
        } else {
            0.0
        };
        assert_close(*ck, want, 1e-2, 1e-10, &format!("atan c{k}"));
    }
}

#[test]
fn atan_derivatives_away_from_zero_to_30() {
    // atan⁽ⁿ⁾ x = (−1)^(n−1) (n−1)! sin(n·acot x) / (1 + x²)^(n/2).
    let x = 0.8_f64;
    let theta = (1.0 / x).atan();
    for d in both_ways(|t| t.atan(), x) {
        for (n, dn) in d.iter().enumerate().skip(1) {
            let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
            let scale = factorial(n - 1) / (1.0 + x * x).powf(n as f64 / 2.0);
            let want = sign * scale * (n as f64 * theta).sin();
            assert_close(*dn, want, scale, 1e-10, &format!("atan^({n})"));
        }
    }
}

/// The tangent numbers T₁, T₂, … (tan⁽²ⁿ⁻¹⁾(0) = Tₙ) by the Knuth–Buckholtz
/// integer recurrence.
fn tangent_numbers(n: usize) -> Vec<i128> {
    let mut t = vec![0i128; n + 1];
    t[1] = 1;
    for k in 2..=n {
        t[k] = (k as i128 - 1) * t[k - 1];
    }
    for k in 2..=n {
        for j in k..=n {
            let a = ((j - k) as i128).checked_mul(t[j - 1]).unwrap();
            let b = ((j - k + 2) as i128).checked_mul(t[j]).unwrap();
            t[j] = a.checked_add(b).unwrap();
        }
    }
    t
}

#[test]
fn tanh_maclaurin_to_30_from_tangent_numbers() {
    let t = tangent_numbers(15);
    assert_eq!(&t[1..6], &[1, 2, 16, 272, 7936]);
    // tanh⁽²ⁿ⁻¹⁾(0) = (−1)^(n−1) Tₙ; the even coefficients vanish.
    let c = taylor_coefficients_at(|x| x.tanh(), 0.0, K);
    for (k, ck) in c.iter().enumerate() {
        if k % 2 == 0 {
            assert!(ck.abs() < 1e-15, "tanh c{k} = {ck}");
        } else {
            let n = k.div_ceil(2);
            let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
            let want = sign * t[n] as f64 / factorial(k);
            assert_close(*ck, want, 0.0, 1e-10, &format!("tanh c{k}"));
        }
    }
}

/// Pₖ with tanh⁽ᵏ⁾ x = Pₖ(tanh x): P₀ = t, P_{k+1} = (1 − t²) Pₖ'(t), with
/// exact integer coefficients (lowest degree first).
fn tanh_derivative_polynomials(k_max: usize) -> Vec<Vec<i128>> {
    let mut polys = vec![vec![0i128, 1]];
    for _ in 0..k_max {
        let p = polys.last().unwrap();
        let dp: Vec<i128> = (1..p.len())
            .map(|i| p[i].checked_mul(i as i128).unwrap())
            .collect();
        let mut next = vec![0i128; dp.len() + 2];
        for (i, c) in dp.iter().enumerate() {
            next[i] = next[i].checked_add(*c).unwrap();
            next[i + 2] = next[i + 2].checked_sub(*c).unwrap();
        }
        polys.push(next);
    }
    polys
}

/// P(1/2) exactly up to one final rounding: Σ cᵢ 2^(D−i) / 2^D with each
/// coefficient split into 64-bit halves so the integer sums cannot overflow.
fn eval_at_half(p: &[i128]) -> f64 {
    let d = p.len() - 1;
    let (mut hi, mut lo) = (0i128, 0i128);
    for (i, c) in p.iter().enumerate() {
        let h = c >> 64;
        let l = c & ((1i128 << 64) - 1);
        hi += h << (d - i);
        lo += l << (d - i);
    }
    // Carry so that 0 ≤ lo < 2^64; the value is hi·2^64 + lo, exact in
    // i128 when it fits, else |hi| ≥ 2^63 dwarfs lo and nothing cancels.
    hi += lo >> 64;
    lo &= (1i128 << 64) - 1;
    let scaled = match hi.checked_mul(1i128 << 64).and_then(|h| h.checked_add(lo)) {
        Some(v) => v as f64,
        None => hi as f64 * 2f64.powi(64) + lo as f64,
    };
    scaled / 2f64.powi(d as i32)
}

#[test]
fn tanh_polynomials_are_right() {
    let p = tanh_derivative_polynomials(4);
    assert_eq!(p[1], vec![1, 0, -1]);
    assert_eq!(p[4], vec![0, 16, 0, -40, 0, 24]);
    assert_eq!(eval_at_half(&p[1]), 0.75);
}

#[test]
fn tanh_derivatives_to_30_at_atanh_half() {
    // At x = atanh(1/2), tanh⁽ᵏ⁾ x = Pₖ(1/2), exact rationals. The scale
    // k!/R^(k+1), R = |x − iπ/2| the distance to the nearest pole, guards
    // the few k where Pₖ(1/2) is small by cancellation.
    let x = 0.5f64.atanh();
    let r = (x * x + std::f64::consts::FRAC_PI_2.powi(2)).sqrt();
    let polys = tanh_derivative_polynomials(K);
    for d in both_ways(|t| t.tanh(), x) {
        for (k, dk) in d.iter().enumerate() {
            let scale = factorial(k) / r.powi(k as i32 + 1);
            let want = eval_at_half(&polys[k]);
            assert_close(*dk, want, scale, 1e-10, &format!("tanh^({k})"));
        }
    }
}

#[test]
fn tanh_fourth_derivative_at_half() {
    let d = derivatives_at(|t| t.tanh(), 0.5, 4);
    let t = 0.5f64.tanh();
    let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
    assert!((d[4] - 3.952_219_563_724_582_5).abs() < 1e-13, "{}", d[4]);
    assert!((d[4] - closed).abs() < 1e-13);
}

#[test]
fn tails_keep_relative_accuracy() {
    // For large x, tanh x = 1 − 2e^(−2x) + 2e^(−4x) − …, so for k ≥ 1
    // tanh⁽ᵏ⁾ x = −2(−2)^k e^(−2x) (1 + O(2^k e^(−2x))): at x = 20 the
    // correction is below 1e-15. `1 − y²` would give 0 for all of them.
    let x = 20.0_f64;
    let d = derivatives_at(|t| t.tanh(), x, 8);
    for (k, dk) in d.iter().enumerate().skip(1) {
        let want = -2.0 * (-2.0f64).powi(k as i32) * (-2.0 * x).exp();
        assert_close(*dk, want, 0.0, 1e-13, &format!("tanh^({k})(20)"));
    }
    // σ(x) = 1 − e^(−x) + e^(−2x) − …: σ⁽ᵏ⁾(40) = (−1)^(k+1) e^(−40) (1 + O(2^k e^(−40))).
    let x = 40.0_f64;
    let d = derivatives_at(|t| t.sigmoid(), x, 8);
    for (k, dk) in d.iter().enumerate().skip(1) {
        let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
        let want = sign * (-x).exp();
        assert_close(*dk, want, 0.0, 1e-13, &format!("sigmoid^({k})(40)"));
    }
    // softplus' = σ: softplus⁽ᵏ⁾(−40) = e^(−40)(1 + O(2^k e^(−40))) for k ≥ 1.
    let d = derivatives_at(|t| t.softplus(), -40.0, 6);
    for (k, dk) in d.iter().enumerate().skip(1) {
        assert_close(
            *dk,
            (-40f64).exp(),
            0.0,
            1e-13,
            &format!("softplus^({k})(-40)"),
        );
    }
}

#[test]
fn nth_derivative_is_the_last_of_derivatives() {
    // d³/dx³ x⁵ = 60x² at 2 = 240, d⁶/dx⁶ x⁵ = 0.
    assert_eq!(nth_derivative_at(|x| x.powi(5), 2.0, 3), 240.0);
    assert_eq!(nth_derivative_at(|x| x.powi(5), 2.0, 6), 0.0);
}

// ---------------------------------------------------------------------------
// Every op against nested duals to order 4.

type D1 = Dual<f64>;
type D2 = Dual<D1>;
type D3 = Dual<D2>;
type D4 = Dual<D3>;

/// x + ε₁ + ε₂ + ε₃ + ε₄: the coefficient of ε₁⋯εₖ in f(x) is f⁽ᵏ⁾(x).
fn seed4(x: f64) -> D4 {
    let d1 = Dual::new(x, 1.0);
    let d2 = Dual::new(d1, D1::from_f64(1.0));
    let d3 = Dual::new(d2, D2::from_f64(1.0));
    Dual::new(d3, D3::from_f64(1.0))
}

/// f, f', f'', f''', f'''' from a nested-dual result.
fn unseed4(y: &D4) -> [f64; 5] {
    [
        y.value().value().value().value(),
        y.value().value().value().tangent(),
        y.value().value().tangent().tangent(),
        y.value().tangent().tangent().tangent(),
        y.tangent().tangent().tangent().tangent(),
    ]
}

/// Derivatives 0..=4 by both engines.
fn both<F4, FT>(f4: F4, ft: FT, x: f64) -> ([f64; 5], Vec<f64>)
where
    F4: Fn(D4) -> D4,
    FT: Fn(Taylor<f64>) -> Taylor<f64>,
{
    (unseed4(&f4(seed4(x))), derivatives_at(ft, x, 4))
}

fn compare(dual: &[f64; 5], taylor: &[f64], tol: f64, what: &str) {
    let scale = dual.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for k in 0..5 {
        let bound = tol * scale;
        assert!(
            (dual[k] - taylor[k]).abs() <= bound,
            "{what} order {k}: nested dual {:e}, Taylor {:e}",
            dual[k],
            taylor[k]
        );
    }
}

/// The inner function u(x) = x + 0.05(x − p)² + 0.02(x − p)³: value p and
/// slope 1 at p, with non-zero higher coefficients.
fn inner<T: Real>(x: T, p: f64) -> T {
    let h = x.clone() - p;
    x + h.square() * 0.05 + h.powi(3) * 0.02
}

/// Three points of the op's domain.
fn points(op: UnaryOp) -> [f64; 3] {
    [0.1, 0.5, 0.9].map(|t| op.domain().at(t))
}

#[test]
fn every_unary_op_matches_nested_duals_to_order_4() {
    for op in UnaryOp::ALL {
        for p in points(op) {
            let (d, t) = both(|x| inner(x, p).unary(op), |x| inner(x, p).unary(op), p);
            compare(&d, &t, 1e-12, &format!("{op:?} at {p}"));
            // Also a bare variable (higher input coefficients zero).
            let (d, t) = both(|x| x.unary(op), |x| x.unary(op), p);
            compare(&d, &t, 1e-12, &format!("{op:?}(x) at {p}"));
        }
    }
}

#[test]
fn every_binary_op_matches_nested_duals_to_order_4() {
    for op in BinaryOp::ALL {
        for &p in &[0.3, 0.9, 1.6] {
            // a(x) = inner(x), b(x) = 1.2 + sin x: positive, crossing a(x)
            // between the points, so max/min take both branches.
            let f4 = |x: D4| {
                let b = x.sin() + 1.2;
                inner(x, p).binary(op, &b)
            };
            let ft = |x: Taylor| {
                let b = x.sin() + 1.2;
                inner(x, p).binary(op, &b)
            };
            let (d, t) = both(f4, ft, p);
            compare(&d, &t, 1e-12, &format!("{op:?} at {p}"));
            // Constant on either side.
            let (d, t) = both(
                |x| x.binary(op, &D4::from_f64(0.7)),
                |x| x.binary(op, &Taylor::from_f64(0.7)),
                p,
            );
            compare(&d, &t, 1e-12, &format!("{op:?}(x, 0.7) at {p}"));
            let (d, t) = both(
                |x| D4::from_f64(0.7).binary(op, &x),
                |x| Taylor::from_f64(0.7).binary(op, &x),
                p,
            );
            compare(&d, &t, 1e-12, &format!("{op:?}(0.7, x) at {p}"));
        }
    }
}

#[test]
fn atan2_in_every_quadrant_matches_nested_duals() {
    for (sa, sb) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
        for &p in &[0.3, 1.1] {
            let f4 = |x: D4| (x.sin() + 1.5).atan2(&(x.cos() * sb)) * sa;
            let ft = |x: Taylor| (x.sin() + 1.5).atan2(&(x.cos() * sb)) * sa;
            let (d, t) = both(f4, ft, p);
            compare(
                &d,
                &t,
                1e-12,
                &format!("atan2 quadrant ({sa}, {sb}) at {p}"),
            );
            let f4 = |x: D4| (x * sa).atan2(&(x.exp() * sb));
            let ft = |x: Taylor| (x.clone() * sa).atan2(&(x.exp() * sb));
            let (d, t) = both(f4, ft, p);
            compare(&d, &t, 1e-12, &format!("atan2 ({sa}x, {sb}e^x) at {p}"));
        }
    }
}

#[test]
fn kinks_follow_the_rules_table() {
    // relu'(0) = 0, abs'(0) = 0, max ties go to the first argument.
    let relu = derivatives_at(|x| x.relu(), 0.0, 3);
    assert_eq!(relu, vec![0.0, 0.0, 0.0, 0.0]);
    let abs = derivatives_at(|x| x.abs(), 0.0, 3);
    assert_eq!(abs, vec![0.0, 0.0, 0.0, 0.0]);
    let relu = derivatives_at(|x| (x * 2.0).relu(), 1.0, 2);
    assert_eq!(relu, vec![2.0, 2.0, 0.0]);
    let max = derivatives_at(|x| x.max(&(x.clone() * 2.0 - 1.0)), 1.0, 2);
    assert_eq!(max, vec![1.0, 1.0, 0.0]);
    let step = derivatives_at(|x| (x.clone() * 3.0).step() + x.sign(), 0.5, 3);
    assert_eq!(step, vec![2.0, 0.0, 0.0, 0.0]);
}

#[test]
fn undefined_values_are_ieee_not_panics() {
    let c = taylor_coefficients_at(|x| x.ln(), 0.0, 3);
    assert_eq!(c[0], f64::NEG_INFINITY);
    assert!(c[1..].iter().all(|v| v.is_infinite() || v.is_nan()));
    let c = taylor_coefficients_at(|x| x.sqrt(), 0.0, 3);
    assert_eq!(c[0], 0.0);
    assert!(c[1].is_infinite());
    let c = taylor_coefficients_at(|x| x.asin(), 2.0, 2);
    assert!(c.iter().all(|v| v.is_nan()));
    let c = taylor_coefficients_at(|x| 1.0 / x, 0.0, 2);
    assert!(c[0].is_infinite());
}

#[test]
fn constants_cost_one_coefficient() {
    let c = Taylor::<f64>::from_f64(2.0).exp().sin() * 3.0;
    assert_eq!(c.order(), 0);
    assert_eq!(c.value(), 3.0 * 2f64.exp().sin());
    // The variable sets the order of everything it touches.
    let y = c * Taylor::variable(1.0, 7).ln();
    assert_eq!(y.order(), 7);
    // A function that ignores its input still yields k + 1 coefficients.
    assert_eq!(
        taylor_coefficients_at(|_| Taylor::from_f64(5.0), 1.0, 3),
        vec![5.0, 0.0, 0.0, 0.0]
    );
}

#[test]
fn taylor_of_taylor_and_of_duals() {
    // Taylor<Dual<f64>>: d/da of the 3rd derivative of exp(a·x) at x = 0,
    // i.e. d/da a³ = 3a².
    let a = Dual::variable(2.0);
    let d = derivatives_at(|x| (x * Taylor::constant(a)).exp(), Dual::constant(0.0), 3);
    assert_eq!(d[3].value(), 8.0);
    assert_eq!(d[3].tangent(), 12.0);
}

// ---------------------------------------------------------------------------
// Random compositions: Taylor mode, nested duals and nested reverse mode
// (`functional::grad` on tensors) agree to order 4.

#[derive(Clone, Debug)]
enum Node {
    X,
    Const(f64),
    Unary(UnaryOp, Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
}

/// `u` as an argument of `op` on domain `d`: unchanged where the op is
/// defined and smooth on the whole line or has only a kink (which random
/// points miss), squashed into the domain otherwise.
fn arg<T: Real>(smooth: bool, d: Domain, u: T) -> T {
    if !smooth || d == Domain::WHOLE {
        u
    } else {
        squash(d, u)
    }
}

/// Evaluates the tree, mapping each argument into its op's domain.
fn eval<T: Real>(node: &Node, x: &T) -> T {
    match node {
        Node::X => x.clone(),
        Node::Const(c) => T::from_f64(*c),
        Node::Unary(op, a) => arg(op.is_smooth(), op.domain(), eval(a, x)).unary(*op),
        Node::Binary(op, a, b) => {
            let (da, db) = op.domain();
            let u = arg(op.is_smooth(), da, eval(a, x));
            let v = arg(op.is_smooth(), db, eval(b, x));
            u.binary(*op, &v)
        }
    }
}

fn node_strategy() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![Just(Node::X), (-2.0..2.0f64).prop_map(Node::Const)];
    leaf.prop_recursive(4, 16, 2, |inner| {
        let unary = proptest::sample::select(UnaryOp::ALL.to_vec());
        let binary = proptest::sample::select(BinaryOp::ALL.to_vec());
        prop_oneof![
            (unary, inner.clone()).prop_map(|(op, a)| Node::Unary(op, Box::new(a))),
            (binary, inner.clone(), inner).prop_map(|(op, a, b)| Node::Binary(
                op,
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

/// f, f', …, f'''' by nesting reverse mode: `grad(grad(…(f)))` on 0-d tensors.
fn nested_grads(node: &Node, x: f64) -> [f64; 5] {
    let f = |t: &Tensor| eval(node, t);
    let g1 = grad(f);
    let g2 = grad(&g1);
    let g3 = grad(&g2);
    let g4 = grad(&g3);
    let x = Tensor::scalar(x);
    [f(&x), g1(&x), g2(&x), g3(&x), g4(&x)].map(|t| t.item())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_compositions_agree_to_order_4(node in node_strategy(), x in -1.5..1.5f64) {
        let dual = unseed4(&eval(&node, &seed4(x)));
        prop_assume!(dual.iter().all(|v| v.is_finite() && v.abs() < 1e8));
        let taylor = derivatives_at(|t| eval(&node, &t), x, 4);
        let reverse = nested_grads(&node, x);
        let scale = dual.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for k in 0..5 {
            prop_assert!(
                (dual[k] - taylor[k]).abs() <= 1e-9 * scale,
                "order {}: nested dual {:e}, Taylor {:e}, tree {:?}", k, dual[k], taylor[k], node
            );
            prop_assert!(
                (dual[k] - reverse[k]).abs() <= 1e-9 * scale,
                "order {}: nested dual {:e}, nested grad {:e}, tree {:?}", k, dual[k], reverse[k], node
            );
        }
    }
}
