//! The scalar machine: registers of one f64 each, and `x` (the previous
//! instruction's result, see [`super::instr`]) in a local variable, which
//! the compiler keeps in a machine register across the interpreter loop.

use super::instr::{self, sech2_given_tanh, Instr, Machine, Reg, Src};

/// Scalar registers and the previous result.
struct Scalar<'r> {
    r: &'r mut [f64],
    x: f64,
}

impl Scalar<'_> {
    #[inline(always)]
    fn get(&self, s: Src) -> f64 {
        match s {
            Src::R(i) => self.r[i as usize],
            Src::X => self.x,
        }
    }

    #[inline(always)]
    fn set(&mut self, d: Reg, v: f64) {
        self.r[d as usize] = v;
        self.x = v;
    }
}

impl Machine for Scalar<'_> {
    #[inline(always)]
    fn op1(&mut self, _: usize, d: Reg, a: Src, f: impl Fn(f64) -> f64) {
        self.set(d, f(self.get(a)));
    }

    #[inline(always)]
    fn op2(&mut self, _: usize, d: Reg, a: Src, b: Src, f: impl Fn(f64, f64) -> f64) {
        self.set(d, f(self.get(a), self.get(b)));
    }

    #[inline(always)]
    fn op3(&mut self, _: usize, d: Reg, [a, b, c]: [Src; 3], f: impl Fn(f64, f64, f64) -> f64) {
        self.set(d, f(self.get(a), self.get(b), self.get(c)));
    }

    #[inline(always)]
    fn op4(
        &mut self,
        _: usize,
        d: Reg,
        [a, b, c, e]: [Src; 4],
        f: impl Fn(f64, f64, f64, f64) -> f64,
    ) {
        self.set(d, f(self.get(a), self.get(b), self.get(c), self.get(e)));
    }

    #[inline(always)]
    fn tanh_sech2(&mut self, t: Reg, s: Reg, a: Src) {
        let u = self.get(a);
        let v = u.tanh();
        self.r[t as usize] = v;
        self.r[s as usize] = sech2_given_tanh(u, v);
        self.x = v;
    }
}

/// Runs an encoded program on scalar registers.
pub(crate) fn run(code: &[Instr], r: &mut [f64]) {
    instr::run(&mut Scalar { r, x: 0.0 }, code);
}
