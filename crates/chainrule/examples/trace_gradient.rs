//! Seed 004, exercise 5: the gradient of f(X) = tr(AXB) with respect to the
//! matrix X, by `functional::grad`, against AᵀBᵀ. The shapes are
//! rectangular (A: 3×4, X: 4×5, B: 5×3), so a misplaced transpose would
//! not even have the right shape.
//!
//! Run: `cargo run --release --example trace_gradient`

mod support;

use chainrule::functional::grad;
use chainrule::Tensor;
use support::{compare, random};

fn main() {
    let a = random(&[3, 4], 1);
    let b = random(&[5, 3], 2);
    let x = random(&[4, 5], 3);
    let f = |x: &Tensor| a.matmul(x).matmul(&b).trace();
    println!(
        "f(X) = tr(AXB) = {:.6} with A =\n{a}\nB =\n{b}\nX =\n{x}\n",
        f(&x).item()
    );
    compare("∇_X tr(AXB)", &grad(f)(&x), &a.t().matmul(&b.t()), "AᵀBᵀ");
}
