//! Seed 003, the multiclass example: a linear softmax classifier's top
//! probability and its gradient with respect to the input.
//!
//! The seed computes logits = x @ W + b; `nn::Linear` computes x Wᵀ + b (its
//! weight is `[out, in]`, as PyTorch's), so it holds Wᵀ.
//!
//! Run: `cargo run --example softmax_input_gradient`

use chainrule::nn::{Linear, Module};
use chainrule::{tensor, Result};

/// NumPy's way of printing a short f32 vector: `[0.51389724 0.25519383 ...]`,
/// eight decimals, a leading space for the sign when any entry is negative.
fn numpy_style(v: &[f64]) -> String {
    let signed = v.iter().any(|x| *x < 0.0);
    let cells: Vec<String> = v
        .iter()
        .map(|x| {
            if signed {
                format!("{x:>11.8}")
            } else {
                format!("{x:.8}")
            }
        })
        .collect();
    format!("[{}]", cells.join(" "))
}

fn main() -> Result<()> {
    // Input features
    let x = tensor![1.0, 2.0, 3.0].requires_grad();

    // Weights and bias for 3 classes (row i: the weights of x[i])
    let w = tensor![[0.2, -0.5, 0.3], [0.4, 0.1, -0.2], [0.1, 0.3, 0.2]];
    let b = tensor![0.0, 0.0, 0.0];
    let classifier = Linear::from_tensors(w.t(), Some(b))?;

    // Linear scores for each class, then the probabilities
    let logits = classifier.forward(&x)?;
    let probs = logits.try_softmax(0)?;

    // The predicted class probability and its gradient with respect to x
    let pred_class_idx = probs.argmax().expect("three classes");
    let top_prob = probs.try_get(&[pred_class_idx])?;
    top_prob.backward()?;

    let grad = x.grad().expect("x requires grad").to_vec();
    println!(
        "Multiclass Classification | Probabilities: {}",
        numpy_style(&probs.to_vec())
    );
    println!("Predicted class index: {pred_class_idx}");
    println!("Gradients inputs: {}", numpy_style(&grad));

    let seed_probs = [0.51389724, 0.25519383, 0.23090893];
    let seed_grad = [0.07993404, 0.1105411, -0.03809503];
    let gap = probs
        .to_vec()
        .iter()
        .chain(&grad)
        .zip(seed_probs.iter().chain(&seed_grad))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("(f64; the seed's float32 printout differs by at most {gap:.1e})");
    Ok(())
}
