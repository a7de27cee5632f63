//! The scalar machine: registers of one f64 each, and `x` (the previous
//! instruction's result, see [`super::instr`]) in a local variable, which
//! the compiler keeps in a machine register across the interpreter loop.
//!
//! A lowered program ([`Code`]) names only registers below its `n_regs`
//! (see [`Code`]'s invariant), so [`run`] checks the register file's length
//! once and then reads and writes registers without a bounds check per
//! operand: three compares and branches fewer per instruction, of about
//! twenty (W9's compressed Hessian runs a million instructions per call).

use super::instr::{self, sech2_given_tanh, Machine, Reg, Src};
use super::lower::Code;

/// Scalar registers and the previous result. With `CHECKED`, every access
/// is bounds-checked (for instructions not lowered by [`super::lower`]).
struct Scalar<'r, const CHECKED: bool> {
    r: &'r mut [f64],
    x: f64,
}

impl<const CHECKED: bool> Scalar<'_, CHECKED> {
    #[inline(always)]
    fn reg(&self, i: Reg) -> f64 {
        if CHECKED {
            self.r[i as usize]
        } else {
            debug_assert!((i as usize) < self.r.len());
            // SAFETY: unchecked machines run only lowered code, whose
            // registers are all below `n_regs` (`Code`'s invariant), on a
            // register file of at least `n_regs` entries (checked in `run`).
            unsafe { *self.r.get_unchecked(i as usize) }
        }
    }

    #[inline(always)]
    fn put(&mut self, i: Reg, v: f64) {
        if CHECKED {
            self.r[i as usize] = v;
        } else {
            debug_assert!((i as usize) < self.r.len());
            // SAFETY: as in `reg`.
            unsafe { *self.r.get_unchecked_mut(i as usize) = v }
        }
    }

    #[inline(always)]
    fn get(&self, s: Src) -> f64 {
        match s {
            Src::R(i) => self.reg(i),
            Src::X => self.x,
        }
    }

    #[inline(always)]
    fn set(&mut self, d: Reg, v: f64) {
        self.put(d, v);
        self.x = v;
    }
}

impl<const CHECKED: bool> Machine for Scalar<'_, CHECKED> {
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
        self.put(t, v);
        self.put(s, sech2_given_tanh(u, v));
        self.x = v;
    }
}

/// Runs a lowered program on scalar registers (at least its `n_regs`).
///
/// # Panics
/// If `r` has fewer than `code.n_regs` entries.
pub(crate) fn run(code: &Code, r: &mut [f64]) {
    assert!(r.len() >= code.n_regs, "a register file of n_regs entries");
    instr::run(&mut Scalar::<false> { r, x: 0.0 }, &code.code);
}

/// Runs any encoded instructions on scalar registers, every access
/// bounds-checked (for hand-written programs).
#[cfg(test)]
pub(crate) fn run_checked(code: &[instr::Instr], r: &mut [f64]) {
    instr::run(&mut Scalar::<true> { r, x: 0.0 }, code);
}
