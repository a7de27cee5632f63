//! The moons network of examples/moons.rs reaches at least 97% training
//! accuracy (the same seeds, sizes and epochs; the loop is the library's
//! `train_classifier`).

use chainrule::autograd;
use chainrule::nn::{accuracy, data::two_moons, Module, Sequential, Tanh};
use chainrule::optim::{Adam, AdamConfig};
use chainrule::random::SplitMix64;
use chainrule::train::train_classifier;

#[test]
fn two_layer_network_learns_two_moons() {
    let (x, labels) = two_moons(200, 0.15, 7).unwrap();
    let model = Sequential::mlp(&[2, 16, 2], Tanh, &mut SplitMix64::new(0));
    let mut opt = Adam::new(
        model.parameters(),
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
    )
    .unwrap();
    let history = train_classifier(&model, &mut opt, &x, &labels, 300, |_| {}).unwrap();
    assert_eq!(history.len(), 300);
    // Two balanced classes: a fresh network is near chance, loss near ln 2.
    assert!(
        (history[0].loss - 2f64.ln()).abs() < 0.5,
        "{:?}",
        history[0]
    );
    assert!(history[299].loss < 0.1 * history[0].loss);
    let acc = autograd::no_grad_scope(|| accuracy(&model.forward(&x).unwrap(), &labels)).unwrap();
    assert!(acc >= 0.97, "training accuracy {acc}");
}

#[test]
fn two_moons_lies_on_its_arcs_without_noise_and_is_reproducible() {
    let (x, y) = two_moons(9, 0.0, 1).unwrap();
    let v = x.to_vec();
    // 4 points of class 0 on the unit upper arc, 5 of class 1 on the lower
    // arc centred at (1, ½).
    assert_eq!(y, vec![0, 0, 0, 0, 1, 1, 1, 1, 1]);
    for k in 0..9 {
        let (px, py) = (v[2 * k], v[2 * k + 1]);
        let r = if k < 4 {
            (px * px + py * py).sqrt()
        } else {
            ((px - 1.0).powi(2) + (py - 0.5).powi(2)).sqrt()
        };
        assert!((r - 1.0).abs() < 1e-15);
        assert!(if k < 4 {
            py >= -1e-15
        } else {
            py <= 0.5 + 1e-15
        });
    }
    let a = two_moons(50, 0.2, 3).unwrap().0.to_vec();
    let b = two_moons(50, 0.2, 3).unwrap().0.to_vec();
    let c = two_moons(50, 0.2, 4).unwrap().0.to_vec();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(two_moons(10, -0.1, 0).is_err());
    assert!(two_moons(10, f64::NAN, 0).is_err());
}
