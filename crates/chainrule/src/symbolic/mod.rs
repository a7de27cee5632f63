//! Symbolic differentiation: formulas as a hash-consed DAG ([`Expr`]), a
//! parser for the CLI grammar ([`parse`], [`parse_syntax`]), derivatives
//! through the one rules table ([`Expr::diff`], [`gradient`], [`hessian`],
//! [`jacobian`]), a canonical form applied as formulas are built, printers
//! (text that parses back, LaTeX, `where` bindings), evaluation at a point
//! or with any [`Real`](crate::Real), and compilation to a flat program.
//!
//! ```
//! use chainrule::symbolic::{parse, gradient};
//! let f = parse("x1^2 + 3*x1*x2 + x2^2").unwrap();
//! let g = gradient(&f, &["x1", "x2"]);
//! assert_eq!(g[0].to_string(), "2*x1 + 3*x2");
//! assert_eq!(g[1].to_string(), "3*x1 + 2*x2");
//! ```
//!
//! Formulas live in a thread-local arena: [`Expr`] is a copyable id and is
//! not `Send`. Every walk over a formula (printing, differentiation,
//! evaluation, substitution, compilation) uses explicit stacks, so a
//! 100,000-deep formula is handled like any other.

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
pub use diff::{gradient, hessian, jacobian};
pub use expr::{Constant, Expr, Node};
pub use num::Num;
pub use parse::{parse, parse_syntax, Span, Syntax, SyntaxKind, SyntaxNode, MAX_NESTING};

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

/// The total [`Expr::op_count`] of several formulas (shared nodes counted
/// once per formula, as a reader of each formula sees them).
pub fn count_ops(exprs: &[Expr]) -> usize {
    exprs.iter().map(Expr::op_count).sum()
}
