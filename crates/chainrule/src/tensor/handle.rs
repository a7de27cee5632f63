//! The handle a [`Tensor`] is: a reference count of our own on a node, whose
//! last drop hands the node back to a per-thread pool.
//!
//! With `Rc<Node>` a node that user code dropped went back to the allocator
//! (its `free` and the next node's `malloc`, about 170 instructions a node
//! on W2, where the step's loss, gradient and updated weight are dropped
//! every step); only a backward pass returned nodes to the pool. Here the
//! count is ours, so the last drop clears the node and pools it: the test
//! for zero is the one `Rc` makes anyway, so the fast path costs nothing.
//!
//! Dropping a long chain stays iterative: the inputs of a node whose last
//! handle goes are moved onto an explicit stack before anything of the node
//! is dropped, and each is released from there.

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::ptr::NonNull;

use super::{release, Node, Tensor};
use crate::autograd::graph::Op;

/// A node with its count of handles.
pub(crate) struct Shared {
    refs: Cell<usize>,
    node: Node,
}

/// A counted handle to a node (`Rc<Node>` with a pooling last drop). Not
/// `Send` or `Sync` (a raw pointer), as `Rc`.
pub(crate) struct NodeRc(NonNull<Shared>);

/// Nodes kept for reuse (at most this many per thread, about 12 MB).
pub(crate) const POOL_AT_MOST: usize = 1 << 17;

thread_local! {
    /// Cleared nodes (owning nothing: no value, gradient or history), reused
    /// by the next node made on the thread: a training loop rebuilds the same
    /// graph every step, and taking a node from here costs a fraction of an
    /// allocation and its free. Boxes, not values: a node's address is its
    /// handle's, so the pool keeps the allocations themselves.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<Shared>>> = const { RefCell::new(Vec::new()) };
}

impl NodeRc {
    /// A handle to `node`, in a pooled allocation when there is one.
    #[inline]
    pub(crate) fn new(node: Node) -> NodeRc {
        // try_with: a tensor made while the thread's locals are torn down
        // simply gets a fresh allocation.
        let pooled = POOL
            .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
            .ok()
            .flatten();
        let shared = match pooled {
            Some(mut b) => {
                // SAFETY: a pooled node owns nothing (cleared by `recycle`),
                // so overwriting it leaks nothing; `write` skips dropping it.
                unsafe { std::ptr::write(&mut b.node, node) };
                b.refs.set(1);
                b
            }
            None => Box::new(Shared {
                refs: Cell::new(1),
                node,
            }),
        };
        NodeRc(NonNull::from(Box::leak(shared)))
    }

    #[inline]
    fn shared(&self) -> &Shared {
        // SAFETY: the allocation lives while a handle does (counted).
        unsafe { self.0.as_ref() }
    }

    /// The number of handles to this node.
    #[inline]
    pub(crate) fn strong_count(this: &NodeRc) -> usize {
        this.shared().refs.get()
    }

    /// Whether two handles are to the same node.
    #[inline]
    pub(crate) fn ptr_eq(a: &NodeRc, b: &NodeRc) -> bool {
        a.0 == b.0
    }

    /// The node's address (its identity while a handle lives).
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const Node {
        &self.shared().node
    }

    /// The node, if this is its only handle.
    #[inline]
    pub(crate) fn get_mut(this: &mut NodeRc) -> Option<&mut Node> {
        if this.shared().refs.get() == 1 {
            // SAFETY: the only handle, borrowed mutably.
            Some(unsafe { &mut this.0.as_mut().node })
        } else {
            None
        }
    }

    /// Gives up this handle without running the last drop's release: the
    /// node's allocation if it was the last handle.
    #[inline]
    fn into_last(self) -> Option<NonNull<Shared>> {
        let p = self.0;
        std::mem::forget(self);
        // SAFETY: the handle just forgotten kept the allocation alive.
        let shared = unsafe { p.as_ref() };
        let r = shared.refs.get() - 1;
        shared.refs.set(r);
        (r == 0).then_some(p)
    }
}

impl Deref for NodeRc {
    type Target = Node;
    #[inline]
    fn deref(&self) -> &Node {
        &self.shared().node
    }
}

impl Clone for NodeRc {
    #[inline]
    fn clone(&self) -> NodeRc {
        let refs = &self.shared().refs;
        // Overflow would need more handles than bytes of memory (every
        // handle is 8 bytes), short of `mem::forget` in a loop of 2⁶⁴.
        refs.set(refs.get() + 1);
        NodeRc(self.0)
    }
}

impl Drop for NodeRc {
    #[inline]
    fn drop(&mut self) {
        let refs = &self.shared().refs;
        let r = refs.get() - 1;
        refs.set(r);
        if r == 0 {
            release_last(self.0);
        }
    }
}

/// Clears a node whose last handle went, and every input only it held,
/// iteratively, pooling each.
#[inline(never)]
fn release_last(p: NonNull<Shared>) {
    let mut stack: Vec<Tensor> = Vec::new();
    recycle(p, &mut stack);
    while let Some(t) = stack.pop() {
        if let Some(p) = t.0.into_last() {
            recycle(p, &mut stack);
        }
    }
}

/// Moves a node's inputs onto `stack`, drops the rest of what it owns and
/// pools (or frees) it.
fn recycle(p: NonNull<Shared>, stack: &mut Vec<Tensor>) {
    // SAFETY: no handle is left (the count reached 0), so this is the only
    // reference to the allocation, which `Box::leak` made.
    let mut b = unsafe { Box::from_raw(p.as_ptr()) };
    clear(&mut b.node, stack);
    pool(b);
}

/// Empties a node: its inputs (op and deferred recipe) onto `stack` before
/// anything else of it is dropped (a closure's own copy of an input is then
/// never the last), its value released, its gradient dropped.
fn clear(node: &mut Node, stack: &mut Vec<Tensor>) {
    if !matches!(node.op.get_mut(), Op::Leaf) {
        std::mem::replace(node.op.get_mut(), Op::Leaf).take_inputs(stack);
    }
    if let Some(mut d) = node.deferred.take() {
        d.take_inputs(stack);
    }
    release(&mut node.value);
    if node.grad.get_mut().is_some() {
        *node.grad.get_mut() = None;
    }
}

/// Keeps a cleared node for reuse, or frees it when the pool is full.
#[inline]
fn pool(b: Box<Shared>) {
    let mut slot = Some(b);
    let _ = POOL.try_with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            if pool.len() < POOL_AT_MOST {
                if let Some(b) = slot.take() {
                    pool.push(b);
                }
            }
        }
    });
    drop(slot);
}

impl Tensor {
    /// Drops this handle; if it was the last, the node is cleared (its
    /// value, gradient and history released) and handed back, to be kept
    /// for reuse with [`pool_nodes`] (a backward pass collects the nodes it
    /// is done with and pools them at its end: one access to the pool per
    /// pass instead of one per node).
    #[inline]
    pub(crate) fn cleared(self) -> Option<Tensor> {
        let mut rc = self.0;
        let node = NodeRc::get_mut(&mut rc)?;
        let op = std::mem::replace(node.op.get_mut(), Op::Leaf);
        let deferred = node.deferred.take();
        release(&mut node.value);
        if node.grad.get_mut().is_some() {
            *node.grad.get_mut() = None;
        }
        // Dropping the history can release a long chain: each input's last
        // drop unlinks its part iteratively, so this does not recurse.
        drop(op);
        drop(deferred);
        Some(Tensor(rc))
    }
}

impl Tensor {
    /// The node, if this is its only handle (the backward pass's 0-d lane
    /// takes the operation out of a node no one else can see).
    #[inline(always)]
    pub(crate) fn unique_node(&mut self) -> Option<&mut Node> {
        NodeRc::get_mut(&mut self.0)
    }
}

impl Node {
    /// Releases the value, deferred recipe and gradient of a node whose
    /// operation was already taken out (it is `Op::Leaf`): what
    /// [`Tensor::cleared`] does after taking the operation.
    #[inline(always)]
    pub(crate) fn clear_taken(&mut self) {
        debug_assert!(matches!(self.op.get_mut(), Op::Leaf));
        if self.deferred.is_some() {
            drop(self.deferred.take());
        }
        release(&mut self.value);
        if self.grad.get_mut().is_some() {
            *self.grad.get_mut() = None;
        }
    }
}

/// Keeps cleared nodes (from [`Tensor::cleared`]) for reuse by the next
/// graph, as many as the pool takes; the rest are freed. Empties `nodes`.
pub(crate) fn pool_nodes(nodes: &mut Vec<Tensor>) {
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            let room = POOL_AT_MOST.saturating_sub(p.len()).min(nodes.len());
            p.extend(nodes.drain(..room).map(|t| {
                let rc = t.0;
                let ptr = rc.0;
                std::mem::forget(rc);
                // SAFETY: a cleared node's only handle, forgotten just now;
                // the allocation came from `Box::leak`.
                unsafe { Box::from_raw(ptr.as_ptr()) }
            }));
        }
    });
    nodes.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Real, Tensor};

    fn pooled() -> usize {
        POOL.with(|p| p.borrow().len())
    }

    #[test]
    fn a_dropped_graph_goes_back_to_the_pool_and_is_reused() {
        let x = Tensor::scalar(0.5).requires_grad();
        let y = (&x * 2.0).sin() + &x;
        let before = pooled();
        drop(y);
        // The sum, the sine and the product: x is still held.
        assert_eq!(pooled(), before + 3);
        assert_eq!(NodeRc::strong_count(&x.0), 1);
        let z = &x * 3.0;
        assert_eq!(pooled(), before + 2);
        assert_eq!(z.item(), 1.5);
        assert_eq!(z.grad_fn(), Some("MulBackward0"));
        assert!(z.grad().is_none());
    }

    #[test]
    fn a_pooled_node_comes_back_empty() {
        let x = Tensor::from_vec(vec![1.0, 2.0], &[2])
            .unwrap()
            .requires_grad();
        let y = (&x * &x).sum();
        y.backward().unwrap();
        drop(y);
        // A leaf with a gradient, dropped: its gradient goes with it.
        let g = x.grad().unwrap();
        drop(x);
        assert_eq!(g.to_vec(), vec![2.0, 4.0]);
        let fresh = Tensor::scalar(7.0);
        assert!(fresh.grad().is_none());
        assert!(fresh.is_leaf() && !fresh.is_requires_grad());
        assert_eq!(fresh.grad_fn(), None);
        assert_eq!(fresh.item(), 7.0);
    }
}
