//! The backward pass: walk the graph once from the outputs, each node after
//! every node that consumes it, accumulating vector–Jacobian products in one
//! slot per node.
//!
//! The order is the nodes' creation order, reversed: a node is made after
//! its inputs, so a node's sequence number ([`crate::tensor`] numbers every
//! node on its thread) is larger than its inputs', and taking the pending
//! node with the largest number next (as PyTorch's ready queue orders by
//! sequence number) visits every consumer of a node before the node itself. What this saves over ordering the graph first (a depth-first
//! search, then a reverse walk of its order):
//! - one pass over the graph instead of two, and no order of every node: the
//!   pending list and the slots hold only the frontier between visited and unvisited
//!   nodes (W1's chain of 10⁵ nodes keeps three), so they stay in cache and
//!   a slot is reused as soon as its node is done;
//! - a node's slot index lives in the node while it is pending (no hash map);
//! - the pending list, slots and free list are kept between passes (a thread-local
//!   scratch), so a pass allocates nothing per node;
//! - a slot holds a plain f64 for 0-d gradients; the first gradient reaching
//!   a slot is stored, not added to zeros.
//!
//! A freed node or a replaced parameter is found when the walk reaches it
//! (as PyTorch finds them when it runs the node): the pass stops there with
//! the error.

use std::cell::RefCell;
use std::collections::BinaryHeap;

use super::graph::{set_grad_enabled, Batch, Op};
use super::vjp::{scalar_vjp, vjp};
use crate::error::{Error, Result};
use crate::real::strong_mul;
use crate::rules::{d_binary, d_unary_plain};
use crate::tensor::{pool_nodes, Tensor, IN_NODE, NO_SLOT, POOL_LIMIT};

/// A gradient slot: empty, a plain f64 (0-d fast path) or a tensor.
#[derive(Default)]
pub(super) enum Acc {
    #[default]
    Empty,
    Scalar(f64),
    T(Tensor),
}

impl Acc {
    #[inline]
    pub(super) fn add_scalar(&mut self, v: f64) {
        match self {
            Acc::Empty => *self = Acc::Scalar(v),
            Acc::Scalar(s) => *s += v,
            Acc::T(t) => *t = &*t + v,
        }
    }

    pub(super) fn add(&mut self, g: Tensor) {
        *self = match std::mem::take(self) {
            Acc::Empty => Acc::T(g),
            Acc::Scalar(s) => Acc::T(g + s),
            Acc::T(t) => Acc::T(super::vjp::add_gradients(t, g)),
        };
    }

    pub(super) fn into_tensor(self) -> Option<Tensor> {
        match self {
            Acc::Empty => None,
            Acc::Scalar(s) => Some(Tensor::scalar(s)),
            Acc::T(t) => Some(t),
        }
    }
}

/// A node waiting for the rest of its gradient, ordered by its sequence
/// number (the largest first).
struct Pending {
    seq: u64,
    node: Tensor,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.seq.cmp(&other.seq)
    }
}

/// The nodes reached but not yet visited, with their gradient slots.
///
/// The pending nodes are a short sorted list (the largest sequence number
/// last) in front of a max-heap: a chain's frontier is two or three nodes,
/// which the list serves with a compare or two per node (a `BinaryHeap`
/// alone cost about a hundred instructions per node on W1); a wide
/// frontier spills its smallest entries into the heap, so no push costs
/// more than [`NEAR`] moves and a heap push.
#[derive(Default)]
pub(super) struct Frontier {
    /// Sorted by sequence number, ascending; at most [`NEAR`] entries.
    near: Vec<Pending>,
    /// The rest, every one older than the whole of `near`.
    far: BinaryHeap<Pending>,
    slots: Vec<Acc>,
    /// Slots whose node is done, for reuse.
    free: Vec<u32>,
    /// Refuse a replaced parameter (a pass accumulating into `.grad`).
    check_replaced: bool,
    /// The first error met; the pass stops at it.
    error: Option<Error>,
    /// Nodes the pass is done with, cleared, for the node pool at its end.
    done: Vec<Tensor>,
}

/// The most pending nodes kept in the sorted list.
const NEAR: usize = 16;

impl Frontier {
    /// The slot of `t`, entering `t` into the frontier when first reached;
    /// `None` after an error.
    #[inline]
    fn slot_of(&mut self, t: &Tensor) -> Option<usize> {
        match t.0.slot.get() {
            NO_SLOT => self.enter(t),
            IN_NODE => Some(self.slot_from_node(t)),
            s => Some(s as usize),
        }
    }

    /// Moves the f64 gradient kept in a pending node into a slot of its own
    /// (a tensor gradient is reaching it).
    #[cold]
    fn slot_from_node(&mut self, t: &Tensor) -> usize {
        let s = self.new_slot();
        self.slots[s as usize] = Acc::Scalar(t.0.gacc.get());
        t.0.slot.set(s);
        s as usize
    }

    /// Adds a 0-d gradient to the pending gradient of `t`, entering `t`
    /// with the gradient kept in the node itself when first reached.
    #[inline(always)]
    fn add_scalar(&mut self, t: &Tensor, g: f64) {
        match t.0.slot.get() {
            IN_NODE => t.0.gacc.set(t.0.gacc.get() + g),
            NO_SLOT => {
                if self.error.is_none() && self.admissible(t) {
                    t.0.gacc.set(g);
                    t.0.slot.set(IN_NODE);
                    self.insert(Pending {
                        seq: t.0.seq,
                        node: t.clone(),
                    });
                }
            }
            s => self.slots[s as usize].add_scalar(g),
        }
    }

    /// The gradient pending for `node`, which leaves the frontier.
    #[inline]
    fn take_gradient(&mut self, node: &Tensor) -> Acc {
        match node.0.slot.replace(NO_SLOT) {
            IN_NODE => Acc::Scalar(node.0.gacc.get()),
            s => {
                let g = std::mem::take(&mut self.slots[s as usize]);
                self.free.push(s);
                g
            }
        }
    }

    /// A free slot (empty).
    #[inline]
    fn new_slot(&mut self) -> u32 {
        match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Acc::Empty);
                // A frontier of 2³² nodes would need half a terabyte of nodes.
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Enters `t` into the frontier with a new (empty) slot; `None` after
    /// an error. Inlined: out of line, its frame was a third of a push.
    #[inline(always)]
    fn enter(&mut self, t: &Tensor) -> Option<usize> {
        if self.error.is_some() || !self.admissible(t) {
            return None;
        }
        let s = self.new_slot();
        t.0.slot.set(s);
        self.insert(Pending {
            seq: t.0.seq,
            node: t.clone(),
        });
        Some(s as usize)
    }

    /// Whether the walk may enter `t`; records the error if not.
    #[inline(always)]
    fn admissible(&mut self, t: &Tensor) -> bool {
        let freed = matches!(*t.0.op.borrow(), Op::Freed(_));
        if freed || (self.check_replaced && t.0.replaced.get()) {
            self.refuse(t, freed);
            return false;
        }
        true
    }

    #[cold]
    fn refuse(&mut self, t: &Tensor, freed: bool) {
        self.error = Some(if freed {
            Error::FreedGraph
        } else {
            Error::ModifiedParameter {
                shape: t.shape().to_vec(),
            }
        });
    }

    #[inline(always)]
    fn insert(&mut self, p: Pending) {
        let len = self.near.len();
        if len == NEAR {
            return self.insert_spilling(p);
        }
        if self.near.capacity() == len {
            self.near.reserve(NEAR);
        }
        // Sorted by moving the newer entries up one from the end: the new
        // node is usually the newest or second newest (no memmove call for
        // a list of three, and no `Vec::push`, which is not inlined).
        // SAFETY: `len < capacity` (reserved above), so `base[..=len]` is
        // allocated; entries `at..len` are moved up one (each read before
        // it is overwritten, going down), then `p` fills the hole at `at`,
        // so `base[..=len]` is initialised when the length is set.
        unsafe {
            let base = self.near.as_mut_ptr();
            let mut at = len;
            while at > 0 && (*base.add(at - 1)).seq > p.seq {
                std::ptr::copy_nonoverlapping(base.add(at - 1), base.add(at), 1);
                at -= 1;
            }
            std::ptr::write(base.add(at), p);
            self.near.set_len(len + 1);
        }
    }

    /// [`Frontier::insert`] into a full sorted list: the older of the new
    /// node and the list's oldest goes to the heap.
    #[inline(never)]
    fn insert_spilling(&mut self, p: Pending) {
        let near = &mut self.near;
        if near[0].seq > p.seq {
            self.far.push(p);
            return;
        }
        let oldest = near.remove(0);
        self.far.push(oldest);
        near.push(p);
        let mut at = near.len() - 1;
        while at > 0 && near[at - 1].seq > near[at].seq {
            near.swap(at - 1, at);
            at -= 1;
        }
    }

    /// The pending node with the largest sequence number.
    #[inline]
    fn pop(&mut self) -> Option<Pending> {
        match (self.near.last(), self.far.peek()) {
            (Some(n), Some(f)) if f.seq > n.seq => self.far.pop(),
            (Some(_), _) => self.near.pop(),
            (None, _) => self.far.pop(),
        }
    }

    /// Drops `t`, a product's spent gradient: its node, if this was its
    /// last handle, is cleared now and pooled with the pass's own nodes at
    /// its end (one access to the pool a pass, not one a node).
    #[inline]
    pub(super) fn retire(&mut self, t: Tensor) {
        if let Some(n) = t.cleared() {
            if self.done.len() < POOL_LIMIT {
                self.done.push(n);
            }
        }
    }

    /// Empties the frontier after an error (every pending node leaves it).
    fn abandon(&mut self) {
        for p in self.near.drain(..).chain(self.far.drain()) {
            p.node.0.slot.set(NO_SLOT);
        }
        self.slots.clear();
        self.free.clear();
        pool_nodes(&mut self.done);
    }
}

/// Above this many pending nodes the buffers are not kept.
const KEEP_AT_MOST: usize = 1 << 20;

thread_local! {
    /// The buffers of a pass, kept for the next one. Borrowed in place (a
    /// `Cell<Option<_>>` taken and put back moved the whole frontier twice
    /// a pass); a pass run while another is borrowing them (from inside a
    /// vector–Jacobian product) gets buffers of its own.
    static SCRATCH: RefCell<Frontier> = RefCell::new(Frontier::default());
}

/// The output gradients of a pass, one per root; `backward`'s one is kept
/// as it is (no list allocated for it every training step).
pub(super) enum GradOutputs {
    One(Tensor),
    /// The implicit gradient 1 of a 0-d f64 root (`loss.backward()`), kept
    /// as a plain f64: no tensor is made for it.
    Unit,
    Many(Vec<Tensor>),
}

/// What a backward pass is asked to do.
pub(super) struct Pass<'a> {
    pub(super) roots: &'a [Tensor],
    /// One per root, of the root's shape with `batch` leading axes in front.
    pub(super) grad_outputs: GradOutputs,
    /// `None`: accumulate into `.grad`; else return the gradients of these.
    pub(super) inputs: Option<&'a [Tensor]>,
    pub(super) retain_graph: bool,
    pub(super) create_graph: bool,
    pub(super) batch: Batch,
}

/// The backward pass. Accumulates into `.grad` when `pass.inputs` is
/// `None`, else returns the gradients reaching the inputs (`None` where none
/// does).
pub(super) fn run(pass: Pass<'_>) -> Result<Vec<Option<Tensor>>> {
    for (i, r) in pass.roots.iter().enumerate() {
        if !r.is_requires_grad() {
            return Err(Error::NoGradFn { index: i });
        }
    }
    let inputs = pass.inputs.unwrap_or(&[]);
    for x in inputs {
        x.0.pass_input.set(true);
    }
    let mut pass = Some(pass);
    let kept = SCRATCH.try_with(|s| {
        let mut f = s.try_borrow_mut().ok()?;
        if !(f.near.is_empty() && f.far.is_empty() && f.slots.is_empty() && f.done.is_empty()) {
            // A pass that panicked part-way (in an operation's product) left
            // its frontier behind: its pending nodes leave it first.
            f.abandon();
            f.error = None;
        }
        let r = walk(pass.take()?, &mut f);
        if f.slots.capacity() > KEEP_AT_MOST || f.far.capacity() > KEEP_AT_MOST {
            *f = Frontier::default();
        }
        Some(r)
    });
    let result = match (kept, pass) {
        (Ok(Some(r)), _) => r,
        (_, Some(pass)) => walk(pass, &mut Frontier::default()),
        (_, None) => unreachable!("a pass that did not run is still here"),
    };
    for x in inputs {
        x.0.pass_input.set(false);
    }
    result
}

/// The walk of [`run`] on a frontier (empty on entry and on return).
fn walk(pass: Pass<'_>, f: &mut Frontier) -> Result<Vec<Option<Tensor>>> {
    let accumulate = pass.inputs.is_none();
    let inputs = pass.inputs.unwrap_or(&[]);
    f.check_replaced = accumulate;
    let (one, many) = match pass.grad_outputs {
        GradOutputs::One(g) => (Some(g), Vec::new()),
        GradOutputs::Unit => {
            if let Some(r) = pass.roots.first() {
                f.add_scalar(r, 1.0);
            }
            (None, Vec::new())
        }
        GradOutputs::Many(v) => (None, v),
    };
    for (r, g) in pass.roots.iter().zip(one.into_iter().chain(many)) {
        if let Some(s) = f.slot_of(r) {
            f.slots[s].add(g);
        }
    }
    if let Some(e) = f.error.take() {
        f.abandon();
        return Err(e);
    }
    let mut results: Vec<Option<Tensor>> = vec![None; inputs.len()];
    let (create_graph, batch) = (pass.create_graph, pass.batch);
    let mode = set_grad_enabled(create_graph);
    // 0-d products in plain f64 (no tensor is made) unless the pass is
    // recorded or batched.
    let scalar_path = !create_graph && batch.0 == 0;
    let free = !pass.retain_graph;
    // The 0-d lane (`scalar_lane`) takes a node's operation out instead of
    // reading it, so only where the graph is freed as it goes.
    let lane = scalar_path && free;
    while let Some(Pending { node, .. }) = f.pop() {
        let node = if lane {
            match scalar_lane(node, f) {
                Ok(done) => {
                    if f.done.len() < POOL_LIMIT {
                        f.done.push(done);
                    }
                    if f.error.is_some() {
                        let e = f.error.take();
                        f.abandon();
                        return Err(e.expect("checked"));
                    }
                    continue;
                }
                Err(node) => node,
            }
        } else {
            node
        };
        let g = f.take_gradient(&node);
        if !matches!(g, Acc::Empty) {
            if node.0.pass_input.get() {
                let gt = match &g {
                    Acc::Scalar(s) => Tensor::scalar(*s),
                    Acc::T(t) => t.clone(),
                    Acc::Empty => unreachable!("checked non-empty"),
                };
                for (j, x) in inputs.iter().enumerate() {
                    if x.same(&node) {
                        results[j] = Some(gt.clone());
                    }
                }
            }
            let op = node.0.op.borrow();
            if matches!(*op, Op::Leaf) {
                if accumulate && node.is_requires_grad() {
                    store_grad(&node, g, create_graph);
                }
            } else if accumulate && node.0.retains_grad.get() {
                let gt = g.into_tensor().expect("non-empty");
                store_grad(&node, Acc::T(gt.clone()), create_graph);
                vjp(&op, &node, Acc::T(gt), create_graph, batch, f);
            } else {
                let done = match g {
                    Acc::Scalar(gs) if scalar_path => scalar_vjp(&op, &node, gs, f).is_some(),
                    _ => false,
                };
                if !done {
                    vjp(&op, &node, g, create_graph, batch, f);
                }
            }
        }
        if let Some(e) = f.error.take() {
            f.abandon();
            return Err(e);
        }
        if free && !node.0.leaf && crate::tensor::strong_count(&node) > 1 {
            // Held elsewhere: it keeps its name and refuses a second pass.
            let mut op = node.0.op.borrow_mut();
            let freed = Op::Freed(op.name().unwrap_or(""));
            let old = std::mem::replace(&mut *op, freed);
            drop(op);
            drop(old);
        }
        // The last handle (its consumers are done): cleared now, while it
        // is in cache (its saved inputs are held by their pending entries),
        // and pooled at the end of the pass.
        if let Some(n) = node.cleared() {
            if f.done.len() < POOL_LIMIT {
                f.done.push(n);
            }
        }
    }
    pool_nodes(&mut f.done);
    drop(mode);
    f.free.clear();
    f.slots.clear();
    Ok(results)
}

/// The 0-d lane of the backward pass (W1's scalar chain): a node whose
/// gradient is a plain f64 kept in the node, that no one else holds, that
/// records an elementwise operation of 0-d f64 values and whose gradient
/// is not asked for (not a pass input, no `retain_grad`). Its operation is
/// taken out of the node (its input handles move into the frontier or are
/// dropped: no count is raised and lowered again, no `RefCell` borrow, no
/// `Acc`), the products are those of [`scalar_vjp`] in the same order, and
/// the node comes back cleared for the pool. Any other node is handed back
/// untouched (`Err`) for the general step. Runs only in a pass that frees
/// the graph without recording (no `retain_graph`, no `create_graph`, no
/// batch).
#[inline(always)]
fn scalar_lane(mut node: Tensor, f: &mut Frontier) -> std::result::Result<Tensor, Tensor> {
    let n = &node.0;
    if n.slot.get() != IN_NODE || n.pass_input.get() || n.retains_grad.get() {
        return Err(node);
    }
    let gs = n.gacc.get();
    let Some(o) = node.scalar_value() else {
        return Err(node);
    };
    let Some(nm) = node.unique_node() else {
        return Err(node);
    };
    // The operation is taken out first and dispatched on once; a node
    // whose inputs are not 0-d f64 values gets it back untouched. Each
    // partial is read before any handle moves (an input may be both
    // operands).
    let op = std::mem::replace(nm.op.get_mut(), Op::Leaf);
    match op {
        Op::Unary(u, x) => {
            let Some(xv) = x.scalar_value() else {
                *nm.op.get_mut() = Op::Unary(u, x);
                return Err(node);
            };
            let dx = d_unary_plain(u, xv, o);
            push_scalar_owned(f, x, strong_mul(gs, dx));
        }
        Op::Binary(b, x, y) => {
            let (Some(xv), Some(yv)) = (x.scalar_value(), y.scalar_value()) else {
                *nm.op.get_mut() = Op::Binary(b, x, y);
                return Err(node);
            };
            let (dx, dy) = d_binary::<f64>(b, &xv, &yv, &o);
            push_scalar_owned(f, x, strong_mul(gs, dx));
            push_scalar_owned(f, y, strong_mul(gs, dy));
        }
        Op::ScalarRhs(b, x, c) => {
            let Some(xv) = x.scalar_value() else {
                *nm.op.get_mut() = Op::ScalarRhs(b, x, c);
                return Err(node);
            };
            let dx = d_binary::<f64>(b, &xv, &c, &o).0;
            push_scalar_owned(f, x, strong_mul(gs, dx));
        }
        Op::ScalarLhs(b, c, y) => {
            let Some(yv) = y.scalar_value() else {
                *nm.op.get_mut() = Op::ScalarLhs(b, c, y);
                return Err(node);
            };
            let dy = d_binary::<f64>(b, &c, &yv, &o).1;
            push_scalar_owned(f, y, strong_mul(gs, dy));
        }
        other => {
            *nm.op.get_mut() = other;
            return Err(node);
        }
    }
    nm.slot.set(NO_SLOT);
    nm.clear_taken();
    Ok(node)
}

/// ∂op(x)/∂x of a 0-d f64 value `x` with output `y`, for a pass that
/// records nothing (the 0-d products of [`scalar_lane`] and
/// [`scalar_vjp`]): the rules table's partial, except tanh's.
///
/// [`push_scalar`] with the handle moved in: entering `t` into the
/// frontier keeps this handle (no count raised), else it is dropped.
#[inline(always)]
fn push_scalar_owned(f: &mut Frontier, t: Tensor, g: f64) {
    if !t.is_requires_grad() {
        return;
    }
    match t.0.slot.get() {
        IN_NODE => t.0.gacc.set(t.0.gacc.get() + g),
        NO_SLOT => {
            // Its lines, for the visit a node or two later (entering it
            // read only the line of its slot; its operation may be in
            // another).
            crate::tensor::prefetch_node(&*t.0);
            if f.error.is_none() && f.admissible(&t) {
                t.0.gacc.set(g);
                t.0.slot.set(IN_NODE);
                f.insert(Pending {
                    seq: t.0.seq,
                    node: t,
                });
            }
        }
        s => f.slots[s as usize].add_scalar(g),
    }
}

/// Adds `g` to `node.grad`.
fn store_grad(node: &Tensor, g: Acc, create_graph: bool) {
    let g = match g {
        // A 0-d f64 gradient (a scalar weight's): its node built in place.
        Acc::Scalar(s) => Tensor::from_op(crate::tensor::Data::Scalar(s), Op::Leaf),
        g => match g.into_tensor() {
            Some(g) => g,
            None => return,
        },
    };
    let g = if create_graph || !g.is_requires_grad() {
        g
    } else {
        g.detach()
    };
    let prev = node.0.grad.take();
    let new = match prev {
        None => g,
        Some(p) => &p + &g,
    };
    node.0.grad.set(Some(new));
}

/// Adds `g` to the slot of `t` if it needs a gradient, cast to `t`'s
/// dtype (PyTorch's engine does the same: a gradient has its tensor's dtype).
pub(super) fn push(f: &mut Frontier, t: &Tensor, g: Tensor) {
    if t.is_requires_grad() {
        let g = if g.dtype() == t.dtype() {
            g
        } else {
            g.to_dtype(t.dtype())
        };
        if t.0.slot.get() == NO_SLOT {
            // First reached: its new slot is empty, so the gradient is
            // stored as it is (no take, match and drop of the empty one).
            if let Some(s) = f.enter(t) {
                f.slots[s] = Acc::T(g);
            }
        } else if let Some(s) = f.slot_of(t) {
            f.slots[s].add(g);
        }
    }
}

/// Adds a 0-d gradient to the pending gradient of `t` if it needs one.
#[inline]
pub(super) fn push_scalar(f: &mut Frontier, t: &Tensor, g: f64) {
    if t.is_requires_grad() {
        f.add_scalar(t, g);
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor::Tensor;

    #[test]
    fn a_pass_after_one_that_panicked_starts_clean() {
        let x = Tensor::scalar(2.0).requires_grad();
        let y = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3])
            .unwrap()
            .requires_grad();
        // A product that panics part-way through a pass, after other nodes
        // have been entered into the frontier.
        let bad = Tensor::custom(
            crate::tensor::Data::Scalar(1.0),
            "PanicBackward",
            vec![x.clone()],
            |_, _, _, _| panic!("a product that fails"),
            |_, out, _| out.clone(),
        );
        let loss = &(&y * &x).sum() * &bad;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loss.backward()));
        assert!(r.is_err());
        x.zero_grad();
        y.zero_grad();
        // d/dx sum(x y) = sum(y) = 6; d/dy = x = 2.
        let fresh = Tensor::scalar(2.0).requires_grad();
        (&y * &fresh).sum().backward().unwrap();
        assert_eq!(fresh.grad().unwrap().item(), 6.0);
        assert_eq!(y.grad().unwrap().to_vec(), vec![2.0; 3]);
    }
}
