//! The scalar interpreter and its encoding of a program: each [`Instr`]
//! whose operand is the previous instruction's result reads that operand
//! from a local variable (the `…X` forms, `x` below) instead of its
//! register.
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
//! exactly), so every form computes what its [`Instr`] computes, bit for bit.
//!
//! One superinstruction: a product read by the next instruction's tanh and
//! its derivative ([`Instr::TanhSech2`]) runs as one ([`Op::MulTanhSech2`]),
//! the `tanh(h·w)` of a chain or of a neural-network unit.

use super::exec::{sech2, sech2_given_tanh, Instr, Reg};
use crate::ops::{BinaryOp, UnaryOp};

/// One instruction of the scalar interpreter, destination first; `x` is the
/// previous instruction's (first) result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    Add(Reg, Reg, Reg),
    Sub(Reg, Reg, Reg),
    Mul(Reg, Reg, Reg),
    Div(Reg, Reg, Reg),
    MulAdd(Reg, Reg, Reg, Reg),
    MulSub(Reg, Reg, Reg, Reg),
    SubMul(Reg, Reg, Reg, Reg),
    MulMul(Reg, Reg, Reg, Reg),
    MulMulAdd(Reg, Reg, Reg, Reg, Reg),
    MulMulSub(Reg, Reg, Reg, Reg, Reg),
    Neg(Reg, Reg),
    Square(Reg, Reg),
    Recip(Reg, Reg),
    Sech2(Reg, Reg),
    TanhSech2(Reg, Reg, Reg),
    Powi(Reg, Reg, i32),
    Unary(UnaryOp, Reg, Reg),
    Binary(BinaryOp, Reg, Reg, Reg),
    /// d = x + b
    AddX(Reg, Reg),
    /// d = x − b
    SubX(Reg, Reg),
    /// d = a − x
    RSubX(Reg, Reg),
    /// d = x·b
    MulX(Reg, Reg),
    /// d = x / b
    DivX(Reg, Reg),
    /// d = a / x
    RDivX(Reg, Reg),
    /// d = x·b + c
    MulAddX(Reg, Reg, Reg),
    /// d = a·b + x
    MulAddXc(Reg, Reg, Reg),
    /// d = x·b − c
    MulSubX(Reg, Reg, Reg),
    /// d = a·b − x
    MulSubXc(Reg, Reg, Reg),
    /// d = c − x·b
    SubMulX(Reg, Reg, Reg),
    /// d = x − a·b
    SubMulXc(Reg, Reg, Reg),
    /// d = (x·b)·c
    MulMulX(Reg, Reg, Reg),
    /// d = (a·b)·x
    MulMulXc(Reg, Reg, Reg),
    /// d = x·b + c·e
    MulMulAddX(Reg, Reg, Reg, Reg),
    /// d = x·b − c·e
    MulMulSubX(Reg, Reg, Reg, Reg),
    /// d = a·b − x·e
    MulMulSubXc(Reg, Reg, Reg, Reg),
    NegX(Reg),
    SquareX(Reg),
    RecipX(Reg),
    Sech2X(Reg),
    /// tanh(x) and cosh(x)⁻² into two registers (as [`Instr::TanhSech2`]).
    TanhSech2X(Reg, Reg),
    PowiX(Reg, i32),
    UnaryX(UnaryOp, Reg),
    /// d = op(x, b)
    BinaryX(BinaryOp, Reg, Reg),
    /// d = op(a, x)
    RBinaryX(BinaryOp, Reg, Reg),
    /// m = a·b, then tanh(m) and cosh(m)⁻² into `t` and `s`: registers
    /// `(m, t, s, a, b)`; `x` becomes tanh(m).
    MulTanhSech2(Reg, Reg, Reg, Reg, Reg),
    /// m = x·b, then as [`Op::MulTanhSech2`]: registers `(m, t, s, b)`.
    MulTanhSech2X(Reg, Reg, Reg, Reg),
}

/// The first destination of an instruction (the one `x` holds after it).
fn first_dest(ins: &Instr) -> Reg {
    ins.regs().0[0].expect("every instruction writes a register")
}

/// Encodes a register program (after register allocation) for [`run`].
pub(crate) fn encode(code: &[Instr]) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::with_capacity(code.len());
    let mut prev: Option<Reg> = None;
    for ins in code {
        let op = encode_one(ins, prev);
        // A product whose result the next instruction's tanh reads from `x`:
        // one superinstruction (the product is still stored).
        let fused = match (out.last(), op) {
            (Some(&Op::Mul(m, a, b)), Op::TanhSech2X(t, s)) => {
                Some(Op::MulTanhSech2(m, t, s, a, b))
            }
            (Some(&Op::MulX(m, b)), Op::TanhSech2X(t, s)) => Some(Op::MulTanhSech2X(m, t, s, b)),
            _ => None,
        };
        match fused {
            Some(f) => *out.last_mut().expect("fused with the last instruction") = f,
            None => out.push(op),
        }
        prev = Some(first_dest(ins));
    }
    out
}

/// One instruction, with an operand equal to `prev` (the register the
/// previous instruction wrote first) read from `x`.
fn encode_one(ins: &Instr, prev: Option<Reg>) -> Op {
    use Instr as I;
    let x = |r: Reg| prev == Some(r);
    match *ins {
        I::Add(d, a, b) if x(a) => Op::AddX(d, b),
        I::Add(d, a, b) if x(b) => Op::AddX(d, a),
        I::Add(d, a, b) => Op::Add(d, a, b),
        I::Sub(d, a, b) if x(a) => Op::SubX(d, b),
        I::Sub(d, a, b) if x(b) => Op::RSubX(d, a),
        I::Sub(d, a, b) => Op::Sub(d, a, b),
        I::Mul(d, a, b) if x(a) => Op::MulX(d, b),
        I::Mul(d, a, b) if x(b) => Op::MulX(d, a),
        I::Mul(d, a, b) => Op::Mul(d, a, b),
        I::Div(d, a, b) if x(a) => Op::DivX(d, b),
        I::Div(d, a, b) if x(b) => Op::RDivX(d, a),
        I::Div(d, a, b) => Op::Div(d, a, b),
        I::MulAdd(d, a, b, c) if x(a) => Op::MulAddX(d, b, c),
        I::MulAdd(d, a, b, c) if x(b) => Op::MulAddX(d, a, c),
        I::MulAdd(d, a, b, c) if x(c) => Op::MulAddXc(d, a, b),
        I::MulAdd(d, a, b, c) => Op::MulAdd(d, a, b, c),
        I::MulSub(d, a, b, c) if x(a) => Op::MulSubX(d, b, c),
        I::MulSub(d, a, b, c) if x(b) => Op::MulSubX(d, a, c),
        I::MulSub(d, a, b, c) if x(c) => Op::MulSubXc(d, a, b),
        I::MulSub(d, a, b, c) => Op::MulSub(d, a, b, c),
        I::SubMul(d, a, b, c) if x(a) => Op::SubMulX(d, b, c),
        I::SubMul(d, a, b, c) if x(b) => Op::SubMulX(d, a, c),
        I::SubMul(d, a, b, c) if x(c) => Op::SubMulXc(d, a, b),
        I::SubMul(d, a, b, c) => Op::SubMul(d, a, b, c),
        // (a·b)·c: a and b commute; c does not move into the first product.
        I::MulMul(d, a, b, c) if x(a) => Op::MulMulX(d, b, c),
        I::MulMul(d, a, b, c) if x(b) => Op::MulMulX(d, a, c),
        I::MulMul(d, a, b, c) if x(c) => Op::MulMulXc(d, a, b),
        I::MulMul(d, a, b, c) => Op::MulMul(d, a, b, c),
        // a·b + c·e: the factors commute, and so do the two products.
        I::MulMulAdd(d, a, b, c, e) if x(a) => Op::MulMulAddX(d, b, c, e),
        I::MulMulAdd(d, a, b, c, e) if x(b) => Op::MulMulAddX(d, a, c, e),
        I::MulMulAdd(d, a, b, c, e) if x(c) => Op::MulMulAddX(d, e, a, b),
        I::MulMulAdd(d, a, b, c, e) if x(e) => Op::MulMulAddX(d, c, a, b),
        I::MulMulAdd(d, a, b, c, e) => Op::MulMulAdd(d, a, b, c, e),
        I::MulMulSub(d, a, b, c, e) if x(a) => Op::MulMulSubX(d, b, c, e),
        I::MulMulSub(d, a, b, c, e) if x(b) => Op::MulMulSubX(d, a, c, e),
        I::MulMulSub(d, a, b, c, e) if x(c) => Op::MulMulSubXc(d, a, b, e),
        I::MulMulSub(d, a, b, c, e) if x(e) => Op::MulMulSubXc(d, a, b, c),
        I::MulMulSub(d, a, b, c, e) => Op::MulMulSub(d, a, b, c, e),
        I::Neg(d, a) if x(a) => Op::NegX(d),
        I::Neg(d, a) => Op::Neg(d, a),
        I::Square(d, a) if x(a) => Op::SquareX(d),
        I::Square(d, a) => Op::Square(d, a),
        I::Recip(d, a) if x(a) => Op::RecipX(d),
        I::Recip(d, a) => Op::Recip(d, a),
        I::Sech2(d, a) if x(a) => Op::Sech2X(d),
        I::Sech2(d, a) => Op::Sech2(d, a),
        I::TanhSech2(t, s, a) if x(a) => Op::TanhSech2X(t, s),
        I::TanhSech2(t, s, a) => Op::TanhSech2(t, s, a),
        I::Powi(d, a, k) if x(a) => Op::PowiX(d, k),
        I::Powi(d, a, k) => Op::Powi(d, a, k),
        I::Unary(op, d, a) if x(a) => Op::UnaryX(op, d),
        I::Unary(op, d, a) => Op::Unary(op, d, a),
        I::Binary(op, d, a, b) if x(a) => Op::BinaryX(op, d, b),
        I::Binary(op, d, a, b) if x(b) => Op::RBinaryX(op, d, a),
        I::Binary(op, d, a, b) => Op::Binary(op, d, a, b),
    }
}

/// tanh(u) into `t`, cosh(u)⁻² into `s`; returns tanh(u).
#[inline(always)]
fn tanh_sech2(r: &mut [f64], t: Reg, s: Reg, u: f64) -> f64 {
    let v = u.tanh();
    r[t as usize] = v;
    r[s as usize] = sech2_given_tanh(u, v);
    v
}

/// Runs an encoded program on scalar registers.
pub(crate) fn run(code: &[Op], r: &mut [f64]) {
    // The previous instruction's result, kept in a register across the loop.
    let mut x = 0.0f64;
    for op in code {
        let get = |r: &[f64], i: Reg| r[i as usize];
        let (d, v) = match *op {
            Op::Add(d, a, b) => (d, get(r, a) + get(r, b)),
            Op::Sub(d, a, b) => (d, get(r, a) - get(r, b)),
            Op::Mul(d, a, b) => (d, get(r, a) * get(r, b)),
            Op::Div(d, a, b) => (d, get(r, a) / get(r, b)),
            Op::MulAdd(d, a, b, c) => (d, get(r, a) * get(r, b) + get(r, c)),
            Op::MulSub(d, a, b, c) => (d, get(r, a) * get(r, b) - get(r, c)),
            Op::SubMul(d, a, b, c) => (d, get(r, c) - get(r, a) * get(r, b)),
            Op::MulMul(d, a, b, c) => (d, get(r, a) * get(r, b) * get(r, c)),
            Op::MulMulAdd(d, a, b, c, e) => (d, get(r, a) * get(r, b) + get(r, c) * get(r, e)),
            Op::MulMulSub(d, a, b, c, e) => (d, get(r, a) * get(r, b) - get(r, c) * get(r, e)),
            Op::Neg(d, a) => (d, -get(r, a)),
            Op::Square(d, a) => (d, get(r, a) * get(r, a)),
            Op::Recip(d, a) => (d, 1.0 / get(r, a)),
            Op::Sech2(d, a) => (d, sech2(get(r, a))),
            Op::TanhSech2(t, s, a) => {
                x = tanh_sech2(r, t, s, get(r, a));
                continue;
            }
            Op::Powi(d, a, k) => (d, get(r, a).powi(k)),
            Op::Unary(op, d, a) => (d, op.eval(get(r, a))),
            Op::Binary(op, d, a, b) => (d, op.eval(get(r, a), get(r, b))),
            Op::AddX(d, b) => (d, x + get(r, b)),
            Op::SubX(d, b) => (d, x - get(r, b)),
            Op::RSubX(d, a) => (d, get(r, a) - x),
            Op::MulX(d, b) => (d, x * get(r, b)),
            Op::DivX(d, b) => (d, x / get(r, b)),
            Op::RDivX(d, a) => (d, get(r, a) / x),
            Op::MulAddX(d, b, c) => (d, x * get(r, b) + get(r, c)),
            Op::MulAddXc(d, a, b) => (d, get(r, a) * get(r, b) + x),
            Op::MulSubX(d, b, c) => (d, x * get(r, b) - get(r, c)),
            Op::MulSubXc(d, a, b) => (d, get(r, a) * get(r, b) - x),
            Op::SubMulX(d, b, c) => (d, get(r, c) - x * get(r, b)),
            Op::SubMulXc(d, a, b) => (d, x - get(r, a) * get(r, b)),
            Op::MulMulX(d, b, c) => (d, x * get(r, b) * get(r, c)),
            Op::MulMulXc(d, a, b) => (d, get(r, a) * get(r, b) * x),
            Op::MulMulAddX(d, b, c, e) => (d, x * get(r, b) + get(r, c) * get(r, e)),
            Op::MulMulSubX(d, b, c, e) => (d, x * get(r, b) - get(r, c) * get(r, e)),
            Op::MulMulSubXc(d, a, b, e) => (d, get(r, a) * get(r, b) - x * get(r, e)),
            Op::NegX(d) => (d, -x),
            Op::SquareX(d) => (d, x * x),
            Op::RecipX(d) => (d, 1.0 / x),
            Op::Sech2X(d) => (d, sech2(x)),
            Op::TanhSech2X(t, s) => {
                x = tanh_sech2(r, t, s, x);
                continue;
            }
            Op::PowiX(d, k) => (d, x.powi(k)),
            Op::UnaryX(op, d) => (d, op.eval(x)),
            Op::BinaryX(op, d, b) => (d, op.eval(x, get(r, b))),
            Op::RBinaryX(op, d, a) => (d, op.eval(get(r, a), x)),
            Op::MulTanhSech2(m, t, s, a, b) => {
                let u = get(r, a) * get(r, b);
                r[m as usize] = u;
                x = tanh_sech2(r, t, s, u);
                continue;
            }
            Op::MulTanhSech2X(m, t, s, b) => {
                let u = x * get(r, b);
                r[m as usize] = u;
                x = tanh_sech2(r, t, s, u);
                continue;
            }
        };
        r[d as usize] = v;
        x = v;
    }
}

#[cfg(test)]
mod tests {
    use super::super::exec::Lanes;
    use super::*;

    /// Instr's own semantics: the lane interpreter on one lane (operands
    /// read from memory, no encoding).
    fn reference(code: &[Instr], regs: &[f64]) -> Vec<f64> {
        let mut lanes: Vec<[f64; 1]> = regs.iter().map(|&v| [v]).collect();
        Lanes {
            first_input: lanes.len(),
            regs: &mut lanes,
            inputs: &[],
            sums: &mut [],
            sink: &[],
        }
        .run(code);
        lanes.into_iter().map(|[v]| v).collect()
    }

    fn encoded(code: &[Instr], regs: &[f64]) -> Vec<f64> {
        let mut r = regs.to_vec();
        run(&encode(code), &mut r);
        r
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    /// An instruction of one form, from its destination and operands.
    type Form = Box<dyn Fn(Reg, [Reg; 4]) -> Instr>;

    /// Every form, with its number of operands.
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
                let enc = encode(&code);
                let name = format!("{:?}", enc[1]);
                let form_name = name.split('(').next().unwrap_or_default();
                assert!(form_name.contains('X'), "form {k}, operand {j}: {name}");
                assert!(
                    same(&encoded(&code, &regs), &reference(&code, &regs)),
                    "form {k}, operand {j}: {name}"
                );
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
        let enc = encode(&code);
        assert_eq!(
            enc,
            [
                Op::MulTanhSech2(3, 4, 5, 0, 1),
                Op::MulTanhSech2X(6, 7, 3, 2)
            ]
        );
        let r = encoded(&code, &regs);
        assert!(same(&r, &reference(&code, &regs)));
        let t = (0.7f64 * -1.3).tanh();
        assert_eq!(r[4], t);
        assert_eq!(r[7], (t * 2.1).tanh());
        assert!((r[5] - (0.7f64 * -1.3).cosh().powi(-2)).abs() < 1e-15);
    }

    #[test]
    fn random_programs_match_the_instructions() {
        // Programs of every form with operands drawn mostly from the last
        // result (so that `x` carries chains of all kinds), registers
        // reused, checked against the lane interpreter bit for bit.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % u64::from(m)) as u32
        };
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
            assert!(
                same(&encoded(&code, &regs), &reference(&code, &regs)),
                "{code:?}"
            );
        }
    }

    #[test]
    fn instructions_stay_small() {
        assert!(std::mem::size_of::<Op>() <= 24);
    }
}
