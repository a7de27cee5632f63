//! Lowering a recorded tape to a register program: dead nodes dropped,
//! a few instructions fused, registers reused once their value is dead.

use super::instr::{encode, Instr, Reg};
use super::trace::Node;
use crate::ops::{BinaryOp, UnaryOp};

/// A lowered program: inputs in registers `0..n_inputs`, constants preloaded
/// in `consts`, outputs read from `outputs` after `code` has run.
///
/// Invariant (the scalar machine reads registers unchecked on it): every
/// register that `code` and `outputs` name is below `n_regs`. Only
/// [`allocate`] makes a `Code`, and it asserts this.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub(crate) n_inputs: usize,
    pub(crate) n_regs: usize,
    pub(crate) consts: Vec<(Reg, f64)>,
    /// The instructions, encoded ([`encode`]) for either machine.
    pub(crate) code: Vec<Instr>,
    pub(crate) outputs: Vec<Reg>,
    /// For each instruction, the output it alone computes when no other
    /// instruction reads it (so a data pass can add it into that output's
    /// sum directly, see [`Lanes`](super::lanes::Lanes)).
    pub(crate) sink: Vec<Option<u32>>,
}

/// The order in which to compute the nodes: tape order, except that each
/// partial derivative recorded by the rules table (`partial[i]`, such as
/// `sech²(u)` or `cos x`) whose operands are the function's values is
/// moved up to just after its last operand. Partials then run during the
/// forward sweep, where the processor overlaps them with the forward
/// sweep's dependency chain, and the backward sweep is left with the
/// adjoint products and sums.
fn schedule(nodes: &[Node], n_primal: usize, partial: &[bool]) -> Vec<u32> {
    let mut key = vec![0u32; nodes.len()];
    let mut hoisted = vec![false; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        key[i] = i as u32;
        if !partial.get(i).copied().unwrap_or(false) {
            continue;
        }
        let operands: &[u32] = match node {
            Node::Input(_) | Node::Const(_) => &[],
            Node::Unary(_, a) => std::slice::from_ref(a),
            Node::Binary(_, a, b) => &[*a, *b],
        };
        // Operands that are the function's values (the first `n_primal`
        // nodes), constants, or hoisted partials.
        let ready = |o: u32| {
            (o as usize) < n_primal
                || hoisted[o as usize]
                || matches!(nodes[o as usize], Node::Const(_))
        };
        if operands.iter().all(|&o| ready(o)) {
            key[i] = operands.iter().map(|&o| key[o as usize]).max().unwrap_or(0);
            hoisted[i] = true;
        }
    }
    let mut order: Vec<u32> = (0..nodes.len() as u32).collect();
    order.sort_by_key(|&i| (key[i as usize], i));
    order
}

/// Lowers the nodes that `outputs` need. `nodes` is in topological order
/// (operands before their users), as every tape is; the first `n_primal`
/// nodes are the traced function and `partial` flags the partial
/// derivatives recorded after them (see [`schedule`]).
pub(crate) fn lower(
    nodes: &[Node],
    n_inputs: usize,
    n_primal: usize,
    partial: &[bool],
    outputs: &[u32],
) -> Code {
    let n = nodes.len();
    let kids = |node: &Node| -> ([u32; 2], usize) {
        match *node {
            Node::Input(_) | Node::Const(_) => ([0, 0], 0),
            Node::Unary(_, a) => ([a, 0], 1),
            Node::Binary(_, a, b) => ([a, b], 2),
        }
    };
    // Live nodes and their number of uses (an output counts as a use).
    let mut live = vec![false; n];
    let mut uses = vec![0u32; n];
    for &o in outputs {
        live[o as usize] = true;
        uses[o as usize] += 1;
    }
    for i in (0..n).rev() {
        if !live[i] {
            continue;
        }
        let (k, m) = kids(&nodes[i]);
        for &c in &k[..m] {
            live[c as usize] = true;
            uses[c as usize] += 1;
        }
    }
    // Fusions: a product used once, by a sum or a difference, is computed
    // inside it; cosh used once, by a power −2, is computed inside it.
    // A product used once and planned as a plain multiplication (not
    // already fused with its own operands).
    let single_mul = |i: u32, plan: &[Option<Instr>], fused: &[bool]| -> Option<(u32, u32)> {
        match plan[i as usize] {
            Some(Instr::Mul(_, a, b)) if uses[i as usize] == 1 && !fused[i as usize] => {
                Some((a, b))
            }
            _ => None,
        }
    };
    let mut fused = vec![false; n];
    // The instructions, with node ids for registers.
    let mut code: Vec<Instr> = Vec::new();
    let mut plan: Vec<Option<Instr>> = vec![None; n];
    let order = schedule(nodes, n_primal, partial);
    let mut pos = vec![0usize; n];
    for (k, &i) in order.iter().enumerate() {
        pos[i as usize] = k;
    }
    // The live tanh of each node, to pair with its derivative.
    let mut tanh_of: rustc_hash::FxHashMap<u32, u32> = Default::default();
    for (i, node) in nodes.iter().enumerate() {
        if let (Node::Unary(UnaryOp::Tanh, u), true) = (node, live[i]) {
            tanh_of.insert(*u, i as u32);
        }
    }
    for &i in &order {
        let i = i as usize;
        if !live[i] {
            continue;
        }
        let d = i as u32;
        plan[i] = match nodes[i] {
            Node::Input(_) | Node::Const(_) => None,
            Node::Unary(op, a) => Some(match op {
                UnaryOp::Neg => Instr::Neg(d, a),
                UnaryOp::Powi(2) => Instr::Square(d, a),
                UnaryOp::Powi(-1) => Instr::Recip(d, a),
                UnaryOp::Powi(-2) => match nodes[a as usize] {
                    Node::Unary(UnaryOp::Cosh, u) if uses[a as usize] == 1 => {
                        fused[a as usize] = true;
                        match tanh_of.get(&u).copied().filter(|&t| !fused[t as usize]) {
                            // The pair is computed where the first of the two is.
                            Some(t) if pos[t as usize] < pos[i] => {
                                plan[t as usize] = Some(Instr::TanhSech2(t, d, u));
                                fused[i] = true;
                                Instr::Sech2(d, u)
                            }
                            Some(t) => {
                                fused[t as usize] = true;
                                Instr::TanhSech2(t, d, u)
                            }
                            None => Instr::Sech2(d, u),
                        }
                    }
                    _ => Instr::Powi(d, a, -2),
                },
                UnaryOp::Powi(k) => Instr::Powi(d, a, k),
                op => Instr::Unary(op, d, a),
            }),
            Node::Binary(op, a, b) => Some(match op {
                BinaryOp::Add | BinaryOp::Sub => {
                    // A product on either side (or both) computed inside
                    // the sum or difference.
                    type Both = fn(Reg, Reg, Reg, Reg, Reg) -> Instr;
                    type One = fn(Reg, Reg, Reg, Reg) -> Instr;
                    type Plain = fn(Reg, Reg, Reg) -> Instr;
                    let (both, second, first, plain): (Both, One, One, Plain) =
                        if op == BinaryOp::Add {
                            (Instr::MulMulAdd, Instr::MulAdd, Instr::MulAdd, Instr::Add)
                        } else {
                            (Instr::MulMulSub, Instr::SubMul, Instr::MulSub, Instr::Sub)
                        };
                    match (single_mul(a, &plan, &fused), single_mul(b, &plan, &fused)) {
                        (Some((x, y)), Some((u, v))) if a != b => {
                            fused[a as usize] = true;
                            fused[b as usize] = true;
                            both(d, x, y, u, v)
                        }
                        (_, Some((x, y))) => {
                            fused[b as usize] = true;
                            second(d, x, y, a)
                        }
                        (Some((x, y)), None) => {
                            fused[a as usize] = true;
                            first(d, x, y, b)
                        }
                        (None, None) => plain(d, a, b),
                    }
                }
                BinaryOp::Mul => {
                    if let Some((x, y)) = single_mul(a, &plan, &fused) {
                        fused[a as usize] = true;
                        Instr::MulMul(d, x, y, b)
                    } else if let Some((x, y)) = single_mul(b, &plan, &fused) {
                        fused[b as usize] = true;
                        Instr::MulMul(d, x, y, a)
                    } else {
                        Instr::Mul(d, a, b)
                    }
                }
                BinaryOp::Div => Instr::Div(d, a, b),
                op => Instr::Binary(op, d, a, b),
            }),
        };
    }
    for &i in &order {
        if let (Some(ins), false) = (plan[i as usize], fused[i as usize]) {
            code.push(ins);
        }
    }
    allocate(nodes, n_inputs, outputs, code)
}

/// Assigns registers: inputs first, then the constants the code reads, then
/// temporaries, each reused once the value it held is dead (a linear scan;
/// an instruction's destination never shares a register with its operands).
fn allocate(nodes: &[Node], n_inputs: usize, outputs: &[u32], code: Vec<Instr>) -> Code {
    const NONE: u32 = u32::MAX;
    let n = nodes.len();
    let mut reg = vec![NONE; n];
    let mut consts = Vec::new();
    let mut next = n_inputs as u32;
    let mut fixed = |id: u32, reg: &mut Vec<u32>, consts: &mut Vec<(Reg, f64)>| {
        if reg[id as usize] != NONE {
            return;
        }
        match nodes[id as usize] {
            Node::Input(i) => reg[id as usize] = i,
            Node::Const(bits) => {
                reg[id as usize] = next;
                consts.push((next, f64::from_bits(bits)));
                next += 1;
            }
            _ => {}
        }
    };
    // The last instruction that reads each node, and whether any does.
    let mut last_use = vec![0usize; n];
    let mut read = vec![false; n];
    for (k, ins) in code.iter().enumerate() {
        for o in ins.regs().1.into_iter().flatten() {
            fixed(o, &mut reg, &mut consts);
            last_use[o as usize] = k;
            read[o as usize] = true;
        }
    }
    // Which output each node is (`MANY` if several).
    const MANY: u32 = NONE - 1;
    let mut output_of = vec![NONE; n];
    for (j, &o) in outputs.iter().enumerate() {
        fixed(o, &mut reg, &mut consts);
        let slot = &mut output_of[o as usize];
        *slot = if *slot == NONE { j as u32 } else { MANY };
    }
    let mut free: Vec<u32> = Vec::new();
    let mut out_code = Vec::with_capacity(code.len());
    // Outputs computed by one single-result instruction and read by none.
    let mut sink = vec![None; code.len()];
    for (k, ins) in code.iter().enumerate() {
        let (mut ops, mut n_ops, mut dests) = ([NONE; 4], 0, [NONE; 2]);
        out_code.push(ins.map_regs(|id, is_dest| {
            if is_dest {
                let r = free.pop().unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                reg[id as usize] = r;
                dests[usize::from(dests[0] != NONE)] = id;
            } else {
                ops[n_ops] = id;
                n_ops += 1;
            }
            reg[id as usize]
        }));
        for (j, &o) in ops[..n_ops].iter().enumerate() {
            let temp = matches!(nodes[o as usize], Node::Unary(..) | Node::Binary(..));
            let last = last_use[o as usize] == k && !ops[..j].contains(&o);
            if temp && output_of[o as usize] == NONE && last {
                free.push(reg[o as usize]);
            }
        }
        if let [d, NONE] = dests {
            let j = output_of[d as usize];
            if j != MANY && j != NONE && !read[d as usize] {
                sink[k] = Some(j);
            }
        }
    }
    // `Code`'s invariant, on the base forms (encoding keeps a subset of
    // each instruction's registers).
    let below = |r: Reg| r < next;
    assert!(
        out_code.iter().all(|ins| {
            let (dsts, ops) = ins.regs();
            dsts.into_iter().chain(ops).flatten().all(below)
        }) && outputs.iter().all(|&o| below(reg[o as usize])),
        "every register below n_regs"
    );
    let (code, sink) = encode(&out_code, &sink);
    Code {
        n_inputs,
        n_regs: next as usize,
        consts,
        code,
        outputs: outputs.iter().map(|&o| reg[o as usize]).collect(),
        sink,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuses_and_reuses() {
        // Nodes: x0, x1, c=0.1, m=x0·x1, t=tanh(m), p=x0·c, h=t+p, q=cosh(m), s=q^-2
        let nodes = [
            Node::Input(0),
            Node::Input(1),
            Node::Const(0.1f64.to_bits()),
            Node::Binary(BinaryOp::Mul, 0, 1),
            Node::Unary(UnaryOp::Tanh, 3),
            Node::Binary(BinaryOp::Mul, 0, 2),
            Node::Binary(BinaryOp::Add, 4, 5),
            Node::Unary(UnaryOp::Cosh, 3),
            Node::Unary(UnaryOp::Powi(-2), 7),
        ];
        let code = lower(&nodes, 2, nodes.len(), &[], &[6, 8]);
        // m with (tanh, sech²) as one pair, then x0·0.1 + t: the product
        // x0·0.1 and cosh are fused away, and the tanh pair into m.
        assert_eq!(code.code.len(), 2, "{:?}", code.code);
        assert!(matches!(code.code[0], Instr::MulTanhSech2(..)));
        assert!(matches!(code.code[1], Instr::MulAddXc(..)));
        let mut r = vec![0.0; code.n_regs];
        r[0] = 0.5;
        r[1] = 0.9;
        for &(k, v) in &code.consts {
            r[k as usize] = v;
        }
        super::super::scalar::run(&code, &mut r);
        let m = 0.5f64 * 0.9;
        assert_eq!(r[code.outputs[0] as usize], m.tanh() + 0.5 * 0.1);
        let s = r[code.outputs[1] as usize];
        assert!((s - m.cosh().powi(-2)).abs() < 1e-15);
    }
}
