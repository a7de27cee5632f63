//! W4 hessian: the full n × n Hessian of three functions at x, n = 100 and 1000.
//! quadratic ½xᵀAx + bᵀx + c (½(A + Aᵀ)), least-squares ½‖Ax − b‖² (AᵀA),
//! logistic ln(1 + exp⟨a, x⟩) with a = (row 0 of A)/n (σ(1 − σ)aaᵀ).
//! Unit s/hessian; check: the sum of the Hessian's entries.

use std::hint::black_box;

use chainrule::{autograd, functional, matrix, Real, Tensor};
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
    crate::matmul(&a.t(), &a.view())
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

/// W4's data as tensors (constants: only x is differentiated).
pub struct EagerData {
    x: Tensor,
    a: Tensor,
    b: Tensor,
    c: f64,
    /// Row 0 of A divided by n, the logistic's a.
    row: Tensor,
}

impl EagerData {
    /// The tensors of `data`.
    pub fn new(data: &W4Data) -> Self {
        let n = data.x.len();
        let t = |a: ndarray::ArrayD<f64>| Tensor::from_ndarray(a);
        EagerData {
            x: t(data.x.clone().into_dyn()),
            a: t(data.a.clone().into_dyn()),
            b: t(data.b.clone().into_dyn()),
            c: data.c,
            row: t(data.a.row(0).mapv(|v| v / n as f64).into_dyn()),
        }
    }
}

/// Function `name` of x on the tape, as peers.py's `w4_functions` writes it
/// (the logistic's log1p(exp(·)) is chainrule's softplus).
pub fn eager_function(name: &str, x: &Tensor, d: &EagerData) -> Option<Tensor> {
    Some(match name {
        "quadratic" => 0.5 * x.dot(&d.a.matmul(x)) + d.b.dot(x) + d.c,
        "least-squares" => 0.5 * (d.a.matmul(x) - &d.b).powi(2).sum(),
        "logistic" => d.row.dot(x).softplus(),
        _ => return None,
    })
}

/// The Hessian of function `name` at x, as a JAX user writes it:
/// `functional::hessian(f)(x)`, which is reverse over reverse here: the
/// gradient with `create_graph`, then one batched backward pass through its
/// graph with the identity as the batch of output gradients
/// (`autograd::grad_batched`, PyTorch's `is_grads_batched=True`).
pub fn eager(name: &str, d: &EagerData) -> Option<Tensor> {
    eager_function(name, &d.x, d)?;
    Some(functional::hessian(|x: &Tensor| {
        eager_function(name, x, d).expect("the name was checked")
    })(&d.x))
}

/// The Hessian by one backward pass per row (the reference for [`eager`]).
pub fn eager_rows(name: &str, d: &EagerData) -> Option<Tensor> {
    let x = d.x.detach().requires_grad();
    let f = eager_function(name, &x, d)?;
    let grad = |outputs: &[Tensor], seed: Option<&[Tensor]>, create: bool| {
        autograd::grad(
            outputs,
            std::slice::from_ref(&x),
            seed,
            autograd::GradOptions {
                retain_graph: true,
                create_graph: create,
            },
        )
        .expect("f and its gradient depend on x")
        .remove(0)
    };
    let g = grad(&[f], None, true);
    let n = x.numel();
    let rows: Vec<Tensor> = (0..n)
        .map(|i| {
            let e = Tensor::one_hot(&[i], n).expect("i < n").reshape(&[n]);
            grad(std::slice::from_ref(&g), Some(&[e]), false)
        })
        .collect();
    Some(Tensor::stack(&rows, 0))
}

/// Function `name` in the matrix notation of `chainrule matrix`, with its
/// declarations (the logistic's a is the scaled row of A, a vector of its own).
pub fn matrix_source(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "quadratic" => ("1/2*x'*A*x + b'*x + c", "c: scalar"),
        "least-squares" => ("1/2*norm2(A*x - b)^2", ""),
        "logistic" => ("log(1 + exp(a'*x))", ""),
        _ => return None,
    })
}

/// The Hessian of function `name` derived once by `chainrule::matrix`
/// (`1/2*(A + A')`, `A'*A`, `sigmoid(a'*x)*sigmoid(-(a'*x))*a*a'`) and
/// compiled, with the data bound: the program and values to evaluate per call.
pub fn matrix_hessian(
    name: &str,
    d: &EagerData,
) -> Result<(matrix::Program, matrix::Values), String> {
    let (src, decls) = matrix_source(name).ok_or(format!("no function {name}"))?;
    let p = matrix::parse(src, decls).map_err(|e| e.to_string())?;
    let h = p.hessian("x").map_err(|e| e.to_string())?;
    let mut given = vec![("x".to_string(), d.x.clone())];
    match name {
        "logistic" => given.push(("a".into(), d.row.clone())),
        _ => {
            given.push(("A".into(), d.a.clone()));
            given.push(("b".into(), d.b.clone()));
        }
    }
    if name == "quadratic" {
        given.push(("c".into(), Tensor::scalar(d.c)));
    }
    let values = matrix::Values::bind(&p.names, &given).map_err(|e| e.to_string())?;
    Ok((matrix::compile(&h), values))
}

/// W4's implementations.
pub fn entries(mode: &Mode) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (real, smoke) in [(100, 100), (1000, 200)] {
        let (n, smoke_note) = mode.size(real, smoke, "n");
        for name in FUNCTIONS {
            let note = format!(
                "closed form, a new n x n matrix per call (gemm: the gemm crate, {} thread(s))",
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
    for (real, smoke) in [(100, 100), (1000, 200)] {
        let (n, smoke_note) = mode.size(real, smoke, "n");
        for name in FUNCTIONS {
            entries.push(Entry::try_timed(
                "W4",
                "chainrule-eager",
                format!("{name},n={n}"),
                "s/hessian",
                crate::line::join_notes(&[
                    &smoke_note,
                    "functional::hessian on the tape: autograd::grad with create_graph, then \
                     autograd::grad_batched with the identity (reverse over reverse, one batched pass)",
                ])
                .unwrap_or_default(),
                move || {
                    let data = EagerData::new(&w4_data(n));
                    eager(name, &data).ok_or(format!("no function {name}"))?;
                    Ok(Prepared::new(move || {
                        eager(name, black_box(&data)).map_or(f64::NAN, |h| h.sum().item())
                    }))
                },
            ));
        }
    }
    for (real, smoke) in [(100, 100), (1000, 200)] {
        let (n, smoke_note) = mode.size(real, smoke, "n");
        for name in FUNCTIONS {
            entries.push(Entry::compiled(
                "W4",
                "chainrule-matrix",
                format!("{name},n={n}"),
                "s/hessian",
                crate::line::join_notes(&[
                    &smoke_note,
                    "chainrule::matrix: the Hessian derived once as a formula in matrix notation \
                     and compiled (s/compile: parse, derive, compile, bind); per call the \
                     compiled formula is evaluated",
                ])
                .unwrap_or_default(),
                move || {
                    let data = EagerData::new(&w4_data(n));
                    let start = std::time::Instant::now();
                    let (program, values) = matrix_hessian(name, &data)?;
                    let compile = start.elapsed().as_secs_f64();
                    program.eval(&values).map_err(|e| e.to_string())?;
                    Ok(Prepared::new(move || {
                        black_box(&program)
                            .eval(black_box(&values))
                            .map_or(f64::NAN, |h| h.sum().item())
                    })
                    .compile_seconds(compile))
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
    fn eager_hessians_equal_the_closed_forms() {
        let d = w4_data(30);
        let t = EagerData::new(&d);
        for name in FUNCTIONS {
            let h = eager(name, &t).unwrap();
            assert_eq!(h.shape(), &[30, 30]);
            let rows = eager_rows(name, &t).unwrap();
            for (a, b) in h.to_vec().iter().zip(rows.to_vec()) {
                assert!(
                    (a - b).abs() < 1e-12 * b.abs().max(1.0),
                    "{name}: {a} vs {b}"
                );
            }
            let expected = closed_form(name, &d).unwrap();
            for (a, b) in h.to_vec().iter().zip(expected.iter()) {
                assert!(
                    (a - b).abs() < 1e-12 * b.abs().max(1.0),
                    "{name}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn matrix_hessians_equal_the_closed_forms() {
        let d = w4_data(30);
        let t = EagerData::new(&d);
        for name in FUNCTIONS {
            let (program, values) = matrix_hessian(name, &t).unwrap();
            let h = program.eval(&values).unwrap();
            assert_eq!(h.shape(), &[30, 30]);
            let expected = closed_form(name, &d).unwrap();
            for (a, b) in h.to_vec().iter().zip(expected.iter()) {
                assert!(
                    (a - b).abs() < 1e-12 * b.abs().max(1.0),
                    "{name}: {a} vs {b}"
                );
            }
        }
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
