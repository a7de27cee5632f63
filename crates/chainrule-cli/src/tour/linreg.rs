//! Seed 004, exercise 2: linear regression by gradient descent, the seed's
//! manual gradient against autograd, and their times. The gradient check
//! finds that the seed's `np.dot(2*x, y_pred - y).mean()` is n times too
//! large (np.dot already sums over the samples; the mean of a scalar is the
//! scalar), so the tour trains with the seed's gradient, with autograd, and
//! with the corrected manual gradient, and shows that the last two agree.

use std::time::Instant;

use chainrule::{Real, Tensor};

use super::{Check, Section};
use crate::json::{num_text, Json};

const XS: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
const YS: [f64; 4] = [2.0, 4.0, 6.0, 8.0];
const LR: f64 = 0.01;
const ITERS: usize = 20;

fn loss(w: f64) -> f64 {
    XS.iter()
        .zip(YS)
        .map(|(x, y)| (w * x - y).powi(2))
        .sum::<f64>()
        / XS.len() as f64
}

/// The seed's manual gradient, transcribed: np.dot(2*x, y_pred - y).mean().
fn seed_gradient(w: f64) -> f64 {
    let dot: f64 = XS.iter().zip(YS).map(|(x, y)| 2.0 * x * (w * x - y)).sum();
    // .mean() of a 0-d array is the value itself.
    dot
}

/// The corrected manual gradient: (2·x·(y_pred − y)).mean().
fn corrected_gradient(w: f64) -> f64 {
    seed_gradient(w) / XS.len() as f64
}

/// dJ/dw by autograd: the loss built on tensors, then backward().
fn autograd_gradient(w: f64, x: &Tensor, y: &Tensor) -> (f64, f64) {
    let wt = Tensor::scalar(w).requires_grad();
    let y_pred = &wt * x;
    let l = (y_pred - y).square().mean();
    let value = l.item();
    match l.backward() {
        Ok(()) => (value, wt.grad().map_or(f64::NAN, |g| g.item())),
        Err(_) => (value, f64::NAN),
    }
}

/// Trains for ITERS epochs with `grad`, returning (w, loss) before each update.
fn train(grad: &mut dyn FnMut(f64) -> f64) -> (Vec<(f64, f64)>, f64) {
    let mut w = 0.0;
    let mut log = Vec::new();
    for _ in 0..ITERS {
        let l = loss(w);
        let dw = grad(w);
        w -= LR * dw;
        log.push((w, l));
    }
    (log, w)
}

/// Exercise 2.
pub fn section() -> Section {
    let x = Tensor::from_vec(XS.to_vec(), &[4]).expect("x");
    let y = Tensor::from_vec(YS.to_vec(), &[4]).expect("y");
    let n = XS.len() as f64;

    // The gradient check at the starting point w = 0.
    let w0 = 0.0;
    let seed_g = seed_gradient(w0);
    let (_, auto_g) = autograd_gradient(w0, &x, &y);
    let fd_g = crate::fd::derivative(loss, w0);
    let fixed_g = corrected_gradient(w0);

    let (seed_log, seed_w) = train(&mut seed_gradient);
    let (auto_log, auto_w) = train(&mut |w| autograd_gradient(w, &x, &y).1);
    let (fixed_log, fixed_w) = train(&mut corrected_gradient);

    // Rough timings of the 20 epochs, best of several runs.
    let time = |f: &mut dyn FnMut()| {
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let t = Instant::now();
            f();
            best = best.min(t.elapsed().as_secs_f64());
        }
        best
    };
    let t_manual = time(&mut || {
        std::hint::black_box(train(&mut |w| corrected_gradient(std::hint::black_box(w))));
    });
    let t_auto = time(&mut || {
        std::hint::black_box(train(&mut |w| autograd_gradient(w, &x, &y).1));
    });

    let mut text = String::new();
    text.push_str("   f = w·x, loss J = mean((w·x − y)²), x = [1, 2, 3, 4], y = [2, 4, 6, 8], lr = 0.01, 20 epochs\n");
    text.push_str("   Gradient check at w = 0:\n");
    text.push_str(&format!(
        "     seed's manual np.dot(2*x, y_pred - y).mean()  {}\n",
        num_text(seed_g)
    ));
    text.push_str(&format!(
        "     autograd dJ/dw                                {}\n",
        num_text(auto_g)
    ));
    text.push_str(&format!(
        "     finite difference of J                        {}\n",
        num_text(fd_g)
    ));
    text.push_str(&format!(
        "   → the seed's manual gradient is {} = n times too large: np.dot already sums over the\n     n = 4 samples, and .mean() of that scalar divides by 1. Corrected: np.dot(2*x, y_pred - y) / n\n     = (2*x*(y_pred - y)).mean() = {} (agrees with autograd).\n",
        num_text(seed_g / auto_g),
        num_text(fixed_g)
    ));
    text.push_str("   Training (every other epoch, as the seed prints):\n");
    let mut t = crate::table::Table::new(&[crate::table::Align::Right; 4]).header([
        "epoch",
        "seed's gradient",
        "autograd",
        "corrected manual",
    ]);
    for e in (0..ITERS).step_by(2) {
        let cell = |log: &[(f64, f64)]| format!("w = {:.3}, loss = {:.8}", log[e].0, log[e].1);
        t.row([
            (e + 1).to_string(),
            cell(&seed_log),
            cell(&auto_log),
            cell(&fixed_log),
        ]);
    }
    text.push_str(&t.render());
    text.push_str(&format!(
        "   Prediction after training: f(5) = {:.3} (seed's gradient), {:.3} (autograd), {:.3} (corrected manual)\n",
        5.0 * seed_w,
        5.0 * auto_w,
        5.0 * fixed_w
    ));
    text.push_str(&format!(
        "   Time for the 20 epochs (rough, best of 20 runs): manual {:.1} µs, autograd {:.1} µs\n",
        t_manual * 1e6,
        t_auto * 1e6
    ));

    let mut checks = vec![
        Check::numbers(
            "autograd vs finite differences at w = 0",
            auto_g,
            fd_g,
            1e-9,
            1e-12,
        ),
        Check::numbers(
            "corrected manual vs autograd at w = 0",
            fixed_g,
            auto_g,
            1e-14,
            0.0,
        ),
        // The finding: the seed's gradient is exactly n times autograd's.
        Check::numbers(
            "the seed's manual gradient is n × autograd's (found)",
            seed_g,
            n * auto_g,
            1e-14,
            0.0,
        ),
    ];
    let worst = auto_log
        .iter()
        .zip(&fixed_log)
        .map(|(a, b)| crate::fd::rel_err(a.0, b.0))
        .fold(0.0, f64::max);
    checks.push(Check {
        what: "corrected manual vs autograd: w at every epoch".into(),
        ok: worst <= 1e-12,
        rel_err: worst,
        printed: false,
    });
    Section {
        seed: "004",
        id: "Exercise 2".into(),
        title: "linear regression: the seed's manual gradient against autograd, and their times"
            .into(),
        text,
        checks,
        json: Json::object()
            .with("gradient_at_0_seed_manual", seed_g)
            .with("gradient_at_0_autograd", auto_g)
            .with("gradient_at_0_finite_difference", fd_g)
            .with("ratio", seed_g / auto_g)
            .with("w_after_seed_manual", seed_w)
            .with("w_after_autograd", auto_w)
            .with("w_after_corrected_manual", fixed_w)
            .with("seconds_manual", t_manual)
            .with("seconds_autograd", t_auto),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_gradient_is_four_times_too_large() {
        // At w = 0: Σ 2x(0 − y) = −2·(2 + 8 + 18 + 32) = −120; the MSE gradient is −120/4 = −30.
        assert_eq!(seed_gradient(0.0), -120.0);
        let x = Tensor::from_vec(XS.to_vec(), &[4]).unwrap();
        let y = Tensor::from_vec(YS.to_vec(), &[4]).unwrap();
        let (l, g) = autograd_gradient(0.0, &x, &y);
        assert_eq!(l, 30.0);
        assert_eq!(g, -30.0);
        let s = section();
        assert!(s.checks.iter().all(|c| c.ok), "{:?}", s.checks);
    }
}
