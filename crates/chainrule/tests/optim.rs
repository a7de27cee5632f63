//! Optimiser steps against arithmetic done by hand (PyTorch's update rules).

use chainrule::nn::{loss::mse, Linear, Module, Parameter};
use chainrule::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use chainrule::{tensor, Real, Tensor};

/// The tiny model of these tests: y = w·x + b with w = (0.5, −1), b = 0.25,
/// one sample x = (1, 2) with target 1, loss (y − 1)².
fn tiny() -> (Linear, Tensor, Tensor) {
    let model = Linear::from_tensors(tensor![[0.5, -1.0]], Some(tensor![0.25])).unwrap();
    (model, tensor![[1.0, 2.0]], tensor![[1.0]])
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

#[test]
fn two_sgd_steps_with_momentum_and_weight_decay() {
    let (model, x, y) = tiny();
    let cfg = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 0.01,
        ..Default::default()
    };
    let mut opt = Sgd::new(model.parameters(), cfg).unwrap();

    // Step 1. y = 0.5 − 2 + 0.25 = −1.25, residual −2.25, loss 5.0625,
    // dL/dy = −4.5: g_w = −4.5·(1, 2) = (−4.5, −9), g_b = −4.5.
    // With decay: d_w = g_w + 0.01·w = (−4.495, −9.01), d_b = −4.5 + 0.0025 = −4.4975.
    // First step: buffer b = d. w ← w − 0.1·d = (0.9495, −0.099), b ← 0.69975.
    let loss = opt.step_with(|| mse(&model.forward(&x)?, &y)).unwrap();
    assert!((loss - 5.0625).abs() < 1e-15);
    assert!(close(
        &model.weight().value().to_vec(),
        &[0.9495, -0.099],
        1e-15
    ));
    assert!(close(
        &model.bias().unwrap().value().to_vec(),
        &[0.69975],
        1e-15
    ));
    // The gradient stays on the parameter after the step, as in PyTorch.
    assert_eq!(model.weight().grad().unwrap().to_vec(), vec![-4.5, -9.0]);

    // Step 2. y = 0.9495 − 0.198 + 0.69975 = 1.45125, dL/dy = 0.9025:
    // g_w = (0.9025, 1.805), g_b = 0.9025; d_w = g_w + 0.01·(0.9495, −0.099)
    // = (0.911995, 1.80401), d_b = 0.9025 + 0.0069975 = 0.9094975.
    // Buffer: 0.9·(−4.495, −9.01) + d_w = (−3.133505, −6.30499),
    // 0.9·(−4.4975) + d_b = −3.1382525.
    // w ← (0.9495, −0.099) − 0.1·buffer = (1.2628505, 0.531499), b ← 1.01357525.
    let loss = opt.step_with(|| mse(&model.forward(&x)?, &y)).unwrap();
    assert!((loss - 0.45125f64 * 0.45125).abs() < 1e-14);
    assert!(close(
        &model.weight().value().to_vec(),
        &[1.2628505, 0.531499],
        1e-14
    ));
    assert!(close(
        &model.bias().unwrap().value().to_vec(),
        &[1.01357525],
        1e-14
    ));
}

/// A scalar parameter whose gradient is set to 1 before each of `steps` steps.
fn run_with_unit_gradient(cfg: SgdConfig, steps: usize) -> f64 {
    let w = Parameter::new(Tensor::scalar(1.0));
    let mut opt = Sgd::new(vec![w.clone()], cfg).unwrap();
    for _ in 0..steps {
        w.value().set_grad(Some(Tensor::scalar(1.0)));
        opt.step().unwrap();
    }
    w.value().item()
}

#[test]
fn sgd_nesterov_and_dampening() {
    // Nesterov, μ = 0.5, lr 0.1, g = 1: b₁ = 1, step g + μb₁ = 1.5, w = 0.85;
    // b₂ = 0.5 + 1 = 1.5, step 1 + 0.75 = 1.75, w = 0.85 − 0.175 = 0.675.
    let nesterov = SgdConfig {
        lr: 0.1,
        momentum: 0.5,
        nesterov: true,
        ..Default::default()
    };
    assert!((run_with_unit_gradient(nesterov, 2) - 0.675).abs() < 1e-15);
    // Dampening τ = 0.5 (not applied on the first step): b₁ = 1, w = 0.9;
    // b₂ = 0.5·1 + 0.5·1 = 1, w = 0.8.
    let damped = SgdConfig {
        lr: 0.1,
        momentum: 0.5,
        dampening: 0.5,
        ..Default::default()
    };
    assert!((run_with_unit_gradient(damped, 2) - 0.8).abs() < 1e-15);
    // Plain SGD: w = 1 − 3·0.1.
    let plain = SgdConfig {
        lr: 0.1,
        ..Default::default()
    };
    assert!((run_with_unit_gradient(plain, 3) - 0.7).abs() < 1e-15);
}

#[test]
fn one_adam_step_on_the_tiny_model() {
    let (model, x, y) = tiny();
    let (lr, eps) = (0.1, 1e-8);
    let mut opt = Adam::new(
        model.parameters(),
        AdamConfig {
            lr,
            ..Default::default()
        },
    )
    .unwrap();
    opt.step_with(|| mse(&model.forward(&x)?, &y)).unwrap();
    // Gradients as in the SGD test: g_w = (−4.5, −9), g_b = −4.5.
    // t = 1: m = 0.1·g, v = 0.001·g²; m̂ = m/(1 − 0.9) = g, v̂ = v/(1 − 0.999) = g²,
    // so w ← w − lr·g/(|g| + ε): each coordinate moves by lr·|g|/(|g| + ε).
    let step = |g: f64| lr * g / (g.abs() + eps);
    let w = model.weight().value().to_vec();
    let b = model.bias().unwrap().value().to_vec();
    assert!(close(&w, &[0.5 - step(-4.5), -1.0 - step(-9.0)], 1e-15));
    assert!(close(&b, &[0.25 - step(-4.5)], 1e-15));
    // That is 0.6 − 2.2e-10 and −0.9 − 1.1e-10: ε shows, the bias correction works.
    assert!((w[0] - 0.6).abs() < 3e-10 && (w[0] - 0.6).abs() > 1e-10);
}

#[test]
fn two_adam_steps_with_weight_decay_on_a_quadratic() {
    // f(w) = w², w₀ = 1, lr 0.1, β = (0.9, 0.999), ε = 1e-8, λ = 0.1.
    let (lr, b1, b2, eps, wd) = (0.1, 0.9, 0.999, 1e-8, 0.1);
    let w = Parameter::new(Tensor::scalar(1.0));
    let mut opt = Adam::new(
        vec![w.clone()],
        AdamConfig {
            lr,
            betas: (b1, b2),
            eps,
            weight_decay: wd,
        },
    )
    .unwrap();
    // By hand. t = 1: d = 2·1 + 0.1·1 = 2.1, m = 0.21, v = 0.001·4.41 = 0.00441,
    // m̂ = 2.1, √v̂ = 2.1: w₁ = 1 − 0.1·2.1/(2.1 + ε).
    let w1 = 1.0 - 0.1 * 2.1 / (2.1 + eps);
    // t = 2: d = 2.1·w₁, m = 0.9·0.21 + 0.1·d, v = 0.999·0.00441 + 0.001·d²,
    // w₂ = w₁ − 0.1/(1 − 0.81) · m / (√v/√(1 − 0.998001) + ε).
    let d2 = 2.1 * w1;
    let m2 = 0.9 * 0.21 + 0.1 * d2;
    let v2 = 0.999 * 0.00441 + 0.001 * d2 * d2;
    let w2 = w1 - 0.1 / 0.19 * m2 / (v2.sqrt() / 0.001999f64.sqrt() + eps);
    for expected in [w1, w2] {
        opt.step_with(|| Ok(w.value().square())).unwrap();
        assert!(
            (w.value().item() - expected).abs() < 1e-14,
            "{} vs {expected}",
            w.value().item()
        );
    }
}

#[test]
fn steps_record_nothing_and_keep_parameters_trainable_leaves() {
    let (model, x, y) = tiny();
    let mut opt = Sgd::new(
        model.parameters(),
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    let before = model.weight().value();
    opt.step_with(|| mse(&model.forward(&x)?, &y)).unwrap();
    let after = model.weight().value();
    assert!(!after.same(&before), "a step installs a new leaf");
    assert!(after.is_leaf() && after.is_requires_grad() && after.grad_fn().is_none());
    // The old value is untouched (graphs that saved it stay correct).
    assert_eq!(before.to_vec(), vec![0.5, -1.0]);
    // zero_grad clears; a parameter without a gradient is skipped by step.
    opt.zero_grad();
    assert!(model.weight().grad().is_none());
    let w = model.weight().value().to_vec();
    opt.step().unwrap();
    assert_eq!(model.weight().value().to_vec(), w);
}

#[test]
fn bad_configurations_and_gradients_are_errors() {
    let p = Parameter::new(tensor![1.0, 2.0]);
    let sgd = |cfg: SgdConfig| Sgd::new(vec![p.clone()], cfg).is_err();
    let base = SgdConfig::default();
    assert!(sgd(SgdConfig { lr: -1.0, ..base }));
    assert!(sgd(SgdConfig {
        lr: f64::NAN,
        ..base
    }));
    assert!(sgd(SgdConfig {
        momentum: -0.1,
        ..base
    }));
    assert!(sgd(SgdConfig {
        nesterov: true,
        ..base
    }));
    assert!(sgd(SgdConfig {
        nesterov: true,
        momentum: 0.9,
        dampening: 0.1,
        ..base
    }));
    let adam = |cfg: AdamConfig| Adam::new(vec![p.clone()], cfg).is_err();
    let base = AdamConfig::default();
    assert!(adam(AdamConfig {
        betas: (1.0, 0.999),
        ..base
    }));
    assert!(adam(AdamConfig {
        betas: (0.9, -0.1),
        ..base
    }));
    assert!(adam(AdamConfig { eps: -1.0, ..base }));
    // The same parameter twice.
    assert!(Sgd::new(vec![p.clone(), p.clone()], SgdConfig::default()).is_err());
    // A gradient of the wrong shape.
    let mut opt = Adam::new(vec![p.clone()], base).unwrap();
    p.value().set_grad(Some(tensor![1.0, 2.0, 3.0]));
    assert!(opt.step().is_err());
    // Learning-rate access for schedules.
    assert_eq!(opt.learning_rate(), 1e-3);
    opt.set_learning_rate(0.5);
    assert_eq!(opt.learning_rate(), 0.5);
}

/// Issue 16: replacing a parameter between forward and backward is refused
/// (PyTorch's "modified by an inplace operation"), not silently lost.
#[test]
fn set_between_forward_and_backward_is_an_error() {
    use chainrule::Error;
    let p = Parameter::new(tensor![1.0, 2.0]);
    let loss = (p.value() * 3.0).sum();
    p.set(&tensor![5.0, 6.0]).unwrap();
    let e = loss.backward().unwrap_err();
    assert_eq!(e, Error::ModifiedParameter { shape: vec![2] });
    assert!(e.to_string().contains("modified by an inplace operation"));
    assert!(p.grad().is_none());
    // A graph built after the replacement is fine.
    let loss = (p.value() * 3.0).sum();
    loss.backward().unwrap();
    assert_eq!(p.grad().unwrap().to_vec(), vec![3.0, 3.0]);
    assert_eq!(p.version(), 1);
}

#[test]
fn step_between_forward_and_backward_is_an_error() {
    use chainrule::Error;
    let (model, x, y) = tiny();
    let mut opt = Sgd::new(
        model.parameters(),
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    // A first ordinary iteration leaves a gradient on every parameter.
    opt.step_with(|| mse(&model.forward(&x)?, &y)).unwrap();
    let before: Vec<u64> = model.parameters().iter().map(Parameter::version).collect();
    assert_eq!(before, vec![1, 1]);
    // Then the misuse: forward, step, backward.
    opt.zero_grad();
    let loss = mse(&model.forward(&x).unwrap(), &y).unwrap();
    opt.step().unwrap(); // no gradients: nothing moves, nothing replaced
    loss.backward().unwrap();
    let loss = mse(&model.forward(&x).unwrap(), &y).unwrap();
    opt.step().unwrap(); // replaces both parameters
    assert!(matches!(
        loss.backward(),
        Err(Error::ModifiedParameter { .. })
    ));
    // functional gradients with explicit inputs are unaffected.
    let w = model.parameters()[0].value();
    let l = (&w * &w).sum();
    chainrule::autograd::grad(&[l], &[w], None, Default::default()).unwrap();
}

#[test]
fn adam_keeps_f32_parameters_f32() {
    use chainrule::DType;
    for cfg in [
        AdamConfig::default(),
        AdamConfig {
            weight_decay: 0.1,
            ..Default::default()
        },
    ] {
        let w = Parameter::new(tensor![1.0, -2.0].float());
        let mut opt = Adam::new(vec![w.clone()], cfg).unwrap();
        for _ in 0..3 {
            opt.step_with(|| Ok(w.value().square().sum())).unwrap();
            assert_eq!(w.value().dtype(), DType::F32);
        }
    }
    let w = Parameter::new(tensor![1.0, -2.0].float());
    let mut opt = Sgd::new(
        vec![w.clone()],
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    opt.step_with(|| Ok(w.value().square().sum())).unwrap();
    assert_eq!(w.value().dtype(), DType::F32);
}

#[test]
fn sgd_writes_w_minus_lr_g_into_the_parameter_buffer_when_nothing_else_holds_it() {
    // p − lr·g with values exact in binary: 1 − 0.25·2, −2 − 0.25·(−4), 3 − 0.25·0.5.
    let p = Parameter::new(tensor![1.0, -2.0, 3.0]);
    let mut opt = Sgd::new(
        vec![p.clone()],
        SgdConfig {
            lr: 0.25,
            ..Default::default()
        },
    )
    .unwrap();
    p.value().set_grad(Some(tensor![2.0, -4.0, 0.5]));
    opt.step().unwrap();
    assert_eq!(p.value().to_vec(), vec![0.5, -1.0, 2.875]);
    assert_eq!(p.version(), 1);
    assert_eq!(p.grad().unwrap().to_vec(), vec![2.0, -4.0, 0.5]);
    let v = p.value();
    assert!(v.is_leaf() && v.is_requires_grad());
    drop(v);
    // A second step with the same gradient; a handle held across the
    // step keeps the old values (the step installs a new leaf then).
    let held = p.value();
    opt.step().unwrap();
    assert_eq!(held.to_vec(), vec![0.5, -1.0, 2.875]);
    assert_eq!(p.value().to_vec(), vec![0.0, 0.0, 2.75]);
    assert_eq!(p.version(), 2);
    assert!(!held.same(&p.value()));
}
