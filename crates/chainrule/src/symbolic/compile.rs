//! Compilation of formulas to a flat register program over f64: every
//! shared subexpression (within and across the formulas) is computed once,
//! and evaluation allocates nothing.
//!
//! The formulas' DAG, with shared sub-products found by a greedy pass over
//! the n-ary products ([`share_products`]), is written out as a program in
//! the form the compiled reverse mode traces ([`compiled::Node`]), and
//! lowered by the same back end: dead code dropped, a product feeding a sum
//! fused, registers reused, the previous result passed in a machine
//! register, all run by the one interpreter.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use super::expr::{topo, Expr, FxMap, Node};
use super::num::Num;
use crate::compiled::{self, ScalarProgram};
use crate::error::{Error, Result};
use crate::ops::{BinaryOp, UnaryOp};

/// A node of the program being built (an index into `Builder::nodes`).
type Reg = u32;

/// A compiled set of formulas: `eval` writes each formula's value at a
/// point, computing shared subexpressions once.
#[derive(Clone, Debug)]
pub struct Program {
    program: ScalarProgram,
}

/// Compiles `exprs` as functions of `vars` (in that order). A variable of a
/// formula missing from `vars` is an error naming it.
pub fn compile<S: AsRef<str>>(exprs: &[Expr], vars: &[S]) -> Result<Program> {
    for e in exprs {
        e.check_live()?;
    }
    let order = topo(exprs);
    let mut b = Builder {
        nodes: (0..vars.len() as u32).map(compiled::Node::Input).collect(),
        reg: FxMap::default(),
        consts: FxMap::default(),
        products: FxMap::default(),
        pairs: Vec::new(),
        pair_reg: Vec::new(),
        pair_den: Vec::new(),
        den_reg: FxMap::default(),
    };
    for (i, v) in vars.iter().enumerate() {
        b.reg.insert(Expr::var(v.as_ref()), i as Reg);
    }
    // Which nodes need a register of their own: roots, and every operand
    // that a parent's instructions read (a denominator `b^-k` of a product
    // reads `b`, not itself).
    let mut needed: FxMap<Expr, ()> = exprs.iter().map(|&e| (e, ())).collect();
    for &e in order.iter().rev() {
        if needed.contains_key(&e) {
            for c in operands(e) {
                needed.insert(c, ());
            }
        }
    }
    share_products(&mut b, &order, &needed);
    for &e in &order {
        if !needed.contains_key(&e) || b.reg.contains_key(&e) {
            continue;
        }
        let r = b.emit(e)?;
        b.reg.insert(e, r);
    }
    let outputs: Vec<Reg> = exprs.iter().map(|e| b.reg[e]).collect();
    Ok(Program {
        program: ScalarProgram::lower(&b.nodes, vars.len(), &outputs),
    })
}

/// (numerator factors, denominator (base, k > 0) for integer k) of a product.
fn split(fs: &[Expr]) -> (Option<Num>, Vec<Expr>, Vec<(Expr, i32)>) {
    let mut c = None;
    let mut numer = Vec::new();
    let mut denom = Vec::new();
    for &f in fs {
        match f.node() {
            Node::Num(n) => c = Some(n),
            Node::Pow([b, x]) => match x.as_num().and_then(|k| k.as_int()) {
                Some(k) if k < 0 && k >= -i64::from(i32::MAX) => denom.push((b, (-k) as i32)),
                _ => numer.push(f),
            },
            _ => numer.push(f),
        }
    }
    (c, numer, denom)
}

/// The nodes whose registers the instructions of `e` read.
fn operands(e: Expr) -> Vec<Expr> {
    match e.node() {
        Node::Mul(fs) => {
            let (_, mut numer, denom) = split(&fs);
            numer.extend(denom.into_iter().map(|(b, _)| b));
            numer
        }
        Node::Add(ts) => ts
            .iter()
            .map(|&t| negated(t).map_or(t, |(_, r)| r))
            .collect(),
        Node::Pow([b, x]) => {
            if x.as_num().is_some() {
                vec![b]
            } else {
                vec![b, x]
            }
        }
        n => n.children().to_vec(),
    }
}

/// A term `-1 * r` with a single other factor: the sum subtracts `r`.
fn negated(t: Expr) -> Option<(Num, Expr)> {
    match t.node() {
        Node::Mul(fs) if fs.len() == 2 && fs[0].as_num() == Some(Num::MINUS_ONE) => {
            Some((Num::MINUS_ONE, fs[1]))
        }
        _ => None,
    }
}

/// A factor of a product as the compiler sees it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Operand {
    /// Multiply by this node's value.
    Node(Expr),
    /// Divide by base^k.
    Den(Expr, i32),
    /// Multiply by a constant (its bits).
    Const(u64),
    /// A shared sub-product (an index into `Builder::pairs`).
    Pair(u32),
}

impl Operand {
    /// A deterministic order, to pick among equally frequent pairs.
    fn key(self) -> (u8, u64, i64) {
        match self {
            Operand::Node(e) => (0, e.index() as u64, 0),
            Operand::Den(e, k) => (1, e.index() as u64, i64::from(k)),
            Operand::Const(bits) => (2, bits, 0),
            Operand::Pair(i) => (3, u64::from(i), 0),
        }
    }
}

struct Builder {
    /// The program: the inputs, then each operation after its operands.
    nodes: Vec<compiled::Node>,
    /// The node of each formula node computed so far.
    reg: FxMap<Expr, Reg>,
    consts: FxMap<u64, Reg>,
    /// For each product node: its operands after sharing, and whether the
    /// result is negated (a coefficient of -1).
    products: FxMap<Expr, (Vec<Operand>, bool)>,
    /// Shared sub-products: two operands each.
    pairs: Vec<(Operand, Operand)>,
    pair_reg: Vec<Option<Reg>>,
    pair_den: Vec<bool>,
    den_reg: FxMap<(Expr, i32), Reg>,
}

/// Whether an operand divides: a denominator, or a pair of them
/// (`pair_den` caches the answer for each shared pair).
fn is_den(op: Operand, pair_den: &[bool]) -> bool {
    match op {
        Operand::Den(..) => true,
        Operand::Node(_) | Operand::Const(_) => false,
        Operand::Pair(i) => pair_den[i as usize],
    }
}

/// Greedy sharing of sub-products between products (the pair that occurs
/// in the most products becomes one instruction, until no pair repeats), as
/// common-subexpression elimination of n-ary products.
fn share_products(b: &mut Builder, order: &[Expr], needed: &FxMap<Expr, ()>) {
    let mut prods: Vec<(Expr, Vec<Operand>, bool)> = Vec::new();
    for &e in order {
        if !needed.contains_key(&e) {
            continue;
        }
        let Node::Mul(fs) = e.node() else { continue };
        let (c, numer, denom) = split(&fs);
        let negate = c == Some(Num::MINUS_ONE);
        let mut ops: Vec<Operand> = Vec::new();
        if let Some(c) = c.filter(|_| !negate) {
            ops.push(Operand::Const(c.to_f64().to_bits()));
        }
        ops.extend(numer.into_iter().map(Operand::Node));
        ops.extend(denom.into_iter().map(|(base, k)| Operand::Den(base, k)));
        prods.push((e, ops, negate));
    }
    // Counts of every pair of operands over the products, kept up to date
    // as pairs are replaced, and ordered (count, then the smallest key
    // first) so the next pair to share is the last of `ranked`.
    type Key = (u8, u64, i64);
    let pair_key = |x: Operand, y: Operand| -> (Key, Key) {
        let (kx, ky) = (x.key(), y.key());
        if kx <= ky {
            (kx, ky)
        } else {
            (ky, kx)
        }
    };
    let mut operand_of: FxMap<Key, Operand> = FxMap::default();
    let mut counts: FxMap<(Key, Key), u32> = FxMap::default();
    let mut ranked: BTreeSet<(u32, Reverse<(Key, Key)>)> = BTreeSet::new();
    // Which products each operand appears in (products never lose an
    // operand without it being replaced by a pair, so this only grows).
    let mut holders: FxMap<Key, Vec<usize>> = FxMap::default();
    let bump = |counts: &mut FxMap<(Key, Key), u32>,
                ranked: &mut BTreeSet<(u32, Reverse<(Key, Key)>)>,
                k: (Key, Key),
                up: bool| {
        let c = counts.entry(k).or_insert(0);
        if *c >= 2 {
            ranked.remove(&(*c, Reverse(k)));
        }
        if up {
            *c += 1;
        } else {
            *c -= 1;
        }
        if *c >= 2 {
            ranked.insert((*c, Reverse(k)));
        }
    };
    for (p, (_, ops, _)) in prods.iter().enumerate() {
        for i in 0..ops.len() {
            operand_of.insert(ops[i].key(), ops[i]);
            holders.entry(ops[i].key()).or_default().push(p);
            for j in i + 1..ops.len() {
                bump(&mut counts, &mut ranked, pair_key(ops[i], ops[j]), true);
            }
        }
    }
    while let Some(&(_, Reverse((kx, ky)))) = ranked.iter().next_back() {
        let (x, y) = (operand_of[&kx], operand_of[&ky]);
        let id = Operand::Pair(b.pairs.len() as u32);
        let den = is_den(x, &b.pair_den) && is_den(y, &b.pair_den);
        b.pairs.push((x, y));
        b.pair_reg.push(None);
        b.pair_den.push(den);
        operand_of.insert(id.key(), id);
        let mut with_x = holders.get(&kx).cloned().unwrap_or_default();
        with_x.dedup();
        for p in with_x {
            let ops = &mut prods[p].1;
            let (Some(i), Some(j)) = (
                ops.iter().position(|&o| o == x),
                ops.iter().position(|&o| o == y),
            ) else {
                continue;
            };
            if i == j {
                continue;
            }
            for a in 0..ops.len() {
                for c in a + 1..ops.len() {
                    bump(&mut counts, &mut ranked, pair_key(ops[a], ops[c]), false);
                }
            }
            let (hi, lo) = if i > j { (i, j) } else { (j, i) };
            ops.remove(hi);
            ops.remove(lo);
            ops.push(id);
            holders.entry(id.key()).or_default().push(p);
            for a in 0..ops.len() {
                for c in a + 1..ops.len() {
                    bump(&mut counts, &mut ranked, pair_key(ops[a], ops[c]), true);
                }
            }
        }
    }
    for (e, ops, negate) in prods {
        b.products.insert(e, (ops, negate));
    }
}

impl Builder {
    /// Appends a node.
    fn push(&mut self, node: compiled::Node) -> Reg {
        self.nodes.push(node);
        (self.nodes.len() - 1) as Reg
    }

    fn unary(&mut self, op: UnaryOp, a: Reg) -> Reg {
        self.push(compiled::Node::Unary(op, a))
    }

    fn binary(&mut self, op: BinaryOp, a: Reg, b: Reg) -> Reg {
        self.push(compiled::Node::Binary(op, a, b))
    }

    fn constant(&mut self, v: f64) -> Reg {
        if let Some(&r) = self.consts.get(&v.to_bits()) {
            return r;
        }
        let r = self.push(compiled::Node::Const(v.to_bits()));
        self.consts.insert(v.to_bits(), r);
        r
    }

    fn get(&self, e: &Expr) -> Reg {
        self.reg[e]
    }

    /// Multiplies registers together into one (a fresh one if several).
    fn product(&mut self, rs: &[Reg]) -> Reg {
        let mut acc = rs[0];
        for &r in &rs[1..] {
            acc = self.binary(BinaryOp::Mul, acc, r);
        }
        acc
    }

    fn powi(&mut self, b: Reg, k: i32) -> Reg {
        if k == 1 {
            return b;
        }
        self.unary(UnaryOp::Powi(k), b)
    }

    /// numerator product / denominator product.
    fn quotient(&mut self, nr: &[Reg], dr: &[Reg]) -> Reg {
        match (nr.is_empty(), dr.is_empty()) {
            (false, true) => self.product(nr),
            (false, false) => {
                let n = self.product(nr);
                let d = self.product(dr);
                self.binary(BinaryOp::Div, n, d)
            }
            (true, false) => {
                let d = self.product(dr);
                self.unary(UnaryOp::Powi(-1), d)
            }
            (true, true) => self.constant(1.0),
        }
    }

    /// The register of an operand, emitting shared pairs on first use
    /// (with an explicit stack: pairs may nest).
    fn operand(&mut self, op: Operand) -> Reg {
        match op {
            Operand::Node(e) => self.get(&e),
            Operand::Den(b, k) => {
                if let Some(&r) = self.den_reg.get(&(b, k)) {
                    return r;
                }
                let rb = self.get(&b);
                let r = self.powi(rb, k);
                self.den_reg.insert((b, k), r);
                r
            }
            Operand::Const(bits) => self.constant(f64::from_bits(bits)),
            Operand::Pair(i) => {
                let mut stack = vec![i];
                while let Some(&top) = stack.last() {
                    if self.pair_reg[top as usize].is_some() {
                        stack.pop();
                        continue;
                    }
                    let (x, y) = self.pairs[top as usize];
                    let pending: Vec<u32> = [x, y]
                        .into_iter()
                        .filter_map(|o| match o {
                            Operand::Pair(j) if self.pair_reg[j as usize].is_none() => Some(j),
                            _ => None,
                        })
                        .collect();
                    if !pending.is_empty() {
                        stack.extend(pending);
                        continue;
                    }
                    let (rx, ry) = (self.operand(x), self.operand(y));
                    let (dx, dy) = (is_den(x, &self.pair_den), is_den(y, &self.pair_den));
                    let out = match (dx, dy) {
                        (false, false) | (true, true) => self.binary(BinaryOp::Mul, rx, ry),
                        (false, true) => self.binary(BinaryOp::Div, rx, ry),
                        (true, false) => self.binary(BinaryOp::Div, ry, rx),
                    };
                    self.pair_reg[top as usize] = Some(out);
                    stack.pop();
                }
                self.pair_reg[i as usize].expect("emitted above")
            }
        }
    }

    fn emit(&mut self, e: Expr) -> Result<Reg> {
        Ok(match e.node() {
            Node::Num(n) => self.constant(n.to_f64()),
            Node::Const(c) => self.constant(c.value()),
            Node::Sym(s) => {
                return Err(Error::UnboundVariable {
                    name: s.to_string(),
                    span: None,
                })
            }
            Node::Add(ts) => {
                let mut acc: Option<Reg> = None;
                let mut subtract = Vec::new();
                for &t in ts.iter() {
                    if let Some((_, r)) = negated(t) {
                        subtract.push(self.get(&r));
                        continue;
                    }
                    let r = self.get(&t);
                    acc = Some(match acc {
                        None => r,
                        Some(a) => self.binary(BinaryOp::Add, a, r),
                    });
                }
                let mut acc = match acc {
                    Some(a) => a,
                    None => {
                        let first = subtract.remove(0);
                        self.unary(UnaryOp::Neg, first)
                    }
                };
                for r in subtract {
                    acc = self.binary(BinaryOp::Sub, acc, r);
                }
                acc
            }
            Node::Mul(_) => {
                let (ops, negate) = self.products[&e].clone();
                let mut nr: Vec<Reg> = Vec::new();
                let mut dr: Vec<Reg> = Vec::new();
                for op in ops {
                    let r = self.operand(op);
                    if is_den(op, &self.pair_den) {
                        dr.push(r);
                    } else {
                        nr.push(r);
                    }
                }
                let mut r = self.quotient(&nr, &dr);
                if negate {
                    r = self.unary(UnaryOp::Neg, r);
                }
                r
            }
            Node::Pow([b, x]) => {
                let rb = self.get(&b);
                match x.as_num() {
                    Some(k) => match k.as_int().and_then(|k| i32::try_from(k).ok()) {
                        Some(k) => self.powi(rb, k),
                        None if k == Num::rational(1, 2) => self.unary(UnaryOp::Sqrt, rb),
                        None => {
                            let rk = self.constant(k.to_f64());
                            self.binary(BinaryOp::Pow, rb, rk)
                        }
                    },
                    None => {
                        let rx = self.get(&x);
                        self.binary(BinaryOp::Pow, rb, rx)
                    }
                }
            }
            Node::Unary(op, a) => {
                let ra = self.get(&a);
                self.unary(op, ra)
            }
            Node::Binary(op, [a, c]) => {
                let (ra, rc) = (self.get(&a), self.get(&c));
                self.binary(op, ra, rc)
            }
        })
    }
}

impl Program {
    /// How many inputs `eval` expects.
    pub fn n_inputs(&self) -> usize {
        self.program.n_inputs()
    }

    /// How many values `eval` writes.
    pub fn n_outputs(&self) -> usize {
        self.program.n_outputs()
    }

    /// How many instructions run per evaluation (fused instructions counted once).
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// Whether no instruction runs (every output is an input or a constant).
    pub fn is_empty(&self) -> bool {
        self.program.len() == 0
    }

    /// Evaluates every formula at `inputs` (in the order of the `vars` given
    /// to [`compile`]) into `out`. Allocates nothing.
    ///
    /// # Panics
    /// If `inputs` or `out` has the wrong length (see [`Program::try_eval`]).
    pub fn eval(&mut self, inputs: &[f64], out: &mut [f64]) {
        if let Err(e) = self.try_eval(inputs, out) {
            panic!("Program::eval: {e}");
        }
    }

    /// [`Program::eval`] that reports wrong lengths as an error.
    pub fn try_eval(&mut self, inputs: &[f64], out: &mut [f64]) -> Result<()> {
        let lengths = [
            ("inputs", self.n_inputs(), inputs.len()),
            ("outputs", self.n_outputs(), out.len()),
        ];
        if let Some(&(what, expected, got)) = lengths.iter().find(|(_, e, g)| e != g) {
            return Err(Error::LengthMismatch {
                op: "Program::eval",
                what,
                expected,
                got,
            });
        }
        self.program.run(inputs);
        self.program.outputs_into(0, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::parse;

    #[test]
    fn formulas_get_the_back_ends_fusion() {
        let p = |s: &str| parse(s).unwrap();
        // x·y + z: one multiply-add.
        let mut prog = compile(&[p("x*y + z")], &["x", "y", "z"]).unwrap();
        assert_eq!(prog.len(), 1);
        let mut out = [0.0];
        prog.eval(&[0.3, 0.7, 0.1], &mut out);
        assert_eq!(out[0], 0.3 * 0.7 + 0.1);
        // tanh and its derivative cosh⁻²: one instruction for both.
        let t = p("tanh(x)");
        let mut prog = compile(&[t, t.diff("x")], &["x"]).unwrap();
        assert_eq!(prog.len(), 1);
        let mut out = [0.0; 2];
        for x in [0.2, -0.9, 3.0, 25.0] {
            prog.eval(&[x], &mut out);
            assert_eq!(out[0], f64::tanh(x));
            let d = f64::cosh(x).powi(-2);
            assert!((out[1] - d).abs() <= 4.0 * f64::EPSILON * d, "{x}");
        }
        // Outputs that are inputs or constants need no instruction.
        let mut prog = compile(&[p("y"), p("2")], &["x", "y"]).unwrap();
        assert!(prog.is_empty());
        prog.eval(&[1.0, 5.0], &mut out);
        assert_eq!(out, [5.0, 2.0]);
    }
}
