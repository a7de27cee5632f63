//! One call of a transform: the caller's gradient mode, the nesting depth,
//! a fresh node for each differentiated argument, and whether the result
//! must carry a graph.
//!
//! A transform records `f` on the tape and walks it backwards. Two things
//! make that nest:
//!
//! - **A fresh input node per call.** The transform differentiates with
//!   respect to a node of its own: `x · 1` (recorded, so an outer level's
//!   gradient still flows through it to `x`) when `x` is already tracked,
//!   else a new leaf. A variable of an outer level that `f` closes over is
//!   a different node, so it is never mistaken for the inner variable, even
//!   when the inner function is evaluated *at* it (no perturbation
//!   confusion: d/dx [x · d/dy (x + y)]|_{y=x} = 1, not 2).
//! - **`create_graph` when anyone could differentiate the result**: the
//!   input was tracked, or the call runs inside another transform (whose
//!   variable `f` may close over). At the outermost level with a plain
//!   input the backward pass is not recorded and the results are plain
//!   values, as in JAX.

use std::cell::Cell;

use crate::autograd::{self, GradModeGuard};
use crate::Tensor;

thread_local! {
    /// How many transform calls are running on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// How many transform calls are running on this thread (0 outside any).
pub(crate) fn depth() -> usize {
    DEPTH.with(Cell::get)
}

/// A running transform call; restores the depth and the gradient mode
/// when dropped (also on a panic inside `f`).
pub(crate) struct Call {
    caller_grad: bool,
    create_graph: bool,
    // Dropped after `Drop::drop`: recording stays on for the whole call.
    _record: GradModeGuard,
}

impl Call {
    /// Enters a transform whose differentiated arguments are `args`.
    /// Recording is switched on for the call even under `no_grad` (a
    /// transform must see `f`'s operations), but then nothing is returned
    /// with a graph.
    pub(crate) fn enter(args: &[&Tensor]) -> Call {
        let caller_grad = autograd::is_grad_enabled();
        let depth = DEPTH.with(|d| d.replace(d.get() + 1));
        let tracked = args.iter().any(|a| a.is_requires_grad());
        Call {
            caller_grad,
            create_graph: caller_grad && (depth > 0 || tracked),
            _record: autograd::enable_grad(),
        }
    }

    /// Whether backward passes of this call are recorded, so that the
    /// results can be differentiated again.
    pub(crate) fn create_graph(&self) -> bool {
        self.create_graph
    }

    /// This call's own node for the argument `x` (see the module docs).
    pub(crate) fn input(&self, x: &Tensor) -> Tensor {
        if self.caller_grad && x.is_requires_grad() {
            x * 1.0
        } else {
            x.detach().requires_grad()
        }
    }

    /// A result handed back to the caller: detached when no graph is
    /// wanted, so that it does not hold this call's private graph.
    pub(crate) fn output(&self, t: Tensor) -> Tensor {
        if self.create_graph {
            t
        } else {
            t.detach()
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}
