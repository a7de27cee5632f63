//! W8 tall-jacobian: the m × n Jacobian of f(x) = tanh(W x + b), n = 16,
//! m = 4096 and 65536 (`--quick`: 512), J = (1 − t²)[:, None] · W with
//! t = tanh(W x + b). Unit s/jacobian; check: the sum of all m·n entries.
//!
//! Lines: `chainrule-forward` (forward mode, `functional::jacfwd`: one walk
//! with n = 16 tangents), `chainrule-manual` (the closed form in Rust, the
//! limit) and `chainrule-eager` (the default Jacobian, `functional::jacobian`,
//! which is reverse mode: m cotangents in one batched backward pass; skipped
//! at m = 65536, where the m × m identity of cotangents would be 34 GB).

use std::hint::black_box;

use chainrule::functional::{jacfwd, jacobian};
use chainrule::{Real, Tensor};
use ndarray::{Array1, Array2};

use crate::data::{matrix, uniform};
use crate::registry::{Entry, Mode, Prepared};

/// The input width n.
pub const N: usize = 16;

/// W8's x (n values, seed 81), W (m × n row-major, seed 82) and b (m
/// values, seed 83), all uniform in [−1, 1).
pub fn w8_data(m: usize) -> (Array1<f64>, Array2<f64>, Array1<f64>) {
    (
        Array1::from(uniform(81, N, -1.0, 1.0)),
        matrix(82, m, N, -1.0, 1.0),
        Array1::from(uniform(83, m, -1.0, 1.0)),
    )
}

/// The closed form, row by row on slices: t_i = tanh(W_i·x + b_i),
/// J_i = (1 − t_i²) W_i, written once into a new m × n matrix.
pub fn jacobian_closed_form(x: &Array1<f64>, w: &Array2<f64>, b: &Array1<f64>) -> Array2<f64> {
    let n = x.len();
    let (xs, ws, bs) = (
        x.as_slice().expect("contiguous x"),
        w.as_slice().expect("row-major W"),
        b.as_slice().expect("contiguous b"),
    );
    let mut j = Vec::with_capacity(ws.len());
    for (row, &bi) in ws.chunks_exact(n).zip(bs) {
        let z: f64 = row.iter().zip(xs).map(|(a, b)| a * b).sum::<f64>() + bi;
        let t = z.tanh();
        let d = 1.0 - t * t;
        j.extend(row.iter().map(|&wv| d * wv));
    }
    Array2::from_shape_vec(w.raw_dim(), j).expect("m * n values")
}

/// The function on the tape.
fn f<'a>(w: &'a Tensor, b: &'a Tensor) -> impl Fn(&Tensor) -> Tensor + 'a {
    move |x| (w.matmul(x) + b).tanh()
}

/// The data as tensors.
fn tensors(m: usize) -> [Tensor; 3] {
    let (x, w, b) = w8_data(m);
    [x.into_dyn(), w.into_dyn(), b.into_dyn()].map(Tensor::from_ndarray)
}

/// The largest m whose m × m identity of output cotangents stays under
/// WORKLOADS.md's 4 GB for one dense f64 array.
const REVERSE_LIMIT: usize = 1 << 14;

fn line(implementation: &'static str, m: usize) -> Entry {
    let size = format!("m={m}");
    match implementation {
        "chainrule-manual" => Entry::timed(
            "W8",
            implementation,
            size,
            "s/jacobian",
            "closed form (1 - t^2)[:, None] * W, row by row in Rust",
            move || {
                let (x, w, b) = w8_data(m);
                Prepared::new(move || {
                    jacobian_closed_form(black_box(&x), black_box(&w), black_box(&b)).sum()
                })
            },
        ),
        "chainrule-forward" => Entry::timed(
            "W8",
            implementation,
            size,
            "s/jacobian",
            "forward mode: functional::jacfwd, one walk with n = 16 tangents",
            move || {
                let [x, w, b] = tensors(m);
                Prepared::new(move || jacfwd(f(&w, &b))(black_box(&x)).sum().item())
            },
        ),
        _ if m > REVERSE_LIMIT => Entry::skipped(
            "W8",
            implementation,
            size,
            "s/jacobian",
            "skipped: memory (reverse mode's m x m identity of cotangents is 34 GB)",
        ),
        _ => Entry::timed(
            "W8",
            implementation,
            size,
            "s/jacobian",
            format!(
                "reverse mode: functional::jacobian (= jacrev), m cotangents in one batched \
                 backward pass (gemm: {} thread(s))",
                crate::gemm_threads()
            ),
            move || {
                let [x, w, b] = tensors(m);
                Prepared::new(move || jacobian(f(&w, &b))(black_box(&x)).sum().item())
            },
        ),
    }
}

/// W8's implementations.
pub fn entries(mode: &Mode) -> Vec<Entry> {
    let sizes: &[usize] = if mode.quick || mode.smoke {
        &[512]
    } else {
        &[4096, 65536]
    };
    ["chainrule-manual", "chainrule-forward", "chainrule-eager"]
        .into_iter()
        .flat_map(|imp| sizes.iter().map(move |&m| line(imp, m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_reverse_equal_the_closed_form() {
        let m = 40;
        let (x, w, b) = w8_data(m);
        let closed = jacobian_closed_form(&x, &w, &b);
        let [tx, tw, tb] = tensors(m);
        for j in [jacfwd(f(&tw, &tb))(&tx), jacobian(f(&tw, &tb))(&tx)] {
            assert_eq!(j.shape(), &[m, N]);
            for (u, v) in j.to_vec().iter().zip(closed.iter()) {
                assert!((u - v).abs() < 1e-14, "{u} vs {v}");
            }
        }
    }

    #[test]
    fn the_closed_form_matches_finite_differences() {
        let (x, w, b) = w8_data(8);
        let j = jacobian_closed_form(&x, &w, &b);
        let fx = |x: &Array1<f64>| (w.dot(x) + &b).mapv(f64::tanh);
        for k in [0, 7, 15] {
            let h = 1e-6;
            let mut plus = x.clone();
            plus[k] += h;
            let mut minus = x.clone();
            minus[k] -= h;
            let fd = (fx(&plus) - fx(&minus)) / (2.0 * h);
            for i in 0..8 {
                assert!((fd[i] - j[[i, k]]).abs() < 1e-8);
            }
        }
    }

    #[test]
    fn quick_runs_one_small_size_and_reverse_is_skipped_when_too_big() {
        let quick = Mode {
            quick: true,
            smoke: false,
        };
        let sizes: Vec<String> = entries(&quick).iter().map(|e| e.size.clone()).collect();
        assert_eq!(sizes, ["m=512"; 3]);
        let lines = line("chainrule-eager", 65536).run(&quick);
        assert_eq!((lines[0].seconds, lines[0].check), (None, None));
        assert!(lines[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("skipped: memory"));
    }
}
