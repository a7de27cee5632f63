//! The one instruction set of register programs (traced functions and
//! compiled formulas alike), its encoding, and the one interpreter loop over
//! it, which both machines run: scalar registers ([`super::scalar`]) and
//! registers of many lanes, one sample per lane ([`super::lanes`]).
//!
//! Lowering ([`super::lower`]) emits the base forms, one operation (or a
//! fused pair) on registers. [`encode`] then rewrites each instruction that
//! reads the previous instruction's result into an `…X` form, which takes
//! that operand from `x` (the previous result, kept in a machine register
//! by the scalar interpreter) instead of its register.
//!
//! Why: on a serial chain (W1's `h ← tanh(h·w) + 0.1·h`, and the adjoint
//! chain of its reverse sweep) every step's operand was just written by the
//! step before. Read back from memory, it waits for store-to-load
//! forwarding (about 4 cycles here, as long as the multiply itself); held in
//! a register, the chain runs at the speed of its arithmetic. The result is
//! still stored, for the instructions further on that read it. The operand
//! that comes from `x` is chosen when the program is encoded, so the
//! interpreter never tests for it, and operands of `+` and `·` are swapped
//! only where IEEE arithmetic is commutative (`a + b = b + a`, `a·b = b·a`
//! exactly), so every form computes what its base form computes, bit for
//! bit.
//!
//! One superinstruction: a product read by the next instruction's tanh and
//! its derivative ([`Instr::TanhSech2`]) runs as one
//! ([`Instr::MulTanhSech2`]), the `tanh(h·w)` of a chain or of a
//! neural-network unit.

use crate::ops::{BinaryOp, UnaryOp};

/// A register index.
pub(crate) type Reg = u32;

/// One instruction, destination first. The register allocator never gives
/// the destination the register of one of the operands, so the lane
/// interpreter can borrow them apart. Each base form (which lowering emits)
/// is followed by its encoded forms (which [`encode`] makes), whose
/// operand `x` is the previous instruction's (first) result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Instr {
    Add(Reg, Reg, Reg),
    /// d = x + b
    AddX(Reg, Reg),
    Sub(Reg, Reg, Reg),
    /// d = x − b
    SubX(Reg, Reg),
    /// d = a − x
    RSubX(Reg, Reg),
    Mul(Reg, Reg, Reg),
    /// d = x·b
    MulX(Reg, Reg),
    Div(Reg, Reg, Reg),
    /// d = x / b
    DivX(Reg, Reg),
    /// d = a / x
    RDivX(Reg, Reg),
    /// d = a·b + c, rounded twice (a multiply and an add fused into one
    /// instruction, not an FMA: the same numbers as the two operations).
    MulAdd(Reg, Reg, Reg, Reg),
    /// d = x·b + c
    MulAddX(Reg, Reg, Reg),
    /// d = a·b + x
    MulAddXc(Reg, Reg, Reg),
    /// d = a·b − c, rounded twice.
    MulSub(Reg, Reg, Reg, Reg),
    /// d = x·b − c
    MulSubX(Reg, Reg, Reg),
    /// d = a·b − x
    MulSubXc(Reg, Reg, Reg),
    /// d = c − a·b, rounded twice.
    SubMul(Reg, Reg, Reg, Reg),
    /// d = c − x·b
    SubMulX(Reg, Reg, Reg),
    /// d = x − a·b
    SubMulXc(Reg, Reg, Reg),
    /// d = (a·b)·c, rounded twice.
    MulMul(Reg, Reg, Reg, Reg),
    /// d = (x·b)·c
    MulMulX(Reg, Reg, Reg),
    /// d = (a·b)·x
    MulMulXc(Reg, Reg, Reg),
    /// d = a·b + c·e (two products and their sum, rounded as three operations).
    MulMulAdd(Reg, Reg, Reg, Reg, Reg),
    /// d = x·b + c·e
    MulMulAddX(Reg, Reg, Reg, Reg),
    /// d = a·b − c·e, rounded as three operations.
    MulMulSub(Reg, Reg, Reg, Reg, Reg),
    /// d = x·b − c·e
    MulMulSubX(Reg, Reg, Reg, Reg),
    /// d = a·b − x·e
    MulMulSubXc(Reg, Reg, Reg, Reg),
    Neg(Reg, Reg),
    NegX(Reg),
    Square(Reg, Reg),
    SquareX(Reg),
    Recip(Reg, Reg),
    RecipX(Reg),
    /// `cosh(a)^-2`, evaluated as 4e/(1 + e)² with e = exp(−2|a|): the same
    /// function with one `exp` instead of `cosh` and a division (an exact
    /// identity; no cancellation, e ∈ [0, 1]).
    Sech2(Reg, Reg),
    Sech2X(Reg),
    /// Two results of one argument: tanh(a) into the first register and
    /// `cosh(a)^-2` into the second, the latter as (1 − t)(1 + t) from
    /// t = tanh(a) where that is accurate (|t| ≤ 1/2: no cancellation, a
    /// few ulp), else as [`Instr::Sech2`]. One call instead of two when a
    /// tanh and its derivative are both needed.
    TanhSech2(Reg, Reg, Reg),
    /// tanh(x) and cosh(x)⁻² into two registers (as [`Instr::TanhSech2`]).
    TanhSech2X(Reg, Reg),
    /// m = a·b, then tanh(m) and cosh(m)⁻² into `t` and `s`: registers
    /// `(m, t, s, a, b)`; `x` becomes tanh(m).
    MulTanhSech2(Reg, Reg, Reg, Reg, Reg),
    /// m = x·b, then as [`Instr::MulTanhSech2`]: registers `(m, t, s, b)`.
    MulTanhSech2X(Reg, Reg, Reg, Reg),
    Powi(Reg, Reg, i32),
    PowiX(Reg, i32),
    Unary(UnaryOp, Reg, Reg),
    UnaryX(UnaryOp, Reg),
    Binary(BinaryOp, Reg, Reg, Reg),
    /// d = op(x, b)
    BinaryX(BinaryOp, Reg, Reg),
    /// d = op(a, x)
    RBinaryX(BinaryOp, Reg, Reg),
}

impl Instr {
    /// The same base instruction with each register replaced by `f(reg,
    /// is_destination)`, destinations first, then the operands in order.
    ///
    /// # Panics
    /// On an encoded form: registers are assigned before encoding.
    #[inline]
    pub(crate) fn map_regs(self, mut f: impl FnMut(Reg, bool) -> Reg) -> Instr {
        use Instr::*;
        let (dst, src) = (true, false);
        match self {
            Add(d, a, b) => Add(f(d, dst), f(a, src), f(b, src)),
            Sub(d, a, b) => Sub(f(d, dst), f(a, src), f(b, src)),
            Mul(d, a, b) => Mul(f(d, dst), f(a, src), f(b, src)),
            Div(d, a, b) => Div(f(d, dst), f(a, src), f(b, src)),
            MulAdd(d, a, b, c) => MulAdd(f(d, dst), f(a, src), f(b, src), f(c, src)),
            MulSub(d, a, b, c) => MulSub(f(d, dst), f(a, src), f(b, src), f(c, src)),
            SubMul(d, a, b, c) => SubMul(f(d, dst), f(a, src), f(b, src), f(c, src)),
            MulMul(d, a, b, c) => MulMul(f(d, dst), f(a, src), f(b, src), f(c, src)),
            MulMulAdd(d, a, b, c, e) => {
                MulMulAdd(f(d, dst), f(a, src), f(b, src), f(c, src), f(e, src))
            }
            MulMulSub(d, a, b, c, e) => {
                MulMulSub(f(d, dst), f(a, src), f(b, src), f(c, src), f(e, src))
            }
            Neg(d, a) => Neg(f(d, dst), f(a, src)),
            Square(d, a) => Square(f(d, dst), f(a, src)),
            Recip(d, a) => Recip(f(d, dst), f(a, src)),
            Sech2(d, a) => Sech2(f(d, dst), f(a, src)),
            TanhSech2(t, s, a) => TanhSech2(f(t, dst), f(s, dst), f(a, src)),
            Powi(d, a, k) => Powi(f(d, dst), f(a, src), k),
            Unary(op, d, a) => Unary(op, f(d, dst), f(a, src)),
            Binary(op, d, a, b) => Binary(op, f(d, dst), f(a, src), f(b, src)),
            encoded => unreachable!("{encoded:?}: registers are assigned before encoding"),
        }
    }

    /// The destinations and the operands of a base instruction.
    #[inline]
    pub(crate) fn regs(&self) -> ([Option<Reg>; 2], [Option<Reg>; 4]) {
        let (mut dsts, mut ops) = ([None; 2], [None; 4]);
        let (mut nd, mut no) = (0, 0);
        self.map_regs(|r, is_dst| {
            if is_dst {
                dsts[nd] = Some(r);
                nd += 1;
            } else {
                ops[no] = Some(r);
                no += 1;
            }
            r
        });
        (dsts, ops)
    }
}

/// Encodes a base program (after register allocation) for the
/// interpreters, with `sink` (a data pass's sum for each instruction, see
/// [`Lanes`](super::lanes::Lanes)) carried over to the encoded instructions.
pub(crate) fn encode(code: &[Instr], sink: &[Option<u32>]) -> (Vec<Instr>, Vec<Option<u32>>) {
    let mut out: Vec<Instr> = Vec::with_capacity(code.len());
    let mut out_sink = Vec::with_capacity(code.len());
    let mut prev: Option<Reg> = None;
    for (ins, &s) in code.iter().zip(sink) {
        let enc = encode_one(ins, prev);
        // A product whose result the next instruction's tanh reads from `x`:
        // one superinstruction (the product is still stored, and read by
        // the tanh, so it is summed by no data pass).
        let fused = match (out.last(), enc) {
            (Some(&Instr::Mul(m, a, b)), Instr::TanhSech2X(t, s)) => {
                Some(Instr::MulTanhSech2(m, t, s, a, b))
            }
            (Some(&Instr::MulX(m, b)), Instr::TanhSech2X(t, s)) => {
                Some(Instr::MulTanhSech2X(m, t, s, b))
            }
            _ => None,
        };
        match fused {
            Some(f) => *out.last_mut().expect("fused with the last instruction") = f,
            None => {
                out.push(enc);
                out_sink.push(s);
            }
        }
        prev = ins.regs().0[0];
    }
    (out, out_sink)
}

/// One instruction, with an operand equal to `prev` (the register the
/// previous instruction wrote first) read from `x`.
fn encode_one(ins: &Instr, prev: Option<Reg>) -> Instr {
    use Instr as I;
    type Form2 = fn(Reg, Reg) -> Instr;
    type Form3 = fn(Reg, Reg, Reg) -> Instr;
    // Which operand is `x` (the first, where several are).
    let at = |ops: &[Reg]| ops.iter().position(|&r| prev == Some(r));
    // Two operands that commute: `x` in either.
    let commuting = |d: Reg, a: Reg, b: Reg, form: Form2| {
        at(&[a, b]).map(|j| form(d, if j == 0 { b } else { a }))
    };
    // Two that do not: one form for `x` first, one for `x` second.
    let ordered = |d: Reg, a: Reg, b: Reg, first: Form2, second: Form2| {
        at(&[a, b]).map(|j| if j == 0 { first(d, b) } else { second(d, a) })
    };
    // (a·b) ∘ c: `x` in either factor of the product (they commute), or in c.
    let product_then = |d: Reg, [a, b, c]: [Reg; 3], in_product: Form3, in_c: Form3| {
        at(&[a, b, c]).map(|j| match j {
            0 => in_product(d, b, c),
            1 => in_product(d, a, c),
            _ => in_c(d, a, b),
        })
    };
    let unary = |a: Reg, form: Instr| at(&[a]).map(|_| form);
    let encoded = match *ins {
        I::Add(d, a, b) => commuting(d, a, b, I::AddX),
        I::Mul(d, a, b) => commuting(d, a, b, I::MulX),
        I::Sub(d, a, b) => ordered(d, a, b, I::SubX, I::RSubX),
        I::Div(d, a, b) => ordered(d, a, b, I::DivX, I::RDivX),
        I::Binary(op, d, a, b) => at(&[a, b]).map(|j| match j {
            0 => I::BinaryX(op, d, b),
            _ => I::RBinaryX(op, d, a),
        }),
        I::MulAdd(d, a, b, c) => product_then(d, [a, b, c], I::MulAddX, I::MulAddXc),
        I::MulSub(d, a, b, c) => product_then(d, [a, b, c], I::MulSubX, I::MulSubXc),
        I::SubMul(d, a, b, c) => product_then(d, [a, b, c], I::SubMulX, I::SubMulXc),
        // (a·b)·c: c does not move into the first product.
        I::MulMul(d, a, b, c) => product_then(d, [a, b, c], I::MulMulX, I::MulMulXc),
        // a·b + c·e: the factors commute, and so do the two products.
        I::MulMulAdd(d, a, b, c, e) => at(&[a, b, c, e]).map(|j| match j {
            0 => I::MulMulAddX(d, b, c, e),
            1 => I::MulMulAddX(d, a, c, e),
            2 => I::MulMulAddX(d, e, a, b),
            _ => I::MulMulAddX(d, c, a, b),
        }),
        // a·b − c·e: the factors of each product commute.
        I::MulMulSub(d, a, b, c, e) => at(&[a, b, c, e]).map(|j| match j {
            0 => I::MulMulSubX(d, b, c, e),
            1 => I::MulMulSubX(d, a, c, e),
            2 => I::MulMulSubXc(d, a, b, e),
            _ => I::MulMulSubXc(d, a, b, c),
        }),
        I::Neg(d, a) => unary(a, I::NegX(d)),
        I::Square(d, a) => unary(a, I::SquareX(d)),
        I::Recip(d, a) => unary(a, I::RecipX(d)),
        I::Sech2(d, a) => unary(a, I::Sech2X(d)),
        I::TanhSech2(t, s, a) => unary(a, I::TanhSech2X(t, s)),
        I::Powi(d, a, k) => unary(a, I::PowiX(d, k)),
        I::Unary(op, d, a) => unary(a, I::UnaryX(op, d)),
        encoded => unreachable!("{encoded:?} is encoded already"),
    };
    encoded.unwrap_or(*ins)
}

/// Where an operand comes from: a register, or `x`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Src {
    R(Reg),
    X,
}

/// What runs the instructions: each `op…` computes `f` of its operands
/// (lane by lane, for registers of many lanes) into register `d` (or, for
/// an instruction `k` whose result a data pass only sums, into that sum),
/// and makes it the new `x`. The interpreter loop ([`run`]) is written once
/// over this; the machines hold the registers.
pub(crate) trait Machine {
    fn op1(&mut self, k: usize, d: Reg, a: Src, f: impl Fn(f64) -> f64);
    fn op2(&mut self, k: usize, d: Reg, a: Src, b: Src, f: impl Fn(f64, f64) -> f64);
    fn op3(&mut self, k: usize, d: Reg, ops: [Src; 3], f: impl Fn(f64, f64, f64) -> f64);
    fn op4(&mut self, k: usize, d: Reg, ops: [Src; 4], f: impl Fn(f64, f64, f64, f64) -> f64);
    /// tanh(a) into `t` and cosh(a)⁻² into `s` ([`Instr::TanhSech2`]);
    /// `x` becomes tanh(a).
    fn tanh_sech2(&mut self, t: Reg, s: Reg, a: Src);

    /// A form with products of strong zeros: `strong` is its meaning,
    /// `plain` the same operations with IEEE products. The two agree
    /// wherever `plain` is not NaN (see [`Plain`]), which lets a machine run
    /// `plain` and redo only NaN results with `strong`. The default runs
    /// `strong`.
    #[inline(always)]
    fn zop2(
        &mut self,
        k: usize,
        d: Reg,
        a: Src,
        b: Src,
        z: Plain<impl Fn(f64, f64) -> f64, impl Fn(f64, f64) -> f64>,
    ) {
        self.op2(k, d, a, b, z.strong);
    }
    /// [`Machine::zop2`] with three operands.
    #[inline(always)]
    fn zop3(
        &mut self,
        k: usize,
        d: Reg,
        ops: [Src; 3],
        z: Plain<impl Fn(f64, f64, f64) -> f64, impl Fn(f64, f64, f64) -> f64>,
    ) {
        self.op3(k, d, ops, z.strong);
    }
    /// [`Machine::zop2`] with four operands.
    #[inline(always)]
    fn zop4(
        &mut self,
        k: usize,
        d: Reg,
        ops: [Src; 4],
        z: Plain<impl Fn(f64, f64, f64, f64) -> f64, impl Fn(f64, f64, f64, f64) -> f64>,
    ) {
        self.op4(k, d, ops, z.strong);
    }
}

/// A form whose products have strong zeros ([`smul`]), as two functions:
/// `plain`, with IEEE products, and `strong`. Where `plain` gives a number
/// that is not NaN, no product in it was NaN (IEEE `+`, `−` and `·` carry a
/// NaN operand into their result), so each `smul` returned its plain
/// product and `strong` gives the same number, bit for bit. Only NaN
/// results need `strong`: the lane machine runs `plain` over all lanes (a
/// loop that vectorises; `smul`'s test per lane does not) and redoes the
/// NaN lanes, if any.
pub(crate) struct Plain<P, S> {
    pub(crate) plain: P,
    pub(crate) strong: S,
}

// The arithmetic of each form, written once for its base and encoded forms.
#[inline(always)]
fn add(a: f64, b: f64) -> f64 {
    a + b
}
#[inline(always)]
fn sub(a: f64, b: f64) -> f64 {
    a - b
}
/// `a·b` with strong zeros (as [`crate::real::strong_mul`]): an exact zero
/// factor gives 0 whatever the other factor, so a structurally zero partial
/// times ∞ or NaN contributes 0 (as the tape, dual and Taylor engines do).
/// Only a NaN product can come from a zero factor meeting ∞ or NaN, so the
/// usual path is one compare (a product of two nonzero numbers, or a ±0
/// with its IEEE sign, is returned as is).
#[inline(always)]
pub(crate) fn smul(a: f64, b: f64) -> f64 {
    let p = a * b;
    if p.is_nan() && (a == 0.0 || b == 0.0) {
        0.0
    } else {
        p
    }
}
#[inline(always)]
fn mul(a: f64, b: f64) -> f64 {
    smul(a, b)
}

// The plain twins of the strong-zero forms ([`Plain`]).
#[inline(always)]
fn pmul(a: f64, b: f64) -> f64 {
    a * b
}
#[inline(always)]
fn pmul_add(a: f64, b: f64, c: f64) -> f64 {
    a * b + c
}
#[inline(always)]
fn pmul_sub(a: f64, b: f64, c: f64) -> f64 {
    a * b - c
}
#[inline(always)]
fn psub_mul(a: f64, b: f64, c: f64) -> f64 {
    c - a * b
}
#[inline(always)]
fn pmul_mul(a: f64, b: f64, c: f64) -> f64 {
    (a * b) * c
}
#[inline(always)]
fn pmul_mul_add(a: f64, b: f64, c: f64, e: f64) -> f64 {
    a * b + c * e
}
#[inline(always)]
fn pmul_mul_sub(a: f64, b: f64, c: f64, e: f64) -> f64 {
    a * b - c * e
}
/// A strong-zero form and its plain twin.
#[inline(always)]
fn z<P, S>(plain: P, strong: S) -> Plain<P, S> {
    Plain { plain, strong }
}
#[inline(always)]
fn div(a: f64, b: f64) -> f64 {
    a / b
}
#[inline(always)]
fn mul_add(a: f64, b: f64, c: f64) -> f64 {
    smul(a, b) + c
}
#[inline(always)]
fn mul_sub(a: f64, b: f64, c: f64) -> f64 {
    smul(a, b) - c
}
#[inline(always)]
fn sub_mul(a: f64, b: f64, c: f64) -> f64 {
    c - smul(a, b)
}
#[inline(always)]
fn mul_mul(a: f64, b: f64, c: f64) -> f64 {
    smul(smul(a, b), c)
}
#[inline(always)]
fn mul_mul_add(a: f64, b: f64, c: f64, e: f64) -> f64 {
    smul(a, b) + smul(c, e)
}
#[inline(always)]
fn mul_mul_sub(a: f64, b: f64, c: f64, e: f64) -> f64 {
    smul(a, b) - smul(c, e)
}
#[inline(always)]
fn neg(a: f64) -> f64 {
    -a
}
#[inline(always)]
fn square(a: f64) -> f64 {
    a * a
}
#[inline(always)]
fn recip(a: f64) -> f64 {
    1.0 / a
}

pub(crate) use crate::rules::{sech2, sech2_given_tanh};

/// Runs `code` on machine `m`: the one interpreter of every program.
#[inline(always)]
pub(crate) fn run<M: Machine>(m: &mut M, code: &[Instr]) {
    use Instr as I;
    use Src::X;
    let r = Src::R;
    for (k, ins) in code.iter().enumerate() {
        match *ins {
            I::Add(d, a, b) => m.op2(k, d, r(a), r(b), add),
            I::AddX(d, b) => m.op2(k, d, X, r(b), add),
            I::Sub(d, a, b) => m.op2(k, d, r(a), r(b), sub),
            I::SubX(d, b) => m.op2(k, d, X, r(b), sub),
            I::RSubX(d, a) => m.op2(k, d, r(a), X, sub),
            I::Mul(d, a, b) => m.zop2(k, d, r(a), r(b), z(pmul, mul)),
            I::MulX(d, b) => m.zop2(k, d, X, r(b), z(pmul, mul)),
            I::Div(d, a, b) => m.op2(k, d, r(a), r(b), div),
            I::DivX(d, b) => m.op2(k, d, X, r(b), div),
            I::RDivX(d, a) => m.op2(k, d, r(a), X, div),
            I::MulAdd(d, a, b, c) => m.zop3(k, d, [r(a), r(b), r(c)], z(pmul_add, mul_add)),
            I::MulAddX(d, b, c) => m.zop3(k, d, [X, r(b), r(c)], z(pmul_add, mul_add)),
            I::MulAddXc(d, a, b) => m.zop3(k, d, [r(a), r(b), X], z(pmul_add, mul_add)),
            I::MulSub(d, a, b, c) => m.zop3(k, d, [r(a), r(b), r(c)], z(pmul_sub, mul_sub)),
            I::MulSubX(d, b, c) => m.zop3(k, d, [X, r(b), r(c)], z(pmul_sub, mul_sub)),
            I::MulSubXc(d, a, b) => m.zop3(k, d, [r(a), r(b), X], z(pmul_sub, mul_sub)),
            I::SubMul(d, a, b, c) => m.zop3(k, d, [r(a), r(b), r(c)], z(psub_mul, sub_mul)),
            I::SubMulX(d, b, c) => m.zop3(k, d, [X, r(b), r(c)], z(psub_mul, sub_mul)),
            I::SubMulXc(d, a, b) => m.zop3(k, d, [r(a), r(b), X], z(psub_mul, sub_mul)),
            I::MulMul(d, a, b, c) => m.zop3(k, d, [r(a), r(b), r(c)], z(pmul_mul, mul_mul)),
            I::MulMulX(d, b, c) => m.zop3(k, d, [X, r(b), r(c)], z(pmul_mul, mul_mul)),
            I::MulMulXc(d, a, b) => m.zop3(k, d, [r(a), r(b), X], z(pmul_mul, mul_mul)),
            I::MulMulAdd(d, a, b, c, e) => {
                m.zop4(k, d, [r(a), r(b), r(c), r(e)], z(pmul_mul_add, mul_mul_add))
            }
            I::MulMulAddX(d, b, c, e) => {
                m.zop4(k, d, [X, r(b), r(c), r(e)], z(pmul_mul_add, mul_mul_add))
            }
            I::MulMulSub(d, a, b, c, e) => {
                m.zop4(k, d, [r(a), r(b), r(c), r(e)], z(pmul_mul_sub, mul_mul_sub))
            }
            I::MulMulSubX(d, b, c, e) => {
                m.zop4(k, d, [X, r(b), r(c), r(e)], z(pmul_mul_sub, mul_mul_sub))
            }
            I::MulMulSubXc(d, a, b, e) => {
                m.zop4(k, d, [r(a), r(b), X, r(e)], z(pmul_mul_sub, mul_mul_sub))
            }
            I::Neg(d, a) => m.op1(k, d, r(a), neg),
            I::NegX(d) => m.op1(k, d, X, neg),
            I::Square(d, a) => m.op1(k, d, r(a), square),
            I::SquareX(d) => m.op1(k, d, X, square),
            I::Recip(d, a) => m.op1(k, d, r(a), recip),
            I::RecipX(d) => m.op1(k, d, X, recip),
            I::Sech2(d, a) => m.op1(k, d, r(a), sech2),
            I::Sech2X(d) => m.op1(k, d, X, sech2),
            I::TanhSech2(t, s, a) => m.tanh_sech2(t, s, r(a)),
            I::TanhSech2X(t, s) => m.tanh_sech2(t, s, X),
            I::Powi(d, a, n) => m.op1(k, d, r(a), |v| v.powi(n)),
            I::PowiX(d, n) => m.op1(k, d, X, |v| v.powi(n)),
            I::Unary(op, d, a) => m.op1(k, d, r(a), |v| op.eval(v)),
            I::UnaryX(op, d) => m.op1(k, d, X, |v| op.eval(v)),
            I::Binary(op, d, a, b) => m.op2(k, d, r(a), r(b), |u, v| op.eval(u, v)),
            I::BinaryX(op, d, b) => m.op2(k, d, X, r(b), |u, v| op.eval(u, v)),
            I::RBinaryX(op, d, a) => m.op2(k, d, r(a), X, |u, v| op.eval(u, v)),
            I::MulTanhSech2(p, t, s, a, b) => {
                m.zop2(k, p, r(a), r(b), z(pmul, mul));
                m.tanh_sech2(t, s, X);
            }
            I::MulTanhSech2X(p, t, s, b) => {
                m.zop2(k, p, X, r(b), z(pmul, mul));
                m.tanh_sech2(t, s, X);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{lanes::Lanes, scalar};
    use super::*;

    /// The base forms' meaning, written out independently of [`run`]:
    /// operands read from memory, one operation at a time.
    fn reference(code: &[Instr], regs: &[f64]) -> Vec<f64> {
        use Instr as I;
        // Products with strong zeros: an exact zero times ∞ or NaN is 0.
        let sm = |a: f64, b: f64| {
            if (a == 0.0 && !b.is_finite()) || (b == 0.0 && !a.is_finite()) {
                0.0
            } else {
                a * b
            }
        };
        let mut r = regs.to_vec();
        for ins in code {
            let g = |i: Reg| r[i as usize];
            let (d, v) = match *ins {
                I::Add(d, a, b) => (d, g(a) + g(b)),
                I::Sub(d, a, b) => (d, g(a) - g(b)),
                I::Mul(d, a, b) => (d, sm(g(a), g(b))),
                I::Div(d, a, b) => (d, g(a) / g(b)),
                I::MulAdd(d, a, b, c) => (d, sm(g(a), g(b)) + g(c)),
                I::MulSub(d, a, b, c) => (d, sm(g(a), g(b)) - g(c)),
                I::SubMul(d, a, b, c) => (d, g(c) - sm(g(a), g(b))),
                I::MulMul(d, a, b, c) => (d, sm(sm(g(a), g(b)), g(c))),
                I::MulMulAdd(d, a, b, c, e) => (d, sm(g(a), g(b)) + sm(g(c), g(e))),
                I::MulMulSub(d, a, b, c, e) => (d, sm(g(a), g(b)) - sm(g(c), g(e))),
                I::Neg(d, a) => (d, -g(a)),
                I::Square(d, a) => (d, g(a) * g(a)),
                I::Recip(d, a) => (d, 1.0 / g(a)),
                I::Sech2(d, a) => (d, sech2(g(a))),
                I::TanhSech2(t, s, a) => {
                    let (u, v) = (g(a), g(a).tanh());
                    r[t as usize] = v;
                    (s, sech2_given_tanh(u, v))
                }
                I::Powi(d, a, n) => (d, g(a).powi(n)),
                I::Unary(op, d, a) => (d, op.eval(g(a))),
                I::Binary(op, d, a, b) => (d, op.eval(g(a), g(b))),
                encoded => unreachable!("{encoded:?}"),
            };
            r[d as usize] = v;
        }
        r
    }

    /// The encoded program on the scalar machine.
    fn on_scalars(code: &[Instr], regs: &[f64]) -> Vec<f64> {
        let mut r = regs.to_vec();
        scalar::run_checked(&encode(code, &vec![None; code.len()]).0, &mut r);
        r
    }

    /// The encoded program on the lane machine, one lane.
    fn on_lanes(code: &[Instr], regs: &[f64]) -> Vec<f64> {
        let (code, sink) = encode(code, &vec![None; code.len()]);
        let mut lanes: Vec<[f64; 1]> = regs.iter().map(|&v| [v]).collect();
        Lanes::new(&mut lanes, regs.len(), &[], &mut [], &sink).run(&code);
        lanes.into_iter().map(|[v]| v).collect()
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    /// Both machines against the reference, bit for bit.
    fn check(code: &[Instr], regs: &[f64]) -> bool {
        let want = reference(code, regs);
        same(&on_scalars(code, regs), &want) && same(&on_lanes(code, regs), &want)
    }

    #[test]
    fn sech2_is_cosh_to_the_minus_two() {
        for u in [0.0, 1e-9, 0.3, -0.45, 2.0, -7.5, 20.0, 300.0] {
            let direct = f64::cosh(u).powi(-2);
            assert!(
                (sech2(u) - direct).abs() <= 8.0 * f64::EPSILON * direct,
                "{u}: {} vs {direct}",
                sech2(u)
            );
        }
        assert_eq!(sech2(f64::INFINITY), 0.0);
        for u in [0.0, 1e-9, 0.3, -0.45, 0.54, 0.56, -0.6, 2.0, 20.0] {
            let direct = f64::cosh(u).powi(-2);
            let fused = sech2_given_tanh(u, u.tanh());
            assert!(
                (fused - direct).abs() <= 8.0 * f64::EPSILON * direct,
                "{u}: {fused} vs {direct}"
            );
        }
        assert!(sech2(f64::NAN).is_nan());
    }

    #[test]
    fn both_machines_agree_with_input_rows_and_sums() {
        // r2 = r0·r1 + r0; r3 = sin(r2); r4 = r3 − r0·r1
        let code = [
            Instr::MulAdd(2, 0, 1, 0),
            Instr::Unary(UnaryOp::Sin, 3, 2),
            Instr::SubMul(4, 0, 1, 3),
        ];
        let (enc, sink) = encode(&code, &[None, None, Some(0)]);
        // The sine and the difference read the result before them from `x`.
        assert!(matches!(enc[1], Instr::UnaryX(UnaryOp::Sin, 3)));
        assert!(matches!(enc[2], Instr::SubMulXc(4, 0, 1)));
        let mut s = [0.5, 3.0, 0.0, 0.0, 0.0];
        scalar::run_checked(&enc, &mut s);
        let expected = (0.5f64 * 3.0 + 0.5).sin() - 1.5;
        assert_eq!(s[4], expected);
        // Register 1 is read in place from a row of samples.
        let mut l = [[0.5, 2.0], [f64::NAN; 2], [0.0; 2], [0.0; 2], [0.0; 2]];
        let row = [3.0, 1.0];
        let mut sums = [[10.0, 20.0]];
        Lanes::new(&mut l, 1, &[&row], &mut sums, &sink).run(&enc);
        // The last instruction's result went into the sum, not register 4.
        assert_eq!(l[4], [0.0; 2]);
        assert_eq!(sums[0][0], 10.0 + expected);
        assert_eq!(sums[0][1], 20.0 + ((2.0f64 * 1.0 + 2.0).sin() - 2.0));
    }

    /// An instruction of one form, from its destination and operands.
    type Form = Box<dyn Fn(Reg, [Reg; 4]) -> Instr>;

    /// Every base form, with its number of operands.
    /// A xorshift64 generator from `seed`: each call draws a number below `m`.
    fn xorshift(mut seed: u64) -> impl FnMut(u32) -> u32 {
        move |m| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % u64::from(m)) as u32
        }
    }

    fn forms() -> Vec<(usize, Form)> {
        let mut f: Vec<(usize, Form)> = vec![
            (2, Box::new(|d, o| Instr::Add(d, o[0], o[1]))),
            (2, Box::new(|d, o| Instr::Sub(d, o[0], o[1]))),
            (2, Box::new(|d, o| Instr::Mul(d, o[0], o[1]))),
            (2, Box::new(|d, o| Instr::Div(d, o[0], o[1]))),
            (3, Box::new(|d, o| Instr::MulAdd(d, o[0], o[1], o[2]))),
            (3, Box::new(|d, o| Instr::MulSub(d, o[0], o[1], o[2]))),
            (3, Box::new(|d, o| Instr::SubMul(d, o[0], o[1], o[2]))),
            (3, Box::new(|d, o| Instr::MulMul(d, o[0], o[1], o[2]))),
            (
                4,
                Box::new(|d, o| Instr::MulMulAdd(d, o[0], o[1], o[2], o[3])),
            ),
            (
                4,
                Box::new(|d, o| Instr::MulMulSub(d, o[0], o[1], o[2], o[3])),
            ),
            (1, Box::new(|d, o| Instr::Neg(d, o[0]))),
            (1, Box::new(|d, o| Instr::Square(d, o[0]))),
            (1, Box::new(|d, o| Instr::Recip(d, o[0]))),
            (1, Box::new(|d, o| Instr::Sech2(d, o[0]))),
            (1, Box::new(|d, o| Instr::TanhSech2(d, d + 1, o[0]))),
            (1, Box::new(|d, o| Instr::Powi(d, o[0], 3))),
            (1, Box::new(|d, o| Instr::Powi(d, o[0], -2))),
        ];
        for op in [UnaryOp::Sin, UnaryOp::Exp, UnaryOp::Tanh, UnaryOp::Sigmoid] {
            f.push((1, Box::new(move |d, o| Instr::Unary(op, d, o[0]))));
        }
        for op in [BinaryOp::Pow, BinaryOp::Atan2, BinaryOp::Max, BinaryOp::Min] {
            f.push((2, Box::new(move |d, o| Instr::Binary(op, d, o[0], o[1]))));
        }
        f
    }

    #[test]
    fn the_previous_result_in_every_operand_position() {
        // Registers 0..6 hold inputs; the producer writes 6, the consumer
        // reads it in operand position j and writes 7 (and 8).
        let regs = [0.7, -1.3, 2.1, 0.4, 1.7, 0.9, 0.0, 0.0, 0.0];
        for (k, (arity, form)) in forms().iter().enumerate() {
            for j in 0..*arity {
                let mut ops = [2, 3, 4, 5];
                ops[j] = 6;
                // (A sum, not a product: a product would fuse with a tanh.)
                let code = [Instr::Add(6, 0, 1), form(7, ops)];
                let (enc, _) = encode(&code, &[None, None]);
                let name = format!("{:?}", enc[1]);
                let form_name = name.split('(').next().unwrap_or_default();
                assert!(form_name.contains('X'), "form {k}, operand {j}: {name}");
                assert!(check(&code, &regs), "form {k}, operand {j}: {name}");
            }
        }
    }

    #[test]
    fn a_product_and_its_tanh_are_one_instruction() {
        let regs = [0.7, -1.3, 2.1, 0.0, 0.0, 0.0, 0.0, 0.0];
        // tanh(r0·r1), then tanh(r4·r2) with r4 passed in x.
        let code = [
            Instr::Mul(3, 0, 1),
            Instr::TanhSech2(4, 5, 3),
            Instr::Mul(6, 4, 2),
            Instr::TanhSech2(7, 3, 6),
        ];
        let (enc, sink) = encode(&code, &[None; 4]);
        assert_eq!(
            enc,
            [
                Instr::MulTanhSech2(3, 4, 5, 0, 1),
                Instr::MulTanhSech2X(6, 7, 3, 2)
            ]
        );
        assert_eq!(sink, [None; 2]);
        assert!(check(&code, &regs));
        let r = on_scalars(&code, &regs);
        let t = (0.7f64 * -1.3).tanh();
        assert_eq!(r[4], t);
        assert_eq!(r[7], (t * 2.1).tanh());
        assert!((r[5] - (0.7f64 * -1.3).cosh().powi(-2)).abs() < 1e-15);
    }

    #[test]
    fn random_programs_match_the_instructions() {
        // Programs of every form with operands drawn mostly from the last
        // result (so that `x` carries chains of all kinds), registers
        // reused, checked against the reference bit for bit.
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let forms = forms();
        for _ in 0..200 {
            let n_regs = 12;
            let regs: Vec<f64> = (0..n_regs).map(|i| 0.3 + 0.17 * i as f64).collect();
            let mut code = Vec::new();
            let mut last = 0;
            for _ in 0..40 {
                let (arity, form) = &forms[next(forms.len() as u32) as usize];
                let mut ops = [0; 4];
                for o in ops.iter_mut().take(*arity) {
                    *o = if next(2) == 0 { last } else { next(n_regs) };
                }
                // A destination that is not an operand (nor is its pair, for TanhSech2).
                let d = loop {
                    let d = next(n_regs - 1);
                    if !ops[..*arity].contains(&d) && !ops[..*arity].contains(&(d + 1)) {
                        break d;
                    }
                };
                code.push(form(d, ops));
                last = d;
            }
            assert!(check(&code, &regs), "{code:?}");
        }
    }

    #[test]
    fn lanes_with_zeros_infinities_and_nans_match_the_instructions() {
        // The lane machine runs strong-zero forms plainly and redoes NaN
        // lanes; every lane must still equal the reference bit for bit, for
        // results written to registers and results added into a sum.
        const L: usize = 8;
        let specials = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1.5,
            -2.0,
        ];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        let forms = forms();
        let n_regs = 10u32;
        for _ in 0..300 {
            let (arity, form) = &forms[next(forms.len() as u32) as usize];
            let mut ops = [0; 4];
            for o in ops.iter_mut().take(*arity) {
                *o = next(n_regs - 2);
            }
            let code = [form(n_regs - 2, ops)];
            // Lane l's registers: mostly ordinary, some special values.
            let lane_regs: Vec<Vec<f64>> = (0..L)
                .map(|_| {
                    (0..n_regs)
                        .map(|i| match next(3) {
                            0 => specials[next(specials.len() as u32) as usize],
                            _ => 0.3 + 0.17 * f64::from(i),
                        })
                        .collect()
                })
                .collect();
            let want: Vec<Vec<f64>> = lane_regs.iter().map(|r| reference(&code, r)).collect();
            let mut lanes: Vec<[f64; L]> = (0..n_regs as usize)
                .map(|i| std::array::from_fn(|l| lane_regs[l][i]))
                .collect();
            let d = (n_regs - 2) as usize;
            // Two results are never summed (see `lower`).
            let sinks: &[Option<u32>] = match code[0] {
                Instr::TanhSech2(..) => &[None],
                _ => &[None, Some(0)],
            };
            for &sink in sinks {
                let (enc, enc_sink) = encode(&code, &[sink]);
                let mut sums = [[0.25; L]];
                Lanes::new(&mut lanes, n_regs as usize, &[], &mut sums, &enc_sink).run(&enc);
                for l in 0..L {
                    let (got, expected) = match sink {
                        None => (lanes[d][l], want[l][d]),
                        Some(_) => (sums[0][l], 0.25 + want[l][d]),
                    };
                    assert!(
                        same(&[got], &[expected]),
                        "{:?} lane {l} ({sink:?}): {got} vs {expected}",
                        code[0]
                    );
                }
            }
        }
    }

    #[test]
    fn instructions_stay_small() {
        assert!(std::mem::size_of::<Instr>() <= 24);
    }
}
