//! Seed 004, exercises 4 to 7: gradients and Hessians of matrix functions,
//! analytic (written out with plain f64 loops) against autograd on tensors
//! (reverse over reverse with `create_graph` for the Hessians) and central
//! finite differences, on random matrices (SplitMix64, fixed seeds).

use chainrule::autograd::{self, GradOptions};
use chainrule::random::SplitMix64;
use chainrule::{Real, Tensor};

use super::{fmt_matrix, matrix_json, Check, Section};
use crate::json::Json;

type Mat = Vec<Vec<f64>>;

/// Tolerances: autograd against the analytic form is exact up to rounding;
/// finite differences are good to about 1e-9 relative.
const RTOL: f64 = 1e-12;
const FD_RTOL: f64 = 1e-7;

fn random_mat(rows: usize, cols: usize, g: &mut SplitMix64) -> Mat {
    (0..rows).map(|_| g.uniform_vec(cols, -1.0, 1.0)).collect()
}

fn tensor_of(m: &Mat) -> Tensor {
    let (r, c) = (m.len(), m.first().map_or(0, Vec::len));
    Tensor::from_vec(m.concat(), &[r, c]).expect("rectangular matrix")
}

fn transpose(m: &Mat) -> Mat {
    let (r, c) = (m.len(), m[0].len());
    (0..c).map(|j| (0..r).map(|i| m[i][j]).collect()).collect()
}

fn matmul(a: &Mat, b: &Mat) -> Mat {
    let (n, k, m) = (a.len(), b.len(), b[0].len());
    (0..n)
        .map(|i| {
            (0..m)
                .map(|j| (0..k).map(|l| a[i][l] * b[l][j]).sum())
                .collect()
        })
        .collect()
}

fn matvec(a: &Mat, x: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|row| row.iter().zip(x).map(|(p, q)| p * q).sum())
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Largest |a − b| over the largest |a| (the matrices' relative difference).
fn mat_rel_err(a: &Mat, b: &Mat) -> f64 {
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

fn mat_check(what: &str, a: &Mat, b: &Mat, rtol: f64) -> Check {
    let rel_err = mat_rel_err(a, b);
    Check {
        what: what.to_string(),
        ok: rel_err <= rtol && a.len() == b.len(),
        rel_err,
        printed: false,
    }
}

/// Value, gradient and Hessian of `f` at `x` by reverse mode: one backward
/// pass with `create_graph`, then one backward pass per gradient entry.
fn reverse_hessian(f: &dyn Fn(&Tensor) -> Tensor, x: &[f64]) -> (f64, Vec<f64>, Mat) {
    let n = x.len();
    let xt = Tensor::from_vec(x.to_vec(), &[n])
        .expect("vector")
        .requires_grad();
    let y = f(&xt);
    let g = autograd::grad(
        std::slice::from_ref(&y),
        std::slice::from_ref(&xt),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .expect("gradient of a scalar")
    .remove(0);
    let hess = (0..n)
        .map(|i| {
            let gi = g.get(&[i]);
            if !gi.is_requires_grad() {
                // This gradient entry does not depend on x: its row is zero.
                return vec![0.0; n];
            }
            autograd::grad(
                &[gi],
                std::slice::from_ref(&xt),
                None,
                GradOptions::RETAIN_GRAPH,
            )
            .expect("second backward pass")
            .remove(0)
            .to_vec()
        })
        .collect();
    (y.item(), g.to_vec(), hess)
}

/// The gradient of `f` at `x` by finite differences (f evaluated on tensors
/// without recording).
fn fd_gradient(f: &dyn Fn(&Tensor) -> Tensor, x: &[f64], shape: &[usize]) -> Vec<f64> {
    let _guard = autograd::no_grad();
    crate::fd::gradient(
        |p| f(&Tensor::from_vec(p.to_vec(), shape).expect("shape")).item(),
        x,
    )
}

fn reshape(v: &[f64], cols: usize) -> Mat {
    v.chunks(cols).map(<[f64]>::to_vec).collect()
}

/// Exercise 4: the Hessian of ½xᵀAx + bᵀx + c is ½(A + Aᵀ).
fn quadratic() -> Section {
    let n = 4;
    let mut g = SplitMix64::new(4);
    let a = random_mat(n, n, &mut g);
    let b = g.uniform_vec(n, -1.0, 1.0);
    let c = g.uniform(-1.0, 1.0);
    let x = g.uniform_vec(n, -1.0, 1.0);
    let (at, bt) = (tensor_of(&a), Tensor::from_vec(b.clone(), &[n]).expect("b"));
    let f = move |x: &Tensor| x.dot(&at.matmul(x)) * 0.5 + bt.dot(x) + c;
    let (_, grad, hess) = reverse_hessian(&f, &x);
    let analytic_h: Mat = (0..n)
        .map(|i| (0..n).map(|j| 0.5 * (a[i][j] + a[j][i])).collect())
        .collect();
    // ∇f = ½(A + Aᵀ)x + b.
    let analytic_g: Vec<f64> = matvec(&analytic_h, &x)
        .iter()
        .zip(&b)
        .map(|(p, q)| p + q)
        .collect();
    let fd_g = fd_gradient(&f, &x, &[n]);
    let mut text = String::new();
    text.push_str("   f(x) = ½xᵀAx + bᵀx + c, A 4×4, b, x in R⁴, c scalar (uniform in [-1, 1), SplitMix64 seed 4)\n");
    text.push_str("   Hessian, analytic ½(A + Aᵀ):\n");
    text.push_str(&fmt_matrix(&analytic_h, 5));
    text.push_str("   Hessian, autograd (reverse over reverse):\n");
    text.push_str(&fmt_matrix(&hess, 5));
    let checks = vec![
        mat_check("Hessian: autograd vs ½(A + Aᵀ)", &hess, &analytic_h, RTOL),
        mat_check(
            "gradient: autograd vs ½(A + Aᵀ)x + b",
            &vec![grad.clone()],
            &vec![analytic_g.clone()],
            RTOL,
        ),
        mat_check(
            "gradient: autograd vs finite differences",
            &vec![grad.clone()],
            &vec![fd_g.clone()],
            FD_RTOL,
        ),
    ];
    Section {
        seed: "004",
        id: "Exercise 4".into(),
        title: "Hessian of ½xᵀAx + bᵀx + c against ½(A + Aᵀ)".into(),
        text,
        checks,
        json: Json::object()
            .with("hessian_analytic", matrix_json(&analytic_h))
            .with("hessian_autograd", matrix_json(&hess))
            .with("gradient_autograd", grad)
            .with("gradient_finite_difference", fd_g),
    }
}

/// Exercise 5: ∇_X tr(AXB) = AᵀBᵀ.
fn trace() -> Section {
    let (p, n, m) = (2, 3, 4);
    let mut g = SplitMix64::new(5);
    let a = random_mat(p, n, &mut g);
    let b = random_mat(m, p, &mut g);
    let x = random_mat(n, m, &mut g);
    let (at, bt) = (tensor_of(&a), tensor_of(&b));
    let eye = Tensor::eye(p);
    let f = move |x: &Tensor| (at.matmul(x).matmul(&bt) * &eye).sum();
    let xt = tensor_of(&x).requires_grad();
    let y = f(&xt);
    let grad = autograd::grad(
        &[y],
        std::slice::from_ref(&xt),
        None,
        GradOptions::default(),
    )
    .expect("gradient of a scalar")
    .remove(0)
    .to_vec();
    let grad = reshape(&grad, m);
    let analytic = matmul(&transpose(&a), &transpose(&b));
    let fd = reshape(&fd_gradient(&f, &x.concat(), &[n, m]), m);
    let mut text = String::new();
    text.push_str(
        "   f(X) = tr(AXB), A 2×3, X 3×4, B 4×2 (uniform in [-1, 1), SplitMix64 seed 5)\n",
    );
    text.push_str("   gradient, analytic AᵀBᵀ:\n");
    text.push_str(&fmt_matrix(&analytic, 5));
    text.push_str("   gradient, autograd:\n");
    text.push_str(&fmt_matrix(&grad, 5));
    let checks = vec![
        mat_check("gradient: autograd vs AᵀBᵀ", &grad, &analytic, RTOL),
        mat_check(
            "gradient: autograd vs finite differences",
            &grad,
            &fd,
            FD_RTOL,
        ),
    ];
    Section {
        seed: "004",
        id: "Exercise 5".into(),
        title: "gradient of tr(AXB) against AᵀBᵀ".into(),
        text,
        checks,
        json: Json::object()
            .with("gradient_analytic", matrix_json(&analytic))
            .with("gradient_autograd", matrix_json(&grad)),
    }
}

/// Exercise 6: ½‖Ax − b‖²: gradient Aᵀ(Ax − b), Hessian AᵀA.
fn least_squares() -> Section {
    let (m, n) = (5, 3);
    let mut g = SplitMix64::new(6);
    let a = random_mat(m, n, &mut g);
    let b = g.uniform_vec(m, -1.0, 1.0);
    let x = g.uniform_vec(n, -1.0, 1.0);
    let (at, bt) = (tensor_of(&a), Tensor::from_vec(b.clone(), &[m]).expect("b"));
    let f = move |x: &Tensor| {
        let r = at.matmul(x) - &bt;
        r.dot(&r) * 0.5
    };
    let (_, grad, hess) = reverse_hessian(&f, &x);
    let r: Vec<f64> = matvec(&a, &x).iter().zip(&b).map(|(p, q)| p - q).collect();
    let analytic_g = matvec(&transpose(&a), &r);
    let analytic_h = matmul(&transpose(&a), &a);
    let fd_g = fd_gradient(&f, &x, &[n]);
    let mut text = String::new();
    text.push_str(
        "   f(x) = ½‖Ax − b‖², A 5×3, b in R⁵, x in R³ (uniform in [-1, 1), SplitMix64 seed 6)\n",
    );
    text.push_str(&format!(
        "   gradient, analytic Aᵀ(Ax − b): {}\n   gradient, autograd:            {}\n",
        row_text(&analytic_g),
        row_text(&grad)
    ));
    text.push_str("   Hessian, analytic AᵀA:\n");
    text.push_str(&fmt_matrix(&analytic_h, 5));
    text.push_str("   Hessian, autograd (reverse over reverse):\n");
    text.push_str(&fmt_matrix(&hess, 5));
    let checks = vec![
        mat_check(
            "gradient: autograd vs Aᵀ(Ax − b)",
            &vec![grad.clone()],
            &vec![analytic_g.clone()],
            RTOL,
        ),
        mat_check("Hessian: autograd vs AᵀA", &hess, &analytic_h, RTOL),
        mat_check(
            "gradient: autograd vs finite differences",
            &vec![grad.clone()],
            &vec![fd_g],
            FD_RTOL,
        ),
    ];
    Section {
        seed: "004",
        id: "Exercise 6".into(),
        title: "gradient and Hessian of ½‖Ax − b‖² against Aᵀ(Ax − b) and AᵀA".into(),
        text,
        checks,
        json: Json::object()
            .with("gradient_analytic", analytic_g)
            .with("gradient_autograd", grad)
            .with("hessian_analytic", matrix_json(&analytic_h))
            .with("hessian_autograd", matrix_json(&hess)),
    }
}

/// Exercise 7: ln(1 + exp⟨a, x⟩): gradient σ·a, Hessian σ(1 − σ)aaᵀ.
fn logistic() -> Section {
    let n = 4;
    let mut g = SplitMix64::new(7);
    let a = g.uniform_vec(n, -1.0, 1.0);
    let x = g.uniform_vec(n, -1.0, 1.0);
    let at = Tensor::from_vec(a.clone(), &[n]).expect("a");
    // Written as the seed writes it, not as the stable softplus.
    let f = move |x: &Tensor| (at.dot(x).exp() + 1.0).ln();
    let (_, grad, hess) = reverse_hessian(&f, &x);
    let s = 1.0 / (1.0 + (-dot(&a, &x)).exp());
    let analytic_g: Vec<f64> = a.iter().map(|ai| s * ai).collect();
    let analytic_h: Mat = a
        .iter()
        .map(|ai| a.iter().map(|aj| s * (1.0 - s) * ai * aj).collect())
        .collect();
    let fd_g = fd_gradient(&f, &x, &[n]);
    let mut text = String::new();
    text.push_str(
        "   f(x) = ln(1 + exp⟨a, x⟩), a, x in R⁴ (uniform in [-1, 1), SplitMix64 seed 7)\n",
    );
    text.push_str(&format!(
        "   σ = σ(⟨a, x⟩) = {}\n",
        crate::wengert::short(s)
    ));
    text.push_str(&format!(
        "   gradient, analytic σ·a: {}\n   gradient, autograd:     {}\n",
        row_text(&analytic_g),
        row_text(&grad)
    ));
    text.push_str("   Hessian, analytic σ(1 − σ)aaᵀ:\n");
    text.push_str(&fmt_matrix(&analytic_h, 5));
    text.push_str("   Hessian, autograd (reverse over reverse):\n");
    text.push_str(&fmt_matrix(&hess, 5));
    let checks = vec![
        mat_check(
            "gradient: autograd vs σ·a",
            &vec![grad.clone()],
            &vec![analytic_g.clone()],
            RTOL,
        ),
        mat_check(
            "Hessian: autograd vs σ(1 − σ)aaᵀ",
            &hess,
            &analytic_h,
            1e-11,
        ),
        mat_check(
            "gradient: autograd vs finite differences",
            &vec![grad.clone()],
            &vec![fd_g],
            FD_RTOL,
        ),
    ];
    Section {
        seed: "004",
        id: "Exercise 7".into(),
        title: "gradient and Hessian of ln(1 + exp⟨a, x⟩) against σ·a and σ(1 − σ)aaᵀ".into(),
        text,
        checks,
        json: Json::object()
            .with("gradient_analytic", analytic_g)
            .with("gradient_autograd", grad)
            .with("hessian_analytic", matrix_json(&analytic_h))
            .with("hessian_autograd", matrix_json(&hess)),
    }
}

fn row_text(v: &[f64]) -> String {
    let cells: Vec<String> = v.iter().map(|&x| crate::wengert::short(x)).collect();
    format!("[{}]", cells.join(", "))
}

/// Exercises 4 to 7 of seed 004.
pub fn sections() -> Vec<Section> {
    vec![quadratic(), trace(), least_squares(), logistic()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_matrix_exercise_agrees() {
        for s in sections() {
            for c in &s.checks {
                assert!(c.ok, "{}: {} ({})", s.id, c.what, c.rel_err);
            }
        }
    }

    #[test]
    fn reverse_hessian_of_a_known_function() {
        // f = x0² x1 + x1³: H = [[2x1, 2x0], [2x0, 6x1]].
        let f = |x: &Tensor| x.get(&[0]).square() * x.get(&[1]) + x.get(&[1]).powi(3);
        let (v, g, h) = reverse_hessian(&f, &[2.0, 3.0]);
        assert_eq!(v, 12.0 + 27.0);
        assert_eq!(g, vec![12.0, 4.0 + 27.0]);
        assert_eq!(h, vec![vec![6.0, 4.0], vec![4.0, 18.0]]);
    }
}
