//! Seed 004, exercise 2: linear regression f = w·x by gradient descent,
//! first with the seed's hand-written gradient, then the PyTorch way
//! (`loss.backward()` and an optimiser step), each timed; then
//! `check::gradcheck` shows that the hand-written gradient is n times too
//! large.
//!
//! The data: X = 1, 2, 3, 4, Y = 2X, w₀ = 0, learning rate 0.01, 20 epochs.
//! The loss is J(w) = mean((w·x − y)²), whose gradient is
//! mean(2x(w·x − y)). The seed writes `np.dot(2*x, y_pred - y).mean()`: the
//! dot product already sums over the n = 4 samples into one number, and the
//! `.mean()` of one number divides by 1, so its step is 4 times the gradient
//! step (w converges faster, but for the wrong reason: with a larger lr it
//! would diverge where true gradient descent does not).
//!
//! Run: `cargo run --release --example linreg`

use std::hint::black_box;
use std::time::Instant;

use chainrule::check::{self, GradcheckOptions};
use chainrule::nn::{loss::mse, Parameter};
use chainrule::optim::{Optimizer, Sgd, SgdConfig};
use chainrule::{Result, Tensor};

const X: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
const Y: [f64; 4] = [2.0, 4.0, 6.0, 8.0];
const LEARNING_RATE: f64 = 0.01;
const N_ITERS: usize = 20;
/// Runs per timing, so that one 20-epoch loop's few microseconds show.
const TIMING_RUNS: u32 = 2_000;

/// A hand-written dJ/dw, given x, y and the predictions.
type Gradient = fn(&[f64], &[f64], &[f64]) -> f64;

/// The seed's `np.dot(2*x, y_pred - y).mean()`: the sum over the samples
/// (the mean of a single number is that number).
fn seed_gradient(x: &[f64], y: &[f64], y_pred: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .zip(y_pred)
        .map(|((x, y), p)| 2.0 * x * (p - y))
        .sum()
}

/// The gradient of the mean: mean(2x(y_pred − y)).
fn mean_gradient(x: &[f64], y: &[f64], y_pred: &[f64]) -> f64 {
    seed_gradient(x, y, y_pred) / x.len() as f64
}

/// The seed's loop in plain f64 with a hand-written gradient; prints as the
/// seed prints when `print`, and returns w after each epoch.
fn manual_loop(gradient: Gradient, print: bool) -> Vec<f64> {
    let mut w = 0.0;
    let forward = |w: f64, x: f64| w * x;
    if print {
        println!("Prediction before training: f(5) = {:.3}", forward(w, 5.0));
    }
    let mut ws = Vec::with_capacity(N_ITERS);
    for epoch in 0..N_ITERS {
        let y_pred: Vec<f64> = X.iter().map(|&x| forward(w, x)).collect();
        let l = y_pred
            .iter()
            .zip(&Y)
            .map(|(p, y)| (p - y).powi(2))
            .sum::<f64>()
            / X.len() as f64;
        let dw = gradient(&X, &Y, &y_pred);
        w -= LEARNING_RATE * dw;
        ws.push(w);
        if print && epoch % 2 == 0 {
            println!("epoch {}: w = {w:.3}, loss = {l:.8}", epoch + 1);
        }
    }
    if print {
        println!("Prediction after training: f(5) = {:.3}", forward(w, 5.0));
    }
    ws
}

/// The same loop the PyTorch way: w a parameter, the loss `mse(w·x, y)`,
/// `loss.backward()` and an SGD step (zero_grad, backward and step are
/// `step_with`). Returns w after each epoch.
fn autograd_loop(print: bool) -> Result<Vec<f64>> {
    let x = Tensor::from_vec(X.to_vec(), &[4])?;
    let y = Tensor::from_vec(Y.to_vec(), &[4])?;
    let w = Parameter::new(Tensor::scalar(0.0));
    let forward = |x: &Tensor| &w.value() * x;
    let mut opt = Sgd::new(
        vec![w.clone()],
        SgdConfig {
            lr: LEARNING_RATE,
            ..Default::default()
        },
    )?;
    if print {
        println!(
            "Prediction before training: f(5) = {:.3}",
            forward(&Tensor::scalar(5.0)).item()
        );
    }
    let mut ws = Vec::with_capacity(N_ITERS);
    for epoch in 0..N_ITERS {
        let l = opt.step_with(|| mse(&forward(&x), &y))?;
        let wv = w.value().item();
        ws.push(wv);
        if print && epoch % 2 == 0 {
            println!("epoch {}: w = {wv:.3}, loss = {l:.8}", epoch + 1);
        }
    }
    if print {
        println!(
            "Prediction after training: f(5) = {:.3}",
            forward(&Tensor::scalar(5.0)).item()
        );
    }
    Ok(ws)
}

/// Mean time of `f` over [`TIMING_RUNS`] runs, in microseconds.
fn time_us<T>(mut f: impl FnMut() -> T) -> f64 {
    black_box(f());
    let start = Instant::now();
    for _ in 0..TIMING_RUNS {
        black_box(f());
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(TIMING_RUNS)
}

/// The loss J(w) as a tensor function of w (for the gradient check).
fn loss(w: &Tensor) -> Tensor {
    let x = Tensor::from_vec(X.to_vec(), &[4]).expect("4 values");
    let y = Tensor::from_vec(Y.to_vec(), &[4]).expect("4 values");
    mse(&(w * &x), &y).expect("equal shapes")
}

/// J(w) whose recorded gradient is the hand-written one: the value of J,
/// plus (w − w)·g with only the first w tracked, so autograd reports g while
/// finite differences see J itself. `gradcheck` then compares g with the
/// true derivative.
fn with_hand_gradient(w: &Tensor, gradient: Gradient) -> Tensor {
    let w0 = w.detach();
    let y_pred: Vec<f64> = X.iter().map(|&x| w0.item() * x).collect();
    let g = gradient(&X, &Y, &y_pred);
    loss(&w0) + (w - &w0) * g
}

fn main() -> Result<()> {
    println!("Seed 004: f = w*x fitted to X = 1..4, Y = 2X from w = 0, lr {LEARNING_RATE}, {N_ITERS} epochs");
    println!();
    println!("1. The seed's hand-written gradient, np.dot(2*x, y_pred - y).mean()");
    let seed_ws = manual_loop(seed_gradient, true);
    println!();
    println!("2. Autograd: loss.backward() and optim::Sgd");
    let auto_ws = autograd_loop(true)?;
    println!();
    let mean_ws = manual_loop(mean_gradient, false);
    let gap = mean_ws
        .iter()
        .zip(&auto_ws)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!(
        "3. The hand-written gradient corrected to mean(2x(y_pred - y)) gives autograd's w at every epoch \
         (largest difference {gap:.1e}); the seed's w is ahead: {:.3} against {:.3} after epoch 1.",
        seed_ws[0], auto_ws[0]
    );
    println!();

    let t_seed = time_us(|| manual_loop(seed_gradient, false));
    let t_mean = time_us(|| manual_loop(mean_gradient, false));
    let t_auto = time_us(|| autograd_loop(false).expect("the loop runs"));
    println!("Time per {N_ITERS}-epoch run (mean of {TIMING_RUNS} runs, release build):");
    println!("  hand-written gradient, plain f64 (the seed's) {t_seed:>9.2} µs");
    println!("  hand-written gradient, plain f64 (corrected)  {t_mean:>9.2} µs");
    println!("  autograd (tensors, backward, Sgd)             {t_auto:>9.2} µs");
    println!("  (autograd pays for building and walking a graph each epoch; on 4 numbers that is all there is)");
    println!();

    println!("Gradient check at w = 0 (check::gradcheck: the recorded gradient against finite differences of J):");
    let at = [Tensor::scalar(0.0)];
    let opts = GradcheckOptions::default();
    let seeds = check::gradcheck(|w| with_hand_gradient(&w[0], seed_gradient), &at, opts)?;
    let fixed = check::gradcheck(|w| with_hand_gradient(&w[0], mean_gradient), &at, opts)?;
    let auto = check::gradcheck(|w| loss(&w[0]), &at, opts)?;
    println!("  the seed's gradient:     {seeds}");
    if let Some(e) = &seeds.worst {
        println!(
            "    analytic / numeric = {:.6}: n = {} times too large (the sum over the samples, not the mean)",
            e.analytic / e.numeric,
            X.len()
        );
    }
    println!("  the corrected gradient:  {fixed}");
    println!("  autograd's gradient:     {auto}");
    Ok(())
}
