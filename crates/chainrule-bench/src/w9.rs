//! W9 sparse-hessian: the tridiagonal Hessian of extended Rosenbrock,
//! f(x) = Σ_{i<n} 100 (x_{i+1} − x_i²)² + (1 − x_i)², x from seed 91 in
//! [−1.5, 1.5), n = 1000, 10000, 100000 (`--quick`, `--smoke`: 200).
//! Unit s/hessian; check: the sum of all the Hessian's entries.

use std::hint::black_box;
use std::time::Instant;

use chainrule::functional::hessian;
use chainrule::sparse::SparseHessian;
use chainrule::{Real, Tensor};

use crate::data::uniform;
use crate::registry::{Entry, Mode, Prepared};

/// W9's x: n values from seed 91 in [−1.5, 1.5).
pub fn w9_x(n: usize) -> Vec<f64> {
    uniform(91, n, -1.5, 1.5)
}

/// The function, generic: on [`Traced`](chainrule::compiled::Traced) values
/// for the sparse Hessian.
pub fn rosenbrock<T: Real>(x: &[T]) -> T {
    x.windows(2)
        .map(|w| {
            (w[1].clone() - w[0].square()).square() * 100.0
                + (T::from_f64(1.0) - w[0].clone()).square()
        })
        .fold(T::from_f64(0.0), |s, t| s + t)
}

/// The function on a vector tensor, as peers.py's `w9_f`: `a = x[:-1]`,
/// `b = x[1:]`, `(100 (b − a²)² + (1 − a)²).sum()`.
pub fn rosenbrock_tensor(x: &Tensor) -> Tensor {
    let n = x.shape()[0];
    let (a, b) = (x.narrow(0, 0, n - 1), x.narrow(0, 1, n - 1));
    ((b - a.square()).square() * 100.0 + (-a + 1.0).square()).sum()
}

/// The closed form: the main diagonal and the off-diagonal (the upper and
/// lower one are equal), H_ii = 1200 x_i² − 400 x_{i+1} + 2 (i < n) + 200
/// (i > 0), H_{i,i+1} = −400 x_i.
pub fn closed_form(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let mut main = vec![0.0; n];
    let mut off = vec![0.0; n.saturating_sub(1)];
    for i in 0..n.saturating_sub(1) {
        let (a, b) = (x[i], x[i + 1]);
        main[i] = 1200.0 * a * a - 400.0 * b + 2.0;
        off[i] = -400.0 * a;
    }
    for m in main.iter_mut().skip(1) {
        *m += 200.0;
    }
    (main, off)
}

/// The check of the diagonals: Σ main + 2 Σ off.
pub fn diagonal_total(main: &[f64], off: &[f64]) -> f64 {
    main.iter().sum::<f64>() + 2.0 * off.iter().sum::<f64>()
}

/// The sizes: n = 10³, 10⁴, 10⁵, or 200 for `--quick` and `--smoke`.
fn sizes(mode: &Mode) -> Vec<usize> {
    if mode.quick || mode.smoke {
        vec![200]
    } else {
        vec![1000, 10_000, 100_000]
    }
}

/// Bytes over which a dense f64 array is not built (WORKLOADS.md: 4 GB).
const MEMORY_LIMIT: f64 = 4e9;

fn manual(n: usize) -> Entry {
    Entry::timed(
        "W9",
        "chainrule-manual",
        format!("n={n}"),
        "s/hessian",
        "closed form of the 3 diagonals, in Rust",
        move || {
            let x = w9_x(n);
            Prepared::new(move || {
                let (main, off) = closed_form(black_box(&x));
                diagonal_total(&main, &off)
            })
        },
    )
}

fn sparse(n: usize) -> Entry {
    Entry::compiled(
        "W9",
        "chainrule-sparse",
        format!("n={n}"),
        "s/hessian",
        "sparse::SparseHessian: traced once, pattern detected (index sets), the sum split into \
         its 2 repeated term shapes; each shape's Hessian (forward over reverse) compiled once \
         and run over 128 terms per instruction, its entries added into CSR at places found \
         once; s/compile is that preparation, s/hessian one evaluation",
        move || {
            let x = w9_x(n);
            let start = Instant::now();
            let mut plan = SparseHessian::new(n, rosenbrock).map_err(|e| e.to_string())?;
            let compile = start.elapsed().as_secs_f64();
            Ok(Prepared::new(move || {
                let h = plan.eval(black_box(&x)).expect("x has n entries");
                h.values().iter().sum()
            })
            .compile_seconds(compile))
        },
    )
}

fn eager(n: usize) -> Entry {
    let (size, unit) = (format!("n={n}"), "s/hessian");
    let note = "functional::hessian (reverse over reverse), dense";
    let bytes = 8.0 * (n as f64) * (n as f64);
    if bytes > MEMORY_LIMIT {
        return Entry::skipped(
            "W9",
            "chainrule-eager",
            size,
            unit,
            format!(
                "skipped: memory: the dense Hessian is n^2 f64 = {:.0} GB, over the {:.0} GB \
                 limit; {note}",
                bytes / 1e9,
                MEMORY_LIMIT / 1e9
            ),
        );
    }
    Entry::timed("W9", "chainrule-eager", size, unit, note, move || {
        let x = Tensor::from_vec(w9_x(n), &[n]).expect("n values");
        let h = hessian(rosenbrock_tensor);
        Prepared::new(move || h(black_box(&x)).sum().item())
    })
}

/// W9's implementations.
pub fn entries(mode: &Mode) -> Vec<Entry> {
    let sizes = sizes(mode);
    let mut out: Vec<Entry> = sizes.iter().map(|&n| manual(n)).collect();
    out.extend(sizes.iter().map(|&n| sparse(n)));
    out.extend(sizes.iter().map(|&n| eager(n)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_dense_and_closed_form_agree() {
        let n = 30;
        let x = w9_x(n);
        let (main, off) = closed_form(&x);
        let mut plan = SparseHessian::new(n, rosenbrock).unwrap();
        let h = plan.eval(&x).unwrap();
        let dense = hessian(rosenbrock_tensor)(&Tensor::from_vec(x.clone(), &[n]).unwrap());
        for i in 0..n {
            assert!((h.get(i, i) - main[i]).abs() < 1e-12 * main[i].abs().max(1.0));
            assert!((dense.get(&[i, i]).item() - main[i]).abs() < 1e-12 * main[i].abs().max(1.0));
            if i + 1 < n {
                assert_eq!(h.get(i, i + 1), off[i]);
                assert_eq!(dense.get(&[i + 1, i]).item(), off[i]);
            }
        }
        let total = diagonal_total(&main, &off);
        let sparse_total: f64 = h.values().iter().sum();
        assert!((sparse_total - total).abs() < 1e-12 * total.abs());
        assert!((dense.sum().item() - total).abs() < 1e-12 * total.abs());
    }

    #[test]
    fn the_dense_line_is_skipped_at_n_100000() {
        let e = eager(100_000);
        assert!(e
            .note
            .starts_with("skipped: memory: the dense Hessian is n^2 f64 = 80 GB"));
    }
}
