//! The reverse sweep over a recorded tape, itself recorded: each node's
//! partial derivatives come from the one rules table ([`crate::rules`])
//! evaluated with `T = Traced`, so the adjoint computation becomes more
//! instructions of the same program (forward instructions, then adjoint
//! instructions), and no derivative rule is written here.

use super::trace::{self, Node, Traced};
use crate::rules::{d_binary, d_unary};

/// The adjoints d`output`/d`wrt[j]`, recorded on the active tape; `None`
/// where the output does not depend on that input (an exact zero). Also
/// which nodes the rules table recorded (the partial derivatives, which
/// depend on the function's values only, not on the adjoints): a flag per
/// tape node, for [`schedule`](super::lower).
///
/// Only nodes on a path from some `wrt` input to `output` are visited, and
/// a partial derivative that folds to the constant 0 (the rules of `sign`,
/// `step`, or a constant power's exponent) contributes nothing, as JAX's
/// symbolic zeros. Iterative: nodes are visited in reverse tape order.
pub(crate) fn adjoints(output: Traced, wrt: &[Traced]) -> (Vec<Option<Traced>>, Vec<bool>) {
    let n = output.id as usize + 1;
    // depends[i]: node i is a function of some wrt input.
    let mut depends = vec![false; n];
    for w in wrt {
        if (w.id as usize) < n {
            depends[w.id as usize] = true;
        }
    }
    for i in 0..n {
        if depends[i] {
            continue;
        }
        depends[i] = match trace::node_at(i as u32) {
            Node::Input(_) | Node::Const(_) => false,
            Node::Unary(_, a) => depends[a as usize],
            Node::Binary(_, a, b) => depends[a as usize] || depends[b as usize],
        };
    }
    let mut adj: Vec<Option<Traced>> = vec![None; n];
    if depends[n - 1] {
        adj[n - 1] = Some(Traced::constant(1.0));
    }
    let contribute = |adj: &mut Vec<Option<Traced>>, to: u32, v: Traced| {
        if v.as_const() == Some(0.0) {
            return;
        }
        let slot = &mut adj[to as usize];
        *slot = Some(match *slot {
            None => v,
            Some(prev) => prev + v,
        });
    };
    let mut partial = Vec::new();
    let mut mark = |from: usize| {
        let to = trace::len();
        partial.resize(to, false);
        partial[from..to].fill(true);
    };
    for i in (0..n).rev() {
        let Some(a) = adj[i] else { continue };
        if !depends[i] {
            continue;
        }
        let out = Traced::at(i as u32);
        match trace::node_at(i as u32) {
            Node::Input(_) | Node::Const(_) => {}
            Node::Unary(op, x) => {
                if depends[x as usize] {
                    let from = trace::len();
                    let p = d_unary(op, &Traced::at(x), &out);
                    mark(from);
                    contribute(&mut adj, x, a * p);
                }
            }
            Node::Binary(op, x, y) => {
                let from = trace::len();
                let (px, py) = d_binary(op, &Traced::at(x), &Traced::at(y), &out);
                mark(from);
                if depends[x as usize] {
                    contribute(&mut adj, x, a * px);
                }
                if depends[y as usize] {
                    contribute(&mut adj, y, a * py);
                }
            }
        }
    }
    partial.resize(trace::len(), false);
    let grads = wrt
        .iter()
        .map(|w| adj.get(w.id as usize).copied().flatten())
        .collect();
    (grads, partial)
}

#[cfg(test)]
mod tests {
    use super::super::trace::record;
    use super::*;
    use crate::real::Real;

    #[test]
    fn a_product_rule_by_the_table() {
        // f = x·y + sin x: df/dx = y + cos x, df/dy = x; the adjoints are
        // recorded nodes, checked here by their structure through values.
        let ((), _) = record(2, |v| {
            let (x, y) = (v[0], v[1]);
            let f = x * y + x.sin();
            let (g, _) = adjoints(f, &[x, y]);
            assert_eq!(g[1].map(|t| t.id), Some(x.id));
            assert!(g[0].is_some());
            let c = Traced::constant(3.0);
            assert!(adjoints(c * 2.0, &[x]).0[0].is_none());
        })
        .unwrap();
    }
}
