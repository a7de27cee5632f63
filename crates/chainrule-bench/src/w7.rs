//! W7 trace-gradient: ∇_X tr(AXB) = AᵀBᵀ for n × n A, X, B, n = 256 and 1024.
//! Unit s/gradient; check: the sum of the gradient's entries.

use std::hint::black_box;

use chainrule::{autograd, Tensor};
use ndarray::Array2;

use crate::data::w7_data;
use crate::registry::{Entry, Mode, Prepared};

/// The closed form AᵀBᵀ: one gemm on transposed views (no copies), a new matrix.
pub fn gradient(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    crate::matmul(&a.t(), &b.t())
}

/// The gradient on the tape, as peers.py's torch line:
/// `autograd.grad(trace(A @ X @ B), X)`.
pub fn eager(a: &Tensor, x: &Tensor, b: &Tensor) -> Tensor {
    let x = x.detach().requires_grad();
    let t = a.matmul(&x).matmul(b).trace();
    autograd::grad(&[t], &[x], None, autograd::GradOptions::default())
        .expect("the trace depends on X")
        .remove(0)
}

fn eager_entry(mode: &Mode, real: usize, smoke: usize) -> Entry {
    let (n, smoke_note) = mode.size(real, smoke, "n");
    let note = format!(
        "the tape: autograd::grad(trace(A @ X @ B), X) (gemm: {} thread(s))",
        crate::gemm_threads()
    );
    Entry::timed(
        "W7",
        "chainrule-eager",
        format!("n={n}"),
        "s/gradient",
        crate::line::join_notes(&[&smoke_note, &note]).unwrap_or_default(),
        move || {
            let [a, x, b] = w7_data(n).map(|m| Tensor::from_ndarray(m.into_dyn()));
            Prepared::new(move || {
                eager(black_box(&a), black_box(&x), black_box(&b))
                    .sum()
                    .item()
            })
        },
    )
}

/// W7's implementations.
pub fn entries(mode: &Mode) -> Vec<Entry> {
    [(256, 256), (1024, 128)]
        .into_iter()
        .map(|(real, smoke)| {
            let (n, smoke_note) = mode.size(real, smoke, "n");
            let note = format!(
                "closed form A^T B^T (gemm: the gemm crate, {} thread(s))",
                crate::gemm_threads()
            );
            Entry::timed(
                "W7",
                "chainrule-manual",
                format!("n={n}"),
                "s/gradient",
                crate::line::join_notes(&[&smoke_note, &note]).unwrap_or_default(),
                move || {
                    let [a, _x, b] = w7_data(n);
                    Prepared::new(move || gradient(black_box(&a), black_box(&b)).sum())
                },
            )
        })
        .chain([(256, 256), (1024, 128)].map(|(real, smoke)| eager_entry(mode, real, smoke)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_is_row_sums_of_a_dot_column_sums_of_b() {
        // Σ_ij (AᵀBᵀ)_ij = Σ_ij Σ_k A_ki B_jk = Σ_k (Σ_i A_ki)(Σ_j B_jk).
        let [a, _, b] = w7_data(64);
        let expected: f64 = (0..64).map(|k| a.row(k).sum() * b.column(k).sum()).sum();
        let g = gradient(&a, &b);
        assert!((g.sum() - expected).abs() < 1e-10 * expected.abs().max(1.0));
    }

    #[test]
    fn eager_equals_the_closed_form() {
        let [a, x, b] = w7_data(16);
        let expected = gradient(&a, &b);
        let [ta, tx, tb] = [a, x, b].map(|m| Tensor::from_ndarray(m.into_dyn()));
        let g = eager(&ta, &tx, &tb);
        assert_eq!(g.shape(), &[16, 16]);
        for (u, v) in g.to_vec().iter().zip(expected.iter()) {
            assert!((u - v).abs() < 1e-12, "{u} vs {v}");
        }
    }

    #[test]
    fn gradient_against_finite_differences_of_the_trace() {
        // tr(AXB) is linear in X: ∂/∂X_ij = (AᵀBᵀ)_ij = Σ_k A_ki B_jk.
        let [a, x, b] = w7_data(8);
        let trace = |x: &Array2<f64>| a.dot(x).dot(&b).diag().sum();
        let g = gradient(&a, &b);
        for (i, j) in [(0, 0), (2, 5), (7, 1)] {
            let mut plus = x.clone();
            plus[[i, j]] += 1.0;
            assert!((trace(&plus) - trace(&x) - g[[i, j]]).abs() < 1e-12);
        }
    }
}
