//! [`SparseHessian`] and [`SparseJacobian`]: a function traced once, its
//! pattern detected and coloured, and its compressed products compiled, to
//! evaluate at many points.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::color::{column_coloring, column_sources, star_coloring, star_sources, Coloring};
use super::detect::{hessian_pattern, jacobian_pattern};
use super::elements::{Compiled, Elements};
use super::terms::{split, Split};
use super::{CsrMatrix, Pattern};
use crate::compiled::{self, Node, ScalarProgram, Seeds, Traced};
use crate::error::{Error, Result};

/// The distinct `(row, colour)` entries of `sources`, in first-use order,
/// and for each source the index of its entry.
fn slots(colors: Vec<u32>, sources: Vec<(usize, u32)>) -> (Seeds, Vec<u32>) {
    let mut index: FxHashMap<(usize, u32), u32> = FxHashMap::default();
    let mut needed = Vec::new();
    let slots = sources
        .into_iter()
        .map(|s| {
            *index.entry(s).or_insert_with(|| {
                needed.push(s);
                (needed.len() - 1) as u32
            })
        })
        .collect();
    (Seeds { colors, needed }, slots)
}

/// The register of each entry's output (`slots` index the program's
/// outputs), read directly after each run.
fn registers(program: &ScalarProgram, slots: &[u32]) -> Vec<u32> {
    slots
        .iter()
        .map(|&s| program.output_register(s as usize))
        .collect()
}

fn length(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            op: "sparse",
            what,
            expected,
            got,
        })
    }
}

/// `Ok` if `got` inputs are the `expected` ones.
fn check_inputs(expected: usize, got: usize) -> Result<()> {
    length("inputs", expected, got)
}

/// `Ok` if `got` values are the `expected` ones.
fn check_values(expected: usize, got: usize) -> Result<()> {
    length("values", expected, got)
}

/// Runs `program` at `x` and writes each entry's register (`slots`, from
/// [`registers`]) to `values`.
fn run(program: &mut ScalarProgram, slots: &[u32], x: &[f64], values: &mut [f64]) -> Result<()> {
    check_inputs(program.n_inputs(), x.len())?;
    check_values(slots.len(), values.len())?;
    program.run(x);
    program.read(slots, values);
    Ok(())
}

/// Runs `program` at `x` and collects each entry's register (`slots`) into
/// a new vector, written once (no zeroing pass first).
fn run_collect(program: &mut ScalarProgram, slots: &[u32], x: &[f64]) -> Result<Vec<f64>> {
    run(program, &[], x, &mut [])?;
    Ok(program.values(slots))
}

/// The Hessian of a scalar function of `n` inputs as a sparse matrix:
/// the function traced once ([`Traced`]), its Hessian's [`Pattern`]
/// detected from the trace, star-coloured, and the Hessian–vector products
/// with one seed per colour compiled into one program (forward over
/// reverse; see [`crate::sparse`]). [`SparseHessian::eval`] then costs one
/// run of that program.
///
/// ```
/// use chainrule::sparse::SparseHessian;
/// use chainrule::Real;
/// // Σ (x_{i+1} − x_i²)²: a tridiagonal Hessian, three colours.
/// fn f<T: Real>(x: &[T]) -> T {
///     x.windows(2).map(|w| (w[1].clone() - w[0].square()).square())
///         .fold(T::from_f64(0.0), |s, t| s + t)
/// }
/// let mut h = SparseHessian::new(6, |x| f(x)).unwrap();
/// assert_eq!(h.pattern().nnz(), 6 + 2 * 5);
/// assert_eq!(h.coloring().n_colors(), 3);
/// let x = [0.5, -1.0, 2.0, 0.0, 1.0, 1.5];
/// let m = h.eval(&x).unwrap();
/// assert_eq!(m.get(0, 1), -4.0 * x[0]); // ∂²/∂x₀∂x₁ = −4x₀
/// assert_eq!(m.get(0, 2), 0.0);
/// ```
#[derive(Clone, Debug)]
pub struct SparseHessian {
    pattern: Arc<Pattern>,
    coloring: Coloring,
    eval: Evaluation,
}

/// How a [`SparseHessian`] computes its values.
#[derive(Clone, Debug)]
enum Evaluation {
    /// The compressed products of the whole function, one program; the
    /// program's register holding each entry, in the pattern's order.
    Whole(ScalarProgram, Vec<u32>),
    /// A sum of repeated terms: each template's Hessian over lanes, added
    /// into the values ([`Elements`]).
    Elements(Elements),
}

/// What the planner found on the trace.
enum Found {
    /// The whole function's products: each entry's output.
    Whole(Vec<u32>),
    /// A sum of repeated terms, and the primal tape (and its output) to
    /// replay them from.
    Terms(Split, Vec<Node>, u32),
}

/// No products to compile.
fn no_products(n: usize) -> Seeds {
    slots(vec![0; n], Vec::new()).0
}

/// The whole-function plan: pattern, colouring, compressed products, with
/// the function split into repeated terms when `split_terms` and it is a
/// sum of them.
fn plan_hessian<F>(
    n: usize,
    max_nonzeros: usize,
    split_terms: bool,
    f: F,
) -> Result<(Pattern, Coloring, ScalarProgram, Found)>
where
    F: FnOnce(&[Traced]) -> Traced,
{
    // Pairs are the upper triangle: at most half the nonzeros plus the
    // diagonal's.
    let max_pairs = max_nonzeros.saturating_add(n) / 2;
    let (program, found) = compiled::hessian_products(n, f, |nodes, out| {
        match hessian_pattern(nodes, n, out, max_pairs) {
            Ok(pattern) if pattern.nnz() > max_nonzeros => (no_products(n), Err(pattern.nnz())),
            Ok(pattern) => {
                let coloring = star_coloring(&pattern);
                match split_terms.then(|| split(nodes, out)).flatten() {
                    // The terms are compiled on their own: nothing here.
                    Some(terms) => (
                        no_products(n),
                        Ok((pattern, coloring, Found::Terms(terms, nodes.to_vec(), out))),
                    ),
                    None => {
                        let (seeds, slots) = slots(
                            coloring.colors().to_vec(),
                            star_sources(&pattern, &coloring),
                        );
                        (seeds, Ok((pattern, coloring, Found::Whole(slots))))
                    }
                }
            }
            // No products to compile: the error is returned below.
            Err(nonzeros) => (no_products(n), Err(nonzeros)),
        }
    })?;
    let (pattern, coloring, found) = found.map_err(|nonzeros| Error::TooManyElements {
        op: "sparse_hessian",
        numel: nonzeros,
        limit: max_nonzeros,
    })?;
    Ok((pattern, coloring, program, found))
}

/// The sparse Hessian of `f` on `n` inputs as one program (no split into
/// terms): its pattern, the program, each entry's register.
fn compile_whole(n: usize, f: &dyn Fn(&[Traced]) -> Traced) -> Result<Compiled> {
    let (pattern, _, program, found) = plan_hessian(n, usize::MAX, false, f)?;
    let Found::Whole(slots) = found else {
        unreachable!("terms are split only when asked")
    };
    let regs = registers(&program, &slots);
    Ok((pattern, program, regs))
}

impl SparseHessian {
    /// Traces `f` (a scalar function of `n` inputs) and prepares its sparse
    /// Hessian. When `f` is a sum of terms of which many are one formula on
    /// different inputs (a partially separable function, such as extended
    /// Rosenbrock's `Σ 100 (x_{k+1} − x_k²)² + (1 − x_k)²`), each such
    /// formula's own Hessian is compiled once and evaluated for all its
    /// terms together, over lanes, and added into the values; otherwise the
    /// compressed products of the whole function are one program.
    ///
    /// # Errors
    /// [`Error::NestedTrace`] inside another trace (of `compiled` or of
    /// this module); [`Error::ForeignTraceValue`] if `f` returns a value of
    /// another trace.
    pub fn new<F>(n: usize, f: F) -> Result<SparseHessian>
    where
        F: FnOnce(&[Traced]) -> Traced,
    {
        SparseHessian::with_max_nonzeros(n, usize::MAX, f)
    }

    /// As [`SparseHessian::new`], refusing a Hessian with more than
    /// `max_nonzeros` possibly nonzero entries (both triangles) before it
    /// is coloured: detection stops as soon as the pattern outgrows it, so
    /// a Hessian that is in fact dense costs no more than the limit.
    ///
    /// # Errors
    /// As [`SparseHessian::new`], and [`Error::TooManyElements`] (op
    /// `sparse_hessian`) past the limit.
    pub fn with_max_nonzeros<F>(n: usize, max_nonzeros: usize, f: F) -> Result<SparseHessian>
    where
        F: FnOnce(&[Traced]) -> Traced,
    {
        SparseHessian::build(n, max_nonzeros, true, f)
    }

    /// As [`SparseHessian::new`], but always as one program of the whole
    /// function's compressed products, never split into repeated terms (to
    /// compare the two ways, or where the terms' evaluation does not pay).
    ///
    /// # Errors
    /// As [`SparseHessian::new`].
    pub fn whole<F>(n: usize, f: F) -> Result<SparseHessian>
    where
        F: FnOnce(&[Traced]) -> Traced,
    {
        SparseHessian::build(n, usize::MAX, false, f)
    }

    fn build<F>(n: usize, max_nonzeros: usize, split_terms: bool, f: F) -> Result<SparseHessian>
    where
        F: FnOnce(&[Traced]) -> Traced,
    {
        let (pattern, coloring, program, found) = plan_hessian(n, max_nonzeros, split_terms, f)?;
        let eval = match found {
            Found::Whole(slots) => {
                let regs = registers(&program, &slots);
                Evaluation::Whole(program, regs)
            }
            Found::Terms(terms, nodes, out) => {
                match Elements::new(&pattern, &nodes, terms, compile_whole)? {
                    Some(elements) => Evaluation::Elements(elements),
                    // An entry without a place in the pattern (detection
                    // reads each term as it reads the sum, so never): the
                    // whole function, replayed from its tape.
                    None => {
                        let all = Split {
                            groups: Vec::new(),
                            rest: vec![(out, false)],
                        };
                        let elements = Elements::new(&pattern, &nodes, all, compile_whole)?
                            .expect("the whole function's entries are the pattern's");
                        Evaluation::Elements(elements)
                    }
                }
            }
        };
        Ok(SparseHessian {
            pattern: Arc::new(pattern),
            coloring,
            eval,
        })
    }

    /// How many inputs the function takes.
    pub fn n_inputs(&self) -> usize {
        self.pattern.n_cols()
    }

    /// The detected pattern: symmetric, conservative.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The star colouring of the whole function's Hessian (one
    /// Hessian–vector product per colour when it is one program).
    pub fn coloring(&self) -> &Coloring {
        &self.coloring
    }

    /// How many instructions the compiled products run per evaluation
    /// (for repeated terms, each term's program counted once per term).
    pub fn program_len(&self) -> usize {
        match &self.eval {
            Evaluation::Whole(program, _) => program.len(),
            Evaluation::Elements(e) => e.len(),
        }
    }

    /// How many terms of the function are evaluated as instances of a
    /// repeated formula (0 when the whole function is one program).
    pub fn repeated_terms(&self) -> usize {
        match &self.eval {
            Evaluation::Whole(..) => 0,
            Evaluation::Elements(e) => e.instances(),
        }
    }

    /// Whether repeated terms run over lanes, many terms per instruction
    /// (`true`, the default), or term by term on the scalar machine. The
    /// values are the same bit for bit either way; this is for tests and
    /// measurements.
    pub fn set_lanes(&mut self, on: bool) {
        if let Evaluation::Elements(e) = &mut self.eval {
            e.set_lanes(on);
        }
    }

    /// The Hessian at `x`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `x` has [`SparseHessian::n_inputs`] entries.
    pub fn eval(&mut self, x: &[f64]) -> Result<CsrMatrix> {
        let values = match &mut self.eval {
            Evaluation::Whole(program, slots) => run_collect(program, slots, x)?,
            Evaluation::Elements(e) => {
                check_inputs(self.pattern.n_cols(), x.len())?;
                let mut values = vec![0.0; self.pattern.nnz()];
                e.add_into(x, &mut values);
                values
            }
        };
        Ok(CsrMatrix::new(Arc::clone(&self.pattern), values).expect("one value per entry"))
    }

    /// The Hessian's values at `x` (in the pattern's order) into `values`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for an `x` or `values` of the wrong length.
    pub fn eval_into(&mut self, x: &[f64], values: &mut [f64]) -> Result<()> {
        match &mut self.eval {
            Evaluation::Whole(program, slots) => run(program, slots, x, values),
            Evaluation::Elements(e) => {
                check_inputs(self.pattern.n_cols(), x.len())?;
                check_values(self.pattern.nnz(), values.len())?;
                values.fill(0.0);
                e.add_into(x, values);
                Ok(())
            }
        }
    }
}

/// The Jacobian of a function of `n` inputs as a sparse matrix: traced
/// once, its [`Pattern`] detected, column-coloured, and the
/// Jacobian–vector products with one seed per colour compiled into one
/// program (forward mode on the trace).
///
/// ```
/// use chainrule::sparse::SparseJacobian;
/// use chainrule::Real;
/// // y_i = x_i · x_{i+1}: two entries per row, two colours.
/// let mut j = SparseJacobian::new(4, |x| {
///     x.windows(2).map(|w| w[0] * w[1]).collect()
/// })
/// .unwrap();
/// assert_eq!((j.pattern().n_rows(), j.pattern().nnz()), (3, 6));
/// assert_eq!(j.coloring().n_colors(), 2);
/// let m = j.eval(&[1.0, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!((m.get(1, 1), m.get(1, 2), m.get(1, 3)), (3.0, 2.0, 0.0));
/// ```
#[derive(Clone, Debug)]
pub struct SparseJacobian {
    pattern: Arc<Pattern>,
    coloring: Coloring,
    program: ScalarProgram,
    /// The program's register holding each entry, in the pattern's order.
    slots: Vec<u32>,
}

impl SparseJacobian {
    /// Traces `f` (a function of `n` inputs to any number of outputs) and
    /// prepares its sparse Jacobian (one row per output).
    ///
    /// # Errors
    /// As [`SparseHessian::new`].
    pub fn new<F>(n: usize, f: F) -> Result<SparseJacobian>
    where
        F: FnOnce(&[Traced]) -> Vec<Traced>,
    {
        let (program, (pattern, coloring, slots)) =
            compiled::jacobian_products(n, f, |nodes, outs| {
                let pattern = jacobian_pattern(nodes, n, outs);
                let coloring = column_coloring(&pattern);
                let (seeds, slots) = slots(
                    coloring.colors().to_vec(),
                    column_sources(&pattern, &coloring),
                );
                (seeds, (pattern, coloring, slots))
            })?;
        Ok(SparseJacobian {
            pattern: Arc::new(pattern),
            coloring,
            slots: registers(&program, &slots),
            program,
        })
    }

    /// How many inputs the function takes.
    pub fn n_inputs(&self) -> usize {
        self.pattern.n_cols()
    }

    /// The detected pattern (outputs × inputs), conservative.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The column colouring: one Jacobian–vector product per colour.
    pub fn coloring(&self) -> &Coloring {
        &self.coloring
    }

    /// How many instructions the compiled products run per evaluation.
    pub fn program_len(&self) -> usize {
        self.program.len()
    }

    /// The Jacobian at `x`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `x` has [`SparseJacobian::n_inputs`] entries.
    pub fn eval(&mut self, x: &[f64]) -> Result<CsrMatrix> {
        let values = run_collect(&mut self.program, &self.slots, x)?;
        Ok(CsrMatrix::new(Arc::clone(&self.pattern), values).expect("one value per entry"))
    }
}
