//! What several integration tests share: random formulas as trees that run
//! in every engine (f64, tape, Taylor, traced, symbolic), and the numeric
//! references they are checked against.
#![allow(dead_code)] // each test crate uses its own part of this module

use chainrule::ops::Domain;
use chainrule::{BinaryOp, Real, Tensor, UnaryOp};
use proptest::prelude::*;

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

/// The interval `a` is mapped onto by [`squash`]: the domain's, or the
/// part of it above the gap when it leaves out a neighbourhood of 0.
fn squash_range(d: Domain) -> (f64, f64) {
    let lo = if d.gap > 0.0 { d.lo.max(d.gap) } else { d.lo };
    ((lo + d.hi) / 2.0, (d.hi - lo) / 2.0)
}

/// `a` mapped smoothly into the open domain `d` (mid + half·tanh a), so that
/// random formulas keep every argument where its op is defined, smooth and
/// moderate.
pub fn squash<T: Real>(d: Domain, a: T) -> T {
    let (mid, half) = squash_range(d);
    a.tanh() * half + mid
}

/// [`squash`] as a formula.
pub fn squash_tree(d: Domain, a: Tree) -> Tree {
    let (mid, half) = squash_range(d);
    bin(
        BinaryOp::Add,
        Tree::Const(mid),
        bin(BinaryOp::Mul, Tree::Const(half), un(UnaryOp::Tanh, a)),
    )
}

/// `op(a)` with `a` squashed into the op's domain: smooth, moderate values
/// for every smooth op of the table.
pub fn smooth_unary(op: UnaryOp, a: Tree) -> Tree {
    un(op, squash_tree(op.domain(), a))
}

/// Every smooth unary op of the table (those random smooth formulas use).
pub fn smooth_unary_ops() -> Vec<UnaryOp> {
    UnaryOp::ALL
        .into_iter()
        .filter(|op| op.is_smooth())
        .collect()
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

/// The random-formula corpus (tests/compiled.rs, tests/forward_tensor.rs):
/// smooth formulas with moderate values on [-2, 2]³ (no domain edges, no
/// kinks), shared subexpressions included (a tree reused twice).
pub fn smooth_tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (0..3usize).prop_map(Tree::Var),
        prop_oneof![Just(0.5), Just(2.0), Just(-1.5), Just(1.0), Just(0.0)].prop_map(Tree::Const),
    ];
    let ops = smooth_unary_ops();
    leaf.prop_recursive(4, 24, 2, move |inner| {
        prop_oneof![
            // Every smooth op of the table, its argument squashed into its
            // domain.
            (proptest::sample::select(ops.clone()), inner.clone())
                .prop_map(|(op, a)| smooth_unary(op, a)),
            inner
                .clone()
                .prop_map(|a| un(UnaryOp::Exp, un(UnaryOp::Sin, a))),
            inner
                .clone()
                .prop_map(|a| un(UnaryOp::Ln, one_plus_square(a))),
            inner
                .clone()
                .prop_map(|a| un(UnaryOp::Sqrt, one_plus_square(a))),
            (
                proptest::sample::select(vec![BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| bin(op, a, b)),
            // The same subtree twice: a shared subexpression once traced.
            (
                proptest::sample::select(vec![BinaryOp::Add, BinaryOp::Mul]),
                inner.clone()
            )
                .prop_map(|(op, a)| bin(op, a.clone(), a)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| bin(
                BinaryOp::Div,
                a,
                one_plus_square(b)
            )),
            (inner.clone(), 2i32..4)
                .prop_map(|(a, n)| Tree::Powi(Box::new(un(UnaryOp::Tanh, a)), n)),
            // a^b with a ≥ 1.
            (inner.clone(), inner.clone()).prop_map(|(a, b)| bin(
                BinaryOp::Pow,
                one_plus_square(a),
                un(UnaryOp::Tanh, b)
            )),
            (inner.clone(), inner).prop_map(|(a, b)| {
                let x = bin(BinaryOp::Add, Tree::Const(3.0), un(UnaryOp::Tanh, b));
                bin(BinaryOp::Atan2, a, x)
            }),
        ]
    })
}
