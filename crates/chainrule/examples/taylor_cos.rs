//! Seed 004, exercise 1: the gradient of a Taylor approximation of cos x.
//!
//! `taylor_cosine` is plain generic code: the 20-term series
//! Σ_{n<20} (−1)ⁿ x²ⁿ/(2n)!. Run on dual numbers it gives its own derivative,
//! which should be −sin x (to the series' truncation error).
//!
//! Run: `cargo run --example taylor_cos`

use chainrule::forward::derivative;
use chainrule::Real;

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
    println!(
        "{:>6}  {:>22}  {:>22}  {:>10}",
        "x", "d/dx taylor_cosine", "-sin x", "difference"
    );
    for x in [0.0, 0.5, 1.0, 2.0, 3.0, -1.5] {
        let d = derivative(taylor_cosine, x);
        let exact = -f64::sin(x);
        println!("{x:>6}  {d:>22.16}  {exact:>22.16}  {:>10.2e}", d - exact);
    }
}
