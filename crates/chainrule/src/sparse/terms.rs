//! A traced sum split into its terms, and the terms grouped by shape.
//!
//! A partially separable function, `f(x) = Σ_k ± f_k(x_{S_k})`, is traced
//! as a tree of additions, subtractions and negations over its terms. Its
//! Hessian is the sum of the terms' Hessians, each placed at the rows and
//! columns of the inputs it reads. Terms that are one formula on different
//! inputs (extended Rosenbrock's `100 (x_{k+1} − x_k²)²` for every k) are one
//! *template*: the same nodes once its inputs are numbered in the order the
//! term first reads them. A template's Hessian is compiled once, as a
//! function of its few local inputs, and run for all its instances
//! together (see [`super::elements`]).
//!
//! Nothing here is specific to a function: the split walks the trace's
//! `+`, `−` and unary `−` from the output, and every other node it meets is
//! a term. A term too large to be an element (more than [`MAX_NODES`]
//! nodes or [`MAX_INPUTS`] inputs) and a template met only once are left to
//! the whole-function program.

use rustc_hash::FxHashMap;

use crate::compiled::Node;
use crate::ops::{BinaryOp, UnaryOp};

/// The most nodes of one element function.
pub(crate) const MAX_NODES: usize = 256;
/// The most inputs of one element function (its Hessian has at most the
/// square of this many entries).
pub(crate) const MAX_INPUTS: usize = 16;
/// The fewest instances that make a template worth its own program.
const MIN_INSTANCES: usize = 2;

/// One template and its instances.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group {
    /// The template's nodes, operands before users, the term's value last;
    /// `Node::Input(j)` is the template's local input `j`.
    pub(crate) nodes: Vec<Node>,
    /// Whether the terms enter the sum negated.
    pub(crate) negative: bool,
    /// How many local inputs the template reads.
    pub(crate) n_inputs: usize,
    /// The function's input for each local input, instance after instance
    /// (`n_inputs` per instance; distinct within an instance).
    pub(crate) inputs: Vec<u32>,
}

impl Group {
    /// How many terms are this template.
    pub(crate) fn count(&self) -> usize {
        self.inputs.len() / self.n_inputs.max(1)
    }
}

/// A sum split into groups of repeated terms and the rest.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Split {
    /// Templates with at least [`MIN_INSTANCES`] instances, in order of
    /// first appearance.
    pub(crate) groups: Vec<Group>,
    /// The other terms: (node, negated), in the sum's order.
    pub(crate) rest: Vec<(u32, bool)>,
}

/// The terms of the sum at `out`: (node, negated), left to right; `None`
/// when the walk would visit more than `limit` nodes (a sum shared many
/// times over, such as `s = s + s` repeated).
fn terms(nodes: &[Node], out: u32, limit: usize) -> Option<Vec<(u32, bool)>> {
    let mut found = Vec::new();
    let mut stack = vec![(out, false)];
    let mut visited = 0usize;
    while let Some((i, neg)) = stack.pop() {
        visited += 1;
        if visited > limit {
            return None;
        }
        match nodes[i as usize] {
            Node::Binary(BinaryOp::Add, a, b) => {
                stack.push((b, neg));
                stack.push((a, neg));
            }
            Node::Binary(BinaryOp::Sub, a, b) => {
                stack.push((b, !neg));
                stack.push((a, neg));
            }
            Node::Unary(UnaryOp::Neg, a) => stack.push((a, !neg)),
            _ => found.push((i, neg)),
        }
    }
    Some(found)
}

/// The operands of a node in the order a template lists them: a sum's or
/// a product's two operands (IEEE `+` and `·` commute) by their shapes'
/// hashes, so that one formula gives one template whatever order the
/// trace's shared nodes put them in; other operands as they are.
fn operands(node: Node, shape: &FxHashMap<u32, u64>) -> ([u32; 2], usize) {
    match node {
        Node::Input(_) | Node::Const(_) => ([0, 0], 0),
        Node::Unary(_, a) => ([a, 0], 1),
        Node::Binary(BinaryOp::Add | BinaryOp::Mul, a, b) if shape[&b] < shape[&a] => ([b, a], 2),
        Node::Binary(_, a, b) => ([a, b], 2),
    }
}

/// Visits the nodes of the term at `root` once each, operands before
/// users (in `operands` order), calling `visit` on each; `false` past
/// [`MAX_NODES`] nodes. `done` marks the visited (cleared by the caller).
fn post_order(
    nodes: &[Node],
    root: u32,
    done: &mut FxHashMap<u32, u32>,
    order: impl Fn(Node) -> ([u32; 2], usize),
    mut visit: impl FnMut(u32, Node, &FxHashMap<u32, u32>) -> Option<u32>,
) -> Option<()> {
    let mut stack = vec![(root, false)];
    while let Some((i, ready)) = stack.pop() {
        if done.contains_key(&i) {
            continue;
        }
        let node = nodes[i as usize];
        if !ready {
            stack.push((i, true));
            let (ops, k) = order(node);
            stack.extend(ops[..k].iter().rev().map(|&o| (o, false)));
            continue;
        }
        if done.len() >= MAX_NODES {
            return None;
        }
        let v = visit(i, node, done)?;
        done.insert(i, v);
    }
    Some(())
}

/// The term at `root` in its template's numbering: nodes appended to
/// `local_nodes` (operands first), the function's inputs it reads to
/// `inputs` in first-read order; `None` past [`MAX_NODES`] or
/// [`MAX_INPUTS`]. `seen` and `shape` are scratch maps (cleared here).
fn template(
    nodes: &[Node],
    root: u32,
    seen: &mut FxHashMap<u32, u32>,
    shape: &mut FxHashMap<u32, u64>,
    local_nodes: &mut Vec<Node>,
    inputs: &mut Vec<u32>,
) -> Option<()> {
    use std::hash::{Hash, Hasher};
    // First each node's shape: a hash of its op, constant and operands'
    // shapes, with every input alike.
    seen.clear();
    shape.clear();
    let unordered = |node: Node| match node {
        Node::Input(_) | Node::Const(_) => ([0, 0], 0),
        Node::Unary(_, a) => ([a, 0], 1),
        Node::Binary(_, a, b) => ([a, b], 2),
    };
    post_order(nodes, root, seen, unordered, |i, node, _| {
        let mut h = rustc_hash::FxHasher::default();
        match node {
            Node::Input(_) => 0u8.hash(&mut h),
            Node::Const(c) => (1u8, c).hash(&mut h),
            Node::Unary(op, a) => (2u8, op, shape[&a]).hash(&mut h),
            Node::Binary(op, a, b) => {
                let (x, y) = (shape[&a], shape[&b]);
                // Commuting operands hash alike in either order.
                let (x, y) = if matches!(op, BinaryOp::Add | BinaryOp::Mul) {
                    (x.min(y), x.max(y))
                } else {
                    (x, y)
                };
                (3u8, op, x, y).hash(&mut h);
            }
        }
        shape.insert(i, h.finish());
        Some(0)
    })?;
    // Then the template, operands in shape order.
    seen.clear();
    let shape = &*shape;
    post_order(
        nodes,
        root,
        seen,
        |node| operands(node, shape),
        |_, node, seen| {
            let mapped = match node {
                Node::Input(j) => {
                    if inputs.len() >= MAX_INPUTS {
                        return None;
                    }
                    inputs.push(j);
                    Node::Input(inputs.len() as u32 - 1)
                }
                Node::Const(c) => Node::Const(c),
                Node::Unary(op, a) => Node::Unary(op, seen[&a]),
                Node::Binary(op, ..) => {
                    let ([a, b], _) = operands(node, shape);
                    Node::Binary(op, seen[&a], seen[&b])
                }
            };
            local_nodes.push(mapped);
            Some(local_nodes.len() as u32 - 1)
        },
    )
}

/// The sum at node `out` of the tape `nodes`, split into repeated terms;
/// `None` unless at least one template has [`MIN_INSTANCES`] instances.
pub(crate) fn split(nodes: &[Node], out: u32) -> Option<Split> {
    let terms = terms(nodes, out, 4 * nodes.len() + 16)?;
    let mut index: FxHashMap<(bool, Vec<Node>), usize> = FxHashMap::default();
    let mut groups: Vec<Group> = Vec::new();
    // Each term's group, or `None` for a term too large to be one.
    let mut group_of: Vec<Option<usize>> = Vec::with_capacity(terms.len());
    let (mut seen, mut shape) = (FxHashMap::default(), FxHashMap::default());
    let mut buffer = Vec::new();
    let mut inputs = Vec::new();
    for &(root, neg) in &terms {
        buffer.clear();
        inputs.clear();
        if template(nodes, root, &mut seen, &mut shape, &mut buffer, &mut inputs).is_none() {
            group_of.push(None);
            continue;
        }
        let key = (neg, std::mem::take(&mut buffer));
        let g = match index.get(&key) {
            Some(&g) => {
                buffer = key.1;
                g
            }
            None => {
                groups.push(Group {
                    nodes: key.1.clone(),
                    negative: neg,
                    n_inputs: inputs.len(),
                    inputs: Vec::new(),
                });
                index.insert(key, groups.len() - 1);
                groups.len() - 1
            }
        };
        groups[g].inputs.extend_from_slice(&inputs);
        group_of.push(Some(g));
    }
    let kept: Vec<bool> = groups
        .iter()
        .map(|g| g.count() >= MIN_INSTANCES && g.n_inputs > 0)
        .collect();
    if !kept.contains(&true) {
        return None;
    }
    let rest = terms
        .iter()
        .zip(&group_of)
        .filter(|(_, g)| g.is_none_or(|g| !kept[g]))
        .map(|(&t, _)| t)
        .collect();
    let groups = groups
        .into_iter()
        .zip(kept)
        .filter_map(|(g, k)| k.then_some(g))
        .collect();
    Some(Split { groups, rest })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::Traced;
    use crate::Real;

    /// The primal tape of `f` on `n` inputs and its output's node.
    fn trace(n: usize, f: impl FnOnce(&[Traced]) -> Traced) -> (Vec<Node>, u32) {
        let mut tape = None;
        crate::compiled::hessian_products(n, f, |nodes, out| {
            tape = Some((nodes.to_vec(), out));
            (
                crate::compiled::Seeds {
                    colors: vec![0; n],
                    needed: Vec::new(),
                },
                (),
            )
        })
        .unwrap();
        tape.unwrap()
    }

    fn rosenbrock<T: Real>(x: &[T]) -> T {
        x.windows(2)
            .map(|w| {
                (w[1].clone() - w[0].square()).square() * 100.0
                    + (T::from_f64(1.0) - w[0].clone()).square()
            })
            .fold(T::from_f64(0.0), |s, t| s + t)
    }

    #[test]
    fn rosenbrock_is_two_templates_over_consecutive_inputs() {
        let n = 6;
        let (nodes, out) = trace(n, rosenbrock);
        let s = split(&nodes, out).unwrap();
        assert!(s.rest.is_empty());
        assert_eq!(s.groups.len(), 2);
        let (a, b) = (&s.groups[0], &s.groups[1]);
        // 100 (x_{k+1} − x_k²)² reads two inputs, (1 − x_k)² one.
        assert_eq!((a.n_inputs, a.count(), a.negative), (2, n - 1, false));
        assert_eq!((b.n_inputs, b.count(), b.negative), (1, n - 1, false));
        for k in 0..n - 1 {
            let mut pair = [a.inputs[2 * k], a.inputs[2 * k + 1]];
            pair.sort_unstable();
            assert_eq!(pair, [k as u32, k as u32 + 1]);
            assert_eq!(b.inputs[k], k as u32);
        }
    }

    #[test]
    fn differences_negate_and_singletons_stay_whole() {
        // Σ x_i² − Σ sin(x_i x_{i+1}) + exp(x_0 + x_1 + x_2): the exp is
        // the only one of its shape.
        let (nodes, out) = trace(4, |x| {
            let mut s = x[0].square() + x[1].square() + x[2].square() + x[3].square();
            for i in 0..3 {
                s = s - (x[i] * x[i + 1]).sin();
            }
            s + (x[0] + x[1] + x[2]).exp()
        });
        let s = split(&nodes, out).unwrap();
        let shapes: Vec<(usize, usize, bool)> = s
            .groups
            .iter()
            .map(|g| (g.n_inputs, g.count(), g.negative))
            .collect();
        assert_eq!(shapes, [(1, 4, false), (2, 3, true)]);
        assert_eq!(s.rest.len(), 1);
        assert!(matches!(
            nodes[s.rest[0].0 as usize],
            Node::Unary(UnaryOp::Exp, _)
        ));
    }

    #[test]
    fn one_term_or_shared_sums_are_not_split() {
        let (nodes, out) = trace(5, |x| (x[0] + x[1] + x[2] + x[3] + x[4]).square());
        assert!(split(&nodes, out).is_none());
        // s ← s + s, 40 times: 2⁴⁰ paths to the one term; the walk stops.
        let (nodes, out) = trace(2, |x| {
            let mut s = x[0] * x[1];
            for _ in 0..40 {
                s = s + s;
            }
            s
        });
        assert!(split(&nodes, out).is_none());
        // A constant function has no inputs to place a Hessian at.
        let (nodes, out) = trace(1, |_| Traced::from_f64(2.0) + Traced::from_f64(1.0));
        assert!(split(&nodes, out).is_none());
    }

    #[test]
    fn large_terms_are_left_whole() {
        // Two terms of 20 inputs each: over MAX_INPUTS.
        let (nodes, out) = trace(40, |x| {
            let a = x[..20]
                .iter()
                .fold(Traced::from_f64(0.0), |s, &v| s * v + v);
            let b = x[20..]
                .iter()
                .fold(Traced::from_f64(0.0), |s, &v| s * v + v);
            a.sin() + b.sin()
        });
        assert!(split(&nodes, out).is_none());
    }
}
