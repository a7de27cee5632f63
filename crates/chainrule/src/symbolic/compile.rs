//! Compilation of formulas to a flat register program over f64: every
//! shared subexpression (within and across the formulas) is computed once,
//! and evaluation allocates nothing.

use super::expr::{topo, Expr, FxMap, Node};
use super::num::Num;
use crate::error::{Error, Result};
use crate::ops::{BinaryOp, UnaryOp};

type Reg = u32;

#[derive(Clone, Copy, Debug)]
enum Instr {
    Add(Reg, Reg, Reg),
    Sub(Reg, Reg, Reg),
    Mul(Reg, Reg, Reg),
    Div(Reg, Reg, Reg),
    Neg(Reg, Reg),
    Recip(Reg, Reg),
    Square(Reg, Reg),
    Sqrt(Reg, Reg),
    Powi(Reg, Reg, i32),
    Powf(Reg, Reg, f64),
    Unary(UnaryOp, Reg, Reg),
    Binary(BinaryOp, Reg, Reg, Reg),
}

/// A compiled set of formulas: `eval` writes each formula's value at a
/// point, computing shared subexpressions once.
#[derive(Clone, Debug)]
pub struct Program {
    n_inputs: usize,
    regs: Vec<f64>,
    code: Vec<Instr>,
    outputs: Vec<Reg>,
}

/// Compiles `exprs` as functions of `vars` (in that order). A variable of a
/// formula missing from `vars` is an error naming it.
pub fn compile(exprs: &[Expr], vars: &[&str]) -> Result<Program> {
    let order = topo(exprs);
    let mut b = Builder {
        regs: vec![0.0; vars.len()],
        code: Vec::new(),
        reg: FxMap::default(),
        consts: FxMap::default(),
    };
    for (i, v) in vars.iter().enumerate() {
        b.reg.insert(Expr::var(v), i as Reg);
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
    for &e in &order {
        if !needed.contains_key(&e) || b.reg.contains_key(&e) {
            continue;
        }
        let r = b.emit(e)?;
        b.reg.insert(e, r);
    }
    let outputs = exprs.iter().map(|e| b.reg[e]).collect();
    Ok(Program {
        n_inputs: vars.len(),
        regs: b.regs,
        code: b.code,
        outputs,
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

struct Builder {
    regs: Vec<f64>,
    code: Vec<Instr>,
    reg: FxMap<Expr, Reg>,
    consts: FxMap<u64, Reg>,
}

impl Builder {
    fn fresh(&mut self) -> Reg {
        self.regs.push(0.0);
        (self.regs.len() - 1) as Reg
    }

    fn constant(&mut self, v: f64) -> Reg {
        if let Some(&r) = self.consts.get(&v.to_bits()) {
            return r;
        }
        let r = self.fresh();
        self.regs[r as usize] = v;
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
            let d = self.fresh();
            self.code.push(Instr::Mul(d, acc, r));
            acc = d;
        }
        acc
    }

    fn powi(&mut self, b: Reg, k: i32) -> Reg {
        if k == 1 {
            return b;
        }
        let d = self.fresh();
        self.code.push(match k {
            2 => Instr::Square(d, b),
            -1 => Instr::Recip(d, b),
            _ => Instr::Powi(d, b, k),
        });
        d
    }

    fn emit(&mut self, e: Expr) -> Result<Reg> {
        Ok(match e.node() {
            Node::Num(n) => self.constant(n.to_f64()),
            Node::Const(c) => self.constant(c.value()),
            Node::Sym(s) => {
                return Err(Error::Variable(format!(
                    "variable '{s}' is not among the inputs"
                )))
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
                        Some(a) => {
                            let d = self.fresh();
                            self.code.push(Instr::Add(d, a, r));
                            d
                        }
                    });
                }
                let mut acc = match acc {
                    Some(a) => a,
                    None => {
                        let first = subtract.remove(0);
                        let d = self.fresh();
                        self.code.push(Instr::Neg(d, first));
                        d
                    }
                };
                for r in subtract {
                    let d = self.fresh();
                    self.code.push(Instr::Sub(d, acc, r));
                    acc = d;
                }
                acc
            }
            Node::Mul(fs) => {
                let (c, numer, denom) = split(&fs);
                let negate = c == Some(Num::MINUS_ONE);
                let mut nr: Vec<Reg> = Vec::new();
                if let Some(c) = c.filter(|_| !negate) {
                    nr.push(self.constant(c.to_f64()));
                }
                nr.extend(numer.iter().map(|f| self.get(f)));
                let dr: Vec<Reg> = denom
                    .iter()
                    .map(|&(b, k)| {
                        let rb = self.get(&b);
                        self.powi(rb, k)
                    })
                    .collect();
                let mut r = match (nr.is_empty(), dr.is_empty()) {
                    (false, true) => self.product(&nr),
                    (false, false) => {
                        let n = self.product(&nr);
                        let d = self.product(&dr);
                        let out = self.fresh();
                        self.code.push(Instr::Div(out, n, d));
                        out
                    }
                    (true, false) => {
                        let d = self.product(&dr);
                        let out = self.fresh();
                        self.code.push(Instr::Recip(out, d));
                        out
                    }
                    (true, true) => self.constant(1.0),
                };
                if negate {
                    let out = self.fresh();
                    self.code.push(Instr::Neg(out, r));
                    r = out;
                }
                r
            }
            Node::Pow([b, x]) => {
                let rb = self.get(&b);
                match x.as_num() {
                    Some(k) => match k.as_int().and_then(|k| i32::try_from(k).ok()) {
                        Some(k) => self.powi(rb, k),
                        None => {
                            let d = self.fresh();
                            self.code.push(if k == Num::rational(1, 2) {
                                Instr::Sqrt(d, rb)
                            } else {
                                Instr::Powf(d, rb, k.to_f64())
                            });
                            d
                        }
                    },
                    None => {
                        let rx = self.get(&x);
                        let d = self.fresh();
                        self.code.push(Instr::Binary(BinaryOp::Pow, d, rb, rx));
                        d
                    }
                }
            }
            Node::Unary(op, a) => {
                let ra = self.get(&a);
                let d = self.fresh();
                self.code.push(Instr::Unary(op, d, ra));
                d
            }
            Node::Binary(op, [a, c]) => {
                let (ra, rc) = (self.get(&a), self.get(&c));
                let d = self.fresh();
                self.code.push(Instr::Binary(op, d, ra, rc));
                d
            }
        })
    }
}

impl Program {
    /// How many inputs `eval` expects.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// How many values `eval` writes.
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// How many instructions run per evaluation.
    pub fn len(&self) -> usize {
        self.code.len()
    }

    /// Whether no instruction runs (every output is an input or a constant).
    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
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
        if inputs.len() != self.n_inputs || out.len() != self.outputs.len() {
            return Err(Error::Invalid(format!(
                "program takes {} inputs and {} outputs, got {} and {}",
                self.n_inputs,
                self.outputs.len(),
                inputs.len(),
                out.len()
            )));
        }
        let r = &mut self.regs;
        r[..inputs.len()].copy_from_slice(inputs);
        for ins in &self.code {
            match *ins {
                Instr::Add(d, a, b) => r[d as usize] = r[a as usize] + r[b as usize],
                Instr::Sub(d, a, b) => r[d as usize] = r[a as usize] - r[b as usize],
                Instr::Mul(d, a, b) => r[d as usize] = r[a as usize] * r[b as usize],
                Instr::Div(d, a, b) => r[d as usize] = r[a as usize] / r[b as usize],
                Instr::Neg(d, a) => r[d as usize] = -r[a as usize],
                Instr::Recip(d, a) => r[d as usize] = 1.0 / r[a as usize],
                Instr::Square(d, a) => r[d as usize] = r[a as usize] * r[a as usize],
                Instr::Sqrt(d, a) => r[d as usize] = r[a as usize].sqrt(),
                Instr::Powi(d, a, k) => r[d as usize] = r[a as usize].powi(k),
                Instr::Powf(d, a, k) => r[d as usize] = r[a as usize].powf(k),
                Instr::Unary(op, d, a) => r[d as usize] = op.eval(r[a as usize]),
                Instr::Binary(op, d, a, b) => r[d as usize] = op.eval(r[a as usize], r[b as usize]),
            }
        }
        for (o, &reg) in out.iter_mut().zip(&self.outputs) {
            *o = r[reg as usize];
        }
        Ok(())
    }
}
