//! Derivative identities of the Matrix Cookbook (Petersen & Pedersen,
//! version of November 15, 2012; equation numbers in the test names), each
//! checked three ways at seeded random values of several sizes (non-square
//! and non-symmetric where the identity allows): the derived formula, the
//! derived formula printed and parsed back, and the Cookbook's formula typed
//! by hand agree with each other and with reverse-mode autodiff of the
//! expression on tensors. The printed derivative is at most twice as long
//! (in operations) as the Cookbook's form.

use chainrule::matrix::{self, Dim, Problem, Values};

/// Sizes tried: every size name gets one of these per round.
const ROUNDS: [[usize; 3]; 3] = [[3, 4, 2], [2, 5, 3], [4, 2, 5]];

fn values(p: &Problem, round: usize, seed: u64) -> Values {
    let mut names: Vec<String> = Vec::new();
    for n in &p.names {
        for d in n.shape.axes() {
            if let Dim::Size(s) = d {
                if !names.contains(&s.to_string()) {
                    names.push(s.to_string());
                }
            }
        }
    }
    Values::random(
        &p.names,
        |s| {
            let k = names.iter().position(|n| n == s).unwrap_or(0);
            ROUNDS[round][k % 3]
        },
        seed,
    )
}

fn close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-9 * scale, "{what}: {a:?} vs {b:?}");
    }
}

/// Checks d(src)/d(wrt) (or the Hessian) against `cookbook` and autodiff.
fn identity(src: &str, decls: &str, wrt: &str, cookbook: &str, hessian: bool) -> String {
    let p = matrix::parse(src, decls).unwrap_or_else(|e| panic!("{src}: {e}"));
    let d = if hessian {
        p.hessian(wrt)
    } else {
        p.derivative(wrt)
    }
    .unwrap_or_else(|e| panic!("{src}: {e}"));
    let shape = d.shape().clone();
    let reference = p
        .parse_formula(cookbook, Some(&shape))
        .unwrap_or_else(|e| panic!("cookbook {cookbook}: {e}"));
    let printed = d.to_string();
    let back = p
        .parse_formula(&printed, Some(&shape))
        .unwrap_or_else(|e| panic!("printed {printed}: {e}"));
    assert!(
        d.op_count() <= 2 * reference.op_count().max(1),
        "{src}: {printed} ({} ops) is long against {cookbook} ({} ops)",
        d.op_count(),
        reference.op_count()
    );
    // Shown with --nocapture: the formula sizes the closing note quotes.
    println!(
        "size\t{src}\t{printed}\t{}\t{cookbook}\t{}",
        d.op_count(),
        reference.op_count()
    );
    for round in 0..ROUNDS.len() {
        let v = values(&p, round, 100 + round as u64);
        let ad = if hessian {
            p.autodiff_hessian(wrt, &v)
        } else {
            p.autodiff(wrt, &v)
        }
        .unwrap();
        let ev = |e: &matrix::Expr| matrix::natural(&matrix::eval(e, &v).unwrap(), &shape).to_vec();
        let what = format!("{src} -> {printed}");
        close(
            &ev(&d),
            &ad.to_vec(),
            &format!("{what}: formula vs autodiff"),
        );
        close(
            &ev(&back),
            &ad.to_vec(),
            &format!("{what}: parsed back vs autodiff"),
        );
        close(
            &ev(&reference),
            &ad.to_vec(),
            &format!("{what}: cookbook {cookbook} vs autodiff"),
        );
        let compiled = matrix::natural(&matrix::compile(&d).eval(&v).unwrap(), &shape).to_vec();
        close(
            &compiled,
            &ad.to_vec(),
            &format!("{what}: compiled vs autodiff"),
        );
    }
    printed
}

fn grad(src: &str, decls: &str, wrt: &str, cookbook: &str) -> String {
    identity(src, decls, wrt, cookbook, false)
}

fn hess(src: &str, decls: &str, wrt: &str, cookbook: &str) -> String {
    identity(src, decls, wrt, cookbook, true)
}

const SQ: &str = "X: n x n, A: n x n, B: n x n, C: n x n";
const RECT: &str = "X: m x n, A: p x m, B: n x p";

// ----- 2.5 Derivatives of traces ---------------------------------------------

#[test]
fn eq_100_tr_x() {
    assert_eq!(grad("tr(X)", "X: n x n", "X", "I"), "I");
}
#[test]
fn eq_101_tr_xa() {
    assert_eq!(grad("tr(X*A)", "X: m x n, A: n x m", "X", "A'"), "A'");
}
#[test]
fn eq_102_tr_axb() {
    assert_eq!(grad("tr(A*X*B)", RECT, "X", "A'*B'"), "A'*B'");
}
#[test]
fn eq_103_tr_axtb() {
    grad("tr(A*X'*B)", "X: m x n, A: p x n, B: m x p", "X", "B*A");
}
#[test]
fn eq_104_tr_xta() {
    assert_eq!(grad("tr(X'*A)", "X: m x n, A: m x n", "X", "A"), "A");
}
#[test]
fn eq_105_tr_axt() {
    assert_eq!(grad("tr(A*X')", "X: m x n, A: m x n", "X", "A"), "A");
}
#[test]
fn eq_107_tr_x2() {
    grad("tr(X*X)", SQ, "X", "2*X'");
}
#[test]
fn eq_108_tr_x2b() {
    grad("tr(X*X*B)", SQ, "X", "(X*B + B*X)'");
}
#[test]
fn eq_110_tr_xtbx() {
    grad("tr(X'*B*X)", "X: m x n, B: m x m", "X", "B*X + B'*X");
}
#[test]
fn eq_111_tr_bxxt() {
    grad("tr(B*X*X')", "X: m x n, B: m x m", "X", "B*X + B'*X");
}
#[test]
fn eq_112_tr_xxtb() {
    grad("tr(X*X'*B)", "X: m x n, B: m x m", "X", "B*X + B'*X");
}
#[test]
fn eq_113_tr_xbxt() {
    grad("tr(X*B*X')", "X: m x n, B: n x n", "X", "X*B' + X*B");
}
#[test]
fn eq_114_tr_bxtx() {
    grad("tr(B*X'*X)", "X: m x n, B: n x n", "X", "X*B' + X*B");
}
#[test]
fn eq_115_tr_xtxb() {
    grad("tr(X'*X*B)", "X: m x n, B: n x n", "X", "X*B' + X*B");
}
#[test]
fn eq_116_tr_axbx() {
    grad("tr(A*X*B*X)", SQ, "X", "A'*X'*B' + B'*X'*A'");
}
#[test]
fn eq_117_tr_xtx() {
    grad("tr(X'*X)", "X: m x n", "X", "2*X");
}
#[test]
fn eq_118_tr_btxtcxb() {
    grad(
        "tr(B'*X'*C*X*B)",
        "X: m x n, C: m x m, B: n x p",
        "X",
        "C'*X*B*B' + C*X*B*B'",
    );
}
#[test]
fn eq_119_tr_xtbxc() {
    grad(
        "tr(X'*B*X*C)",
        "X: m x n, B: m x m, C: n x n",
        "X",
        "B*X*C + B'*X*C'",
    );
}
#[test]
fn eq_120_tr_axbxtc() {
    grad(
        "tr(A*X*B*X'*C)",
        "X: m x n, A: p x m, B: n x n, C: m x p",
        "X",
        "A'*C'*X*B' + C*A*X*B",
    );
}
#[test]
fn eq_121_tr_square_of_affine() {
    grad(
        "tr((A*X*B + C)*(A*X*B + C)')",
        "X: m x n, A: p x m, B: n x q, C: p x q",
        "X",
        "2*A'*(A*X*B + C)*B'",
    );
}
#[test]
fn eq_122_tr_x_cubed() {
    grad("tr(X*X*X)", SQ, "X", "3*(X*X)'");
}
#[test]
fn eq_124_tr_a_inv_x_b() {
    grad("tr(A*inv(X)*B)", SQ, "X", "-(inv(X)*B*A*inv(X))'");
}

// ----- 2.1.1 / 2.4 Determinants, log-determinants -----------------------------

#[test]
fn eq_49_det_x() {
    assert_eq!(
        grad("det(X)", "X: n x n", "X", "det(X)*inv(X)'"),
        "det(X)*inv(X')"
    );
}
#[test]
fn eq_51_det_axb() {
    grad("det(A*X*B)", SQ, "X", "det(A*X*B)*inv(X)'");
}
#[test]
fn eq_57_logdet_x() {
    assert_eq!(grad("logdet(X)", "X: n x n", "X", "inv(X)'"), "inv(X')");
}
#[test]
fn eq_53_logdet_xtx_square() {
    grad("logdet(X'*X)", "X: n x n", "X", "2*inv(X)'");
}
#[test]
fn eq_50_det_x_second_form() {
    // ∂det(X)/∂X = det(X) X^-T, and for the inverse form of (50): ∂det(inv(X)) = -det(inv(X)) X^-T
    grad("det(inv(X))", "X: n x n", "X", "-det(inv(X))*inv(X)'");
}

// ----- 2.2 Inverses -----------------------------------------------------------

#[test]
fn eq_61_atxinvb() {
    grad("a'*inv(X)*b", "X: n x n", "X", "-inv(X)'*a*b'*inv(X)'");
}
#[test]
fn eq_63_tr_a_inv_x_b() {
    grad("tr(A*inv(X)*B)", SQ, "X", "-inv(X)'*A'*B'*inv(X)'");
}

// ----- 2.4.1 First-order: linear forms ---------------------------------------

#[test]
fn eq_69_xta() {
    assert_eq!(grad("x'*a", "", "x", "a"), "a");
    assert_eq!(grad("a'*x", "", "x", "a"), "a");
}
#[test]
fn eq_70_atxb() {
    assert_eq!(grad("a'*X*b", "", "X", "a*b'"), "a*b'");
}
#[test]
fn eq_71_atxtb() {
    assert_eq!(grad("a'*X'*b", "", "X", "b*a'"), "b*a'");
}
#[test]
fn eq_72_atxa() {
    assert_eq!(grad("a'*X*a", "X: n x n", "X", "a*a'"), "a*a'");
}
#[test]
fn jacobian_of_ax_is_a() {
    // The Jacobian ∂(Ax)/∂x = A (section 2.4.1).
    assert_eq!(grad("A*x", "", "x", "A"), "A");
    assert_eq!(grad("x", "", "x", "I"), "I");
}

// ----- 2.4.2 Second-order: quadratic and bilinear forms ------------------------

#[test]
fn eq_77_btxtxc() {
    grad("b'*X'*X*c", "X: m x n", "X", "X*(b*c' + c*b')");
}
#[test]
fn eq_78_bilinear_affine() {
    grad(
        "(B*x + b)'*C*(D*x + d)",
        "x: n, B: m x n, C: m x p, D: p x n",
        "x",
        "B'*C*(D*x + d) + D'*C'*(B*x + b)",
    );
}
#[test]
fn eq_81_xtbx() {
    assert_eq!(grad("x'*B*x", "", "x", "(B + B')*x"), "(B + B')*x");
}
#[test]
fn eq_82_btxtdxc() {
    grad(
        "b'*X'*D*X*c",
        "X: m x n, D: m x m",
        "X",
        "D'*X*b*c' + D*X*c*b'",
    );
}
#[test]
fn eq_83_affine_quadratic() {
    grad(
        "(X*b + c)'*D*(X*b + c)",
        "X: m x n, D: m x m",
        "X",
        "(D + D')*(X*b + c)*b'",
    );
}
#[test]
fn eq_81_hessian_xtbx() {
    assert_eq!(hess("x'*B*x", "", "x", "B + B'"), "B + B'");
}
#[test]
fn eq_81_hessian_symmetric() {
    assert_eq!(hess("x'*B*x", "B: n x n symmetric", "x", "2*B"), "2*B");
}
#[test]
fn eq_84_quadratic_affine_gradient() {
    // ∂/∂x (x - s)'W(x - s) = 2W(x - s) for a symmetric W (eq. 84-86).
    assert_eq!(
        grad(
            "(x - s)'*W*(x - s)",
            "W: n x n symmetric",
            "x",
            "2*W*(x - s)"
        ),
        "2*W*(x - s)"
    );
}
#[test]
fn eq_88_residual_quadratic() {
    // ∂/∂s (x - As)'W(x - As) = -2A'W(x - As) for a symmetric W.
    grad(
        "(x - A*s)'*W*(x - A*s)",
        "W: n x n symmetric, A: n x m",
        "s",
        "-2*A'*W*(x - A*s)",
    );
}
#[test]
fn hessian_of_squared_linear_form() {
    assert_eq!(hess("(a'*x)^2", "", "x", "2*a*a'"), "2*a*a'");
}

// ----- 2.6 Norms ---------------------------------------------------------------

#[test]
fn eq_129_norm2_of_difference() {
    grad("norm2(x - a)", "", "x", "(x - a)/norm2(x - a)");
}
#[test]
fn eq_131_norm2_squared() {
    assert_eq!(grad("norm2(x)^2", "", "x", "2*x"), "2*x");
}
#[test]
fn eq_130_jacobian_of_normalised_difference() {
    grad(
        "(x - a)/norm2(x - a)",
        "",
        "x",
        "I/norm2(x - a) - (x - a)*(x - a)'/norm2(x - a)^3",
    );
}
#[test]
fn eq_132_frobenius_squared() {
    assert_eq!(grad("tr(X'*X)", "X: m x n", "X", "2*X"), "2*X");
    grad("sum(X.*X)", "X: m x n", "X", "2*X");
}
#[test]
fn least_squares_hessian() {
    assert_eq!(
        hess("norm2(A*x - b)^2", "A: m x n", "x", "2*A'*A"),
        "2*A'*A"
    );
}
#[test]
fn norm1_gradient() {
    grad("norm1(x)", "", "x", "sign(x)");
}

// ----- elementwise functions, diag, sum --------------------------------------

#[test]
fn elementwise_sum_of_exp() {
    assert_eq!(grad("sum(exp(x))", "", "x", "exp(x)"), "exp(x)");
}
#[test]
fn diag_quadratic() {
    grad("x'*diag(d)*x", "", "x", "2*d.*x");
}
#[test]
fn softmax_normaliser_gradient() {
    grad("log(sum(exp(x)))", "", "x", "exp(x)/sum(exp(x))");
}
#[test]
fn tanh_layer_jacobian() {
    grad("tanh(W*x)", "W: m x n", "x", "diag(1 - tanh(W*x).^2)*W");
}
