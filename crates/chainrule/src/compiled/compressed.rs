//! Compressed products, compiled: a traced function's Jacobian–vector
//! products `J·v_c`, or its Hessian–vector products `H·v_c` (forward over
//! reverse), for a few 0/1 seeds `v_c`, as one straight-line program.
//!
//! The function is recorded once; `plan` reads its tape (sparsity
//! detection and colouring, in [`crate::sparse`]) and says which input has
//! which colour and which `(row, colour)` entries of the products it needs.
//! Then, on the same tape, a Hessian's gradient is recorded by the reverse
//! sweep, and for each colour a forward tangent sweep records the
//! directional derivative of every node (each partial from the rules
//! table, as in the reverse sweep). The seeds are constants, so `x·1`
//! folds and a node that does not depend on the colour's inputs has no
//! tangent at all: what is left is about the work of writing the entries
//! out by hand. The needed entries are lowered, with everything else
//! dropped as dead code, to the register program of [`ScalarProgram`].

use super::sweep;
use super::trace::{self, Node, Traced};
use super::ScalarProgram;
use crate::error::{Error, Result};
use crate::rules::{d_binary, d_unary};

/// What the planner decided: the colour of each input and the `(row,
/// colour)` entries of the products to compute, in output order.
pub(crate) struct Seeds {
    pub(crate) colors: Vec<u32>,
    pub(crate) needed: Vec<(usize, u32)>,
}

/// Records the tangent of every node of `0..end` along the seed of colour
/// `c` (`colors[j] == c` for the inputs `j` that it sets to 1); `None` for
/// an exact zero.
fn tangents(end: usize, colors: &[u32], c: u32) -> Vec<Option<Traced>> {
    let mut t: Vec<Option<Traced>> = vec![None; end];
    for i in 0..end {
        let out = Traced::at(i as u32);
        let v = match trace::node_at(i as u32) {
            Node::Input(j) => (colors[j as usize] == c).then(|| Traced::constant(1.0)),
            Node::Const(_) => None,
            Node::Unary(op, a) => t[a as usize].map(|ta| ta * d_unary(op, &Traced::at(a), &out)),
            Node::Binary(op, a, b) => {
                let (ta, tb) = (t[a as usize], t[b as usize]);
                if ta.is_none() && tb.is_none() {
                    None
                } else {
                    let (pa, pb) = d_binary(op, &Traced::at(a), &Traced::at(b), &out);
                    match (ta.map(|ta| ta * pa), tb.map(|tb| tb * pb)) {
                        (Some(x), Some(y)) => Some(x + y),
                        (x, y) => x.or(y),
                    }
                }
            }
        };
        t[i] = v.filter(|v| v.as_const() != Some(0.0));
    }
    t
}

/// The primal tape recorded so far.
fn tape_so_far() -> Vec<Node> {
    (0..trace::len() as u32).map(trace::node_at).collect()
}

/// The program of `rows[r]`'s tangents for the needed `(r, colour)`.
fn products(rows: &[Option<Traced>], end: usize, seeds: &Seeds) -> Vec<u32> {
    let zero = Traced::constant(0.0);
    let n_colors = seeds.needed.iter().map(|&(_, c)| c + 1).max().unwrap_or(0);
    let mut by_color: Vec<Vec<Option<Traced>>> = Vec::with_capacity(n_colors as usize);
    for c in 0..n_colors {
        let t = tangents(end, &seeds.colors, c);
        by_color.push(
            rows.iter()
                .map(|r| r.and_then(|r| t[r.id as usize]))
                .collect(),
        );
    }
    seeds
        .needed
        .iter()
        .map(|&(r, c)| by_color[c as usize][r].unwrap_or(zero).id)
        .collect()
}

/// Compiles the compressed Hessian–vector products of the scalar function
/// `f` of `n` inputs; `plan` gets the primal tape and the output's node.
pub(crate) fn hessian_products<F, P, T>(n: usize, f: F, plan: P) -> Result<(ScalarProgram, T)>
where
    F: FnOnce(&[Traced]) -> Traced,
    P: FnOnce(&[Node], u32) -> (Seeds, T),
{
    let (recorded, tape) = trace::record(n, |x| -> Result<(Vec<u32>, T)> {
        let y = f(x);
        if !y.is_on_active_tape() {
            return Err(Error::ForeignTraceValue);
        }
        let (seeds, extra) = plan(&tape_so_far(), y.id);
        let (grads, _) = sweep::adjoints(y, x);
        let end = trace::len();
        Ok((products(&grads, end, &seeds), extra))
    })?;
    let (outputs, extra) = recorded?;
    Ok((ScalarProgram::lower(&tape.nodes, n, &outputs), extra))
}

/// Compiles the compressed Jacobian–vector products of the function `f`
/// of `n` inputs; `plan` gets the tape and the outputs' nodes.
pub(crate) fn jacobian_products<F, P, T>(n: usize, f: F, plan: P) -> Result<(ScalarProgram, T)>
where
    F: FnOnce(&[Traced]) -> Vec<Traced>,
    P: FnOnce(&[Node], &[u32]) -> (Seeds, T),
{
    let (recorded, tape) = trace::record(n, |x| -> Result<(Vec<u32>, T)> {
        let ys = f(x);
        if ys.iter().any(|y| !y.is_on_active_tape()) {
            return Err(Error::ForeignTraceValue);
        }
        let ids: Vec<u32> = ys.iter().map(|y| y.id).collect();
        let (seeds, extra) = plan(&tape_so_far(), &ids);
        let end = trace::len();
        let rows: Vec<Option<Traced>> = ys.into_iter().map(Some).collect();
        Ok((products(&rows, end, &seeds), extra))
    })?;
    let (outputs, extra) = recorded?;
    Ok((ScalarProgram::lower(&tape.nodes, n, &outputs), extra))
}
