//! Seed 003, examples 4 and 5: the gradient of a linear model and of a
//! logistic regression with respect to the input, built from `nn` layers.
//!
//! y = w·x + b with w = (0.5, −1), b = 2 at x = (2, 3): dy/dx = w. Through a
//! sigmoid, z = w·x + b = 0, so dy/dx = σ'(0)·w = w/4.
//!
//! Run: `cargo run --example logistic`

use chainrule::nn::{Linear, Module, Sigmoid};
use chainrule::{tensor, Result};

fn main() -> Result<()> {
    // nn.Linear(2, 1) holding the seed's w and b; its output has shape [1],
    // squeezed to the seed's scalar.
    let linear = Linear::from_tensors(tensor![[0.5, -1.0]], Some(tensor![2.0]))?;

    // Example 4: Linear Regression, y = w·x + b, dy/dx = w
    let x = tensor![2.0, 3.0].requires_grad();
    let y = linear.forward(&x)?.squeeze(None);
    y.backward()?;
    let g = x.grad().expect("x requires grad").to_vec();
    println!("Linear | dy/dx1={:?}, dy/dx2={:?}", g[0], g[1]);

    // Example 5: Logistic Regression, y = σ(w·x + b), dy/dx = σ'(z)·w
    let x = tensor![2.0, 3.0].requires_grad();
    let z = linear.forward(&x)?.squeeze(None);
    let y = Sigmoid.forward(&z)?;
    y.backward()?;
    let g = x.grad().expect("x requires grad").to_vec();
    println!("Logistic | dy/dx1={:.4}, dy/dx2={:.4}", g[0], g[1]);
    println!("{y}");
    Ok(())
}
