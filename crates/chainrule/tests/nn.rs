//! Layers and modules: initialisation, forward values, parameters, shape
//! errors, gradients, and seed 003's examples built from `nn`.

use chainrule::check::{gradcheck, GradcheckOptions};
use chainrule::nn::{
    loss::mse, Linear, Module, Parameter, ReLU, Sequential, Sigmoid, Softplus, Tanh,
};
use chainrule::optim::{Optimizer, Sgd, SgdConfig};
use chainrule::random::SplitMix64;
use chainrule::{tensor, Error, Real, Tensor};

#[test]
fn linear_initialisation_is_pytorchs_bound_from_the_seeded_stream() {
    let layer = Linear::new(4, 3, &mut SplitMix64::new(42));
    // Uniform on ±1/√fan_in = ±0.5: weight first (row-major), then bias.
    let mut g = SplitMix64::new(42);
    let w: Vec<f64> = (0..12).map(|_| g.uniform(-0.5, 0.5)).collect();
    let b: Vec<f64> = (0..3).map(|_| g.uniform(-0.5, 0.5)).collect();
    assert_eq!(layer.weight().value().to_vec(), w);
    assert_eq!(layer.bias().unwrap().value().to_vec(), b);
    assert_eq!(layer.weight().shape(), vec![3, 4]);
    assert!(w.iter().chain(&b).all(|v| v.abs() < 0.5));
    // The same seed gives the same layer; one generator gives different layers.
    let again = Linear::new(4, 3, &mut SplitMix64::new(42));
    assert_eq!(again.weight().value().to_vec(), w);
    let mut rng = SplitMix64::new(42);
    let first = Linear::new(4, 3, &mut rng);
    let second = Linear::new(4, 3, &mut rng);
    assert_ne!(
        first.weight().value().to_vec(),
        second.weight().value().to_vec()
    );
    assert!(Linear::without_bias(4, 3, &mut rng).bias().is_none());
}

#[test]
fn linear_forward_is_x_w_transposed_plus_b_on_any_batch_shape() {
    // W = [[1, 2], [0, −1], [3, 1]], b = (0.5, 0, −1).
    let layer = Linear::from_tensors(
        tensor![[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]],
        Some(tensor![0.5, 0.0, -1.0]),
    )
    .unwrap();
    // x = (3, 4): (3 + 8 + 0.5, −4, 9 + 4 − 1).
    let one = layer.forward(&tensor![3.0, 4.0]).unwrap();
    assert_eq!(one.shape(), &[3]);
    assert_eq!(one.to_vec(), vec![11.5, -4.0, 12.0]);
    let batch = layer.forward(&tensor![[3.0, 4.0], [0.0, 1.0]]).unwrap();
    assert_eq!(batch.shape(), &[2, 3]);
    assert_eq!(batch.to_vec(), vec![11.5, -4.0, 12.0, 2.5, -1.0, 0.0]);
    let deep = layer.forward(&Tensor::ones(&[2, 5, 2])).unwrap();
    assert_eq!(deep.shape(), &[2, 5, 3]);
    assert_eq!(&deep.to_vec()[..3], &[3.5, -1.0, 3.0]);
    // Input with the wrong number of features, or a scalar: an Err.
    assert!(matches!(
        layer.forward(&tensor![1.0, 2.0, 3.0]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(layer.forward(&Tensor::scalar(1.0)).is_err());
    // Weights that do not fit together: an Err.
    assert!(Linear::from_tensors(tensor![1.0, 2.0], None).is_err());
    assert!(Linear::from_tensors(tensor![[1.0, 2.0]], Some(tensor![1.0, 2.0])).is_err());
}

#[test]
fn activations_compute_their_functions_stably() {
    let x = tensor![-1000.0, -1.0, 0.0, 2.0, 1000.0];
    assert_eq!(
        ReLU.forward(&x).unwrap().to_vec(),
        vec![0.0, 0.0, 0.0, 2.0, 1000.0]
    );
    let t = Tanh.forward(&x).unwrap().to_vec();
    assert_eq!(t[0], -1.0);
    assert!((t[3] - 2f64.tanh()).abs() < 1e-16);
    let s = Sigmoid.forward(&x).unwrap().to_vec();
    assert_eq!((s[0], s[2], s[4]), (0.0, 0.5, 1.0));
    assert!((s[1] - 1.0 / (1.0 + 1f64.exp())).abs() < 1e-16);
    let sp = Softplus.forward(&x).unwrap().to_vec();
    assert_eq!((sp[0], sp[4]), (0.0, 1000.0));
    assert!((sp[2] - 2f64.ln()).abs() < 1e-16);
    assert!((sp[3] - (1.0 + 2f64.exp()).ln()).abs() < 1e-15);
}

#[test]
fn sequential_chains_lists_parameters_and_prints_like_pytorch() {
    let mut rng = SplitMix64::new(3);
    let model = Sequential::new()
        .with(Linear::new(2, 4, &mut rng))
        .with(ReLU)
        .with(Linear::new(4, 1, &mut rng));
    let ps = model.parameters();
    assert_eq!(ps.len(), 4);
    let shapes: Vec<Vec<usize>> = ps.iter().map(Parameter::shape).collect();
    assert_eq!(shapes, vec![vec![4, 2], vec![4], vec![1, 4], vec![1]]);
    assert_eq!(model.num_parameters(), 8 + 4 + 4 + 1);
    assert_eq!(
        model.to_string(),
        "Sequential(\n  (0): Linear(in_features=2, out_features=4, bias=True)\n  (1): ReLU()\n  \
         (2): Linear(in_features=4, out_features=1, bias=True)\n)"
    );
    // The composition is the layers applied in turn.
    let x = Tensor::randn(&[3, 2], 9);
    let layers: Vec<&dyn Module> = model.layers().collect();
    let mut h = x.clone();
    for l in &layers {
        h = l.forward(&h).unwrap();
    }
    assert_eq!(model.forward(&x).unwrap().to_vec(), h.to_vec());
    assert!(model.forward(&Tensor::ones(&[3, 3])).is_err());
    assert!(Sequential::new().is_empty());
}

#[test]
fn gradients_through_a_network_pass_gradcheck() {
    let model = Sequential::mlp(&[3, 5, 2], Tanh, &mut SplitMix64::new(5));
    let x = Tensor::randn(&[4, 3], 6);
    let r = gradcheck(
        |v| model.forward(&v[0]).unwrap().softplus().sum(),
        &[x],
        GradcheckOptions::default(),
    )
    .unwrap();
    assert!(r.passed, "{r}");
}

#[test]
fn backward_fills_parameter_gradients_and_the_optimiser_updates_the_model() {
    // One parameter w = (1, 2) (no bias), x = (3, 4), target 0: loss (3 + 8)²,
    // ∂/∂w = 2·11·(3, 4) = (66, 88).
    let layer = Linear::from_tensors(tensor![[1.0, 2.0]], None).unwrap();
    let x = tensor![[3.0, 4.0]];
    let loss = mse(&layer.forward(&x).unwrap(), &tensor![[0.0]]).unwrap();
    loss.backward().unwrap();
    assert_eq!(layer.weight().grad().unwrap().to_vec(), vec![66.0, 88.0]);
    let mut opt = Sgd::new(
        layer.parameters(),
        SgdConfig {
            lr: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    opt.step().unwrap();
    // The layer reads the updated slot: w = (1 − 0.66, 2 − 0.88).
    let w = layer.weight().value().to_vec();
    assert!((w[0] - 0.34).abs() < 1e-15 && (w[1] - 1.12).abs() < 1e-15);
    layer.zero_grad();
    assert!(layer.weight().grad().is_none());
    // Parameter::set checks the shape.
    assert!(layer.weight().set(&tensor![1.0]).is_err());
    layer.weight().set(&tensor![[0.0, 0.0]]).unwrap();
    assert_eq!(layer.forward(&x).unwrap().to_vec(), vec![0.0]);
}

#[test]
fn seed003_logistic_regression_with_nn() {
    // w = (0.5, −1), b = 2, x = (2, 3): z = 0, σ'(0) = 1/4, dy/dx = w/4.
    let linear = Linear::from_tensors(tensor![[0.5, -1.0]], Some(tensor![2.0])).unwrap();
    let x = tensor![2.0, 3.0].requires_grad();
    let y = Sigmoid
        .forward(&linear.forward(&x).unwrap().squeeze(None))
        .unwrap();
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.125, -0.25]);
    assert_eq!(y.to_string(), "tensor(0.5000, grad_fn=<SigmoidBackward0>)");
}

#[test]
fn seed003_softmax_input_gradient_with_nn() {
    let w = tensor![[0.2, -0.5, 0.3], [0.4, 0.1, -0.2], [0.1, 0.3, 0.2]];
    let classifier = Linear::from_tensors(w.t(), Some(Tensor::zeros(&[3]))).unwrap();
    let x = tensor![1.0, 2.0, 3.0].requires_grad();
    let probs = classifier.forward(&x).unwrap().softmax(0);
    let k = probs.argmax().unwrap();
    assert_eq!(k, 0);
    probs.get(&[k]).backward().unwrap();
    // The seed's float32 printout.
    let seed_p = [0.51389724, 0.25519383, 0.23090893];
    let seed_g = [0.07993404, 0.1105411, -0.03809503];
    for (a, b) in probs.to_vec().iter().zip(seed_p) {
        assert!((a - b).abs() < 5e-8, "{a} vs {b}");
    }
    for (a, b) in x.grad().unwrap().to_vec().iter().zip(seed_g) {
        assert!((a - b).abs() < 5e-8, "{a} vs {b}");
    }
}

#[test]
fn a_user_module_needs_only_forward() {
    /// y = 2x, no parameters.
    struct Double;
    impl Module for Double {
        fn forward(&self, input: &Tensor) -> chainrule::Result<Tensor> {
            Ok(input * 2.0)
        }
    }
    let model = Sequential::new().with(Double).with(Tanh);
    assert_eq!(
        model.to_string(),
        "Sequential(\n  (0): Double()\n  (1): Tanh()\n)"
    );
    assert_eq!(model.num_parameters(), 0);
    assert_eq!(
        model.forward(&tensor![0.5]).unwrap().to_vec(),
        vec![1f64.tanh()]
    );
}
