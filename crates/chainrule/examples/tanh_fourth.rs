//! Seed 004, exercise 3: the 4th derivative of tanh three ways: nested
//! reverse mode (`functional::grad` four times, on tensors), Taylor mode
//! (`functional::derivative`, one pass of truncated series) and nested
//! dual numbers, against the closed form 24t⁵ − 40t³ + 16t, t = tanh x
//! (3.9522195637245825 at x = 0.5).
//!
//! Run: `cargo run --release --example tanh_fourth`

use chainrule::forward::{derivative_at, Dual};
use chainrule::functional::{derivative, grad};
use chainrule::{Real, Tensor};

fn tanh<T: Real>(x: T) -> T {
    x.tanh()
}

/// d⁴/dx⁴ tanh by nesting forward-mode `derivative_at` four times
/// (`Dual<Dual<Dual<Dual<f64>>>>`).
fn nested_dual_fourth(x: f64) -> f64 {
    derivative_at(
        |a: Dual<f64>| {
            derivative_at(
                |b: Dual<Dual<f64>>| {
                    derivative_at(|c: Dual<Dual<Dual<f64>>>| derivative_at(tanh, c), b)
                },
                a,
            )
        },
        x,
    )
}

fn main() {
    let nested_grad = grad(grad(grad(grad(|x: &Tensor| x.tanh()))));
    let taylor = derivative(tanh, 4);
    println!(
        "{:>5}  {:>22}  {:>20}  {:>20}  {:>20}  {:>9}  {:>9}  {:>9}",
        "x",
        "grad(grad(grad(grad)))",
        "Taylor mode",
        "nested Dual",
        "24t^5-40t^3+16t",
        "grad-cf",
        "Taylor-cf",
        "Dual-cf"
    );
    for x in [0.0, 0.25, 0.5, 1.0, 2.0] {
        let by_grad = nested_grad(&Tensor::scalar(x)).item();
        let by_taylor = taylor(x);
        let by_dual = nested_dual_fourth(x);
        let t = f64::tanh(x);
        let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
        println!(
            "{x:>5}  {by_grad:>22.16}  {by_taylor:>20.16}  {by_dual:>20.16}  {closed:>20.16}  \
             {:>9.1e}  {:>9.1e}  {:>9.1e}",
            by_grad - closed,
            by_taylor - closed,
            by_dual - closed
        );
    }
    println!("\nexpected at x = 0.5 (issue 3, as JAX computes it in f64): 3.9522195637245825");
}
