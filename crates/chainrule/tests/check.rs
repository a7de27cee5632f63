//! Every primitive gradchecked (and gradgradchecked where smooth) at random
//! points with broadcasting shapes, and every structural operation too.

use chainrule::check::{gradcheck, gradgradcheck, GradcheckOptions};
use chainrule::random::SplitMix64;
use chainrule::{tensor, BinaryOp, Real, Tensor, UnaryOp};
use proptest::prelude::*;

const SHAPES: [&[usize]; 3] = [&[], &[3], &[2, 3]];
const PAIRS: [(&[usize], &[usize]); 5] = [
    (&[2, 3], &[3]),
    (&[2, 1], &[1, 3]),
    (&[], &[2]),
    (&[3], &[]),
    (&[2, 3], &[2, 3]),
];

fn filled(shape: &[usize], mut f: impl FnMut() -> f64) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| f()).collect(), shape).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Every row of the unary op table, at points of its domain.
    #[test]
    fn every_unary_primitive_passes_gradcheck(shape_i in 0usize..3, seed in any::<u64>()) {
        let mut g = SplitMix64::new(seed);
        for op in UnaryOp::ALL {
            let d = op.domain();
            let x = filled(SHAPES[shape_i], || d.at(g.next_f64()));
            let f = move |xs: &[Tensor]| xs[0].unary_op(op);
            let r = gradcheck(f, std::slice::from_ref(&x), GradcheckOptions::default()).unwrap();
            prop_assert!(r.passed, "{op:?} at {x:?}: {r}");
            if op.is_smooth() {
                let r = gradgradcheck(f, std::slice::from_ref(&x), GradcheckOptions::default()).unwrap();
                prop_assert!(r.passed, "gradgrad {op:?} at {x:?}: {r}");
            }
        }
    }

    /// Every row of the binary op table, at points of its domains, with
    /// broadcasting.
    #[test]
    fn every_binary_primitive_passes_gradcheck_with_broadcasting(pair_i in 0usize..5, seed in any::<u64>()) {
        let mut g = SplitMix64::new(seed);
        for op in BinaryOp::ALL {
            let (dx, dy) = op.domain();
            let (sa, sb) = PAIRS[pair_i];
            let a = filled(sa, || dx.at(g.next_f64()));
            let b = filled(sb, || dy.at(g.next_f64()));
            let inputs = [a, b];
            let f = move |xs: &[Tensor]| xs[0].binary_op(op, &xs[1]);
            let r = gradcheck(f, &inputs, GradcheckOptions::default()).unwrap();
            prop_assert!(r.passed, "{op:?} at {inputs:?}: {r}");
            let r = gradgradcheck(f, &inputs, GradcheckOptions::default()).unwrap();
            prop_assert!(r.passed, "gradgrad {op:?} at {inputs:?}: {r}");
            // With a constant on either side (no node for the constant).
            let c = dy.at(g.next_f64());
            let fr = move |xs: &[Tensor]| xs[0].binary_scalar(op, c);
            let r = gradgradcheck(fr, &inputs[..1], GradcheckOptions::default()).unwrap();
            prop_assert!(r.passed, "{op:?} with constant rhs {c}: {r}");
            let c = dx.at(g.next_f64());
            let fl = move |xs: &[Tensor]| Tensor::scalar_binary(c, op, &xs[0]);
            let r = gradgradcheck(fl, &inputs[1..], GradcheckOptions::default()).unwrap();
            prop_assert!(r.passed, "{op:?} with constant lhs {c}: {r}");
        }
    }
}

/// Relative closeness, for the completeness check.
fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

/// Central difference with two rounds of Richardson extrapolation.
fn richardson(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let d = |h: f64| (f(x + h) - f(x - h)) / (2.0 * h);
    let h = 2e-3;
    let (d1, d2, d3) = (d(h), d(h / 2.0), d(h / 4.0));
    ((16.0 * (4.0 * d3 - d2) - (4.0 * d2 - d1)) / 3.0) / 15.0
}

/// The completeness check of the op table (`ops.rs`): every row, i.e. every
/// op of `UnaryOp::ALL` and `BinaryOp::ALL`, has a name that the parser
/// reads back and that prints in text and LaTeX, a kernel that the tensor
/// loops (f64 and f32) run, a derivative rule that agrees with finite
/// differences, with dual numbers, with Taylor mode (its own recurrence or
/// the fallback from the rule) and with the symbolic derivative, and passes
/// gradcheck and, if smooth, gradgradcheck at points of its domain.
///
/// A row without a rule does not compile (`rules.rs` matches every op
/// without a wildcard), nor one without any column of the table; a row
/// whose rule, kernel, name or domain is wrong fails here.
#[test]
fn every_row_of_the_op_table_is_complete() {
    use chainrule::symbolic::{parse, Expr};
    use chainrule::{rules, Dual, Taylor};
    let x_sym = Expr::var("x");
    let at = |e: &Expr, x: f64| e.eval_with(|_| Some(x)).unwrap();
    for op in UnaryOp::ALL {
        let e = x_sym.unary(op);
        if let Some(name) = op.grammar_name() {
            for n in std::iter::once(name).chain(op.aliases().iter().copied()) {
                // spherical_jn's order is its first argument.
                let call = match op {
                    UnaryOp::SphJ(k) => format!("{n}({k}, x)"),
                    _ => format!("{n}(x)"),
                };
                assert_eq!(parse(&call).unwrap(), e, "{op:?} as {call}");
            }
        }
        assert_eq!(parse(&e.to_string()).unwrap(), e, "{op:?} printed as {e}");
        assert!(!e.to_latex().is_empty() && !op.backward_name().is_empty());
        let de = e.diff("x");
        let d = op.domain();
        for t in [0.05, 0.35, 0.65, 0.95] {
            let x = d.at(t);
            let y = op.eval(x);
            assert!(
                y.is_finite(),
                "{op:?}({x}) = {y}: the domain must be inside the op's"
            );
            // The kernel, through the monomorphised tensor loops.
            let v = Tensor::from_vec(vec![x; 5], &[5]).unwrap().unary_op(op);
            assert_eq!(v.to_vec(), vec![y; 5], "{op:?} tensor kernel at {x}");
            let v32 = Tensor::from_vec(vec![x; 5], &[5])
                .unwrap()
                .to_dtype(chainrule::DType::F32);
            let want32 = f64::from(op.eval(f64::from(x as f32)) as f32);
            assert_eq!(
                v32.unary_op(op).to_vec(),
                vec![want32; 5],
                "{op:?} f32 at {x}"
            );
            // The rule, against finite differences and every engine.
            let g = rules::d_unary(op, &x, &y);
            let fd = richardson(|t| op.eval(t), x);
            assert!(
                near(g, fd, 1e-7),
                "{op:?}'({x}): rule {g}, finite difference {fd}"
            );
            let dual = Dual::variable(x).unary(op);
            assert_eq!(dual.tangent(), g, "{op:?}'({x}) by dual numbers");
            let taylor = Taylor::variable(x, 2).unary(op);
            assert!(
                near(taylor.coeff(1), g, 1e-13),
                "{op:?}'({x}) by Taylor mode"
            );
            let second = Dual::variable(x).unary(op);
            let g2 = rules::d_unary(op, &Dual::variable(x), &second).tangent();
            assert!(
                near(2.0 * taylor.coeff(2), g2, 1e-10),
                "{op:?}''({x}) by Taylor mode"
            );
            let sym = at(&de, x);
            assert!(
                near(sym, g, 1e-12),
                "{op:?}'({x}) symbolic {de} = {sym}, rule {g}"
            );
        }
        // gradcheck, and gradgradcheck where smooth, on every sample point.
        let xs =
            Tensor::from_vec([0.05, 0.35, 0.65, 0.95].map(|t| d.at(t)).to_vec(), &[4]).unwrap();
        let f = move |v: &[Tensor]| v[0].unary_op(op);
        assert_checks(&format!("{op:?}"), f, &[xs], op.is_smooth());
    }
    let (x_sym, y_sym) = (Expr::var("x"), Expr::var("y"));
    for op in BinaryOp::ALL {
        let e = x_sym.binary(op, &y_sym);
        if let Some(name) = op.grammar_name() {
            assert_eq!(parse(&format!("{name}(x, y)")).unwrap(), e, "{op:?}");
        }
        assert_eq!(parse(&e.to_string()).unwrap(), e, "{op:?} printed as {e}");
        assert!(!e.to_latex().is_empty() && !op.backward_name().is_empty());
        let (dex, dey) = (e.diff("x"), e.diff("y"));
        let (da, db) = op.domain();
        let ts = [0.05, 0.35, 0.65, 0.95];
        for (ta, tb) in ts.iter().zip(ts.iter().rev()) {
            let (x, y) = (da.at(*ta), db.at(*tb));
            let z = op.eval(x, y);
            assert!(z.is_finite(), "{op:?}({x}, {y}) = {z}");
            let a = Tensor::from_vec(vec![x; 3], &[3]).unwrap();
            let b = Tensor::from_vec(vec![y; 3], &[3]).unwrap();
            assert_eq!(
                a.binary_op(op, &b).to_vec(),
                vec![z; 3],
                "{op:?} tensor kernel"
            );
            let (gx, gy) = rules::d_binary(op, &x, &y, &z);
            let fx = richardson(|t| op.eval(t, y), x);
            let fy = richardson(|t| op.eval(x, t), y);
            assert!(
                near(gx, fx, 1e-7) && near(gy, fy, 1e-7),
                "{op:?} at ({x}, {y})"
            );
            let dx = Dual::variable(x).binary(op, &Dual::constant(y));
            let dy = Dual::constant(x).binary(op, &Dual::variable(y));
            assert_eq!(
                (dx.tangent(), dy.tangent()),
                (gx, gy),
                "{op:?} by dual numbers"
            );
            let tx = Taylor::variable(x, 2).binary(op, &Taylor::constant(y));
            let ty = Taylor::constant(x).binary(op, &Taylor::variable(y, 2));
            assert!(
                near(tx.coeff(1), gx, 1e-13) && near(ty.coeff(1), gy, 1e-13),
                "{op:?} Taylor"
            );
            let env = |v: &str| Some(if v == "x" { x } else { y });
            let (sx, sy) = (dex.eval_with(env).unwrap(), dey.eval_with(env).unwrap());
            assert!(
                near(sx, gx, 1e-12) && near(sy, gy, 1e-12),
                "{op:?} symbolic"
            );
        }
        let xs = Tensor::from_vec(ts.map(|t| da.at(t)).to_vec(), &[4]).unwrap();
        let ys = Tensor::from_vec(ts.map(|t| db.at(1.0 - t)).to_vec(), &[4]).unwrap();
        let f = move |v: &[Tensor]| v[0].binary_op(op, &v[1]);
        assert_checks(&format!("{op:?}"), f, &[xs, ys], true);
    }
}

fn assert_checks(
    name: &str,
    f: impl Fn(&[Tensor]) -> Tensor + Copy,
    inputs: &[Tensor],
    second: bool,
) {
    let r = gradcheck(f, inputs, GradcheckOptions::default()).unwrap();
    assert!(r.passed, "{name}: {r}");
    if second {
        let r = gradgradcheck(f, inputs, GradcheckOptions::default()).unwrap();
        assert!(r.passed, "{name} (second order): {r}");
    }
}

#[test]
fn structural_operations_pass_gradcheck_and_gradgradcheck() {
    let x = Tensor::randn(&[2, 3], 1);
    let y = Tensor::randn(&[3, 4], 2);
    let b = Tensor::randn(&[5, 2, 3], 3);
    let v = Tensor::randn(&[3], 4);
    let xs = std::slice::from_ref(&x);
    assert_checks("sum", |t| t[0].sum_dim(&[1], false).sin(), xs, true);
    assert_checks(
        "sum keepdim",
        |t| t[0].sum_dim(&[0], true) * &t[0],
        xs,
        true,
    );
    assert_checks("mean", |t| t[0].mean_dim(&[0, 1], false).exp(), xs, true);
    assert_checks("amax", |t| t[0].amax(&[1], false), xs, false);
    assert_checks("amin", |t| t[0].amin(&[0], true), xs, false);
    assert_checks("prod", |t| t[0].prod_dim(&[1], false), xs, true);
    assert_checks("prod all", |t| t[0].prod(), xs, true);
    assert_checks(
        "matmul 2-d",
        |t| t[0].matmul(&t[1]).tanh(),
        &[x.clone(), y.clone()],
        true,
    );
    assert_checks(
        "matmul batched",
        |t| t[0].matmul(&t[1]),
        &[b.clone(), y.clone()],
        true,
    );
    assert_checks(
        "matmul vec",
        |t| t[0].matmul(&t[1]),
        &[x.clone(), v.clone()],
        true,
    );
    assert_checks(
        "vec matmul",
        |t| t[1].matmul(&t[0].t()),
        &[x.clone(), v.clone()],
        true,
    );
    assert_checks("dot", |t| t[0].dot(&t[0]), std::slice::from_ref(&v), true);
    assert_checks(
        "permute",
        |t| t[0].permute(&[2, 0, 1]).sin(),
        std::slice::from_ref(&b),
        true,
    );
    assert_checks("transpose", |t| t[0].transpose(0, 1) * 2.0, xs, false);
    assert_checks("reshape", |t| t[0].reshape(&[3, 2]).exp(), xs, true);
    assert_checks(
        "unsqueeze/squeeze",
        |t| t[0].unsqueeze(1).squeeze(None).sin(),
        xs,
        true,
    );
    assert_checks(
        "expand",
        |t| t[0].unsqueeze(0).expand(&[4, 2, 3]).cos(),
        xs,
        true,
    );
    assert_checks(
        "sum_to_shape",
        |t| t[0].sum_to_shape(&[1, 3]).exp(),
        xs,
        true,
    );
    assert_checks(
        "get",
        |t| t[0].get(&[1, 2]).exp() + t[0].get(&[0]).sum(),
        xs,
        true,
    );
    assert_checks("narrow", |t| t[0].narrow(1, 1, 2).sin(), xs, true);
    assert_checks(
        "index_select",
        |t| t[0].index_select(1, &[2, 0, 2]).sin(),
        xs,
        true,
    );
    assert_checks(
        "cat",
        |t| Tensor::cat(&[t[0].clone(), t[0].exp()], 0),
        xs,
        true,
    );
    assert_checks(
        "stack",
        |t| Tensor::stack(&[t[0].clone(), t[0].sin()], 1),
        xs,
        true,
    );
    assert_checks(
        "where",
        |t| Tensor::where_(&t[0].gt(&Tensor::scalar(0.0)), &t[0].exp(), &t[0].sin()),
        xs,
        true,
    );
    assert_checks("softmax", |t| t[0].softmax(1), xs, true);
    assert_checks("log_softmax", |t| t[0].log_softmax(0), xs, true);
    assert_checks("logsumexp", |t| t[0].logsumexp(1, false), xs, true);
    let sq = Tensor::randn(&[3, 3], 5);
    assert_checks(
        "trace",
        |t| t[0].matmul(&t[0].sin()).trace(),
        std::slice::from_ref(&sq),
        true,
    );
    // A non-square matrix sums its min(m, n) diagonal entries, as torch.trace.
    assert_checks("trace of a non-square matrix", |t| t[0].trace(), xs, true);
    assert!(Tensor::zeros(&[3]).try_trace().is_err());
}

#[test]
fn prod_gradient_is_exact_at_zeros() {
    // ∂/∂xᵢ Π x = product of the others: with one zero only its entry is
    // non-zero; with two zeros every entry is zero.
    let x = tensor![2.0, 0.0, 3.0].requires_grad();
    x.prod().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 6.0, 0.0]);
    let x = tensor![0.0, 0.0, 3.0].requires_grad();
    x.prod().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0, 0.0]);
    assert_checks(
        "prod with a zero",
        |t| t[0].prod(),
        &[tensor![2.0, 0.0, 3.0]],
        false,
    );
}

#[test]
fn tied_extrema_share_the_gradient() {
    let x = tensor![1.0, 3.0, 3.0].requires_grad();
    x.max_all().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.5, 0.5]);
}

#[test]
fn softmax_gradient_closed_form() {
    // ∂softmax(x)_0/∂x = p_0(e_0 − p).
    let x = tensor![0.3, -1.2, 2.0].requires_grad();
    let p = x.softmax(0);
    p.get(&[0]).backward().unwrap();
    let pv = p.to_vec();
    let g = x.grad().unwrap().to_vec();
    for j in 0..3 {
        let d = if j == 0 { 1.0 } else { 0.0 };
        assert!((g[j] - pv[0] * (d - pv[j])).abs() < 1e-15);
    }
}
