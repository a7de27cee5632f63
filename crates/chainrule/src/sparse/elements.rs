//! A sparse Hessian evaluated term by term: each repeated template's own
//! Hessian (see [`super::terms`]) run over all its instances in lanes, and
//! each entry added straight into the CSR values at a position found once,
//! when the plan is made.
//!
//! For a template of `m` local inputs, the element Hessian (an `m × m`
//! sparse matrix, detected and compiled as any sparse Hessian) is one small
//! program. Its instances run [`LANES`] at a time on the lane machine
//! ([`LaneProgram`]), each instruction over the whole block; an input that
//! advances by one from instance to instance (a sliding window, `x_k`,
//! `x_{k+1}`) is read in place from `x`, any other is gathered. The last
//! `count mod LANES` instances run on the scalar machine. Either way, the
//! additions into the values come instance after instance, entry after
//! entry, so evaluating with or without lanes gives the same numbers, bit
//! for bit. Terms left out of the templates (see [`super::terms::Split`])
//! are one more compressed program, over all the inputs, whose entries are
//! added last.

use super::terms::{Group, Split};
use super::Pattern;
use crate::compiled::{LaneProgram, ScalarProgram, Traced, LANES};
use crate::error::Result;
use crate::Real;

/// The values of the template (or whole-function) Hessian of `f` on `n`
/// inputs: its pattern, program, and the register of each entry.
pub(crate) type Compiled = (Pattern, ScalarProgram, Vec<u32>);

/// One template: its Hessian's program over lanes and on scalars, and
/// where each instance's entries go.
#[derive(Clone, Debug)]
struct Block {
    scalar: ScalarProgram,
    lanes: LaneProgram,
    n_inputs: usize,
    /// The function's input for each local input, instance after instance.
    inputs: Vec<u32>,
    /// For each local input whose instances read consecutive inputs, the first.
    window: Vec<Option<usize>>,
    /// The register of each entry of the template's Hessian.
    regs: Vec<u32>,
    /// Where each instance's entries go in the CSR values.
    places: Places,
    count: usize,
    /// Gathered rows of the local inputs that are not windows.
    gathered: Vec<[f64; LANES]>,
    /// One instance's inputs and entries (the scalar tail).
    scratch: (Vec<f64>, Vec<f64>),
}

/// Where a template's entries go in the CSR values.
#[derive(Clone, Debug)]
enum Places {
    /// Entry `e` of instance `k` at `first[e] + k·step[e]`: a structure
    /// that advances evenly from term to term (a band, an arrow).
    Even { first: Vec<usize>, step: Vec<usize> },
    /// Entry `e` of instance `k` at `list[k·E + e]` (E entries per instance).
    List(Vec<u32>),
}

impl Places {
    /// `list` (E entries per instance) as evenly advancing places where it is.
    fn new(list: Vec<u32>, e: usize) -> Places {
        let count = list.len() / e.max(1);
        if e == 0 || count < 2 {
            return Places::List(list);
        }
        let first: Vec<usize> = list[..e].iter().map(|&p| p as usize).collect();
        let next = &list[e..2 * e];
        if next.iter().zip(&first).any(|(&b, &a)| (b as usize) < a) {
            return Places::List(list);
        }
        let step: Vec<usize> = next
            .iter()
            .zip(&first)
            .map(|(&b, &a)| b as usize - a)
            .collect();
        let even = list.chunks_exact(e).enumerate().all(|(k, at)| {
            at.iter()
                .zip(first.iter().zip(&step))
                .all(|(&p, (&a, &d))| p as usize == a + k * d)
        });
        if even {
            Places::Even { first, step }
        } else {
            Places::List(list)
        }
    }

    /// The place of entry `e` of instance `k` (of `n_entries` per instance).
    #[inline]
    fn at(&self, k: usize, e: usize, n_entries: usize) -> usize {
        match self {
            Places::Even { first, step } => first[e] + k * step[e],
            Places::List(list) => list[k * n_entries + e] as usize,
        }
    }
}

/// The terms left whole: one compressed program and its entries' positions.
#[derive(Clone, Debug)]
struct Rest {
    program: ScalarProgram,
    regs: Vec<u32>,
    positions: Vec<u32>,
    scratch: Vec<f64>,
}

/// A Hessian as a sum of element Hessians (and the rest).
#[derive(Clone, Debug)]
pub(crate) struct Elements {
    blocks: Vec<Block>,
    rest: Option<Rest>,
    lanes: bool,
}

/// Evaluates the tape nodes `nodes[..]` needed by `roots` on `x` (the
/// traced inputs): `Σ ±roots`, in order, each node recorded once.
fn replay(nodes: &[crate::compiled::Node], roots: &[(u32, bool)], x: &[Traced]) -> Traced {
    use crate::compiled::Node;
    let mut value: Vec<Option<Traced>> = vec![None; nodes.len()];
    let mut stack = Vec::new();
    let mut sum: Option<Traced> = None;
    for &(root, neg) in roots {
        stack.push(root);
        while let Some(&i) = stack.last() {
            if value[i as usize].is_some() {
                stack.pop();
                continue;
            }
            let get = |o: u32| value[o as usize];
            let v = match nodes[i as usize] {
                Node::Input(j) => Some(x[j as usize]),
                Node::Const(c) => Some(Traced::from_f64(f64::from_bits(c))),
                Node::Unary(op, a) => match get(a) {
                    Some(a) => Some(a.unary(op)),
                    None => {
                        stack.push(a);
                        None
                    }
                },
                Node::Binary(op, a, b) => match (get(a), get(b)) {
                    (Some(a), Some(b)) => Some(a.binary(op, &b)),
                    (a_done, _) => {
                        if a_done.is_none() {
                            stack.push(a);
                        }
                        if get(b).is_none() {
                            stack.push(b);
                        }
                        None
                    }
                },
            };
            if let Some(v) = v {
                value[i as usize] = Some(v);
                stack.pop();
            }
        }
        let t = value[root as usize].expect("replayed above");
        sum = Some(match (sum, neg) {
            (None, false) => t,
            (None, true) => -t,
            (Some(s), false) => s + t,
            (Some(s), true) => s - t,
        });
    }
    sum.unwrap_or_else(|| Traced::from_f64(0.0))
}

/// The positions in `full` of the entries of `local` (a template's
/// Hessian) at the function's inputs `inputs` (one per local input);
/// `None` if one is missing (never for patterns detected from one trace).
fn place(full: &Pattern, local: &Pattern, inputs: &[u32], out: &mut Vec<u32>) -> Option<()> {
    for (r, c) in local.iter() {
        let p = full.position(inputs[r] as usize, inputs[c] as usize)?;
        out.push(u32::try_from(p).ok()?);
    }
    Some(())
}

impl Elements {
    /// The plan for the Hessian with pattern `full` of the function traced
    /// as `nodes`, split as `split`: each template's Hessian and the rest's
    /// compiled by `compile` (a sparse Hessian of a function of so many
    /// inputs). `None` if an entry has no place in `full`.
    pub(crate) fn new(
        full: &Pattern,
        nodes: &[crate::compiled::Node],
        split: Split,
        mut compile: impl FnMut(usize, &dyn Fn(&[Traced]) -> Traced) -> Result<Compiled>,
    ) -> Result<Option<Elements>> {
        let mut blocks = Vec::new();
        for Group {
            nodes: template,
            negative,
            n_inputs,
            inputs,
        } in split.groups
        {
            let root = template.len() as u32 - 1;
            let (local, scalar, regs) =
                compile(n_inputs, &|x| replay(&template, &[(root, negative)], x))?;
            if local.nnz() == 0 {
                continue;
            }
            let count = inputs.len() / n_inputs;
            let mut positions = Vec::with_capacity(count * local.nnz());
            for instance in inputs.chunks_exact(n_inputs) {
                if place(full, &local, instance, &mut positions).is_none() {
                    return Ok(None);
                }
            }
            let window = (0..n_inputs)
                .map(|j| {
                    let first = inputs[j] as usize;
                    let consecutive = inputs
                        .iter()
                        .skip(j)
                        .step_by(n_inputs)
                        .enumerate()
                        .all(|(k, &i)| i as usize == first + k);
                    consecutive.then_some(first)
                })
                .collect();
            blocks.push(Block {
                lanes: LaneProgram::new(&scalar),
                scalar,
                n_inputs,
                inputs,
                window,
                count,
                gathered: vec![[0.0; LANES]; n_inputs],
                scratch: (vec![0.0; n_inputs], vec![0.0; regs.len()]),
                places: Places::new(positions, regs.len()),
                regs,
            });
        }
        let rest = if split.rest.is_empty() {
            None
        } else {
            let n = full.n_cols();
            let (local, program, regs) = compile(n, &|x| replay(nodes, &split.rest, x))?;
            let all: Vec<u32> = (0..n as u32).collect();
            let mut positions = Vec::with_capacity(local.nnz());
            if place(full, &local, &all, &mut positions).is_none() {
                return Ok(None);
            }
            Some(Rest {
                scratch: vec![0.0; regs.len()],
                program,
                regs,
                positions,
            })
        };
        Ok(Some(Elements {
            blocks,
            rest,
            lanes: true,
        }))
    }

    /// Whether templates run over lanes (else instance by instance).
    pub(crate) fn set_lanes(&mut self, on: bool) {
        self.lanes = on;
    }

    /// How many terms run as instances of a template.
    pub(crate) fn instances(&self) -> usize {
        self.blocks.iter().map(|b| b.count).sum()
    }

    /// Instructions run per evaluation: each template's per instance, and the rest's.
    pub(crate) fn len(&self) -> usize {
        let blocks: usize = self.blocks.iter().map(|b| b.count * b.scalar.len()).sum();
        blocks + self.rest.as_ref().map_or(0, |r| r.program.len())
    }

    /// Adds the Hessian at `x` (`n_inputs` values, checked by the caller)
    /// into `values` (the pattern's, usually zeros).
    pub(crate) fn add_into(&mut self, x: &[f64], values: &mut [f64]) {
        for b in &mut self.blocks {
            b.add_into(x, values, self.lanes);
        }
        if let Some(r) = &mut self.rest {
            r.program.run(x);
            r.program.read(&r.regs, &mut r.scratch);
            for (&p, &v) in r.positions.iter().zip(&r.scratch) {
                values[p as usize] += v;
            }
        }
    }
}

/// A block of zeros, to fill the unused slots of fixed arrays of rows.
static ZEROS: [f64; LANES] = [0.0; LANES];

/// Entries of a template's Hessian up to which a block's rows of results
/// are listed in a fixed array (more go to a vector).
const FEW: usize = 16;

impl Block {
    fn add_into(&mut self, x: &[f64], values: &mut [f64], lanes: bool) {
        let (m, e) = (self.n_inputs, self.regs.len());
        let full = if lanes { self.count / LANES } else { 0 };
        for b in 0..full {
            let k0 = b * LANES;
            for (j, g) in self.gathered.iter_mut().enumerate() {
                if self.window[j].is_none() {
                    for (l, v) in g.iter_mut().enumerate() {
                        *v = x[self.inputs[(k0 + l) * m + j] as usize];
                    }
                }
            }
            let mut rows = [&ZEROS; super::terms::MAX_INPUTS];
            for ((row, w), g) in rows.iter_mut().zip(&self.window).zip(&self.gathered) {
                *row = match *w {
                    Some(first) => <&[f64; LANES]>::try_from(&x[first + k0..first + k0 + LANES])
                        .expect("a block of LANES inputs"),
                    None => g,
                };
            }
            let rows = &rows[..m];
            self.lanes.run(rows);
            let lanes = &self.lanes;
            if e <= FEW {
                let mut outs = [&ZEROS; FEW];
                for (o, &r) in outs.iter_mut().zip(&self.regs) {
                    *o = lanes.lanes(rows, r);
                }
                scatter(&outs[..e], &self.places, k0, values);
            } else {
                let outs: Vec<&[f64; LANES]> =
                    self.regs.iter().map(|&r| lanes.lanes(rows, r)).collect();
                scatter(&outs, &self.places, k0, values);
            }
        }
        let (xs, vs) = &mut self.scratch;
        for k in full * LANES..self.count {
            for (v, &i) in xs.iter_mut().zip(&self.inputs[k * m..(k + 1) * m]) {
                *v = x[i as usize];
            }
            self.scalar.run(xs);
            self.scalar.read(&self.regs, vs);
            for (j, &v) in vs.iter().enumerate() {
                values[self.places.at(k, j, e)] += v;
            }
        }
    }
}

/// Adds a block's results into `values`: lane `l` of `outs[e]` at the
/// place of entry `e` of instance `k0 + l`, lane after lane (instance after
/// instance, as the scalar tail adds them). A template of a few entries
/// runs an unrolled copy.
///
/// # Panics
/// Unless `values` has the pattern's number of entries.
#[inline]
fn scatter(outs: &[&[f64; LANES]], places: &Places, k0: usize, values: &mut [f64]) {
    macro_rules! few {
        ($($n:literal)*) => {
            match outs.len() {
                $($n => scatter_n::<$n>(outs.try_into().expect("n rows"), places, k0, values),)*
                _ => {
                    for l in 0..LANES {
                        for (e, o) in outs.iter().enumerate() {
                            values[places.at(k0 + l, e, outs.len())] += o[l];
                        }
                    }
                }
            }
        };
    }
    few!(1 2 3 4 5 6 7 8 9 10);
}

/// [`scatter`] for `N` entries per instance, unrolled, the places' bound
/// checked once per block.
#[inline(always)]
fn scatter_n<const N: usize>(
    outs: &[&[f64; LANES]; N],
    places: &Places,
    k0: usize,
    values: &mut [f64],
) {
    match places {
        Places::Even { first, step } => {
            let step: [usize; N] = std::array::from_fn(|e| step[e]);
            let mut at: [usize; N] = std::array::from_fn(|e| first[e] + k0 * step[e]);
            let last: [usize; N] = std::array::from_fn(|e| at[e] + (LANES - 1) * step[e]);
            assert!(last.iter().all(|&p| p < values.len()), "places in range");
            // Lane `l` of every row in turn: an index, not one row's iterator.
            #[allow(clippy::needless_range_loop)]
            for l in 0..LANES {
                for e in 0..N {
                    // SAFETY: `at[e]` runs from its first to `last[e]` in
                    // steps of `step[e]`, all below `values.len()` (checked above).
                    unsafe { *values.get_unchecked_mut(at[e]) += outs[e][l] };
                    at[e] += step[e];
                }
            }
        }
        Places::List(list) => {
            for (l, at) in list[k0 * N..(k0 + LANES) * N].chunks_exact(N).enumerate() {
                for e in 0..N {
                    values[at[e] as usize] += outs[e][l];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_that_advance_evenly_are_two_numbers_per_entry() {
        // A band: entries 3k and 3k + 1; an arrow's corner: always 0.
        let even = Places::new(vec![0, 1, 3, 4, 6, 7], 2);
        let Places::Even { first, step } = &even else {
            panic!("{even:?}")
        };
        assert_eq!(
            (first.as_slice(), step.as_slice()),
            (&[0, 1][..], &[3, 3][..])
        );
        assert!(matches!(
            Places::new(vec![0, 5, 0, 7, 0, 9], 2),
            Places::Even { .. }
        ));
        for list in [vec![0, 1, 3, 4, 6, 8], vec![3, 1, 0, 4], vec![0, 1]] {
            let places = Places::new(list.clone(), 2);
            assert!(matches!(places, Places::List(_)), "{list:?}");
            for (k, pair) in list.chunks(2).enumerate() {
                assert_eq!(
                    [places.at(k, 0, 2), places.at(k, 1, 2)],
                    [pair[0] as usize, pair[1] as usize]
                );
            }
        }
        assert_eq!(even.at(2, 1, 2), 7);
    }

    #[test]
    fn a_block_adds_instance_after_instance_with_few_or_many_entries() {
        // Lane l of entry e is 1000·e + l; places: instance k's entry e at
        // (k + e) mod 7, so instances and entries collide.
        for n_entries in [1, 3, 10, 12] {
            let rows: Vec<[f64; LANES]> = (0..n_entries)
                .map(|e| std::array::from_fn(|l| 1000.0 * e as f64 + l as f64 + 0.1))
                .collect();
            let outs: Vec<&[f64; LANES]> = rows.iter().collect();
            let list: Vec<u32> = (0..2 * LANES)
                .flat_map(|k| (0..n_entries).map(move |e| ((k + e) % 7) as u32))
                .collect();
            let places = Places::List(list.clone());
            let mut got = vec![0.5; 7];
            scatter(&outs, &places, LANES, &mut got);
            let mut want = vec![0.5; 7];
            for l in 0..LANES {
                for e in 0..n_entries {
                    want[list[(LANES + l) * n_entries + e] as usize] += rows[e][l];
                }
            }
            assert_eq!(got, want, "{n_entries} entries");
        }
    }
}
