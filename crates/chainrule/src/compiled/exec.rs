//! The instruction set of compiled programs and its interpreter over
//! registers of `L` lanes (one sample per lane), which runs each instruction
//! over all lanes at once, so the dispatch is paid once per block of samples
//! and the lane loops vectorise. The scalar interpreter runs the same
//! program in an encoding of its own ([`super::scalar`]).

use crate::ops::{BinaryOp, UnaryOp};

/// A register index.
pub(crate) type Reg = u32;

/// One instruction: destination first. The register allocator never gives
/// the destination the register of one of the operands, so the lane
/// interpreter can borrow them apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Instr {
    Add(Reg, Reg, Reg),
    Sub(Reg, Reg, Reg),
    Mul(Reg, Reg, Reg),
    Div(Reg, Reg, Reg),
    /// d = a·b + c, rounded twice (a multiply and an add fused into one
    /// instruction, not an FMA: the same numbers as the two operations).
    MulAdd(Reg, Reg, Reg, Reg),
    /// d = a·b − c, rounded twice.
    MulSub(Reg, Reg, Reg, Reg),
    /// d = c − a·b, rounded twice.
    SubMul(Reg, Reg, Reg, Reg),
    /// d = (a·b)·c, rounded twice.
    MulMul(Reg, Reg, Reg, Reg),
    /// d = a·b + c·e (two products and their sum, rounded as three operations).
    MulMulAdd(Reg, Reg, Reg, Reg, Reg),
    /// d = a·b − c·e, rounded as three operations.
    MulMulSub(Reg, Reg, Reg, Reg, Reg),
    Neg(Reg, Reg),
    Square(Reg, Reg),
    Recip(Reg, Reg),
    /// `cosh(a)^-2`, evaluated as 4e/(1 + e)² with e = exp(−2|a|): the same
    /// function with one `exp` instead of `cosh` and a division (an exact
    /// identity; no cancellation, e ∈ [0, 1]).
    Sech2(Reg, Reg),
    /// Two results of one argument: tanh(a) into the first register and
    /// `cosh(a)^-2` into the second, the latter as (1 − t)(1 + t) from
    /// t = tanh(a) where that is accurate (|t| ≤ 1/2: no cancellation, a
    /// few ulp), else as [`Instr::Sech2`]. One call instead of two when a
    /// tanh and its derivative are both needed.
    TanhSech2(Reg, Reg, Reg),
    Powi(Reg, Reg, i32),
    Unary(UnaryOp, Reg, Reg),
    Binary(BinaryOp, Reg, Reg, Reg),
}

impl Instr {
    /// The destinations and the operands.
    pub(crate) fn regs(&self) -> ([Option<Reg>; 2], [Option<Reg>; 4]) {
        use Instr::*;
        if let TanhSech2(t, s, a) = *self {
            return ([Some(t), Some(s)], [Some(a), None, None, None]);
        }
        let (d, ops) = match *self {
            Add(d, a, b) | Sub(d, a, b) | Mul(d, a, b) | Div(d, a, b) | Binary(_, d, a, b) => {
                (d, [Some(a), Some(b), None, None])
            }
            MulAdd(d, a, b, c) | MulSub(d, a, b, c) | SubMul(d, a, b, c) | MulMul(d, a, b, c) => {
                (d, [Some(a), Some(b), Some(c), None])
            }
            MulMulAdd(d, a, b, c, e) | MulMulSub(d, a, b, c, e) => {
                (d, [Some(a), Some(b), Some(c), Some(e)])
            }
            Neg(d, a)
            | Square(d, a)
            | Recip(d, a)
            | Sech2(d, a)
            | Powi(d, a, _)
            | Unary(_, d, a)
            | TanhSech2(d, _, a) => (d, [Some(a), None, None, None]),
        };
        ([Some(d), None], ops)
    }
}

/// `cosh(u)^-2` from one exponential: 4e/(1 + e)² with e = e^(−2|u|).
#[inline]
pub(crate) fn sech2(u: f64) -> f64 {
    let e = (-2.0 * u.abs()).exp();
    let s = 1.0 + e;
    4.0 * e / (s * s)
}

/// `cosh(u)^-2` given t = tanh(u): (1 − t)(1 + t) where that is accurate
/// (|t| ≤ 1/2: relative error a few ulp), else [`sech2`].
#[inline]
pub(crate) fn sech2_given_tanh(u: f64, t: f64) -> f64 {
    if t.abs() <= 0.5 {
        (1.0 - t) * (1.0 + t)
    } else {
        sech2(u)
    }
}

/// Registers of `L` lanes: the program's own (`regs`), and the rows of
/// samples it reads in place (`inputs`, registers `first_input..`), so that
/// a block of data is never copied into registers. An instruction whose
/// result is only summed (`sink[k]` = the sum it goes to) adds it into
/// `sums` instead of writing a register, so the sum costs no pass of its own.
pub(crate) struct Lanes<'r, 'd, const L: usize> {
    pub(crate) regs: &'r mut [[f64; L]],
    pub(crate) first_input: usize,
    pub(crate) inputs: &'r [&'d [f64; L]],
    pub(crate) sums: &'r mut [[f64; L]],
    pub(crate) sink: &'r [Option<u32>],
}

/// Where an instruction's lanes go.
enum Dst<'a, const L: usize> {
    Write(&'a mut [f64; L]),
    Add(&'a mut [f64; L]),
}

impl<const L: usize> Dst<'_, L> {
    #[inline(always)]
    fn fill(self, f: impl Fn(usize) -> f64) {
        match self {
            Dst::Write(d) => {
                for (l, o) in d.iter_mut().enumerate() {
                    *o = f(l);
                }
            }
            Dst::Add(d) => {
                for (l, o) in d.iter_mut().enumerate() {
                    *o += f(l);
                }
            }
        }
    }
}

impl<const L: usize> Lanes<'_, '_, L> {
    /// The destination (a register, or a sum for an instruction `k` whose
    /// result is only summed) and the operand registers of one instruction,
    /// borrowed apart (operands never alias the destination, and the
    /// destination is never an input row).
    #[inline(always)]
    fn split<const N: usize>(
        &mut self,
        k: usize,
        d: Reg,
        ops: [Reg; N],
    ) -> (Dst<'_, L>, [&[f64; L]; N]) {
        let (first, inputs) = (self.first_input, self.inputs);
        let input =
            move |o: usize| (o >= first && o - first < inputs.len()).then(|| inputs[o - first]);
        if let Some(Some(s)) = self.sink.get(k) {
            let regs: &[[f64; L]] = self.regs;
            let srcs = ops.map(|o| input(o as usize).unwrap_or(&regs[o as usize]));
            return (Dst::Add(&mut self.sums[*s as usize]), srcs);
        }
        let d = d as usize;
        let (lo, hi) = self.regs.split_at_mut(d);
        let (dst, hi) = hi.split_first_mut().expect("destination register in range");
        let (lo, hi): (&[[f64; L]], &[[f64; L]]) = (lo, hi);
        let srcs = ops.map(|o| {
            let o = o as usize;
            if let Some(row) = input(o) {
                row
            } else if o < d {
                &lo[o]
            } else {
                // o == d would be an allocator bug; it panics here (o − d − 1 underflows).
                &hi[o - d - 1]
            }
        });
        (Dst::Write(dst), srcs)
    }

    #[inline(always)]
    fn op1(&mut self, k: usize, d: Reg, a: Reg, f: impl Fn(f64) -> f64) {
        let (dst, [a]) = self.split(k, d, [a]);
        dst.fill(|l| f(a[l]));
    }

    #[inline(always)]
    fn op2(&mut self, k: usize, d: Reg, a: Reg, b: Reg, f: impl Fn(f64, f64) -> f64) {
        let (dst, [a, b]) = self.split(k, d, [a, b]);
        dst.fill(|l| f(a[l], b[l]));
    }

    #[inline(always)]
    fn op3(&mut self, k: usize, d: Reg, ops: [Reg; 3], f: impl Fn(f64, f64, f64) -> f64) {
        let (dst, [a, b, c]) = self.split(k, d, ops);
        dst.fill(|l| f(a[l], b[l], c[l]));
    }

    #[inline(always)]
    fn op4(&mut self, k: usize, d: Reg, ops: [Reg; 4], f: impl Fn(f64, f64, f64, f64) -> f64) {
        let (dst, [a, b, c, e]) = self.split(k, d, ops);
        dst.fill(|l| f(a[l], b[l], c[l], e[l]));
    }

    /// Runs `code`, each instruction over all lanes (each lane one sample).
    pub(crate) fn run(&mut self, code: &[Instr]) {
        for (k, ins) in code.iter().enumerate() {
            match *ins {
                Instr::Add(d, a, b) => self.op2(k, d, a, b, |x, y| x + y),
                Instr::Sub(d, a, b) => self.op2(k, d, a, b, |x, y| x - y),
                Instr::Mul(d, a, b) => self.op2(k, d, a, b, |x, y| x * y),
                Instr::Div(d, a, b) => self.op2(k, d, a, b, |x, y| x / y),
                Instr::MulAdd(d, a, b, c) => self.op3(k, d, [a, b, c], |x, y, z| x * y + z),
                Instr::MulSub(d, a, b, c) => self.op3(k, d, [a, b, c], |x, y, z| x * y - z),
                Instr::SubMul(d, a, b, c) => self.op3(k, d, [a, b, c], |x, y, z| z - x * y),
                Instr::MulMul(d, a, b, c) => self.op3(k, d, [a, b, c], |x, y, z| x * y * z),
                Instr::MulMulAdd(d, a, b, c, e) => {
                    self.op4(k, d, [a, b, c, e], |x, y, z, u| x * y + z * u)
                }
                Instr::MulMulSub(d, a, b, c, e) => {
                    self.op4(k, d, [a, b, c, e], |x, y, z, u| x * y - z * u)
                }
                Instr::Neg(d, a) => self.op1(k, d, a, |x| -x),
                Instr::Square(d, a) => self.op1(k, d, a, |x| x * x),
                Instr::Recip(d, a) => self.op1(k, d, a, |x| 1.0 / x),
                Instr::Sech2(d, a) => self.op1(k, d, a, sech2),
                Instr::TanhSech2(t, s, a) => {
                    // Two results: never summed directly (see `lower`).
                    self.op1(usize::MAX, t, a, f64::tanh);
                    self.op2(usize::MAX, s, a, t, sech2_given_tanh);
                }
                Instr::Powi(d, a, n) => self.op1(k, d, a, |x| x.powi(n)),
                Instr::Unary(op, d, a) => self.op1(k, d, a, |x| op.eval(x)),
                Instr::Binary(op, d, a, b) => self.op2(k, d, a, b, |x, y| op.eval(x, y)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn both_interpreters_agree() {
        use super::super::scalar;
        // r2 = r0·r1 + r0; r3 = sin(r2); r4 = r3 − r0·r1
        let code = [
            Instr::MulAdd(2, 0, 1, 0),
            Instr::Unary(UnaryOp::Sin, 3, 2),
            Instr::SubMul(4, 0, 1, 3),
        ];
        let mut s = [0.5, 3.0, 0.0, 0.0, 0.0];
        scalar::run(&scalar::encode(&code), &mut s);
        let expected = (0.5f64 * 3.0 + 0.5).sin() - 1.5;
        assert_eq!(s[4], expected);
        // Register 1 is read in place from a row of samples.
        let mut l = [[0.5, 2.0], [f64::NAN; 2], [0.0; 2], [0.0; 2], [0.0; 2]];
        let row = [3.0, 1.0];
        let mut sums = [[10.0, 20.0]];
        Lanes {
            regs: &mut l,
            first_input: 1,
            inputs: &[&row],
            sums: &mut sums,
            sink: &[None, None, Some(0)],
        }
        .run(&code);
        // The last instruction's result went into the sum, not register 4.
        assert_eq!(l[4], [0.0; 2]);
        assert_eq!(sums[0][0], 10.0 + expected);
        assert_eq!(sums[0][1], 20.0 + ((2.0f64 * 1.0 + 2.0).sin() - 2.0));
    }
}
