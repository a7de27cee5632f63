//! Seed 004, exercise 3: the 4th derivative of tanh, by Taylor mode (one
//! pass of truncated series) and by four nested dual numbers, against the
//! closed form 24t⁵ − 40t³ + 16t with t = tanh x.
//!
//! Run: `cargo run --example tanh_fourth`

use chainrule::forward::{derivative, derivatives, Dual};
use chainrule::Real;

fn tanh<T: Real>(x: T) -> T {
    x.tanh()
}

/// d⁴/dx⁴ tanh by nesting `derivative` four times (`Dual<Dual<Dual<Dual<f64>>>>`).
fn nested_fourth(x: f64) -> f64 {
    derivative(
        |a: Dual<f64>| {
            derivative(
                |b: Dual<Dual<f64>>| derivative(|c: Dual<Dual<Dual<f64>>>| derivative(tanh, c), b),
                a,
            )
        },
        x,
    )
}

fn main() {
    println!(
        "{:>5}  {:>22}  {:>22}  {:>22}  {:>10}  {:>10}",
        "x", "Taylor mode", "nested Dual", "24t^5-40t^3+16t", "Taylor-cf", "Dual-cf"
    );
    for x in [0.0, 0.25, 0.5, 1.0, 2.0] {
        let taylor = derivatives(tanh, x, 4)[4];
        let nested = nested_fourth(x);
        let t = f64::tanh(x);
        let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
        println!(
            "{x:>5}  {taylor:>22.16}  {nested:>22.16}  {closed:>22.16}  {:>10.2e}  {:>10.2e}",
            taylor - closed,
            nested - closed
        );
    }
}
