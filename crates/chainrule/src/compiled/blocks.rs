//! A [`ScalarProgram`] run over a block of [`LANES`] independent inputs at
//! once, one input per lane, on the lane machine ([`super::lanes`]): the
//! program of one term of a sum, run for many terms (the sparse Hessian's
//! repeated element functions, see [`crate::sparse`]).
//!
//! Each instruction runs over the whole block (its dispatch paid once per
//! block, its lane loop vectorised; with AVX2 where the processor has it,
//! chosen at run time as the data pass of [`super::SampleProgram`] does).
//! The lanes compute what the scalar machine computes, bit for bit, input
//! by input (the two machines run one interpreter over the same
//! per-form arithmetic).

use super::instr::Reg;
use super::lanes::Lanes;
use super::lower::Code;
use super::{ScalarProgram, LANES};

/// A program's registers of [`LANES`] lanes, constants preloaded.
#[derive(Clone, Debug)]
pub(crate) struct LaneProgram {
    code: Code,
    regs: Vec<[f64; LANES]>,
}

impl LaneProgram {
    /// The lane form of `program` (its instructions, registers of `LANES` lanes).
    pub(crate) fn new(program: &ScalarProgram) -> LaneProgram {
        let code = program.code.clone();
        let mut regs = vec![[0.0; LANES]; code.n_regs];
        for &(r, v) in &code.consts {
            regs[r as usize] = [v; LANES];
        }
        LaneProgram { code, regs }
    }

    /// Runs the program on one block: lane `l` of `inputs[j]` is input `j`
    /// of the block's `l`-th run. The rows are read in place.
    ///
    /// # Panics
    /// Unless there is one row per input.
    pub(crate) fn run(&mut self, inputs: &[&[f64; LANES]]) {
        assert_eq!(inputs.len(), self.code.n_inputs, "one row per input");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked on the line above).
            unsafe { run_avx2(&self.code, &mut self.regs, inputs) };
            return;
        }
        run_body(&self.code, &mut self.regs, inputs);
    }

    /// The lanes of register `r` after [`LaneProgram::run`] on `inputs` (an
    /// input register's lanes are its row).
    #[inline]
    pub(crate) fn lanes<'a>(&'a self, inputs: &[&'a [f64; LANES]], r: Reg) -> &'a [f64; LANES] {
        match inputs.get(r as usize) {
            Some(row) => row,
            None => &self.regs[r as usize],
        }
    }
}

/// [`run_body`] compiled for AVX2 (the lane loops are inlined into it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_avx2(code: &Code, regs: &mut [[f64; LANES]], inputs: &[&[f64; LANES]]) {
    run_body(code, regs, inputs);
}

/// One block through the lane machine, every result written to its
/// register (nothing summed).
#[inline(always)]
fn run_body(code: &Code, regs: &mut [[f64; LANES]], inputs: &[&[f64; LANES]]) {
    Lanes::new(regs, 0, inputs, &mut [], &[]).run(&code.code);
}

#[cfg(test)]
mod tests {
    use super::super::trace::Node;
    use super::*;
    use crate::ops::{BinaryOp, UnaryOp};

    #[test]
    fn lanes_equal_the_scalar_machine_input_by_input() {
        // y = tanh(x0·x1) + x0² / x1, and the input x0 itself as an output.
        let nodes = [
            Node::Input(0),
            Node::Input(1),
            Node::Binary(BinaryOp::Mul, 0, 1),
            Node::Unary(UnaryOp::Tanh, 2),
            Node::Unary(UnaryOp::Powi(2), 0),
            Node::Binary(BinaryOp::Div, 4, 1),
            Node::Binary(BinaryOp::Add, 3, 5),
        ];
        let mut scalar = ScalarProgram::lower(&nodes, 2, &[6, 0]);
        let mut lanes = LaneProgram::new(&scalar);
        let special = [
            0.0,
            -0.0,
            1.0,
            -2.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut a = [0.0; LANES];
        let mut b = [0.0; LANES];
        for l in 0..LANES {
            a[l] = special[l % special.len()];
            b[l] = special[(l / special.len()) % special.len()];
        }
        let rows = [&a, &b];
        lanes.run(&rows);
        let (y, x0) = (scalar.output_register(0), scalar.output_register(1));
        for l in 0..LANES {
            scalar.run(&[a[l], b[l]]);
            for (r, j) in [(y, 0), (x0, 1)] {
                let (got, want) = (lanes.lanes(&rows, r)[l], scalar.output(j));
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "lane {l}, output {j}: {got} vs {want}"
                );
            }
        }
    }
}
