//! The lane machine: registers of `L` lanes (one sample per lane), each
//! instruction run over all lanes at once, so the dispatch is paid once per
//! block of samples and the lane loops vectorise.

use super::instr::{self, Instr, Machine, Plain, Reg, Src};

/// Registers of `L` lanes: the program's own (`regs`), and the rows of
/// samples it reads in place (`inputs`, registers `first_input..`), so that
/// a block of data is never copied into registers. An instruction whose
/// result is only summed (`sink[k]` = the sum it goes to) adds it into
/// `sums` instead of writing a register, so the sum costs no pass of its own.
pub(crate) struct Lanes<'r, 'd, const L: usize> {
    regs: &'r mut [[f64; L]],
    first_input: usize,
    inputs: &'r [&'d [f64; L]],
    sums: &'r mut [[f64; L]],
    sink: &'r [Option<u32>],
    /// The register `x` stands for: the previous instruction's first destination.
    prev: Reg,
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

impl<const L: usize> Dst<'_, L> {
    /// As [`Dst::fill`] for a form with strong-zero products: `plain` over
    /// all lanes (a loop without a branch, which vectorises) while noting
    /// whether any lane is NaN, then `strong` again for the NaN lanes only
    /// ([`Plain`]: elsewhere the two are equal bit for bit). A sum is only
    /// added to once its lanes are known: one pass notes NaNs without
    /// storing, a second adds (`plain` again where there was none).
    #[inline(always)]
    fn fill_strong(self, plain: impl Fn(usize) -> f64, strong: impl Fn(usize) -> f64) {
        let fixed = |l: usize| {
            let v = plain(l);
            if v.is_nan() {
                strong(l)
            } else {
                v
            }
        };
        match self {
            Dst::Write(d) => {
                let mut nan = false;
                for (l, o) in d.iter_mut().enumerate() {
                    let v = plain(l);
                    nan |= v.is_nan();
                    *o = v;
                }
                if nan {
                    for (l, o) in d.iter_mut().enumerate() {
                        if o.is_nan() {
                            *o = strong(l);
                        }
                    }
                }
            }
            Dst::Add(d) => {
                let nan = (0..L).fold(false, |nan, l| nan | plain(l).is_nan());
                if nan {
                    for (l, o) in d.iter_mut().enumerate() {
                        *o += fixed(l);
                    }
                } else {
                    for (l, o) in d.iter_mut().enumerate() {
                        *o += plain(l);
                    }
                }
            }
        }
    }
}

impl<'r, 'd, const L: usize> Lanes<'r, 'd, L> {
    /// The machine over `regs`, with the rows `inputs` read in place as
    /// registers `first_input..`, and the results of instructions `k` with
    /// `sink[k]` added into `sums`.
    pub(crate) fn new(
        regs: &'r mut [[f64; L]],
        first_input: usize,
        inputs: &'r [&'d [f64; L]],
        sums: &'r mut [[f64; L]],
        sink: &'r [Option<u32>],
    ) -> Self {
        Lanes {
            regs,
            first_input,
            inputs,
            sums,
            sink,
            prev: 0,
        }
    }

    /// Runs an encoded program, each instruction over all lanes (inlined,
    /// so that a caller compiled for wider vectors runs the lane loops
    /// with them).
    #[inline(always)]
    pub(crate) fn run(&mut self, code: &[Instr]) {
        instr::run(self, code);
    }

    /// The register an operand is read from.
    #[inline(always)]
    fn reg(&self, s: Src) -> Reg {
        match s {
            Src::R(r) => r,
            Src::X => self.prev,
        }
    }

    /// The destination (a register, or a sum for an instruction `k` whose
    /// result is only summed) and the operand registers of one instruction,
    /// borrowed apart (operands never alias the destination, and the
    /// destination is never an input row); `d` becomes the register of `x`.
    #[inline(always)]
    fn split<const N: usize>(
        &mut self,
        k: usize,
        d: Reg,
        ops: [Src; N],
    ) -> (Dst<'_, L>, [&[f64; L]; N]) {
        let ops = ops.map(|o| self.reg(o));
        self.prev = d;
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
}

impl<const L: usize> Machine for Lanes<'_, '_, L> {
    #[inline(always)]
    fn op1(&mut self, k: usize, d: Reg, a: Src, f: impl Fn(f64) -> f64) {
        let (dst, [a]) = self.split(k, d, [a]);
        dst.fill(|l| f(a[l]));
    }

    #[inline(always)]
    fn op2(&mut self, k: usize, d: Reg, a: Src, b: Src, f: impl Fn(f64, f64) -> f64) {
        let (dst, [a, b]) = self.split(k, d, [a, b]);
        dst.fill(|l| f(a[l], b[l]));
    }

    #[inline(always)]
    fn op3(&mut self, k: usize, d: Reg, ops: [Src; 3], f: impl Fn(f64, f64, f64) -> f64) {
        let (dst, [a, b, c]) = self.split(k, d, ops);
        dst.fill(|l| f(a[l], b[l], c[l]));
    }

    #[inline(always)]
    fn op4(&mut self, k: usize, d: Reg, ops: [Src; 4], f: impl Fn(f64, f64, f64, f64) -> f64) {
        let (dst, [a, b, c, e]) = self.split(k, d, ops);
        dst.fill(|l| f(a[l], b[l], c[l], e[l]));
    }

    #[inline(always)]
    fn zop2(
        &mut self,
        k: usize,
        d: Reg,
        a: Src,
        b: Src,
        z: Plain<impl Fn(f64, f64) -> f64, impl Fn(f64, f64) -> f64>,
    ) {
        let (dst, [a, b]) = self.split(k, d, [a, b]);
        dst.fill_strong(|l| (z.plain)(a[l], b[l]), |l| (z.strong)(a[l], b[l]));
    }

    #[inline(always)]
    fn zop3(
        &mut self,
        k: usize,
        d: Reg,
        ops: [Src; 3],
        z: Plain<impl Fn(f64, f64, f64) -> f64, impl Fn(f64, f64, f64) -> f64>,
    ) {
        let (dst, [a, b, c]) = self.split(k, d, ops);
        dst.fill_strong(
            |l| (z.plain)(a[l], b[l], c[l]),
            |l| (z.strong)(a[l], b[l], c[l]),
        );
    }

    #[inline(always)]
    fn zop4(
        &mut self,
        k: usize,
        d: Reg,
        ops: [Src; 4],
        z: Plain<impl Fn(f64, f64, f64, f64) -> f64, impl Fn(f64, f64, f64, f64) -> f64>,
    ) {
        let (dst, [a, b, c, e]) = self.split(k, d, ops);
        dst.fill_strong(
            |l| (z.plain)(a[l], b[l], c[l], e[l]),
            |l| (z.strong)(a[l], b[l], c[l], e[l]),
        );
    }

    #[inline(always)]
    fn tanh_sech2(&mut self, t: Reg, s: Reg, a: Src) {
        // Two results: never summed directly (see `lower`).
        let a = Src::R(self.reg(a));
        self.op1(usize::MAX, t, a, f64::tanh);
        self.op2(usize::MAX, s, a, Src::R(t), instr::sech2_given_tanh);
        self.prev = t;
    }
}
