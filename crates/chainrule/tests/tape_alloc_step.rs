//! The allocations of W2's eager training step at n = 4 (issue 18), counted
//! by a global allocator of this test binary: the nodes user code drops
//! (the loss, the gradient, the updated weight) go back to the node pool on
//! their last drop, the mean is a node of its own kind (no boxed record)
//! and `backward` passes its one output gradient without a list, so a warm
//! step allocates nothing. One test in this binary, so no other thread
//! allocates while it counts.

use chainrule::{autograd, Real, Tensor};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const LR: f64 = 0.01;

/// One step of W2 as PyTorch's user writes it: `loss = ((w*x - y)**2).mean()`,
/// `loss.backward()`, then `w - lr * w.grad` under `no_grad` as a new leaf.
fn step(w: Tensor, x: &Tensor, y: &Tensor) -> Tensor {
    let loss = (&w * x - y).powi(2).mean();
    loss.backward().unwrap();
    let g = w.grad().unwrap();
    autograd::no_grad_scope(|| &w - LR * g).requires_grad()
}

/// The same step by hand: the gradient of mean((w x - y)^2) is
/// mean(2 x (w x - y)).
fn step_by_hand(w: f64, x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let g: f64 = x
        .iter()
        .zip(y)
        .map(|(&xi, &yi)| 2.0 * xi * (w * xi - yi))
        .sum::<f64>()
        / n;
    w - LR * g
}

#[test]
fn a_warm_training_step_at_n_4_allocates_nothing() {
    const STEPS: usize = 200;
    let xs = vec![1.0, 2.0, 3.0, 4.0];
    let ys: Vec<f64> = xs.iter().map(|v| 2.0 * v).collect();
    let x = Tensor::from_vec(xs.clone(), &[4]).unwrap();
    let y = Tensor::from_vec(ys.clone(), &[4]).unwrap();
    let mut w = Tensor::scalar(0.0).requires_grad();
    let mut by_hand = 0.0;
    // Warm-up: the pools and the engine's buffers fill.
    for _ in 0..20 {
        w = step(w, &x, &y);
        by_hand = step_by_hand(by_hand, &xs, &ys);
    }

    let before = allocations();
    for _ in 0..STEPS {
        w = step(w, &x, &y);
    }
    let allocated = allocations() - before;
    for _ in 0..STEPS {
        by_hand = step_by_hand(by_hand, &xs, &ys);
    }

    // The descent converges to w = 2 (y = 2x), and matches the hand-written
    // steps to rounding.
    assert!(
        (w.item() - by_hand).abs() <= 1e-12,
        "{} vs {by_hand}",
        w.item()
    );
    assert!((w.item() - 2.0).abs() < 1e-3, "{}", w.item());
    // Was 10 a step with `Rc` nodes: six nodes, the mean's record (its box
    // and its input list), its product's list of gradients and the backward
    // pass's list of output gradients. Now none a step: at most one in 20
    // steps (a kept list growing now and then).
    assert!(
        allocated <= STEPS / 20,
        "{allocated} allocations in {STEPS} steps"
    );
}
