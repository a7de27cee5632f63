//! What several integration tests share: random formulas as trees that run
//! in every engine (f64, tape, Taylor, traced, symbolic), and the numeric
//! references they are checked against.
#![allow(dead_code)] // each test crate uses its own part of this module

use chainrule::{BinaryOp, Real, Tensor, UnaryOp};

/// A random formula of up to three variables, evaluated generically (so the
/// same tree runs as f64, on the tape, as Taylor series, traced or as `Expr`).
#[derive(Clone, Debug)]
pub enum Tree {
    /// Variable `i` of the point.
    Var(usize),
    /// A constant.
    Const(f64),
    /// A unary primitive.
    Unary(UnaryOp, Box<Tree>),
    /// A binary primitive.
    Binary(BinaryOp, Box<Tree>, Box<Tree>),
    /// An integer power.
    Powi(Box<Tree>, i32),
}

impl Tree {
    /// The formula at `vars`, in whatever engine `T` is.
    pub fn eval<T: Real>(&self, vars: &[T]) -> T {
        match self {
            Tree::Var(i) => vars[*i].clone(),
            Tree::Const(c) => T::from_f64(*c),
            Tree::Unary(op, a) => a.eval(vars).unary(*op),
            Tree::Binary(op, a, b) => a.eval(vars).binary(*op, &b.eval(vars)),
            Tree::Powi(a, n) => a.eval(vars).powi(*n),
        }
    }
}

/// `op(a)`.
pub fn un(op: UnaryOp, a: Tree) -> Tree {
    Tree::Unary(op, Box::new(a))
}

/// `a op b`.
pub fn bin(op: BinaryOp, a: Tree, b: Tree) -> Tree {
    Tree::Binary(op, Box::new(a), Box::new(b))
}

/// 1 + a², a denominator or log argument that stays ≥ 1.
pub fn one_plus_square(a: Tree) -> Tree {
    bin(BinaryOp::Add, Tree::Const(1.0), Tree::Powi(Box::new(a), 2))
}

/// |a − b| ≤ rel·max(|a|, |b|, 1).
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

/// Central difference with two rounds of Richardson extrapolation (h = 2e-3,
/// h/2, h/4): the library's finite differences, which share nothing with
/// the engines under test but f64 evaluation.
pub fn richardson(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let steps = chainrule::check::FdOptions {
        step: 2e-3,
        relative: false,
        rounds: 2,
    };
    chainrule::check::numerical_derivative(f, x, steps)
}

/// The tape's gradient of `t` at `p` (zeros when the formula is constant:
/// it records no graph).
pub fn tape_gradient(t: &Tree, p: &[f64]) -> Vec<f64> {
    let xs: Vec<Tensor> = p
        .iter()
        .map(|&v| Tensor::scalar(v).requires_grad())
        .collect();
    let y = t.eval(&xs);
    if !y.is_requires_grad() {
        return vec![0.0; p.len()];
    }
    y.backward().unwrap();
    xs.iter()
        .map(|x| x.grad().map_or(0.0, |g| g.item()))
        .collect()
}
