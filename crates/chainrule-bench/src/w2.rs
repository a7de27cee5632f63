//! W2 linreg-gd: 20 steps of gradient descent on mean((w·x − y)²) from w = 0,
//! x = linspace(1, 4, n), y = 2x, learning rate 0.01. Unit s/iter; check w.

use std::hint::black_box;

use chainrule::compiled::{self, SampleProgram};
use chainrule::{autograd, Real, Tensor};

use crate::data::linspace;

use crate::registry::{Entry, Mode, Prepared};

/// Learning rate and iterations of one call.
pub const LR: f64 = 0.01;
/// Iterations of one call (the line is per iteration).
pub const ITERS: usize = 20;

/// The 20 iterations by hand, the loss and the correct gradient
/// mean(2x(wx − y)) in one pass over the data per iteration; returns w.
pub fn manual(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mut w = 0.0;
    for _ in 0..ITERS {
        let (mut loss, mut grad) = (0.0, 0.0);
        for (&xi, &yi) in x.iter().zip(y) {
            let r = w * xi - yi;
            loss += r * r;
            grad += 2.0 * xi * r;
        }
        black_box(loss / n);
        w -= LR * (grad / n);
    }
    w
}

/// The per-sample loss (w·x − y)², generic over [`Real`].
pub fn sample_loss<T: Real>(w: &T, x: &T, y: &T) -> T {
    (w.clone() * x.clone() - y.clone()).square()
}

/// The per-sample loss compiled with its gradient with respect to w.
pub fn compile() -> Result<SampleProgram, chainrule::Error> {
    compiled::per_sample(1, 2, |w, s| sample_loss(&w[0], &s[0], &s[1]))
}

/// The 20 iterations with the compiled, fused loss and gradient (one pass
/// over x and y per iteration); returns w.
pub fn compiled_descent(program: &mut SampleProgram, x: &[f64], y: &[f64]) -> f64 {
    let mut w = 0.0;
    let mut grad = [0.0];
    for _ in 0..ITERS {
        let loss = program
            .mean_value_and_grad(&[w], &[x, y], &mut grad)
            .unwrap_or(f64::NAN);
        black_box(loss);
        w -= LR * grad[0];
    }
    w
}

/// The 20 iterations on the tape, as PyTorch's `torch_gd` in peers.py:
/// `loss = ((w*x - y)**2).mean(); loss.backward()`, then the update in
/// place without recording (`w -= lr * w.grad` under `no_grad` is
/// [`Tensor::add_scaled_`] with α = −lr: the same values as `w - lr * g`)
/// and `w.grad = None`; returns w.
pub fn eager(x: &Tensor, y: &Tensor) -> f64 {
    let mut w = Tensor::scalar(0.0).requires_grad();
    for _ in 0..ITERS {
        let loss = (&w * x - y).powi(2).mean();
        loss.backward()
            .expect("the loss is a scalar computed from w");
        let g = w.grad().expect("w is a leaf the loss depends on");
        w.add_scaled_(&g, -LR).expect("w is a leaf of g's shape");
        w.zero_grad();
    }
    w.item()
}

/// [`eager`] with the update as a new leaf each iteration (`w - lr * g`
/// under `no_grad`), as the bench measured it up to wave 7; returns w (the
/// same bits: a test checks it).
pub fn eager_new_leaf(x: &Tensor, y: &Tensor) -> f64 {
    let mut w = Tensor::scalar(0.0).requires_grad();
    for _ in 0..ITERS {
        let loss = (&w * x - y).powi(2).mean();
        loss.backward()
            .expect("the loss is a scalar computed from w");
        let g = w.grad().expect("w is a leaf the loss depends on");
        w = autograd::no_grad_scope(|| &w - LR * g).requires_grad();
    }
    w.item()
}

/// W2's implementations.
pub fn entries(_mode: &Mode) -> Vec<Entry> {
    [4, 1_000_000]
        .into_iter()
        .flat_map(|n| {
            let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
            let compiled = Entry::compiled(
                "W2",
                "chainrule-compiled",
                format!("n={n}"),
                "s/iter",
                format!(
                    "compiled::per_sample: the loss of one sample traced once with its gradient, \
                     run over the data in one fused pass per iteration (blocks of 128 samples, \
                     up to {threads} thread(s), at least 32768 samples each); s/compile is the \
                     tracing and lowering"
                ),
                move || {
                    let start = std::time::Instant::now();
                    let mut program = compile().map_err(|e| e.to_string())?;
                    let compile_seconds = start.elapsed().as_secs_f64();
                    let x = linspace(1.0, 4.0, n);
                    let y: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
                    Ok(Prepared::new(move || {
                        compiled_descent(&mut program, black_box(&x), black_box(&y))
                    })
                    .scale(1.0 / ITERS as f64)
                    .compile_seconds(compile_seconds))
                },
            );
            let manual = Entry::timed(
                "W2",
                "chainrule-manual",
                format!("n={n}"),
                "s/iter",
                "correct gradient mean(2x(wx - y)); loss and gradient in one pass",
                move || {
                    let x = linspace(1.0, 4.0, n);
                    let y: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
                    Prepared::new(move || manual(black_box(&x), black_box(&y)))
                        .scale(1.0 / ITERS as f64)
                },
            );
            [compiled, manual]
        })
        .chain([4, 1_000_000].map(eager_entry))
        .collect()
}

fn eager_entry(n: usize) -> Entry {
    Entry::timed(
        "W2",
        "chainrule-eager",
        format!("n={n}"),
        "s/iter",
        "the tape: ((w*x - y)^2).mean(), backward(), update under no_grad",
        move || {
            let xs = linspace(1.0, 4.0, n);
            let ys: Vec<f64> = xs.iter().map(|v| 2.0 * v).collect();
            let x = Tensor::from_vec(xs, &[n]).expect("n values");
            let y = Tensor::from_vec(ys, &[n]).expect("n values");
            Prepared::new(move || eager(black_box(&x), black_box(&y))).scale(1.0 / ITERS as f64)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_data_closed_form() {
        // x = 1..4, y = 2x: grad = 2(w − 2)·mean(x²) = 15(w − 2), so
        // w_{t+1} − 2 = (1 − 0.15)(w_t − 2) and w_20 = 2 − 2·0.85^20.
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [2.0, 4.0, 6.0, 8.0];
        let expected = 2.0 - 2.0 * 0.85f64.powi(20);
        assert!((manual(&x, &y) - expected).abs() < 1e-12);
    }

    #[test]
    fn compiled_descent_closed_forms() {
        let mut p = compile().unwrap();
        let (x, y) = ([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]);
        let expected = 2.0 - 2.0 * 0.85f64.powi(20);
        assert!((compiled_descent(&mut p, &x, &y) - expected).abs() < 1e-12);
        // Full blocks, a tail, and two threads' shares.
        for (n, threads) in [(1001, 1), (70_001, 2)] {
            p.set_threads(threads);
            let x = linspace(1.0, 4.0, n);
            let y: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
            let m2 = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
            let expected = 2.0 - 2.0 * (1.0 - 0.02 * m2).powi(20);
            let w = compiled_descent(&mut p, &x, &y);
            assert!((w - expected).abs() < 1e-12, "n = {n}: {w} vs {expected}");
        }
    }

    #[test]
    fn large_n_closed_form() {
        // Same contraction with mean(x²) of the linspace: w_20 = 2 − 2(1 − 0.02·mean(x²))^20.
        let x = linspace(1.0, 4.0, 1001);
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
        let m2 = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
        let expected = 2.0 - 2.0 * (1.0 - 0.02 * m2).powi(20);
        assert!((manual(&x, &y) - expected).abs() < 1e-12);
    }

    #[test]
    fn eager_matches_the_closed_forms() {
        for n in [4, 1001] {
            let xs = linspace(1.0, 4.0, n);
            let m2 = xs.iter().map(|v| v * v).sum::<f64>() / n as f64;
            let expected = 2.0 - 2.0 * (1.0 - 0.02 * m2).powi(20);
            let ys: Vec<f64> = xs.iter().map(|v| 2.0 * v).collect();
            let x = Tensor::from_vec(xs, &[n]).unwrap();
            let y = Tensor::from_vec(ys, &[n]).unwrap();
            assert!((eager(&x, &y) - expected).abs() < 1e-12, "n = {n}");
            // The in-place update and a new leaf: the same bits.
            assert_eq!(eager(&x, &y).to_bits(), eager_new_leaf(&x, &y).to_bits());
        }
        // n = 4: the check value of every run since wave 5.
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
        let y = Tensor::from_vec(vec![2.0, 4.0, 6.0, 8.0], &[4]).unwrap();
        assert_eq!(eager(&x, &y), 1.9224809378309713);
    }
}
