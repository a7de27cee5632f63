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

/// How many pops ahead [`NodeRc::new`] asks for the lines of a pooled node.
///
/// The pool is megabytes of nodes (W1's graph is 10⁵ of them, 11 MB), more
/// than the L2 cache, so the node a pop hands out is usually not cached and
/// the stores into it wait in the store buffer for its lines. A node is
/// made every 10–20 ns on a scalar chain, so asking for the lines eight
/// nodes ahead gives them about 100 ns to arrive from the last-level cache.
/// (The one store that took a quarter of W1's time before wave 8 was mostly
/// a load that waited for the store buffer to drain: see
/// [`NodeRc::new_with`].)
const PREFETCH_AHEAD: usize = 8;

/// How many entries down the pool's list [`pop_pooled`] asks for its line
/// (eight lines of eight pointers).
const PREFETCH_LIST: usize = 64;

/// Asks the processor to bring the cache line of `at` into its L1 cache (a
/// hint, as [`prefetch_node`]).
#[inline(always)]
fn prefetch_line<T>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and cannot fault (SSE, part of the
    // x86_64 baseline).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (at as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Asks the processor to bring the cache lines of `node` into its L1 cache
/// (a hint: it changes no value, and a processor without the instruction
/// or a line that does not come changes nothing but the time taken).
#[inline(always)]
pub(crate) fn prefetch_node<T>(node: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = (node as *const T).cast::<i8>();
        let last = std::mem::size_of::<T>().saturating_sub(1);
        // SAFETY: a prefetch reads nothing and cannot fault (SSE, part of
        // the x86_64 baseline); the addresses are inside `node` (its first,
        // 64th and last byte, which cover every line of a node of at most
        // 128 bytes).
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p);
            _mm_prefetch::<_MM_HINT_T0>(p.add(64.min(last)));
            _mm_prefetch::<_MM_HINT_T0>(p.add(last));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = node;
}

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
    /// A handle to `node`, in a pooled allocation when there is one. Out of
    /// line: inlined (with [`NodeRc::new_with`]) into every maker of a node,
    /// it changed how unrelated loops next to it compiled (W3's SGD update
    /// lost its vector loop: +2% instructions a step).
    #[inline(never)]
    pub(crate) fn new(node: Node) -> NodeRc {
        NodeRc::new_with(|| node)
    }

    /// A handle to the node `make` returns, built in place: the pooled
    /// allocation is taken first and `make` runs after, so that, inlined, the
    /// node's fields are stored straight into it. Built on the stack and
    /// copied (as `new(node)` compiled), the copy's 16-byte loads could not
    /// be forwarded from the 8-byte stores that had just built the node, so
    /// each waited for every store before it to reach the cache, behind the
    /// stores into nodes not cached yet: two thirds of `NodeRc::new`'s and
    /// of `Tensor::from_op`'s time on W1, in one instruction each.
    #[inline(always)]
    pub(crate) fn new_with(make: impl FnOnce() -> Node) -> NodeRc {
        match pop_pooled() {
            Some(p) => {
                let s = p.as_ptr();
                // SAFETY: `p` is a pooled allocation (from `Box::leak`, no
                // handle to it), whose node owns nothing (cleared by
                // `recycle` or `Tensor::cleared`): overwriting it leaks
                // nothing, and `write` drops nothing.
                unsafe {
                    std::ptr::addr_of_mut!((*s).node).write(make());
                    (*s).refs.set(1);
                }
                NodeRc(p)
            }
            None => NodeRc::fresh(make()),
        }
    }

    /// A handle to `node` in a new allocation (the pool is empty or gone).
    #[inline(never)]
    fn fresh(node: Node) -> NodeRc {
        NodeRc(NonNull::from(Box::leak(Box::new(Shared {
            refs: Cell::new(1),
            node,
        }))))
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

/// A pooled allocation taken from the pool (its node cleared), asking for
/// the lines of the one [`PREFETCH_AHEAD`] pops later; `None` if the pool is
/// empty (or borrowed, or gone: a tensor made while the thread's locals are
/// torn down simply gets a fresh allocation).
#[inline(always)]
fn pop_pooled() -> Option<NonNull<Shared>> {
    POOL.try_with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        let b = p.pop()?;
        if let Some(ahead) = p.len().checked_sub(PREFETCH_AHEAD).map(|i| &*p[i]) {
            prefetch_node(ahead);
        }
        // The pool's own list is read downwards, a line every eight pops:
        // the line eight lines down, for the pops of the node prefetches.
        if let Some(i) = p.len().checked_sub(PREFETCH_LIST) {
            prefetch_line(&p[i]);
        }
        Some(NonNull::from(Box::leak(b)))
    })
    .ok()
    .flatten()
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
        // Tested first: dropping an empty recipe was a call a node.
        let deferred = if node.deferred.is_some() {
            node.deferred.take()
        } else {
            None
        };
        release(&mut node.value);
        if node.grad.get_mut().is_some() {
            *node.grad.get_mut() = None;
        }
        // Dropping the history can release a long chain: each input's last
        // drop unlinks its part iteratively, so this does not recurse.
        drop(op);
        if let Some(d) = deferred {
            drop(d);
        }
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
