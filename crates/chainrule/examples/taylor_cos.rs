//! Seed 004, exercise 1: the gradient of a Taylor approximation of cos x.
//!
//! `taylor_cosine` is plain generic code: the 20-term series
//! Σ_{n<20} (−1)ⁿ x²ⁿ/(2n)!. Differentiated as the seed does it, by
//! reverse mode (`functional::grad` on tensors, as HIPS autograd's `grad`),
//! and by forward mode (dual numbers), it should give −sin x to the
//! series' truncation error.
//!
//! Run: `cargo run --release --example taylor_cos`

use chainrule::forward::derivative_at;
use chainrule::functional::grad;
use chainrule::{Real, Tensor};

/// cos x by its first 20 Taylor terms, for any number type.
fn taylor_cosine<T: Real>(x: T) -> T {
    let x2 = x.square();
    let mut term = T::from_f64(1.0); // (−1)ⁿ x²ⁿ/(2n)!
    let mut sum = term.clone();
    for n in 1..20 {
        let k = (2 * n) as f64;
        term = -(term * x2.clone()) / (k * (k - 1.0));
        sum = sum + term.clone();
    }
    sum
}

fn main() {
    let reverse = grad(|x: &Tensor| taylor_cosine(x.clone()));
    println!(
        "{:>6}  {:>22}  {:>22}  {:>22}  {:>10}  {:>10}",
        "x", "grad (reverse)", "Dual (forward)", "-sin x", "grad-exact", "Dual-exact"
    );
    for x in [0.0, 0.5, 1.0, 2.0, 3.0, -1.5] {
        let by_grad = reverse(&Tensor::scalar(x)).item();
        let by_dual = derivative_at(taylor_cosine, x);
        let exact = -f64::sin(x);
        println!(
            "{x:>6}  {by_grad:>22.16}  {by_dual:>22.16}  {exact:>22.16}  {:>10.2e}  {:>10.2e}",
            by_grad - exact,
            by_dual - exact
        );
    }
}
