//! Losses: values worked out by hand, stability for logits of ±1000, and
//! gradients checked against finite differences.

use chainrule::check::{gradcheck, gradgradcheck, GradcheckOptions};
use chainrule::nn::loss::{binary_cross_entropy_with_logits, cross_entropy, mse, nll};
use chainrule::{tensor, Error, Tensor};

fn assert_close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

#[test]
fn cross_entropy_matches_the_definition() {
    // Row 1: −log(e³/(e + e² + e³)) = log(e + e² + e³) − 3; row 2: log 3.
    let e = std::f64::consts::E;
    let row1 = (e + e * e + e * e * e).ln() - 3.0;
    let row2 = 3f64.ln();
    let logits = tensor![[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]];
    let l = cross_entropy(&logits, &[2, 0]).unwrap();
    assert_close(l.item(), (row1 + row2) / 2.0, 1e-15);
    assert_close(row1, 0.40760596444438, 1e-13);
    // A single sample may be 1-d.
    assert_close(
        cross_entropy(&tensor![1.0, 2.0, 3.0], &[2]).unwrap().item(),
        row1,
        1e-15,
    );
}

#[test]
fn cross_entropy_is_finite_for_logits_of_a_thousand() {
    // logsumexp(1000, 0, −1000) = 1000 + log(1 + e⁻¹⁰⁰⁰ + e⁻²⁰⁰⁰) = 1000 in f64.
    let logits = tensor![[1000.0, 0.0, -1000.0]].requires_grad();
    let l = cross_entropy(&logits, &[1]).unwrap();
    assert_eq!(l.item(), 1000.0);
    l.backward().unwrap();
    // ∂/∂logits = softmax − one_hot = (1, −1, 0) to within e⁻¹⁰⁰⁰.
    assert_eq!(logits.grad().unwrap().to_vec(), vec![1.0, -1.0, 0.0]);
    let right = cross_entropy(&tensor![[1000.0, 1000.0]], &[0]).unwrap();
    assert_close(right.item(), 2f64.ln(), 1e-15);
    let sure = cross_entropy(&tensor![[1000.0, -1000.0]], &[0]).unwrap();
    assert_eq!(sure.item(), 0.0);
}

#[test]
fn nll_picks_by_index_so_minus_infinity_elsewhere_is_harmless() {
    let lp = tensor![[0.0, f64::NEG_INFINITY], [-1.0, -0.5]].requires_grad();
    let l = nll(&lp, &[0, 1]).unwrap();
    assert_close(l.item(), 0.25, 1e-15);
    l.backward().unwrap();
    assert_eq!(lp.grad().unwrap().to_vec(), vec![-0.5, 0.0, 0.0, -0.5]);
}

#[test]
fn binary_cross_entropy_with_logits_matches_the_definition_and_is_stable() {
    // −[y log σ(z) + (1 − y) log(1 − σ(z))] at (z, y) = (2, 1) and (−1, 0).
    let s = |z: f64| 1.0 / (1.0 + (-z).exp());
    let expected = (-(s(2.0)).ln() - (1.0 - s(-1.0)).ln()) / 2.0;
    let l = binary_cross_entropy_with_logits(&tensor![2.0, -1.0], &tensor![1.0, 0.0]).unwrap();
    assert_close(l.item(), expected, 1e-15);
    // z = ±1000: log σ(1000) = 0, log σ(−1000) = −1000, no inf or nan.
    let z = tensor![1000.0, -1000.0, 1000.0].requires_grad();
    let y = tensor![1.0, 1.0, 0.0];
    let l = binary_cross_entropy_with_logits(&z, &y).unwrap();
    assert_close(l.item(), 2000.0 / 3.0, 1e-12);
    l.backward().unwrap();
    // ∂/∂z = (σ(z) − y)/n = (0, −1, 1)/3.
    let g = z.grad().unwrap().to_vec();
    for (a, b) in g.iter().zip([0.0, -1.0 / 3.0, 1.0 / 3.0]) {
        assert_close(*a, b, 1e-15);
    }
}

#[test]
fn mse_matches_the_definition() {
    // ((1 − 0)² + (2 − 4)² + (−1 − (−1))²)/3 = 5/3.
    let l = mse(&tensor![1.0, 2.0, -1.0], &tensor![0.0, 4.0, -1.0]).unwrap();
    assert_close(l.item(), 5.0 / 3.0, 1e-15);
}

#[test]
fn losses_pass_gradcheck() {
    let opts = GradcheckOptions::default();
    let logits = Tensor::randn(&[4, 3], 11);
    let targets = [2, 0, 1, 1];
    let r = gradcheck(
        |x| cross_entropy(&x[0], &targets).unwrap(),
        std::slice::from_ref(&logits),
        opts,
    )
    .unwrap();
    assert!(r.passed, "cross_entropy: {r}");
    let r = gradgradcheck(
        |x| cross_entropy(&x[0], &targets).unwrap(),
        std::slice::from_ref(&logits),
        opts,
    )
    .unwrap();
    assert!(r.passed, "cross_entropy second derivatives: {r}");
    let r = gradcheck(
        |x| nll(&x[0].log_softmax(-1), &targets).unwrap(),
        &[logits],
        opts,
    )
    .unwrap();
    assert!(r.passed, "nll: {r}");

    let z = Tensor::randn(&[5], 12) * 3.0;
    let y = Tensor::rand(&[5], 13);
    let r = gradcheck(
        |x| binary_cross_entropy_with_logits(&x[0], &x[1]).unwrap(),
        &[z.clone(), y.clone()],
        opts,
    )
    .unwrap();
    assert!(r.passed, "binary_cross_entropy_with_logits: {r}");
    let r = gradgradcheck(
        |x| binary_cross_entropy_with_logits(&x[0], &x[1]).unwrap(),
        &[z, y],
        opts,
    )
    .unwrap();
    assert!(
        r.passed,
        "binary_cross_entropy_with_logits second derivatives: {r}"
    );

    let a = Tensor::randn(&[2, 3], 14);
    let b = Tensor::randn(&[2, 3], 15);
    let r = gradcheck(|x| mse(&x[0], &x[1]).unwrap(), &[a, b], opts).unwrap();
    assert!(r.passed, "mse: {r}");
}

#[test]
fn bad_shapes_and_targets_are_errors() {
    let logits = tensor![[1.0, 2.0], [3.0, 4.0]];
    assert!(matches!(
        cross_entropy(&logits, &[0]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(cross_entropy(&logits, &[0, 2]).is_err());
    assert!(cross_entropy(&Tensor::zeros(&[2, 2, 2]), &[0, 0]).is_err());
    assert!(cross_entropy(&Tensor::zeros(&[0, 2]), &[]).is_err());
    assert!(nll(&Tensor::scalar(1.0), &[0]).is_err());
    assert!(mse(&tensor![1.0, 2.0], &tensor![1.0]).is_err());
    assert!(binary_cross_entropy_with_logits(&tensor![1.0, 2.0], &tensor![[1.0, 2.0]]).is_err());
}

#[test]
fn cross_entropy_gradient_is_softmax_minus_one_hot_over_the_batch() {
    // Written out: softmax_ij = e^{x_ij} / Σ_j e^{x_ij}, and
    // ∂ mean_i(lse_i − x_i,t_i) / ∂x_ij = (softmax_ij − [j = t_i]) / N.
    let rows = [
        [0.5, -1.0, 2.0, 0.0],
        [3.0, 3.0, -2.0, 1.5],
        [-0.25, 0.75, 0.0, -4.0],
    ];
    let targets = [2, 0, 3];
    let x = Tensor::from_vec(rows.concat(), &[3, 4])
        .unwrap()
        .requires_grad();
    let l = cross_entropy(&x, &targets).unwrap();
    assert_eq!(l.grad_fn(), Some("NllLossBackward0"));
    let mut loss = 0.0;
    let mut want = Vec::new();
    for (row, &t) in rows.iter().zip(&targets) {
        let s: f64 = row.iter().map(|v| v.exp()).sum();
        loss += s.ln() - row[t];
        for (j, v) in row.iter().enumerate() {
            want.push((v.exp() / s - if j == t { 1.0 } else { 0.0 }) / 3.0);
        }
    }
    assert_close(l.item(), loss / 3.0, 1e-15);
    // A gradient of 2 flowing in scales it.
    (l * 2.0).backward().unwrap();
    for (g, w) in x.grad().unwrap().to_vec().iter().zip(&want) {
        assert_close(*g, 2.0 * w, 1e-16);
    }
    // f32 logits: an f32 loss and gradient, the f64 values rounded.
    let x32 = Tensor::from_vec(rows.concat(), &[3, 4])
        .unwrap()
        .float()
        .requires_grad();
    let l32 = cross_entropy(&x32, &targets).unwrap();
    assert_eq!(l32.dtype(), chainrule::DType::F32);
    assert_close(l32.item(), loss / 3.0, 1e-7);
    l32.backward().unwrap();
    let g32 = x32.grad().unwrap();
    assert_eq!(g32.dtype(), chainrule::DType::F32);
    for (g, w) in g32.to_vec().iter().zip(&want) {
        assert_close(*g, *w, 1e-8);
    }
}
