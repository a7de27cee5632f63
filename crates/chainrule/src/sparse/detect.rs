//! Sparsity detection on a traced function: index sets, as
//! SparseConnectivityTracer.jl propagates them.
//!
//! The function is recorded once ([`compiled::Traced`](crate::compiled::Traced),
//! a straight-line tape of the op table's primitives). Every node then
//! stands for the set of inputs it depends on, and a scalar function's
//! Hessian for the set of pairs `(i, j)` whose second derivative may be
//! nonzero: a linear op adds no pair, a nonlinear unary op `φ(u)` adds all
//! pairs of `u`'s set, a binary op adds the pairs its second partials can
//! make (`u·v`: the cross pairs of the two sets only; `u/v`: cross pairs
//! and the pairs of `v`'s set; `u + v`: none).
//!
//! Which op is which is not listed here: it is read off the rules table
//! ([`crate::rules`]) by evaluating each rule on a stand-in number that
//! records only which of `x`, `y` and the output a partial derivative
//! reads ([`Reads`]). A partial that reads nothing is constant (the op is
//! linear in that argument); one that is the constant 0 (sign, step, the
//! sign argument of copysign) cuts the dependency, since the op is then
//! piecewise constant in that argument. Anything else counts as nonlinear,
//! so the patterns are conservative: an entry left out is a structural zero
//! at every point.
//!
//! Sets are computed only for the operands of nonlinear ops and for the
//! outputs, each by one walk back over the tape (so a long running sum,
//! whose partial sums depend on ever more inputs, costs nothing unless
//! something nonlinear reads it); the Hessian's pairs are collected once for
//! the whole function (a pair made anywhere upstream of the output stays in
//! its Hessian).

use std::ops::{Add, Div, Mul, Neg, Sub};

use rustc_hash::{FxHashMap, FxHashSet};

use super::Pattern;
use crate::compiled::Node;
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;
use crate::rules::{d_binary, d_unary};

/// A stand-in number for reading the rules: which of the op's `x` (bit 0),
/// `y` (bit 1) and output (bit 2) a value is computed from, and its value
/// when it reads none of them.
#[derive(Clone, Copy, Debug)]
struct Reads {
    reads: u8,
    value: f64,
}

impl Reads {
    const X: Reads = Reads {
        reads: 1,
        value: f64::NAN,
    };
    const Y: Reads = Reads {
        reads: 2,
        value: f64::NAN,
    };
    const OUT: Reads = Reads {
        reads: 4,
        value: f64::NAN,
    };

    fn join(a: Reads, b: Reads, f: impl Fn(f64, f64) -> f64) -> Reads {
        Reads {
            reads: a.reads | b.reads,
            value: f(a.value, b.value),
        }
    }

    /// The constant 0: a derivative that vanishes identically.
    fn is_zero(self) -> bool {
        self.reads == 0 && self.value == 0.0
    }
}

impl Real for Reads {
    fn from_f64(x: f64) -> Self {
        Reads { reads: 0, value: x }
    }
    fn unary(&self, op: UnaryOp) -> Self {
        Reads {
            reads: self.reads,
            value: op.eval(self.value),
        }
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        Reads::join(*self, *rhs, |a, b| op.eval(a, b))
    }
}

macro_rules! reads_op {
    ($tr:ident, $m:ident, $op:expr) => {
        impl $tr for Reads {
            type Output = Reads;
            fn $m(self, rhs: Reads) -> Reads {
                self.binary($op, &rhs)
            }
        }
        impl $tr<f64> for Reads {
            type Output = Reads;
            fn $m(self, rhs: f64) -> Reads {
                self.binary($op, &Reads::from_f64(rhs))
            }
        }
    };
}

reads_op!(Add, add, BinaryOp::Add);
reads_op!(Sub, sub, BinaryOp::Sub);
reads_op!(Mul, mul, BinaryOp::Mul);
reads_op!(Div, div, BinaryOp::Div);

impl Neg for Reads {
    type Output = Reads;
    fn neg(self) -> Reads {
        self.unary(UnaryOp::Neg)
    }
}

/// What the rules say about one argument of an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Partial {
    /// The partial derivative is identically 0: no dependency.
    pub(crate) zero: bool,
    /// It varies with the first argument (or with the output).
    pub(crate) reads_x: bool,
    /// It varies with the second argument (or with the output).
    pub(crate) reads_y: bool,
}

impl Partial {
    fn of(r: Reads) -> Partial {
        let out = r.reads & 4 != 0;
        Partial {
            zero: r.is_zero(),
            reads_x: r.reads & 1 != 0 || out,
            reads_y: r.reads & 2 != 0 || out,
        }
    }
}

/// The rule of a unary op, read: its derivative (`reads_x`: nonlinear).
pub(crate) fn unary_partial(op: UnaryOp) -> Partial {
    // The output of a unary op is a function of x alone.
    let p = Partial::of(d_unary(op, &Reads::X, &Reads::OUT));
    Partial {
        reads_x: p.reads_x || p.reads_y,
        reads_y: false,
        ..p
    }
}

/// The rules of a binary op, read: its two partial derivatives.
pub(crate) fn binary_partials(op: BinaryOp) -> (Partial, Partial) {
    let (px, py) = d_binary(op, &Reads::X, &Reads::Y, &Reads::OUT);
    (Partial::of(px), Partial::of(py))
}

/// The rules read once per op of a tape.
#[derive(Default)]
struct Rules {
    unary: FxHashMap<UnaryOp, Partial>,
    binary: FxHashMap<BinaryOp, (Partial, Partial)>,
}

impl Rules {
    fn unary(&mut self, op: UnaryOp) -> Partial {
        *self.unary.entry(op).or_insert_with(|| unary_partial(op))
    }
    fn binary(&mut self, op: BinaryOp) -> (Partial, Partial) {
        *self.binary.entry(op).or_insert_with(|| binary_partials(op))
    }
}

/// The tape with the walks that find index sets.
struct Sets<'a> {
    nodes: &'a [Node],
    rules: Rules,
    /// `seen[i] == epoch`: node i visited by the current walk.
    seen: Vec<u32>,
    epoch: u32,
    memo: FxHashMap<u32, Vec<u32>>,
}

impl<'a> Sets<'a> {
    fn new(nodes: &'a [Node]) -> Sets<'a> {
        Sets {
            nodes,
            rules: Rules::default(),
            seen: vec![0; nodes.len()],
            epoch: 0,
            memo: FxHashMap::default(),
        }
    }

    /// The operands of node `i` through which its value depends on them
    /// (a partial that is identically 0 cuts the edge).
    fn operands(&mut self, i: usize) -> [Option<u32>; 2] {
        match self.nodes[i] {
            Node::Input(_) | Node::Const(_) => [None, None],
            Node::Unary(op, a) => [(!self.rules.unary(op).zero).then_some(a), None],
            Node::Binary(op, a, b) => {
                let (pa, pb) = self.rules.binary(op);
                [(!pa.zero).then_some(a), (!pb.zero).then_some(b)]
            }
        }
    }

    /// The inputs node `i` depends on, sorted.
    fn of(&mut self, i: u32) -> Vec<u32> {
        if let Some(s) = self.memo.get(&i) {
            return s.clone();
        }
        self.epoch += 1;
        let mut set = Vec::new();
        let mut stack = vec![i];
        self.seen[i as usize] = self.epoch;
        while let Some(v) = stack.pop() {
            if let Node::Input(j) = self.nodes[v as usize] {
                set.push(j);
            }
            for o in self.operands(v as usize).into_iter().flatten() {
                if self.seen[o as usize] != self.epoch {
                    self.seen[o as usize] = self.epoch;
                    stack.push(o);
                }
            }
        }
        set.sort_unstable();
        self.memo.insert(i, set.clone());
        set
    }
}

/// The Jacobian pattern of the tape's nodes `outputs` (rows) with respect
/// to its `n_inputs` inputs (columns).
pub(crate) fn jacobian_pattern(nodes: &[Node], n_inputs: usize, outputs: &[u32]) -> Pattern {
    let mut sets = Sets::new(nodes);
    let rows = outputs
        .iter()
        .map(|&o| sets.of(o).into_iter().map(|j| j as usize).collect())
        .collect();
    Pattern::from_rows(n_inputs, rows)
}

/// The entries of both triangles that the upper-triangle `pairs` stand for.
fn nonzeros(pairs: &FxHashSet<(u32, u32)>) -> usize {
    let diagonal = pairs.iter().filter(|(i, j)| i == j).count();
    2 * pairs.len() - diagonal
}

/// The Hessian pattern of the tape's node `output` (a scalar function of
/// the `n_inputs` inputs): symmetric, diagonal entries only where the
/// second derivative may be nonzero. `Err(nonzeros so far)` as soon as more
/// than `max_pairs` pairs (entries of the upper triangle) are found: a Hessian
/// that is in fact dense is refused before its quadratic detection and
/// colouring run away.
pub(crate) fn hessian_pattern(
    nodes: &[Node],
    n_inputs: usize,
    output: u32,
    max_pairs: usize,
) -> std::result::Result<Pattern, usize> {
    let mut sets = Sets::new(nodes);
    // The nodes whose value reaches the output (through nonzero partials).
    let mut live = vec![false; nodes.len()];
    live[output as usize] = true;
    let mut pairs: FxHashSet<(u32, u32)> = FxHashSet::default();
    // Stops early once past the cap (the caller then returns the error).
    fn add(pairs: &mut FxHashSet<(u32, u32)>, max_pairs: usize, a: &[u32], b: &[u32]) {
        for &i in a {
            for &j in b {
                pairs.insert((i.min(j), i.max(j)));
            }
            if pairs.len() > max_pairs {
                return;
            }
        }
    }
    for i in (0..=output as usize).rev() {
        if pairs.len() > max_pairs {
            return Err(nonzeros(&pairs));
        }
        if !live[i] {
            continue;
        }
        for o in sets.operands(i).into_iter().flatten() {
            live[o as usize] = true;
        }
        match nodes[i] {
            Node::Input(_) | Node::Const(_) => {}
            Node::Unary(op, a) => {
                let p = sets.rules.unary(op);
                if !p.zero && p.reads_x {
                    let s = sets.of(a);
                    add(&mut pairs, max_pairs, &s, &s);
                }
            }
            Node::Binary(op, a, b) => {
                let (pa, pb) = sets.rules.binary(op);
                let aa = !pa.zero && pa.reads_x;
                let bb = !pb.zero && pb.reads_y;
                let ab = (!pa.zero && pa.reads_y) || (!pb.zero && pb.reads_x);
                if aa || bb || ab {
                    let (sa, sb) = (sets.of(a), sets.of(b));
                    if aa {
                        add(&mut pairs, max_pairs, &sa, &sa);
                    }
                    if bb {
                        add(&mut pairs, max_pairs, &sb, &sb);
                    }
                    if ab {
                        add(&mut pairs, max_pairs, &sa, &sb);
                    }
                }
            }
        }
    }
    if pairs.len() > max_pairs {
        return Err(nonzeros(&pairs));
    }
    let mut rows = vec![Vec::new(); n_inputs];
    for (i, j) in pairs {
        rows[i as usize].push(j as usize);
        if i != j {
            rows[j as usize].push(i as usize);
        }
    }
    Ok(Pattern::from_rows(n_inputs, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_say_which_ops_are_linear() {
        let u = |op| unary_partial(op);
        assert!(!u(UnaryOp::Neg).reads_x && !u(UnaryOp::Neg).zero);
        assert!(u(UnaryOp::Sin).reads_x && u(UnaryOp::Exp).reads_x);
        assert!(u(UnaryOp::Powi(2)).reads_x && !u(UnaryOp::Powi(1)).reads_x);
        assert!(u(UnaryOp::Sign).zero && u(UnaryOp::Step).zero);
        let (a, b) = binary_partials(BinaryOp::Mul);
        assert!(!a.reads_x && a.reads_y && b.reads_x && !b.reads_y);
        let (a, b) = binary_partials(BinaryOp::Add);
        assert!(!a.reads_x && !a.reads_y && !b.reads_x && !b.reads_y);
        let (a, b) = binary_partials(BinaryOp::Div);
        assert!(!a.reads_x && a.reads_y && b.reads_x && b.reads_y);
        let (_, b) = binary_partials(BinaryOp::Copysign);
        assert!(b.zero);
    }

    #[test]
    fn reads_agree_with_partial_reads() {
        // The rules module's own table of what each partial reads.
        for op in BinaryOp::ALL {
            let (px, py) = binary_partials(op);
            let (rx, ry) = crate::rules::partial_reads(op);
            assert_eq!(px.reads_x, rx.x || rx.out, "{op:?}");
            assert_eq!(px.reads_y, rx.y || rx.out, "{op:?}");
            assert_eq!(py.reads_x, ry.x || ry.out, "{op:?}");
            assert_eq!(py.reads_y, ry.y || ry.out, "{op:?}");
        }
    }
}
