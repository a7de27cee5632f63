//! Issue 16: NaN or inf where the derivative exists. Every reproducer of the
//! issue, in every engine that takes it (tape, forward dual numbers, Taylor
//! mode, symbolic formulas), with the true value: a closed form by hand or
//! the limit that PyTorch and SymPy give. The mechanism is strong zeros: an
//! exact zero partial or cotangent contributes exactly 0 whatever the other
//! factor (docs/DESIGN-notes.md, "Strong zeros").

use std::collections::HashMap;

use chainrule::forward::{
    derivative_at, derivatives_at, derivatives_at_f64, gradient_at, hessian_at, Taylor,
};
use chainrule::functional::hessian;
use chainrule::symbolic::{parse, Expr};
use chainrule::{Real, Tensor};

/// ∂f/∂xᵢ on the tape, for f of 0-d tensors.
fn tape_gradient(f: impl Fn(&[Tensor]) -> Tensor, x: &[f64]) -> Vec<f64> {
    let xs: Vec<Tensor> = x
        .iter()
        .map(|&v| Tensor::scalar(v).requires_grad())
        .collect();
    f(&xs).backward().unwrap();
    xs.iter()
        .map(|t| t.grad().map_or(0.0, |g| g.item()))
        .collect()
}

/// The symbolic derivative of `src` in `var`, `order` times, at the point.
fn formula_value(src: &str, var: &str, order: usize, point: &[(&str, f64)]) -> f64 {
    let p: HashMap<String, f64> = point.iter().map(|&(k, v)| (k.to_string(), v)).collect();
    parse(src).unwrap().diff_n(var, order).eval(&p).unwrap()
}

#[test]
fn pow_at_a_zero_base() {
    // ∂/∂x x^y = y·x^(y−1) = 0 and ∂/∂y = x^y·ln x → 0 at (0, 2).
    let tape = tape_gradient(|v| v[0].pow(&v[1]), &[0.0, 2.0]);
    assert_eq!(tape, vec![0.0, 0.0]);
    let dual = gradient_at(|v| v[0].pow(&v[1]), &[0.0, 2.0]);
    assert_eq!(dual, vec![0.0, 0.0]);
    assert_eq!(
        formula_value("pow(x,y)", "y", 1, &[("x", 0.0), ("y", 2.0)]),
        0.0
    );
    // d/dx x^0 at 0 = 0 (0·0⁻¹).
    assert_eq!(tape_gradient(|v| v[0].powf(0.0), &[0.0]), vec![0.0]);
    assert_eq!(derivative_at(|x| x.powf(0.0), 0.0), 0.0);
    assert_eq!(formula_value("pow(x,0)", "x", 1, &[("x", 0.0)]), 0.0);
}

#[test]
fn a_zero_partial_wins_over_an_infinite_one() {
    // acos(sign(x)) at 2: sign' = 0, acos'(1) = −inf; the derivative is 0.
    let f = |x: &Tensor| x.sign().acos();
    assert_eq!(tape_gradient(|v| f(&v[0]), &[2.0]), vec![0.0]);
    assert_eq!(derivative_at(|x| x.sign().acos(), 2.0), 0.0);
    let t = derivatives_at(|x| x.sign().acos(), 2.0, 3);
    assert_eq!(&t[1..], &[0.0, 0.0, 0.0]);
    assert_eq!(formula_value("acos(sign(x))", "x", 1, &[("x", 2.0)]), 0.0);
}

#[test]
fn the_branch_max_did_not_take_contributes_zero() {
    // max(2x, 0^x) at 3 = 2x: derivative 2 (0^x·ln 0 is the other branch).
    let g = |x: &Tensor| Real::max(&(x + x), &Tensor::scalar(0.0).pow(x));
    assert_eq!(tape_gradient(|v| g(&v[0]), &[3.0]), vec![2.0]);
    let d = derivative_at(
        |x: chainrule::Dual| (x + x).max(&chainrule::Dual::constant(0.0).pow(&x)),
        3.0,
    );
    assert_eq!(d, 2.0);
    let t = derivatives_at(
        |x| (x.clone() + x.clone()).max(&Taylor::constant(0.0).pow(&x)),
        3.0,
        2,
    );
    assert_eq!(t, vec![6.0, 2.0, 0.0]);
    assert_eq!(
        formula_value("max(x+x,pow(0,x))", "x", 1, &[("x", 3.0)]),
        2.0
    );
}

#[test]
fn where_does_not_leak_nan_from_the_branch_not_taken() {
    // where(x > 0, sqrt(x), 0) at −1: gradient 0 (PyTorch: NaN, pytorch#52248).
    let x = Tensor::scalar(-1.0).requires_grad();
    let y = Tensor::where_(&x.gt(&Tensor::scalar(0.0)), &x.sqrt(), &Tensor::scalar(0.0));
    assert_eq!(y.item(), 0.0);
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().item(), 0.0);
    // And with a vector: the taken entries keep their gradient 1/(2√x).
    let x = Tensor::from_vec(vec![-1.0, 4.0], &[2])
        .unwrap()
        .requires_grad();
    let y = Tensor::where_(&x.gt(&Tensor::scalar(0.0)), &x.sqrt(), &Tensor::scalar(0.0));
    y.sum().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.25]);
}

#[test]
fn asinh_and_acosh_of_huge_arguments_are_finite() {
    // asinh(1e308) = ln(1e308 + √(1e616 + 1)) = ln(2e308) = 709.889355822726…
    let exact = 1e308f64.ln() + 2f64.ln();
    assert!((exact - 709.889_355_822_726).abs() < 1e-12);
    assert_eq!(
        1e308f64.asinh(),
        f64::INFINITY,
        "std's overflows, ours must not"
    );
    assert_eq!(Real::asinh(&1e308), exact);
    assert_eq!(Real::acosh(&1e308), exact);
    assert_eq!(Tensor::scalar(1e308).asinh().item(), exact);
    assert_eq!(Tensor::scalar(-1e308).asinh().item(), -exact);
    let p = HashMap::from([("x".to_string(), 1e308)]);
    assert_eq!(parse("acosh(x)").unwrap().eval(&p).unwrap(), exact);
}

#[test]
fn the_hessian_of_x_over_x_is_zero() {
    let x0 = 1.3975010401352301e-11;
    let h = hessian(|x: &Tensor| x / x)(&Tensor::scalar(x0));
    assert_eq!(h.to_vec(), vec![0.0]);
    assert_eq!(hessian_at(|v| v[0] / v[0], &[x0]), vec![vec![0.0]]);
    assert_eq!(formula_value("x/x", "x", 2, &[("x", x0)]), 0.0);
    assert_eq!(
        derivatives_at(|x| x.clone() / x, x0, 2),
        vec![1.0, 0.0, 0.0]
    );
}

#[test]
fn the_second_derivative_of_tanh_is_finite_in_the_tails() {
    // tanh'' = −2·tanh·sech²: about −8e-869 at 1000, i.e. 0 in f64; at 20
    // −2·tanh(20)·4e⁻⁴⁰/(1 + e⁻⁴⁰)² = −3.3986834042332710e-17.
    for x0 in [1000.0, -1000.0, 720.0] {
        let h = hessian(|x: &Tensor| x.tanh())(&Tensor::scalar(x0));
        assert_eq!(h.to_vec(), vec![0.0], "tape at {x0}");
        assert_eq!(
            hessian_at(|v| v[0].tanh(), &[x0]),
            vec![vec![0.0]],
            "dual at {x0}"
        );
        assert_eq!(
            formula_value("tanh(x)", "x", 2, &[("x", x0)]),
            0.0,
            "formula at {x0}"
        );
        assert_eq!(
            derivatives_at(|x| x.tanh(), x0, 2)[2],
            0.0,
            "taylor at {x0}"
        );
    }
    let e = (-40f64).exp();
    let exact = -2.0 * 20f64.tanh() * 4.0 * e / (1.0 + e).powi(2);
    let h = hessian(|x: &Tensor| x.tanh())(&Tensor::scalar(20.0)).to_vec()[0];
    assert!((h - exact).abs() <= 1e-14 * exact.abs(), "{h} vs {exact}");
}

#[test]
fn integer_powers_over_the_whole_i32_range() {
    // d/dx x^n = n·x^(n−1) for n = i32::MIN: at 2 it underflows to 0 (not
    // −inf from n − 1 wrapping), at 1 it is n, at −1 it is −n.
    let n = i32::MIN;
    assert_eq!(derivative_at(|x| x.powi(n), 2.0), 0.0);
    assert_eq!(derivative_at(|x| x.powi(n), 1.0), f64::from(n));
    assert_eq!(derivative_at(|x| x.powi(n), -1.0), -f64::from(n));
    assert_eq!(tape_gradient(|v| v[0].powi(n), &[1.0]), vec![f64::from(n)]);
    let d = parse("x^-2147483648").unwrap().diff("x");
    assert_eq!(d.to_string(), "-2147483648/x^2147483649");
    assert_eq!(formula_value("x^-2147483648", "x", 1, &[("x", 2.0)]), 0.0);
    // An exponent beyond i32 is evaluated, not clamped: (f64 1.0000001)^−3e9
    // = 5.14827654421648088e-131 (50-digit decimal arithmetic).
    let v = formula_value("y*x^-3000000000", "y", 0, &[("x", 1.0000001), ("y", 1.0)]);
    assert!((v - 5.148_276_544_216_481e-131).abs() <= 1e-12 * v, "{v}");
}

#[test]
fn taylor_mode_to_order_200_has_no_factorial_overflow() {
    let e = std::f64::consts::E;
    let d = derivatives_at_f64(|x| x.exp(), 1.0, 200);
    assert_eq!(d.len(), 201);
    for (k, v) in d.iter().enumerate() {
        assert!((v - e).abs() <= 1e-12 * e, "exp^({k})(1) = {v}");
    }
    // 1/(1 − x) at 0: k!, finite to k = 170, inf from 171 (171! > f64::MAX).
    let d = derivatives_at_f64(|x| (Taylor::constant(1.0) - x).recip(), 0.0, 180);
    let f170: f64 = (1..=170).map(f64::from).product();
    assert!((d[170] - f170).abs() <= 1e-12 * f170);
    assert_eq!(d[171], f64::INFINITY);
    // sin at 0: 0, 1, 0, −1, … to order 200.
    let d = derivatives_at_f64(|x| x.sin(), 0.0, 200);
    for (k, v) in d.iter().enumerate() {
        let want = [0.0, 1.0, 0.0, -1.0][k % 4];
        assert!((v - want).abs() <= 1e-12, "sin^({k})(0) = {v}");
    }
}

#[test]
fn taylor_mode_of_powers_at_zero() {
    // x^1.5 at 0: 0, 0 (1.5·√0), then +inf (0.75/√0) and −inf.
    let d = derivatives_at(|x| x.powf(1.5), 0.0, 3);
    assert_eq!(d, vec![0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY]);
    // pow(x, 0.0) at 0 is the constant 1: [1, 0, 0].
    assert_eq!(derivatives_at(|x| x.powf(0.0), 0.0, 2), vec![1.0, 0.0, 0.0]);
    // pow(x, 2.0) at 0: [0, 0, 2].
    assert_eq!(derivatives_at(|x| x.powf(2.0), 0.0, 2), vec![0.0, 0.0, 2.0]);
    // Away from 0 the power recurrence is unchanged: x^1.5 at 4 = 8, 3, 3/8.
    assert_eq!(
        derivatives_at(|x| x.powf(1.5), 4.0, 2),
        vec![8.0, 3.0, 0.375]
    );
    // The symbolic and dual derivatives of x^1.5 at 0 agree on the first.
    assert_eq!(derivative_at(|x| x.powf(1.5), 0.0), 0.0);
    assert_eq!(formula_value("x^1.5", "x", 1, &[("x", 0.0)]), 0.0);
}

#[test]
fn strong_zeros_are_exact_zero_factors_only() {
    // A tiny but nonzero factor still multiplies: 1e-300 · 1e300 = 1.
    assert_eq!(1e-300f64.strong_mul(&1e300), 1.0);
    assert!(f64::NAN.strong_mul(&1.0).is_nan());
    assert_eq!((-0.0f64).strong_mul(&f64::NEG_INFINITY), 0.0);
    // The symbolic simplifier folds 0·x = 0 as evaluation does.
    assert_eq!(Expr::integer(0) * Expr::var("x").ln(), Expr::integer(0));
}

/// ∇f through the compiled back end: f traced into a register program
/// (`compiled::grad_program`, as `jax.jit(value_and_grad(f))`).
fn compiled_gradient(
    f: impl FnOnce(&[chainrule::compiled::Traced]) -> chainrule::compiled::Traced,
    x: &[f64],
) -> Vec<f64> {
    let mut p = chainrule::compiled::grad_program(x.len(), f).unwrap();
    let mut g = vec![f64::NAN; x.len()];
    p.eval(x, &mut g);
    g
}

/// The gradient formulas of `src` compiled into one program
/// (`symbolic::compile`) and evaluated at the point.
fn compiled_formulas(src: &str, vars: &[&str], x: &[f64]) -> Vec<f64> {
    let g = chainrule::symbolic::gradient_formula(&parse(src).unwrap(), vars);
    let mut p = chainrule::symbolic::compile(&g, vars).unwrap();
    let mut out = vec![f64::NAN; vars.len()];
    p.eval(x, &mut out);
    out
}

#[test]
fn the_compiled_back_end_has_strong_zeros_too() {
    use chainrule::compiled::Traced;
    let c = |v: f64| Traced::from_f64(v);
    // pow(x, y) at (0, 2): ∂/∂x = 2·0 = 0, ∂/∂y = 0²·ln 0 = 0·(−∞) → 0.
    let g = compiled_gradient(|v| v[0].pow(&v[1]), &[0.0, 2.0]);
    assert_eq!(g, vec![0.0, 0.0]);
    assert_eq!(
        compiled_formulas("pow(x,y)", &["x", "y"], &[0.0, 2.0]),
        vec![0.0, 0.0]
    );
    // pow(x, 0) at 0: 0·0⁻¹ → 0.
    assert_eq!(compiled_gradient(|v| v[0].powf(0.0), &[0.0]), vec![0.0]);
    assert_eq!(compiled_formulas("pow(x,0)", &["x"], &[0.0]), vec![0.0]);
    // acos(sign(x)) at 2: sign' = 0 wins over acos'(1) = −∞.
    assert_eq!(compiled_gradient(|v| v[0].sign().acos(), &[2.0]), vec![0.0]);
    assert_eq!(
        compiled_formulas("acos(sign(x))", &["x"], &[2.0]),
        vec![0.0]
    );
    // max(2x, 0^x) at 3: the branch not taken (0^x·ln 0) contributes 0.
    let g = compiled_gradient(|v| Real::max(&(v[0] + v[0]), &c(0.0).pow(&v[0])), &[3.0]);
    assert_eq!(g, vec![2.0]);
    assert_eq!(
        compiled_formulas("max(x+x,pow(0,x))", &["x"], &[3.0]),
        vec![2.0]
    );
    // Strong zeros change nothing where no zero meets ∞ or NaN: 0·x keeps
    // IEEE's signed zero, and ∞·2 stays ∞.
    let g = compiled_gradient(|v| v[0] * v[1], &[-2.0, 0.0]);
    assert_eq!(g[0].to_bits(), 0.0f64.to_bits());
    assert_eq!(g[1], -2.0);
    let g = compiled_gradient(|v| v[0] * v[1], &[f64::INFINITY, 2.0]);
    assert_eq!(g, vec![2.0, f64::INFINITY]);
}

#[test]
fn asinh_and_acosh_derivatives_of_huge_arguments_are_not_zero() {
    // asinh'(x) = 1/√(x² + 1) and acosh'(x) = 1/√(x² − 1): at |x| = 1e308
    // (x² overflows) the closed form is 1/|x| = 1e-308 to the last bit
    // (x² ± 1 = x² from 1e8 on); at 1e151, just past the switch, also 1/x.
    for x in [1e308, 1e200, 1e151, f64::MAX] {
        let closed = 1.0 / x;
        assert_eq!(derivative_at(|v| v.asinh(), x), closed, "asinh' at {x}");
        assert_eq!(derivative_at(|v| v.acosh(), x), closed, "acosh' at {x}");
        assert_eq!(derivative_at(|v| v.asinh(), -x), closed, "asinh' at -{x}");
        assert_eq!(tape_gradient(|v| v[0].asinh(), &[x]), vec![closed]);
        assert_eq!(tape_gradient(|v| v[0].acosh(), &[x]), vec![closed]);
        let t = derivatives_at(|v| v.asinh(), x, 2);
        assert_eq!(t[1], closed);
        // asinh'' = −x/(x² + 1)^(3/2) = −1/x² here (0 below 1e154).
        assert!(
            (t[2] + closed * closed).abs() <= 4e-16 * closed * closed,
            "{}",
            t[2]
        );
        assert_eq!(derivatives_at(|v| v.acosh(), x, 1)[1], closed);
    }
    // Below the switch the formula is the closed form, within an ulp.
    for x in [1e150, 1e10, 3.0] {
        let (s, c) = ((x * x + 1.0).sqrt().recip(), (x * x - 1.0).sqrt().recip());
        assert!((derivative_at(|v| v.asinh(), x) - s).abs() <= 2e-16 * s);
        assert!((derivative_at(|v| v.acosh(), x) - c).abs() <= 2e-16 * c);
    }
}

#[path = "common/sinc.rs"]
mod sinc;
use sinc::sinc_closed;

#[test]
fn sinc_derivative_at_zero_is_the_limit() {
    // sinc'(x) = (x cos x − sin x)/x² → 0 at 0 (sinc is even); near 0 it is
    // −x/3 + x³/30.
    assert_eq!(derivative_at(|v| v.sinc(), 0.0), 0.0);
    assert_eq!(tape_gradient(|v| v[0].sinc(), &[0.0]), vec![0.0]);
    for x in [1e-3, 0.5] {
        let closed = (x * x.cos() - x.sin()) / (x * x);
        assert!((derivative_at(|v| v.sinc(), x) - closed).abs() < 1e-12);
    }
    assert!((derivative_at(|v| v.sinc(), 1e-3) + 1e-3 / 3.0).abs() < 1e-9);
}

/// Issue 17: sinc's derivatives of orders 1 to 4 at 0, near 0 and at 1.3
/// in every engine: nested dual numbers, Taylor mode, the tape (grad of
/// grad …), the compiled program of the symbolic derivative and the
/// symbolic formula itself, against the closed forms and their limits
/// (sinc″(0) = −1/3 was NaN from the tape's grad of grad and from the
/// formula (cos x − sinc x)/x).
#[test]
fn sinc_agrees_in_every_engine_to_order_4() {
    use chainrule::functional::grad;
    for x in [0.0, 1e-9, -1e-9, 1.3, -2.7] {
        let want = sinc_closed(x);
        let close = |got: f64, k: usize, engine: &str| {
            let w = want[k];
            assert!(
                (got - w).abs() <= 1e-13 * w.abs().max(1e-3),
                "{engine}: sinc^({k})({x}) = {got}, closed form {w}"
            );
        };
        let taylor = derivatives_at_f64(|v| v.sinc(), x, 4);
        let dual1 = derivative_at(|v| v.sinc(), x);
        let dual2 = derivative_at(|v| derivative_at(|w| w.sinc(), v), x);
        let dual3 = derivative_at(|v| derivative_at(|w| derivative_at(|u| u.sinc(), w), v), x);
        let dual4 = derivative_at(
            |v| derivative_at(|w| derivative_at(|u| derivative_at(|t| t.sinc(), u), w), v),
            x,
        );
        let t = Tensor::scalar(x);
        let g1 = grad(|v: &Tensor| v.sinc());
        let g2 = grad(move |v: &Tensor| g1(v).sum());
        let g3 = grad(move |v: &Tensor| g2(v).sum());
        let g4 = grad(move |v: &Tensor| g3(v).sum());
        let tape = [
            grad(|v: &Tensor| v.sinc())(&t).item(),
            hessian(|v: &Tensor| v.sinc())(&t).to_vec()[0],
            grad(|v: &Tensor| grad(|w: &Tensor| grad(|u: &Tensor| u.sinc())(w).sum())(v).sum())(&t)
                .item(),
            g4(&t).item(),
        ];
        for k in 1..=4 {
            close(taylor[k], k, "Taylor");
            close([dual1, dual2, dual3, dual4][k - 1], k, "dual numbers");
            close(tape[k - 1], k, "tape");
            close(formula_value("sinc(x)", "x", k, &[("x", x)]), k, "formula");
            let d = parse("sinc(x)").unwrap().diff_n("x", k);
            let mut program = chainrule::symbolic::compile(&[d], &["x"]).unwrap();
            let mut out = [0.0];
            program.eval(&[x], &mut out);
            close(out[0], k, "compiled formula");
        }
        // The compiled gradient program, through the rule (not a formula).
        let mut p = chainrule::compiled::grad_program(1, |v| v[0].sinc()).unwrap();
        let mut g = [0.0];
        close(p.eval(&[x], &mut g), 0, "grad_program value");
        close(g[0], 1, "grad_program");
    }
}

/// j₁ … j₄: the leading terms of the series near 0, j₁ and j₂ against
/// their closed forms (DLMF 10.49.3) on both sides of the kernel's switch
/// from the series to the recurrence (|x| = 2), j₃ and j₄ against mpmath's
/// √(π/2x)·J_{n+1/2}(x), and every first derivative against finite
/// differences.
#[test]
fn spherical_bessel_values_and_derivatives() {
    use chainrule::UnaryOp;
    // j_n(x) = x^n/(2n+1)!! (1 − x²/(2(2n+3))) near 0.
    for n in 1..=4 {
        let x = 1e-5_f64;
        let df: f64 = (1..=n).map(|i| f64::from(2 * i + 1)).product();
        let lead = x.powi(n) / df * (1.0 - x * x / f64::from(2 * (2 * n + 3)));
        let got = UnaryOp::SphJ(n).eval(x);
        assert!(
            (got - lead).abs() <= 1e-15 * lead.abs(),
            "j{n}({x}) = {got}"
        );
        assert_eq!(UnaryOp::SphJ(n).eval(0.0), 0.0);
        assert_eq!(UnaryOp::SphJ(n).eval(f64::INFINITY), 0.0);
    }
    // Closed forms: j1 = sin x/x² − cos x/x, j2 = (3/x² − 1) sin x/x − 3 cos x/x².
    for x in [1.99, 2.0, 2.01, 5.0, -3.5, 40.0] {
        let (s, c) = (x.sin(), x.cos());
        let j1 = s / (x * x) - c / x;
        let j2 = (3.0 / (x * x) - 1.0) * s / x - 3.0 * c / (x * x);
        assert!((UnaryOp::SphJ(1).eval(x) - j1).abs() < 1e-15, "j1({x})");
        assert!((UnaryOp::SphJ(2).eval(x) - j2).abs() < 1e-15, "j2({x})");
        for n in 1..=4 {
            let d = derivative_at(|v| v.spherical_jn(n), x);
            let fd = chainrule::check::numerical_derivative(
                |t| UnaryOp::SphJ(n).eval(t),
                x,
                Default::default(),
            );
            assert!((d - fd).abs() < 1e-9, "j{n}'({x}): {d} vs {fd}");
        }
    }
    // mpmath, 30 digits: sqrt(pi/(2x))*besselj(n + 1/2, x) (the switch is
    // at |x| = 3 for j₃ and 4 for j₄).
    for (n, x, want) in [
        (3, 1.5, 0.028_324_641_582_471_8),
        (3, 3.9, 0.224_144_504_840_321_96),
        (3, 7.3, -0.039_479_362_945_238_18),
        (4, 1.5, 0.004_832_377_029_793_521),
        (4, 3.9, 0.117_561_534_543_251_23),
        (4, 4.1, 0.132_171_057_491_726_54),
        (4, 7.3, 0.101_698_816_562_244_1),
    ] {
        let got = UnaryOp::SphJ(n).eval(x);
        assert!(
            (got - want).abs() <= 4e-15 * want.abs(),
            "j{n}({x}) = {got}"
        );
    }
    assert!(UnaryOp::SphJ(-1).eval(1.0).is_nan());
}
