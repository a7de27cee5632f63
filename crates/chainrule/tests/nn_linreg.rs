//! Seed 004's linear regression, the PyTorch way (a parameter, `mse`,
//! `backward`, `optim::Sgd`), against the closed form of gradient descent.
//!
//! J(w) = mean((w·x − y)²) with y = 2x has J'(w) = 2·mean(x²)·(w − 2), so a
//! step w ← w − lr·J'(w) gives w_k − 2 = r^k (w_0 − 2), r = 1 − 2·lr·mean(x²).

use chainrule::check;
use chainrule::nn::{loss::mse, Parameter};
use chainrule::optim::{Optimizer, Sgd, SgdConfig};
use chainrule::Tensor;

const X: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
const LR: f64 = 0.01;
const TOL: f64 = 1e-3;

fn data() -> (Tensor, Tensor) {
    let x = Tensor::from_vec(X.to_vec(), &[4]).unwrap();
    let y = &x * 2.0;
    (x, y)
}

#[test]
fn converges_to_two_in_the_epoch_count_the_closed_form_predicts() {
    let mean_x2 = X.iter().map(|x| x * x).sum::<f64>() / X.len() as f64; // 7.5
    let r = 1.0 - 2.0 * LR * mean_x2; // 0.85
    let w0 = 0.0;
    // |w_k − 2| = r^k·|w0 − 2| ≤ TOL first at k = ⌈ln(TOL/|w0 − 2|) / ln r⌉:
    // ln(5e-4)/ln(0.85) = 46.77, so k = 47.
    let k_star = ((TOL / (w0 - 2.0f64).abs()).ln() / r.ln()).ceil() as usize;
    assert_eq!(k_star, 47);

    let (x, y) = data();
    let w = Parameter::new(Tensor::scalar(w0));
    let mut opt = Sgd::new(
        vec![w.clone()],
        SgdConfig {
            lr: LR,
            ..Default::default()
        },
    )
    .unwrap();
    for k in 1..=k_star {
        opt.step_with(|| mse(&(&w.value() * &x), &y)).unwrap();
        let wk = w.value().item();
        let closed = 2.0 + r.powi(k as i32) * (w0 - 2.0);
        assert!((wk - closed).abs() < 1e-12, "epoch {k}: {wk} vs {closed}");
        if k < k_star {
            assert!((wk - 2.0).abs() > TOL, "epoch {k}: already within {TOL}");
        }
    }
    assert!((w.value().item() - 2.0).abs() <= TOL);
}

#[test]
fn the_seeds_hand_written_gradient_is_n_times_the_true_one() {
    // The seed's np.dot(2*x, y_pred - y).mean() is Σ 2x(wx − y) (the mean of a
    // scalar is the scalar); the derivative of J = mean((wx − y)²) is that sum
    // divided by n = 4. At w = 0: Σ 2x(−2x) = −4·30 = −120, J'(0) = −30.
    let (x, y) = data();
    let seed_gradient =
        |w: f64| -> f64 { X.iter().map(|&xi| 2.0 * xi * (w * xi - 2.0 * xi)).sum() };
    for w in [0.0, 1.2, 3.0] {
        let numeric =
            check::finite_difference(|v| mse(&(&v[0] * &x), &y).unwrap(), &[Tensor::scalar(w)])
                .unwrap()[0]
                .item();
        assert!(
            (numeric - 15.0 * (w - 2.0)).abs() < 1e-8,
            "J'({w}) = {numeric}"
        );
        assert!((seed_gradient(w) / numeric - 4.0).abs() < 1e-9);
    }
    // With that gradient the step factor is 1 − 4·2·lr·mean(x²) = 0.4: the
    // seed's printed w after epoch 1 is 2 − 2·0.4 = 1.2 and after epoch 3
    // 2 − 2·0.4³ = 1.872.
    let mut w = 0.0;
    let mut ws = Vec::new();
    for _ in 0..3 {
        w -= LR * seed_gradient(w);
        ws.push(w);
    }
    assert!((ws[0] - 1.2).abs() < 1e-12 && (ws[2] - 1.872).abs() < 1e-12);
}
