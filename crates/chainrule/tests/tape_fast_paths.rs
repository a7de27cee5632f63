//! The backward pass's plain-f64 paths (issue 18, wave 6): the implicit
//! output gradient 1 of a 0-d f64 loss seeded as an f64, a mean's gradient
//! written from it without a 0-d tensor, and a gradient summed to a 0-d
//! f64 input (the weight of `w * x`) pushed as an f64. Every value is
//! checked against a closed form or hand-written arithmetic, and the
//! PyTorch semantics around them (accumulation, `retain_grad`,
//! `create_graph`, dtypes, freed graphs) are checked where these paths
//! meet them.

use chainrule::autograd::{self, GradOptions};
use chainrule::{DType, Error, Real, Tensor};

fn vec_of(t: &Tensor) -> Vec<f64> {
    t.to_vec()
}

#[test]
fn a_zero_d_loss_seeds_one_and_a_mean_spreads_it() {
    // d/dx mean(x²) = 2x/n.
    let x = Tensor::from_vec(vec![1.0, -2.0, 3.5], &[3])
        .unwrap()
        .requires_grad();
    let loss = x.powi(2).mean();
    loss.backward().unwrap();
    let g = vec_of(&x.grad().unwrap());
    for (gi, v) in g.iter().zip([1.0, -2.0, 3.5]) {
        let expected: f64 = 2.0 * v / 3.0;
        assert!(
            (gi - expected).abs() <= 1e-15 * expected.abs(),
            "{gi} vs {expected}"
        );
    }
    // d/dx sum(3x) = 3.
    let y = Tensor::from_vec(vec![0.5, 0.25], &[2])
        .unwrap()
        .requires_grad();
    (&y * 3.0).sum().backward().unwrap();
    assert_eq!(vec_of(&y.grad().unwrap()), vec![3.0, 3.0]);
}

#[test]
fn a_leaf_root_gets_one_and_accumulates() {
    let x = Tensor::scalar(4.0).requires_grad();
    x.backward().unwrap();
    x.backward().unwrap();
    assert_eq!(x.grad().unwrap().item(), 2.0);
    assert_eq!(x.grad().unwrap().dtype(), DType::F64);
}

#[test]
fn a_retained_root_gradient_is_one() {
    let x = Tensor::scalar(1.5).requires_grad();
    let y = &x * &x;
    y.retain_grad();
    y.backward().unwrap();
    assert_eq!(y.grad().unwrap().item(), 1.0);
    assert_eq!(x.grad().unwrap().item(), 3.0);
}

#[test]
fn the_weight_of_w_times_x_gets_the_sum_of_x() {
    // d/dw sum(w x) = sum(x); d/dw sum(w x + w²) = sum(x) + 2w, where the
    // second term reaches w as a 0-d gradient first and the first as a
    // sum: both orders of meeting in one slot.
    let xs = [1.0, 2.0, 3.0, 4.0];
    let x = Tensor::from_vec(xs.to_vec(), &[4]).unwrap();
    let w = Tensor::scalar(0.5).requires_grad();
    (&w * &x).sum().backward().unwrap();
    assert_eq!(w.grad().unwrap().item(), 10.0);
    assert_eq!(w.grad().unwrap().shape(), &[] as &[usize]);
    let v = Tensor::scalar(0.5).requires_grad();
    ((&v * &x).sum() + &v * &v).backward().unwrap();
    assert_eq!(v.grad().unwrap().item(), 10.0 + 1.0);
    let u = Tensor::scalar(0.5).requires_grad();
    (&u * &u + (&x * &u).sum()).backward().unwrap();
    assert_eq!(u.grad().unwrap().item(), 1.0 + 10.0);
    // x also needs a gradient: d/dx sum(w x) = w.
    let xr = x.detach().requires_grad();
    let w2 = Tensor::scalar(-1.25).requires_grad();
    (&w2 * &xr).sum().backward().unwrap();
    assert_eq!(vec_of(&xr.grad().unwrap()), vec![-1.25; 4]);
    assert_eq!(w2.grad().unwrap().item(), 10.0);
}

#[test]
fn autograd_grad_returns_the_zero_d_sum_without_touching_grad() {
    let x = Tensor::from_vec(vec![2.0, -1.0, 0.5], &[3]).unwrap();
    let w = Tensor::scalar(3.0).requires_grad();
    // d/dw mean((w x)²) = 2 w mean(x²) = 2·3·(4 + 1 + 0.25)/3 = 10.5.
    let g = autograd::grad(
        &[(&w * &x).powi(2).mean()],
        std::slice::from_ref(&w),
        None,
        GradOptions::default(),
    )
    .unwrap();
    assert_eq!(g[0].item(), 10.5);
    assert!(w.grad().is_none());
}

#[test]
fn f32_inputs_keep_their_dtype() {
    let x = Tensor::from_vec_f32(vec![1.0, 2.0, 3.0], &[3]).unwrap();
    let w = Tensor::scalar(2.0).float().requires_grad();
    let loss = (&w * &x).sum();
    assert_eq!(loss.dtype(), DType::F32);
    loss.backward().unwrap();
    let g = w.grad().unwrap();
    assert_eq!(g.dtype(), DType::F32);
    assert_eq!(g.item(), 6.0);
    // An f64 weight times f32 data: the weight's gradient is f64.
    let w64 = Tensor::scalar(2.0).requires_grad();
    let xs = Tensor::from_vec_f32(vec![0.5, 0.25], &[2]).unwrap();
    (&w64 * &xs).mean().backward().unwrap();
    let g = w64.grad().unwrap();
    assert_eq!(g.dtype(), DType::F64);
    assert_eq!(g.item(), 0.375);
}

#[test]
fn create_graph_through_the_seeded_loss_gives_second_derivatives() {
    // f(w) = mean((w x)³): f' = 3 w² mean(x³), f'' = 6 w mean(x³).
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    let w = Tensor::scalar(0.5).requires_grad();
    let f = (&w * &x).powi(3).mean();
    f.backward_opts(None, GradOptions::CREATE_GRAPH).unwrap();
    let g = w.grad().unwrap();
    let mean_x3 = (1.0 + 8.0) / 2.0;
    assert!((g.item() - 3.0 * 0.25 * mean_x3).abs() < 1e-15);
    assert!(g.is_requires_grad());
    let h = autograd::grad(
        std::slice::from_ref(&g),
        std::slice::from_ref(&w),
        None,
        GradOptions::default(),
    )
    .unwrap();
    assert!((h[0].item() - 6.0 * 0.5 * mean_x3).abs() < 1e-14);
}

#[test]
fn a_freed_loss_refuses_a_second_pass_and_retain_graph_allows_it() {
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    let w = Tensor::scalar(1.0).requires_grad();
    let loss = (&w * &x).mean();
    loss.backward_opts(
        None,
        GradOptions {
            retain_graph: true,
            create_graph: false,
        },
    )
    .unwrap();
    loss.backward().unwrap();
    assert_eq!(w.grad().unwrap().item(), 3.0);
    assert!(matches!(loss.backward(), Err(Error::FreedGraph)));
}

#[test]
fn gradient_descent_matches_the_hand_written_loop_bit_for_bit() {
    // W2's descent on the tape against the same arithmetic by hand, in the
    // tape's order of operations: the mean's gradient g/n into each value,
    // through (·)² as 2r, summed against x for w.
    let xs = [1.0, 1.7, 2.2, 3.9, 4.0];
    let ys: Vec<f64> = xs.iter().map(|v| 2.0 * v - 0.3).collect();
    let x = Tensor::from_vec(xs.to_vec(), &[5]).unwrap();
    let y = Tensor::from_vec(ys.clone(), &[5]).unwrap();
    let lr = 0.01;
    let mut w = Tensor::scalar(0.0).requires_grad();
    let mut wh = 0.0f64;
    for _ in 0..50 {
        let loss = (&w * &x - &y).powi(2).mean();
        loss.backward().unwrap();
        let g = w.grad().unwrap();
        w = autograd::no_grad_scope(|| &w - lr * g).requires_grad();
        let gm = 1.0 * (1.0 / xs.len() as f64);
        let gh: f64 = xs
            .iter()
            .zip(&ys)
            .map(|(&xi, &yi)| gm * (2.0 * (wh * xi - yi)) * xi)
            .sum();
        wh -= lr * gh;
        assert_eq!(w.item(), wh);
    }
    // And it converges to the least-squares slope sum(x y)/sum(x²).
    let slope =
        xs.iter().zip(&ys).map(|(a, b)| a * b).sum::<f64>() / xs.iter().map(|a| a * a).sum::<f64>();
    assert!((wh - slope).abs() < 1e-3, "{wh} vs {slope}");
}
