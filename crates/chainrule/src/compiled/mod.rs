//! Compiled reverse mode: trace a function once into a flat program of its
//! value and gradient, then replay it as often as needed.
//!
//! A function written generically over [`Real`](crate::Real) runs once on
//! [`Traced`] values, which record each operation on a tape (shared
//! subexpressions recorded once, constants folded). A reverse sweep over
//! that tape, evaluated with the same `Traced` values, records the adjoint
//! computation as more instructions: each partial derivative comes from
//! the one rules table ([`crate::rules`]), so the compiled gradient is the
//! tape's gradient, computed by straight-line code with no graph, no
//! allocation and no per-op bookkeeping. The tape is then lowered to a
//! register program (dead code dropped, a multiply feeding an add fused,
//! registers reused) and interpreted; the scalar interpreter passes each
//! result that the next instruction reads in a machine register rather
//! than through memory, so a serial chain runs at the speed of its
//! arithmetic.
//!
//! - [`grad_program`]: f(x) and ∇f(x) for one point at a time
//!   ([`GradProgram`]), as `jax.jit(jax.value_and_grad(f))`.
//! - [`per_sample`]: a loss written for one sample, `f(params; data_i)`,
//!   compiled with its gradient with respect to the parameters, and run
//!   over a whole data set in one fused pass that sums (or averages) the
//!   values and gradients ([`SampleProgram`]): samples go through the
//!   program a block at a time, each instruction over the whole block.
//!
//! ```
//! use chainrule::compiled;
//! use chainrule::Real;
//!
//! fn f<T: Real>(x: &[T]) -> T {
//!     (x[0].clone() * x[1].clone()).sin() + x[0].square()
//! }
//! let mut program = compiled::grad_program(2, |x| f(x)).unwrap();
//! let mut grad = [0.0; 2];
//! let value = program.eval(&[0.5, 2.0], &mut grad);
//! // The same operations in the same order as f on f64: the same value.
//! assert_eq!(value, f(&[0.5, 2.0]));
//! // ∂f/∂x₀ = x₁·cos(x₀x₁) + 2x₀, ∂f/∂x₁ = x₀·cos(x₀x₁)
//! assert!((grad[0] - (2.0 * 1f64.cos() + 1.0)).abs() < 1e-15);
//! assert!((grad[1] - 0.5 * 1f64.cos()).abs() < 1e-15);
//! ```
//!
//! Functions are traced, not analysed: `Traced` holds no number, so the
//! traced function cannot branch on values (`relu`, `abs`, `max` and
//! friends are operations, and their kinks follow the rules table). A
//! trace is active only while [`grad_program`] or [`per_sample`] runs the
//! closure; a `Traced` used outside it panics, and traces do not nest.

mod blocks;
mod compressed;
mod instr;
mod lanes;
mod lower;
mod scalar;
mod sweep;
mod trace;

pub(crate) use blocks::LaneProgram;
pub(crate) use compressed::{hessian_products, jacobian_products, Seeds};
pub(crate) use instr::sech2_given_tanh;
pub(crate) use trace::Node;
pub use trace::Traced;

use crate::error::{Error, Result};
use lanes::Lanes;
use lower::{lower, Code};

/// Records `f` with its gradient with respect to `wrt` (the first `n_wrt`
/// of `n_inputs` inputs) and lowers it: outputs are the value, then the
/// gradient entries.
fn compile_with_gradient(
    n_inputs: usize,
    n_wrt: usize,
    f: impl FnOnce(&[Traced]) -> Traced,
) -> Result<Code> {
    type Traced3 = (usize, Vec<bool>, Vec<u32>);
    let (outputs, tape) = trace::record(n_inputs, |inputs| -> Result<Traced3> {
        let y = f(inputs);
        let n_primal = trace::len();
        if !y.is_on_active_tape() {
            return Err(Error::ForeignTraceValue);
        }
        let (grads, partial) = sweep::adjoints(y, &inputs[..n_wrt]);
        let zero = Traced::constant(0.0);
        let mut outputs = vec![y.id];
        outputs.extend(grads.into_iter().map(|g| g.unwrap_or(zero).id));
        Ok((n_primal, partial, outputs))
    })?;
    let (n_primal, partial, outputs) = outputs?;
    Ok(lower(&tape.nodes, n_inputs, n_primal, &partial, &outputs))
}

/// A lowered program with its scalar registers (constants preloaded): what
/// a [`GradProgram`] and a formula's [`symbolic::Program`](crate::symbolic::Program) run.
#[derive(Clone, Debug)]
pub(crate) struct ScalarProgram {
    code: Code,
    regs: Vec<f64>,
}

impl ScalarProgram {
    /// Lowers `nodes` (in the tracer's form: `Node::Input(i)` for i <
    /// `n_inputs`, operands before their users) to a program computing the
    /// nodes `outputs`: dead nodes dropped, instructions fused, registers
    /// reused, encoded for the scalar interpreter.
    pub(crate) fn lower(nodes: &[Node], n_inputs: usize, outputs: &[u32]) -> ScalarProgram {
        ScalarProgram::new(lower(nodes, n_inputs, nodes.len(), &[], outputs))
    }

    fn new(code: Code) -> ScalarProgram {
        let mut regs = vec![0.0; code.n_regs];
        for &(r, v) in &code.consts {
            regs[r as usize] = v;
        }
        ScalarProgram { code, regs }
    }

    /// How many inputs the program takes.
    pub(crate) fn n_inputs(&self) -> usize {
        self.code.n_inputs
    }

    /// How many outputs it computes.
    pub(crate) fn n_outputs(&self) -> usize {
        self.code.outputs.len()
    }

    /// How many instructions run per evaluation (superinstructions counted once).
    pub(crate) fn len(&self) -> usize {
        self.code.code.len()
    }

    /// Runs the program on `inputs` (exactly [`ScalarProgram::n_inputs`] of
    /// them; the caller checks), after which [`ScalarProgram::output`] reads
    /// the results.
    #[inline]
    pub(crate) fn run(&mut self, inputs: &[f64]) {
        self.regs[..inputs.len()].copy_from_slice(inputs);
        scalar::run(&self.code, &mut self.regs);
    }

    /// Output `j` of the last run.
    #[inline]
    pub(crate) fn output(&self, j: usize) -> f64 {
        self.regs[self.code.outputs[j] as usize]
    }

    /// The register that holds output `j` after a run (for [`ScalarProgram::read`]).
    pub(crate) fn output_register(&self, j: usize) -> u32 {
        self.code.outputs[j]
    }

    /// The registers `regs` (from [`ScalarProgram::output_register`]) of
    /// the last run, into `out`: one read per value.
    #[inline]
    pub(crate) fn read(&self, regs: &[u32], out: &mut [f64]) {
        for (o, &r) in out.iter_mut().zip(regs) {
            *o = self.regs[r as usize];
        }
    }

    /// The registers `regs` of the last run, as a new vector.
    pub(crate) fn values(&self, regs: &[u32]) -> Vec<f64> {
        regs.iter().map(|&r| self.regs[r as usize]).collect()
    }

    /// Every output of the last run, from output `from` on, into `out`.
    #[inline]
    pub(crate) fn outputs_into(&self, from: usize, out: &mut [f64]) {
        for (o, &r) in out.iter_mut().zip(&self.code.outputs[from..]) {
            *o = self.regs[r as usize];
        }
    }
}

fn length_error(what: &'static str, expected: usize, got: usize) -> Error {
    Error::LengthMismatch {
        op: "compiled",
        what,
        expected,
        got,
    }
}

/// A compiled value and gradient of a function of `n` inputs (made by
/// [`grad_program`]). Evaluation allocates nothing.
#[derive(Clone, Debug)]
pub struct GradProgram {
    program: ScalarProgram,
}

/// Traces `f` (a function of `n_inputs` values) once and compiles its value
/// and gradient into a [`GradProgram`]: the program, to run at many points
/// (`jax.jit(jax.value_and_grad(f))`; the uncompiled transform on tensors is
/// [`functional::value_and_grad`](crate::functional::value_and_grad)).
///
/// # Errors
/// [`Error::NestedTrace`] if a trace is already active on this thread, or
/// [`Error::ForeignTraceValue`] if `f` returns a value that it did not
/// compute from its inputs (one of another trace).
///
/// ```
/// use chainrule::compiled::grad_program;
/// use chainrule::Real;
/// // W1's chain: h ← tanh(h·w) + 0.1·h, three times, from h = x.
/// let mut p = grad_program(2, |v| {
///     let (mut h, w) = (v[0], v[1]);
///     for _ in 0..3 {
///         h = (h * w).tanh() + h * 0.1;
///     }
///     h
/// })
/// .unwrap();
/// let mut g = [0.0; 2];
/// let h = p.eval(&[0.5, 0.9], &mut g);
/// let by_hand = (0..3).fold(0.5f64, |h, _| (h * 0.9).tanh() + h * 0.1);
/// assert_eq!(h, by_hand);
/// assert!(g[0] > 0.0 && g[1] > 0.0);
/// ```
pub fn grad_program<F>(n_inputs: usize, f: F) -> Result<GradProgram>
where
    F: FnOnce(&[Traced]) -> Traced,
{
    let code = compile_with_gradient(n_inputs, n_inputs, f)?;
    Ok(GradProgram {
        program: ScalarProgram::new(code),
    })
}

impl GradProgram {
    /// How many inputs the program takes (and gradient entries it writes).
    pub fn n_inputs(&self) -> usize {
        self.program.n_inputs()
    }

    /// How many instructions run per evaluation (superinstructions of the
    /// interpreter counted once).
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// Whether no instruction runs (the value and gradient are inputs or constants).
    pub fn is_empty(&self) -> bool {
        self.program.len() == 0
    }

    /// How many f64 registers the program uses.
    pub fn n_registers(&self) -> usize {
        self.program.regs.len()
    }

    /// f(x), with ∇f(x) written to `grad`.
    ///
    /// # Panics
    /// If `x` or `grad` does not have [`GradProgram::n_inputs`] entries
    /// (see [`GradProgram::try_eval`]).
    pub fn eval(&mut self, x: &[f64], grad: &mut [f64]) -> f64 {
        match self.try_eval(x, grad) {
            Ok(v) => v,
            Err(e) => panic!("GradProgram::eval: {e}"),
        }
    }

    /// [`GradProgram::eval`] that reports wrong lengths as an error.
    pub fn try_eval(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64> {
        let n = self.program.n_inputs();
        if x.len() != n {
            return Err(length_error("inputs", n, x.len()));
        }
        if grad.len() != n {
            return Err(length_error("gradient entries", n, grad.len()));
        }
        self.program.run(x);
        self.program.outputs_into(1, grad);
        Ok(self.program.output(0))
    }
}

/// Samples per block of the fused data pass: each instruction runs over
/// this many lanes at once (registers of 128 f64s stay in the L1 cache for
/// programs of a few dozen registers).
pub(crate) const LANES: usize = 128;

/// The fewest samples worth a thread of their own (starting one costs tens
/// of microseconds, about as long as the program takes on 2¹⁵ samples).
const MIN_PER_THREAD: usize = 1 << 15;

/// A compiled per-sample loss `f(params; sample)` with its gradient with
/// respect to the parameters, run over a whole data set in one fused pass
/// (made by [`per_sample`]).
#[derive(Clone, Debug)]
pub struct SampleProgram {
    code: Code,
    n_params: usize,
    n_fields: usize,
    threads: usize,
    /// One register file of `LANES` lanes per thread, constants preloaded.
    lanes: Vec<Vec<[f64; LANES]>>,
    /// Scalar registers for the samples after the last full block.
    scalar: Vec<f64>,
}

/// Traces a per-sample function `f(params, sample)` once (`n_params`
/// parameters, `n_fields` numbers per sample) and compiles its value and
/// its gradient with respect to the parameters into a [`SampleProgram`].
///
/// # Errors
/// As [`grad_program`].
///
/// ```
/// use chainrule::compiled::per_sample;
/// use chainrule::Real;
/// // Least squares: mean over i of (w·xᵢ − yᵢ)², d/dw = mean of 2xᵢ(w·xᵢ − yᵢ).
/// let mut p = per_sample(1, 2, |w, s| (w[0] * s[0] - s[1]).square()).unwrap();
/// let (x, y) = ([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]);
/// let mut grad = [0.0];
/// let loss = p.mean_value_and_grad(&[0.0], &[&x, &y], &mut grad).unwrap();
/// assert_eq!(loss, 30.0); // mean of 4, 16, 36, 64
/// assert_eq!(grad[0], -30.0); // mean of −4, −16, −36, −64
/// ```
pub fn per_sample<F>(n_params: usize, n_fields: usize, f: F) -> Result<SampleProgram>
where
    F: FnOnce(&[Traced], &[Traced]) -> Traced,
{
    let code = compile_with_gradient(n_params + n_fields, n_params, |v| {
        let (params, sample) = v.split_at(n_params);
        f(params, sample)
    })?;
    let mut lanes = vec![[0.0; LANES]; code.n_regs];
    let mut scalar = vec![0.0; code.n_regs];
    for &(r, v) in &code.consts {
        lanes[r as usize] = [v; LANES];
        scalar[r as usize] = v;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(SampleProgram {
        code,
        n_params,
        n_fields,
        threads,
        lanes: vec![lanes],
        scalar,
    })
}

/// Σ over the full blocks `blocks` of the program's outputs, each block of
/// `LANES` samples read in place from `columns`: with AVX2's four-wide
/// vectors where the processor has them, else the baseline's two-wide ones
/// (the same IEEE operations lane by lane, so the same sums bit for bit).
fn sum_blocks(
    code: &Code,
    regs: &mut [[f64; LANES]],
    n_params: usize,
    columns: &[&[f64]],
    blocks: std::ops::Range<usize>,
) -> Vec<f64> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked on the line above).
        return unsafe { sum_blocks_avx2(code, regs, n_params, columns, blocks) };
    }
    sum_blocks_body(code, regs, n_params, columns, blocks)
}

/// [`sum_blocks_body`] compiled for AVX2 (the lane loops are inlined into it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sum_blocks_avx2(
    code: &Code,
    regs: &mut [[f64; LANES]],
    n_params: usize,
    columns: &[&[f64]],
    blocks: std::ops::Range<usize>,
) -> Vec<f64> {
    sum_blocks_body(code, regs, n_params, columns, blocks)
}

/// The loop of [`sum_blocks`].
#[inline(always)]
fn sum_blocks_body(
    code: &Code,
    regs: &mut [[f64; LANES]],
    n_params: usize,
    columns: &[&[f64]],
    blocks: std::ops::Range<usize>,
) -> Vec<f64> {
    let outs = &code.outputs;
    let mut sums = vec![[0.0; LANES]; outs.len()];
    // Outputs not summed by their instruction are added after each block.
    let mut summed = vec![false; outs.len()];
    for &j in code.sink.iter().flatten() {
        summed[j as usize] = true;
    }
    let rest: Vec<(usize, usize)> = outs
        .iter()
        .enumerate()
        .filter(|&(j, _)| !summed[j])
        .map(|(j, &r)| (j, r as usize))
        .collect();
    let mut rows: Vec<&[f64; LANES]> = Vec::with_capacity(columns.len());
    for b in blocks {
        rows.clear();
        rows.extend(columns.iter().map(|c| {
            <&[f64; LANES]>::try_from(&c[b * LANES..(b + 1) * LANES]).expect("a full block")
        }));
        Lanes::new(&mut *regs, n_params, &rows, &mut sums, &code.sink).run(&code.code);
        for &(j, r) in &rest {
            let src = match r.checked_sub(n_params) {
                Some(i) if i < rows.len() => rows[i],
                _ => &regs[r],
            };
            for (s, &v) in sums[j].iter_mut().zip(src) {
                *s += v;
            }
        }
    }
    sums.iter().map(|a| a.iter().sum()).collect()
}

impl SampleProgram {
    /// How many parameters the program takes.
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// How many numbers make one sample.
    pub fn n_fields(&self) -> usize {
        self.n_fields
    }

    /// How many instructions run per sample.
    pub fn len(&self) -> usize {
        self.code.code.len()
    }

    /// Whether no instruction runs.
    pub fn is_empty(&self) -> bool {
        self.code.code.is_empty()
    }

    /// The most threads a pass over the data uses (default: the machine's
    /// cores). Each thread takes a contiguous share of at least 2¹⁵
    /// samples, so small data sets run on the calling thread alone.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Sets the most threads a pass uses (at least 1). The sums are
    /// deterministic for a given data size and thread count; a different
    /// count groups the additions differently (rounding-level differences).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// Σᵢ f(params; sampleᵢ), with Σᵢ ∇f(params; sampleᵢ) written to `grad`,
    /// in one pass over the data. `columns[j][i]` is field j of sample i
    /// (one slice per field, all of one length); the data is read in place.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `params`, `columns` or `grad` have the
    /// wrong number of entries or the columns differ in length.
    pub fn sum_value_and_grad(
        &mut self,
        params: &[f64],
        columns: &[&[f64]],
        grad: &mut [f64],
    ) -> Result<f64> {
        let (np, nf) = (self.n_params, self.n_fields);
        if params.len() != np {
            return Err(length_error("parameters", np, params.len()));
        }
        if grad.len() != np {
            return Err(length_error("gradient entries", np, grad.len()));
        }
        if columns.len() != nf {
            return Err(length_error("data columns", nf, columns.len()));
        }
        let n = columns.first().map_or(0, |c| c.len());
        if let Some(c) = columns.iter().find(|c| c.len() != n) {
            return Err(length_error("samples in every column", n, c.len()));
        }
        let blocks = n / LANES;
        let threads = self.threads.min(blocks * LANES / MIN_PER_THREAD).max(1);
        while self.lanes.len() < threads {
            let copy = self.lanes[0].clone();
            self.lanes.push(copy);
        }
        for regs in &mut self.lanes[..threads] {
            for (j, &p) in params.iter().enumerate() {
                regs[j] = [p; LANES];
            }
        }
        let code = &self.code;
        let mut totals = if blocks == 0 {
            vec![0.0; code.outputs.len()]
        } else if threads == 1 {
            sum_blocks(code, &mut self.lanes[0], np, columns, 0..blocks)
        } else {
            let (mine, others) = self.lanes[..threads]
                .split_first_mut()
                .expect("at least one register file");
            let share = blocks.div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = others
                    .iter_mut()
                    .enumerate()
                    .map(|(t, regs)| {
                        let range = ((t + 1) * share).min(blocks)..((t + 2) * share).min(blocks);
                        s.spawn(move || sum_blocks(code, regs, np, columns, range))
                    })
                    .collect();
                let mut totals = sum_blocks(code, mine, np, columns, 0..share.min(blocks));
                for h in handles {
                    let part = h.join().expect("a data-pass thread panicked");
                    for (t, p) in totals.iter_mut().zip(part) {
                        *t += p;
                    }
                }
                totals
            })
        };
        for (j, &p) in params.iter().enumerate() {
            self.scalar[j] = p;
        }
        for i in blocks * LANES..n {
            for (j, col) in columns.iter().enumerate() {
                self.scalar[np + j] = col[i];
            }
            scalar::run(&self.code, &mut self.scalar);
            for (t, &r) in totals.iter_mut().zip(&self.code.outputs) {
                *t += self.scalar[r as usize];
            }
        }
        grad.copy_from_slice(&totals[1..]);
        Ok(totals[0])
    }

    /// The mean over the samples of f(params; sampleᵢ), with the mean
    /// gradient written to `grad` (NaN for no samples, as NumPy's mean).
    ///
    /// # Errors
    /// As [`SampleProgram::sum_value_and_grad`].
    pub fn mean_value_and_grad(
        &mut self,
        params: &[f64],
        columns: &[&[f64]],
        grad: &mut [f64],
    ) -> Result<f64> {
        let n = columns.first().map_or(0, |c| c.len()) as f64;
        let sum = self.sum_value_and_grad(params, columns, grad)?;
        for g in grad.iter_mut() {
            *g /= n;
        }
        Ok(sum / n)
    }
}
