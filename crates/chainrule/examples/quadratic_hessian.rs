//! Seed 004, exercise 4: the Hessian of f(x) = ½xᵀAx + bᵀx + c, by
//! `functional::hessian` (forward over reverse), against ½(A + Aᵀ); and
//! the gradient against ½(A + Aᵀ)x + b. A is random and not symmetric.
//!
//! Run: `cargo run --release --example quadratic_hessian`

mod support;

use chainrule::functional::{grad, hessian};
use chainrule::Tensor;
use support::{compare, random};

fn main() {
    let n = 4;
    let a = random(&[n, n], 1);
    let b = random(&[n], 2);
    let c = 0.75;
    let x = random(&[n], 3);
    let f = |x: &Tensor| x.dot(&a.matmul(x)) * 0.5 + b.dot(x) + c;
    println!("f(x) = ½xᵀAx + bᵀx + c with A =\n{a}\nb = {b}, c = {c}, x = {x}\n");

    let sym = (&a + &a.t()) * 0.5;
    compare(
        "gradient",
        &grad(f)(&x),
        &(sym.matmul(&x) + &b),
        "½(A + Aᵀ)x + b",
    );
    compare("Hessian", &hessian(f)(&x), &sym, "½(A + Aᵀ)");
}
