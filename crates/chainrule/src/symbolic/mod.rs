//! Symbolic differentiation: formulas as a hash-consed DAG ([`Expr`]), a
//! parser for the CLI grammar ([`parse`], [`parse_syntax`]), derivatives
//! through the one rules table ([`Expr::diff`], [`gradient_formula`],
//! [`hessian_formula`], [`jacobian_formula`]), a canonical form applied as formulas are built, printers
//! (text that parses back, LaTeX, `where` bindings), evaluation at a point
//! or with any [`Real`](crate::Real), and compilation to a flat program.
//!
//! ```
//! use chainrule::symbolic::{gradient_formula, parse};
//! let f = parse("x1^2 + 3*x1*x2 + x2^2").unwrap();
//! let g = gradient_formula(&f, &["x1", "x2"]);
//! assert_eq!(g[0].to_string(), "2*x1 + 3*x2");
//! assert_eq!(g[1].to_string(), "3*x1 + 2*x2");
//! ```
//!
//! Formulas live in a thread-local arena: [`Expr`] is a copyable id and is
//! not `Send` (print and re-parse to move a formula to another thread).
//! Nodes are never freed while the thread lives, which makes `Drop` free
//! and structural equality O(1); a long-running thread that builds many
//! unrelated formulas keeps their memory. Every walk over a formula
//! (printing, differentiation, evaluation, substitution, compilation) uses
//! explicit stacks, so a 100,000-deep formula is handled like any other.
//!
//! # Canonical form and printing (the choices made)
//!
//! - Numbers: integer literals and quotients of integers stay exact
//!   rationals (`1/2`); decimal literals and f64 constants are floats
//!   (`0.5`); a float with an integral value is the integer. Generic code
//!   traced through [`Real`](crate::Real) turns the exact f64 values of π,
//!   e, ln 2, ln 10 and 2/√π into `pi`, `e`, `log(2)`, `log(10)` and
//!   `2/sqrt(pi)` (so `d/dx erf(x)` reads `2*exp(-x^2)/sqrt(pi)`).
//! - Sums and products are n-ary, flattened, sorted (variables in natural
//!   order, x2 < x10; SymPy's lexicographic monomial order for the terms of
//!   a sum, `x^2 + 3*x + 1`; numbers last in sums, first in products).
//! - Like terms and powers are collected. `x/x → 1` for every x, as SymPy
//!   does (so `d/dx x*log(x)` is `log(x) + 1`); only a numeric `0/0` stays
//!   unevaluated (it evaluates to NaN), and `1/0`, `log(0)` stay as written
//!   (they evaluate to IEEE inf).
//! - `d/dx tanh(x)` is `1/cosh(x)^2` (sech²), which the simplifier prefers
//!   to `1 - tanh(x)^2`: it keeps relative accuracy where `1 - tanh²`
//!   cancels to 0 (tanh'(20) = 1.7e-17), and `c - c*tanh(u)^2` is rewritten
//!   to it. `d/dx tan(x)` is `1/cos(x)^2`, `d/dx sigmoid(x)` is
//!   `sigmoid(-x)*sigmoid(x)`.
//! - Text: `x - 2*y` for negative coefficients, `1/x` for `x^-1`,
//!   `x/2` and `3*x/2` for rational coefficients, `sqrt(x)` for `x^(1/2)`,
//!   `-x^2` for `-(x^2)` (as the grammar reads it), parentheses only where
//!   precedence needs them. Two spellings are forced by the grammar:
//!   `-((x + 1)/y)` (because `-(x + 1)/y` means `(-x - 1)/y`, a number
//!   times a sum being distributed) and `1/2/(x + y)` (because
//!   `1/(2*(x + y))` means `1/(2*x + 2*y)`). Printing then parsing gives
//!   the same `Expr` (a property test checks 10,000 random formulas).
//! - [`Syntax`] keeps what was written: `x^3` (an integer literal exponent,
//!   also `x^-3`) is `Powi(3)`, any other exponent `Pow`; `log(x, b)` is
//!   `ln x / ln b`; subtraction and division stay binary.

mod arith;
mod compile;
mod diff;
mod eval;
mod expr;
mod num;
mod parse;
mod print;
mod simplify;

pub use compile::{compile, Program};
pub use diff::{gradient_formula, hessian_formula, jacobian_formula};
pub use expr::{collect, collect_if_grown, with_fresh_arena, Constant, Expr, Formula, Node};
pub use num::Num;
pub use parse::{
    function_names, is_function, is_name, parse, parse_syntax, Span, Syntax, SyntaxKind,
    SyntaxNode, ALIASES, ANGLES, MAX_NESTING, MAX_ORDER, NOTATION, REWRITTEN,
};

impl Expr {
    /// The number of operation nodes of this formula (every node that is not
    /// a number, constant or variable), each shared node counted once. This
    /// is the DAG analogue of counting the non-leaf nodes of a SymPy tree.
    pub fn op_count(&self) -> usize {
        expr::topo(&[*self])
            .into_iter()
            .filter(|e| !e.with(|n| n.children().is_empty()))
            .count()
    }
}

impl Expr {
    /// The number of operation nodes of this formula read as a tree: a
    /// shared node counted at every use, as walking SymPy's or SymEngine's
    /// `.args` counts them (saturating at `u64::MAX`; computed on the DAG,
    /// so it is fast even when the tree is exponentially larger).
    ///
    /// ```
    /// use chainrule::symbolic::parse;
    /// // sin(x·y) is shared: 2 nodes in the DAG, counted twice in the tree.
    /// let f = parse("sin(x*y) + sin(x*y)^2").unwrap();
    /// assert_eq!((f.op_count(), f.tree_op_count()), (4, 6));
    /// ```
    pub fn tree_op_count(&self) -> u64 {
        let order = expr::topo(&[*self]);
        let mut count: expr::FxMap<Expr, u64> = expr::FxMap::default();
        for e in order {
            let n = e.with(|n| {
                let kids = n.children();
                if kids.is_empty() {
                    0
                } else {
                    kids.iter()
                        .fold(1u64, |acc, c| acc.saturating_add(count[c]))
                }
            });
            count.insert(e, n);
        }
        count[self]
    }
}

/// The total [`Expr::op_count`] of several formulas (shared nodes counted
/// once per formula, as a reader of each formula sees them).
pub fn count_ops(exprs: &[Expr]) -> usize {
    exprs.iter().map(Expr::op_count).sum()
}
