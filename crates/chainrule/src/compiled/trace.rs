//! Tracing: [`Traced`], a [`Real`] whose operations are recorded on a
//! thread-local tape (a Wengert list) instead of computed.
//!
//! The tape hash-conses its nodes (an operation on the same operands is
//! recorded once: common subexpressions are shared), folds operations on
//! constants with the f64 kernels, and applies the identities that are exact
//! in IEEE arithmetic up to the sign of zero (`x·1`, `x + 0`, `x − 0`, `x/1`,
//! `−(−x)`, `x + (−y) = x − y`, `x·(−1) = −x`, `x¹`, `x⁰ = 1`). Nothing else is
//! rewritten, so a traced program computes what the function computes, in
//! the same order of operations.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::error::{Error, Result};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;
/// Fast hashing for tape nodes (small keys, not attacker-chosen).
type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// One recorded operation. Operands are indices of earlier nodes, so the
/// tape is in topological order by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    /// The i-th input of the traced function.
    Input(u32),
    /// A constant (its bits, so that nodes can be hashed).
    Const(u64),
    /// A primitive of one argument.
    Unary(UnaryOp, u32),
    /// A primitive of two arguments.
    Binary(BinaryOp, u32, u32),
}

/// The recording of one trace.
pub(crate) struct Tape {
    pub(crate) nodes: Vec<Node>,
    index: FxMap<Node, u32>,
    generation: u32,
}

thread_local! {
    static TAPE: RefCell<Option<Tape>> = const { RefCell::new(None) };
    static GENERATION: Cell<u32> = const { Cell::new(0) };
}

/// A value of a function being traced (by [`grad_program`](super::grad_program)
/// or [`per_sample`](super::per_sample)): a handle to a node of the active tape.
///
/// `Traced` implements [`Real`], so a function written once, generic over
/// `T: Real`, traces into a program. It holds no number: there is nothing to
/// compare or branch on, which is what makes the recording a faithful,
/// straight-line program of the function.
///
/// # Panics
/// Every operation panics when no trace is active on this thread or when
/// the value comes from another (finished) trace: a `Traced` is only
/// meaningful inside the closure that is being traced.
#[derive(Clone, Copy)]
pub struct Traced {
    pub(crate) id: u32,
    generation: u32,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for Traced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Traced(#{})", self.id)
    }
}

/// Removes the tape from the thread when tracing ends, also on a panic.
struct Active;

impl Drop for Active {
    fn drop(&mut self) {
        TAPE.with(|t| t.borrow_mut().take());
    }
}

/// Runs `f` on `n_inputs` fresh inputs with a tape recording, and returns
/// what `f` returned and the tape. `f` may record more on the tape (the
/// reverse sweep does) before returning.
///
/// # Errors
/// [`Error::NestedTrace`] if a trace is already active on this thread
/// (traces do not nest).
pub(crate) fn record<R>(n_inputs: usize, f: impl FnOnce(&[Traced]) -> R) -> Result<(R, Tape)> {
    let busy = TAPE.with(|t| t.borrow().is_some());
    if busy {
        return Err(Error::NestedTrace);
    }
    let generation = GENERATION.with(|g| {
        let next = g.get().wrapping_add(1);
        g.set(next);
        next
    });
    TAPE.with(|t| {
        *t.borrow_mut() = Some(Tape {
            nodes: Vec::new(),
            index: FxMap::default(),
            generation,
        })
    });
    let guard = Active;
    let inputs: Vec<Traced> = (0..n_inputs)
        .map(|i| intern(Node::Input(i as u32)))
        .collect();
    let out = f(&inputs);
    let tape = TAPE
        .with(|t| t.borrow_mut().take())
        .expect("the tape is active until the guard drops");
    drop(guard);
    Ok((out, tape))
}

fn with_tape<R>(f: impl FnOnce(&mut Tape) -> R) -> R {
    TAPE.with(|t| {
        let mut t = t.borrow_mut();
        let tape = t
            .as_mut()
            .expect("compiled: a Traced value was used while no trace is active");
        f(tape)
    })
}

fn intern(node: Node) -> Traced {
    with_tape(|tape| {
        let id = match tape.index.get(&node) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(tape.nodes.len()).expect("more than 2^32 traced nodes");
                tape.nodes.push(node);
                tape.index.insert(node, id);
                id
            }
        };
        Traced {
            id,
            generation: tape.generation,
            _not_send: PhantomData,
        }
    })
}

impl Traced {
    /// The node, checking that this value belongs to the active trace.
    fn node(self) -> Node {
        with_tape(|tape| {
            assert!(
                self.generation == tape.generation,
                "compiled: a Traced value was used outside the trace that made it"
            );
            tape.nodes[self.id as usize]
        })
    }

    /// The constant value, if this node is one.
    pub(crate) fn as_const(self) -> Option<f64> {
        match self.node() {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    /// A constant node.
    pub(crate) fn constant(x: f64) -> Traced {
        intern(Node::Const(x.to_bits()))
    }

    /// Whether this value belongs to the trace being recorded.
    pub(crate) fn is_on_active_tape(self) -> bool {
        TAPE.with(|t| {
            t.borrow()
                .as_ref()
                .is_some_and(|tape| tape.generation == self.generation)
        })
    }

    /// The node at `id` of the active tape, as a value.
    pub(crate) fn at(id: u32) -> Traced {
        with_tape(|tape| Traced {
            id,
            generation: tape.generation,
            _not_send: PhantomData,
        })
    }
}

/// The node at `id` of the active tape.
pub(crate) fn node_at(id: u32) -> Node {
    with_tape(|tape| tape.nodes[id as usize])
}

/// The number of nodes recorded so far on the active tape.
pub(crate) fn len() -> usize {
    with_tape(|tape| tape.nodes.len())
}

fn unary(op: UnaryOp, a: Traced) -> Traced {
    match (op, a.node()) {
        (_, Node::Const(c)) => Traced::constant(op.eval(f64::from_bits(c))),
        (UnaryOp::Neg, Node::Unary(UnaryOp::Neg, x)) => Traced::at(x),
        (UnaryOp::Powi(1), _) => a,
        (UnaryOp::Powi(0), _) => Traced::constant(1.0),
        _ => intern(Node::Unary(op, a.id)),
    }
}

fn binary(op: BinaryOp, a: Traced, b: Traced) -> Traced {
    use BinaryOp::*;
    let (na, nb) = (a.node(), b.node());
    let konst = |n: Node| match n {
        Node::Const(c) => Some(f64::from_bits(c)),
        _ => None,
    };
    let neg_of = |n: Node| match n {
        Node::Unary(UnaryOp::Neg, x) => Some(Traced::at(x)),
        _ => None,
    };
    let (ca, cb) = (konst(na), konst(nb));
    if let (Some(x), Some(y)) = (ca, cb) {
        // Folded as the program would compute it (a product with strong zeros).
        let v = match op {
            Mul => super::instr::smul(x, y),
            _ => op.eval(x, y),
        };
        return Traced::constant(v);
    }
    match op {
        Add if cb == Some(0.0) => return a,
        Add if ca == Some(0.0) => return b,
        Add => {
            if let Some(y) = neg_of(nb) {
                return binary(Sub, a, y);
            }
            if let Some(x) = neg_of(na) {
                return binary(Sub, b, x);
            }
        }
        Sub if cb == Some(0.0) => return a,
        Sub if ca == Some(0.0) => return unary(UnaryOp::Neg, b),
        Sub => {
            if let Some(y) = neg_of(nb) {
                return binary(Add, a, y);
            }
        }
        Mul if cb == Some(1.0) => return a,
        Mul if ca == Some(1.0) => return b,
        Mul if cb == Some(-1.0) => return unary(UnaryOp::Neg, a),
        Mul if ca == Some(-1.0) => return unary(UnaryOp::Neg, b),
        Div if cb == Some(1.0) => return a,
        _ => {}
    }
    // Sums and products are commutative in IEEE arithmetic: one order, so
    // that `a·b` and `b·a` are one node.
    let (a, b) = if matches!(op, Add | Mul) && b.id < a.id {
        (b, a)
    } else {
        (a, b)
    };
    intern(Node::Binary(op, a.id, b.id))
}

impl Real for Traced {
    fn from_f64(x: f64) -> Self {
        Traced::constant(x)
    }
    fn unary(&self, op: UnaryOp) -> Self {
        unary(op, *self)
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        binary(op, *self, *rhs)
    }
}

macro_rules! binop {
    ($tr:ident, $m:ident, $op:expr) => {
        impl $tr for Traced {
            type Output = Traced;
            fn $m(self, rhs: Traced) -> Traced {
                binary($op, self, rhs)
            }
        }
        impl $tr<f64> for Traced {
            type Output = Traced;
            fn $m(self, rhs: f64) -> Traced {
                binary($op, self, Traced::constant(rhs))
            }
        }
        impl $tr<Traced> for f64 {
            type Output = Traced;
            fn $m(self, rhs: Traced) -> Traced {
                binary($op, Traced::constant(self), rhs)
            }
        }
    };
}

binop!(Add, add, BinaryOp::Add);
binop!(Sub, sub, BinaryOp::Sub);
binop!(Mul, mul, BinaryOp::Mul);
binop!(Div, div, BinaryOp::Div);

impl Neg for Traced {
    type Output = Traced;
    fn neg(self) -> Traced {
        unary(UnaryOp::Neg, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_folds() {
        let ((), tape) = record(2, |x| {
            let (a, b) = (x[0], x[1]);
            let p = a * b;
            let q = b * a;
            assert_eq!(p.id, q.id, "a·b and b·a are one node");
            assert_eq!((a * 1.0).id, a.id);
            assert_eq!((a + 0.0).id, a.id);
            assert_eq!((-(-a)).id, a.id);
            let s = a + (-b);
            assert!(matches!(s.node(), Node::Binary(BinaryOp::Sub, _, _)));
            assert_eq!((Traced::constant(2.0) * 3.0).as_const(), Some(6.0));
            assert_eq!(Traced::constant(0.5).tanh().as_const(), Some(0.5f64.tanh()));
        })
        .unwrap();
        // inputs, a·b, −b (recorded before the rewrite to a − b), a − b, and the constants
        assert!(tape.nodes.len() >= 5);
    }

    #[test]
    fn traces_do_not_nest_and_values_do_not_escape() {
        let (escaped, _) = record(1, |x| {
            assert!(record(1, |_| ()).is_err());
            x[0]
        })
        .unwrap();
        let ((), _) = record(1, |_| assert!(!escaped.is_on_active_tape())).unwrap();
        let panicked = std::panic::catch_unwind(|| escaped.sin());
        assert!(panicked.is_err());
    }
}
