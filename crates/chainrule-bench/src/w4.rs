//! W4 hessian: the full n × n Hessian of three functions at x, n = 100 and 1000.
//! quadratic ½xᵀAx + bᵀx + c (½(A + Aᵀ)), least-squares ½‖Ax − b‖² (AᵀA),
//! logistic ln(1 + exp⟨a, x⟩) with a = (row 0 of A)/n (σ(1 − σ)aaᵀ).
//! Unit s/hessian; check: the sum of the Hessian's entries.

use std::hint::black_box;

use ndarray::{Array1, Array2, Zip};

use crate::data::{w4_data, W4Data};
use crate::registry::{Entry, Mode, Prepared};

/// The three functions, in peers.py's order.
pub const FUNCTIONS: [&str; 3] = ["quadratic", "least-squares", "logistic"];

/// ½(A + Aᵀ), the quadratic's Hessian.
pub fn quadratic(a: &Array2<f64>) -> Array2<f64> {
    let mut h = Array2::zeros(a.raw_dim());
    Zip::from(&mut h)
        .and(a)
        .and(&a.t())
        .for_each(|h, &a, &at| *h = 0.5 * (a + at));
    h
}

/// AᵀA, the least-squares Hessian (one gemm).
pub fn least_squares(a: &Array2<f64>) -> Array2<f64> {
    a.t().dot(a)
}

/// σ(1 − σ)·aaᵀ with a = (row 0 of A)/n and σ = σ(⟨a, x⟩), the logistic Hessian.
pub fn logistic(a: &Array2<f64>, x: &Array1<f64>) -> Array2<f64> {
    let row = a.row(0).mapv(|v| v / a.nrows() as f64);
    let s = 1.0 / (1.0 + (-row.dot(x)).exp());
    let weight = s * (1.0 - s);
    let n = row.len();
    Array2::from_shape_fn((n, n), |(i, j)| weight * (row[i] * row[j]))
}

/// The closed-form Hessian of function `name` (one of [`FUNCTIONS`]) for `data`.
pub fn closed_form(name: &str, data: &W4Data) -> Option<Array2<f64>> {
    match name {
        "quadratic" => Some(quadratic(&data.a)),
        "least-squares" => Some(least_squares(&data.a)),
        "logistic" => Some(logistic(&data.a, &data.x)),
        _ => None,
    }
}

/// W4's implementations.
pub fn entries(mode: &Mode) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (real, smoke) in [(100, 100), (1000, 200)] {
        let (n, smoke_note) = mode.size(real, smoke, "n");
        for name in FUNCTIONS {
            let note = format!(
                "closed form, a new n x n matrix per call (gemm: matrixmultiply, {} thread(s))",
                crate::gemm_threads()
            );
            entries.push(Entry::try_timed(
                "W4",
                "chainrule-manual",
                format!("{name},n={n}"),
                "s/hessian",
                crate::line::join_notes(&[&smoke_note, &note]).unwrap_or_default(),
                move || {
                    let data = w4_data(n);
                    closed_form(name, &data).ok_or(format!("no function {name}"))?;
                    Ok(Prepared::new(move || {
                        let data = black_box(&data);
                        closed_form(name, data).map_or(f64::NAN, |h| h.sum())
                    }))
                },
            ));
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_sum_is_the_sum_of_a() {
        // Σ ½(A + Aᵀ)_ij = Σ A_ij, summed here by plain loops over the raw data.
        let d = w4_data(100);
        let expected: f64 = crate::data::uniform(42, 100 * 100, -1.0, 1.0).iter().sum();
        let h = quadratic(&d.a);
        assert!((h.sum() - expected).abs() < 1e-10);
        assert_eq!(h[[3, 7]], h[[7, 3]]);
        assert_eq!(h[[3, 7]], 0.5 * (d.a[[3, 7]] + d.a[[7, 3]]));
    }

    #[test]
    fn least_squares_sum_is_the_squared_norm_of_row_sums() {
        // Σ_ij (AᵀA)_ij = Σ_k (Σ_i A_ki)(Σ_j A_kj) = Σ_k (row sum k)².
        let d = w4_data(100);
        let expected: f64 = d.a.rows().into_iter().map(|r| r.sum().powi(2)).sum();
        let h = least_squares(&d.a);
        assert!((h.sum() - expected).abs() < 1e-9 * expected.abs());
        let entry: f64 = (0..100).map(|k| d.a[[k, 2]] * d.a[[k, 5]]).sum();
        assert!((h[[2, 5]] - entry).abs() < 1e-12);
    }

    #[test]
    fn logistic_against_finite_differences_of_the_gradient() {
        // ∇f = σ(⟨a, x⟩)·a; the Hessian's column j is (∇f(x + e·e_j) − ∇f(x − e·e_j)) / 2e.
        let d = w4_data(20);
        let a = d.a.row(0).mapv(|v| v / 20.0);
        let grad = |x: &Array1<f64>| {
            let s = 1.0 / (1.0 + (-a.dot(x)).exp());
            a.mapv(|v| s * v)
        };
        let h = logistic(&d.a, &d.x);
        let e = 1e-5;
        for j in [0, 7, 19] {
            let (mut plus, mut minus) = (d.x.clone(), d.x.clone());
            plus[j] += e;
            minus[j] -= e;
            let column = (grad(&plus) - grad(&minus)) / (2.0 * e);
            for i in 0..20 {
                assert!((h[[i, j]] - column[i]).abs() < 1e-10);
            }
        }
    }
}
