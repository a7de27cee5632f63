//! The eager tape's allocations, counted by a global allocator of this test
//! binary: a chain of 0-d operations rebuilt with a warm node pool
//! allocates nothing per node, forward or backward (issue 18, W1). One test
//! in this binary, so no other thread allocates while it counts.

use chainrule::{Real, Tensor};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

/// W1's step `h = tanh(h·w) + h·0.1`, k times; the chain's output.
fn chain(x: &Tensor, w: &Tensor, k: usize) -> Tensor {
    let mut h = x.clone();
    for _ in 0..k {
        h = (&h * w).tanh() + &h * 0.1;
    }
    h
}

#[test]
fn a_scalar_chain_allocates_nothing_per_node_once_the_pool_is_warm() {
    const K: usize = 5_000; // 20,000 nodes
    let x = Tensor::scalar(0.5).requires_grad();
    let w = Tensor::scalar(0.9).requires_grad();
    // Warm-up: the first graph's nodes are allocated, and its backward pass
    // hands them to the pool with its buffers sized for the chain.
    chain(&x, &w, K).backward().unwrap();
    let expected = (x.grad().unwrap().item(), w.grad().unwrap().item());
    x.zero_grad();
    w.zero_grad();

    let before = allocations();
    let h = chain(&x, &w, K);
    let forward = allocations() - before;
    let before = allocations();
    h.backward().unwrap();
    let backward = allocations() - before;
    drop(h);

    // The same pass gives the same gradients (dh/dx and dh/dw).
    assert_eq!(x.grad().unwrap().item(), expected.0);
    assert_eq!(w.grad().unwrap().item(), expected.1);
    // 4K nodes each way; a handful of allocations in all (the gradients
    // stored on the two leaves), not one per node.
    assert!(
        forward <= 8,
        "forward of 4·{K} nodes: {forward} allocations"
    );
    assert!(
        backward <= 16,
        "backward of 4·{K} nodes: {backward} allocations"
    );
}
