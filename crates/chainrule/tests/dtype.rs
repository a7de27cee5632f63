//! f32 tensors: values against the f64 computation rounded to f32,
//! PyTorch's promotion rules, the dtype of gradients, and an f32 training
//! step against the f64 one.

use chainrule::autograd::{self, GradOptions};
use chainrule::{tensor, DType, Real, Tensor};

/// Distance in units of the last place of `b` as an f32.
fn ulps(a: f64, b: f64) -> f64 {
    let b32 = b as f32;
    let ulp = f64::from(f32::from_bits(b32.abs().to_bits() + 1)) - f64::from(b32.abs());
    (a - b).abs() / ulp
}

/// Small integers and halves: exactly representable in f32, and so are
/// their products and sums of a few hundred of them.
fn dyadic(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (((i * 7 + seed * 13) % 17) as f64 - 8.0) * 0.5)
        .collect()
}

fn both(v: Vec<f64>, shape: &[usize]) -> (Tensor, Tensor) {
    let t = Tensor::from_vec(v, shape).unwrap();
    (t.float(), t)
}

/// `got` is f32 and equals `f64` rounded to f32 exactly.
fn assert_rounded(name: &str, got: &Tensor, f64_value: &Tensor) {
    assert_eq!(got.dtype(), DType::F32, "{name}");
    assert_eq!(got.shape(), f64_value.shape(), "{name}");
    let rounded: Vec<f64> = f64_value
        .to_vec()
        .iter()
        .map(|&v| f64::from(v as f32))
        .collect();
    assert_eq!(got.to_vec(), rounded, "{name}");
}

/// `got` is f32 and within `n` f32 ulps of `f64_value`.
fn assert_within_ulps(name: &str, got: &Tensor, f64_value: &Tensor, n: f64) {
    assert_eq!(got.dtype(), DType::F32, "{name}");
    assert_eq!(got.shape(), f64_value.shape(), "{name}");
    for (i, (a, b)) in got.to_vec().iter().zip(f64_value.to_vec()).enumerate() {
        if b == 0.0 || !b.is_finite() {
            assert!(
                a.abs() < 1e-6 || a.to_bits() == b.to_bits(),
                "{name}[{i}]: {a} vs {b}"
            );
            continue;
        }
        assert!(
            ulps(*a, b) <= n,
            "{name}[{i}]: {a} vs {b} ({} ulps)",
            ulps(*a, b)
        );
    }
}

#[test]
fn construction_readers_and_rounding() {
    let x = Tensor::from_vec_f32(vec![0.1, -2.5, 3.0], &[3]).unwrap();
    assert_eq!(x.dtype(), DType::F32);
    assert_eq!(x.to_vec(), vec![f64::from(0.1f32), -2.5, 3.0]);
    assert_eq!(x.to_vec_f32(), vec![0.1f32, -2.5, 3.0]);
    // f64 → f32 rounds to nearest; f32 → f64 is exact.
    let y = Tensor::from_vec(vec![0.1, 1.0 + 1e-9], &[2])
        .unwrap()
        .float();
    assert_eq!(y.to_vec(), vec![f64::from(0.1f32), 1.0]);
    assert_eq!(y.double().dtype(), DType::F64);
    assert_eq!(y.double().to_vec(), y.to_vec());
    // 0-d f32 values.
    let s = Tensor::scalar(0.1).float();
    assert_eq!(s.dtype(), DType::F32);
    assert_eq!(s.ndim(), 0);
    assert_eq!(s.item(), f64::from(0.1f32));
    assert!(Tensor::from_vec_f32(vec![1.0; 3], &[2, 2]).is_err());
    // Display names the dtype, as PyTorch does for a dtype other than the default.
    assert_eq!(
        Tensor::from_vec_f32(vec![1.5, 2.0], &[2])
            .unwrap()
            .to_string(),
        "tensor([1.5000, 2.0000], dtype=torch.float32)"
    );
    let z = Tensor::scalar(14.0).float().requires_grad() * 1.0;
    assert_eq!(
        z.to_string(),
        "tensor(14., dtype=torch.float32, grad_fn=<MulBackward0>)"
    );
    assert_eq!(Tensor::scalar(14.0).to_string(), "tensor(14.)");
}

#[test]
fn native_kernels_equal_the_f64_computation_rounded() {
    // Exactly representable inputs: matmul, add, relu, mul, sub, sums.
    let (a32, a) = both(dyadic(12 * 40, 1), &[12, 40]);
    let (b32, b) = both(dyadic(40 * 9, 2), &[40, 9]);
    let (c32, c) = both(dyadic(9, 3), &[9]);
    // Large enough for the gemm (not the small-product loop), and small.
    let (big32, big) = both(dyadic(64 * 70, 4), &[64, 70]);
    let (w32, w) = both(dyadic(70 * 50, 5), &[70, 50]);
    assert_rounded("gemm", &big32.matmul(&w32), &big.matmul(&w));
    assert_rounded("gemm bt", &big32.matmul(&big32.t()), &big.matmul(&big.t()));
    assert_rounded("gemm at", &w32.t().matmul(&w32), &w.t().matmul(&w));
    assert_rounded("small", &a32.matmul(&b32), &a.matmul(&b));
    assert_rounded(
        "matvec",
        &a32.matmul(&b32.narrow(1, 0, 1)),
        &a.matmul(&b.narrow(1, 0, 1)),
    );
    let z32 = a32.matmul(&b32) + &c32;
    let z = a.matmul(&b) + &c;
    assert_rounded("bias add", &z32, &z);
    assert_rounded("relu", &z32.relu(), &z.relu());
    assert_rounded("mul", &(&z32 * &z32), &(&z * &z));
    assert_rounded("sub", &(&z32 - &z32.relu()), &(&z - &z.relu()));
    assert_rounded("scalar mul", &(0.5 * &z32), &(0.5 * &z));
    assert_rounded("scalar sub", &(&z32 - 0.25), &(&z - 0.25));
    assert_rounded("sum", &z32.sum(), &z.sum());
    assert_rounded(
        "sum rows",
        &z32.sum_dim(&[0], false),
        &z.sum_dim(&[0], false),
    );
    assert_rounded("sum_to", &z32.sum_to_shape(&[9]), &z.sum_to_shape(&[9]));
    assert_rounded("expand", &c32.expand(&[3, 9]), &c.expand(&[3, 9]));
    // Not exact in either dtype: the f64 value rounded once.
    assert_rounded("mean", &z32.mean(), &z.mean());
    assert_rounded("0.1 *", &(0.1 * &z32), &(0.1 * &z));
    assert_rounded("div", &(&z32 / 3.0), &(&z / 3.0));
    // Transcendental: within a few f32 ulps of the f64 value of the same
    // (f32) inputs.
    let scaled32 = &z32 * 0.01;
    let scaled = scaled32.double();
    assert_within_ulps(
        "log_softmax",
        &scaled32.log_softmax(1),
        &scaled.log_softmax(1),
        4.0,
    );
    assert_within_ulps("softmax", &scaled32.softmax(1), &scaled.softmax(1), 4.0);
    assert_within_ulps("exp", &scaled32.exp(), &scaled.exp(), 1.0);
    assert_within_ulps("tanh", &scaled32.tanh(), &scaled.tanh(), 1.0);
}

#[test]
fn promotion_follows_pytorch() {
    let x32 = Tensor::from_vec_f32(vec![1.0, 2.0, 3.0], &[3]).unwrap();
    let x64 = tensor![0.5, 0.25, 0.125];
    let s64 = Tensor::scalar(0.5);
    let s32 = Tensor::scalar(0.5).float();
    // Same dtype keeps it; different dtypes of one kind of operand: f64.
    assert_eq!((&x32 + &x32).dtype(), DType::F32);
    assert_eq!((&x32 + &x64).dtype(), DType::F64);
    assert_eq!((&x64 * &x32).to_vec(), vec![0.5, 0.5, 0.375]);
    assert_eq!((&s32 + &s64).dtype(), DType::F64);
    // A tensor with axes decides over a 0-d one.
    assert_eq!((&x32 * &s64).dtype(), DType::F32);
    assert_eq!((&s64 - &x32).dtype(), DType::F32);
    assert_eq!((&x64 * &s32).dtype(), DType::F64);
    // Rust constants never promote.
    assert_eq!((&x32 * 0.1).dtype(), DType::F32);
    assert_eq!((2.0 - &x32).dtype(), DType::F32);
    assert_eq!((&s32 * 2.0).dtype(), DType::F32);
    // Structural operations promote too.
    let m32 = x32.reshape(&[3, 1]);
    assert_eq!(m32.matmul(&x64.reshape(&[1, 3])).dtype(), DType::F64);
    assert_eq!(
        Tensor::cat(&[x32.clone(), x64.clone()], 0).dtype(),
        DType::F64
    );
    assert_eq!(
        Tensor::cat(&[x32.clone(), x32.clone()], 0).dtype(),
        DType::F32
    );
    assert_eq!(x32.dot(&x32).dtype(), DType::F32);
    assert_eq!(x32.dot(&x64).dtype(), DType::F64);
    assert_eq!(x32.dot(&x64).item(), 0.5 + 0.5 + 0.375);
    // Comparisons keep the operands' dtype (PyTorch's bool mask, as 0/1),
    // and a mask does not promote `where_`.
    assert_eq!(x32.gt(&s64).dtype(), DType::F32);
    let mask = x64.gt(&Tensor::scalar(0.2));
    let w = Tensor::where_(&mask, &x32, &(-&x32));
    assert_eq!(w.dtype(), DType::F32);
    assert_eq!(w.to_vec(), vec![1.0, 2.0, -3.0]);
}

#[test]
fn gradients_have_the_dtype_of_their_tensor() {
    let x32 = Tensor::from_vec_f32(vec![1.0, -2.0, 3.0], &[3])
        .unwrap()
        .requires_grad();
    let x64 = tensor![0.5, 0.25, 0.125].requires_grad();
    // loss = Σ x32 ⊙ x64 + Σ x32² (f64): ∂/∂x32 = x64 + 2 x32, ∂/∂x64 = x32.
    let loss = (&x32 * &x64).sum() + (&x32 * &x32).sum();
    assert_eq!(loss.dtype(), DType::F64);
    loss.backward().unwrap();
    let g32 = x32.grad().unwrap();
    let g64 = x64.grad().unwrap();
    assert_eq!(g32.dtype(), DType::F32);
    assert_eq!(g64.dtype(), DType::F64);
    assert_eq!(g32.to_vec(), vec![2.5, -3.75, 6.125]);
    assert_eq!(g64.to_vec(), vec![1.0, -2.0, 3.0]);
    // Through an explicit cast both ways.
    let y = tensor![0.1, 0.2].requires_grad();
    let l = (y.float() * 3.0).double().sum();
    let gy = autograd::grad(&[l], std::slice::from_ref(&y), None, GradOptions::default())
        .unwrap()
        .remove(0);
    assert_eq!(gy.dtype(), DType::F64);
    assert_eq!(gy.to_vec(), vec![3.0, 3.0]);
    assert_eq!(y.float().grad_fn(), Some("ToCopyBackward0"));
    // A 0-d f32 leaf and an f32 root: backward seeds in f32.
    let s = Tensor::scalar(1.5).float().requires_grad();
    let r = s.powi(3);
    r.backward().unwrap();
    let gs = s.grad().unwrap();
    assert_eq!(gs.dtype(), DType::F32);
    assert_eq!(gs.item(), 3.0 * 1.5 * 1.5);
    // A given output gradient of another dtype is cast to the output's.
    let v = Tensor::from_vec_f32(vec![1.0, 2.0], &[2])
        .unwrap()
        .requires_grad();
    let w = &v * 2.0;
    let g = autograd::grad(
        &[w],
        std::slice::from_ref(&v),
        Some(&[tensor![1.0, 0.5]]),
        GradOptions::default(),
    )
    .unwrap();
    assert_eq!(g[0].dtype(), DType::F32);
    assert_eq!(g[0].to_vec(), vec![2.0, 1.0]);
    // An input the output does not reach: zeros of its dtype.
    let unused = Tensor::from_vec_f32(vec![1.0], &[1])
        .unwrap()
        .requires_grad();
    let g = autograd::grad(
        &[(&v * &v).sum()],
        &[unused],
        None,
        GradOptions::RETAIN_GRAPH,
    )
    .unwrap();
    assert_eq!(g[0].dtype(), DType::F32);
}

#[test]
fn grad_of_grad_in_f32() {
    // d/dx x³ = 3x², d²/dx² = 6x at x = 1.5 (exact in f32).
    let x = Tensor::from_vec_f32(vec![1.5, -0.5], &[2])
        .unwrap()
        .requires_grad();
    let y = x.powi(3).sum();
    let g = autograd::grad(
        &[y],
        std::slice::from_ref(&x),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .unwrap();
    assert_eq!(g[0].dtype(), DType::F32);
    assert_eq!(g[0].to_vec(), vec![6.75, 0.75]);
    let h = autograd::grad(
        &[g[0].sum()],
        std::slice::from_ref(&x),
        None,
        GradOptions::default(),
    )
    .unwrap();
    assert_eq!(h[0].dtype(), DType::F32);
    assert_eq!(h[0].to_vec(), vec![9.0, -3.0]);
    // And through the transforms: grad of tanh twice, against the closed
    // form −2 tanh(x) sech²(x), within f32 rounding.
    let t = Tensor::scalar(0.5).float().requires_grad();
    let d1 = autograd::grad(
        &[t.tanh()],
        std::slice::from_ref(&t),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .unwrap();
    let d2 = autograd::grad(
        &[d1[0].clone()],
        std::slice::from_ref(&t),
        None,
        GradOptions::default(),
    )
    .unwrap();
    assert_eq!(d2[0].dtype(), DType::F32);
    let exact = -2.0 * 0.5f64.tanh() / 0.5f64.cosh().powi(2);
    assert!(
        (d2[0].item() - exact).abs() < 1e-6,
        "{} vs {exact}",
        d2[0].item()
    );
    // A batched backward (a Jacobian) of an f32 function stays f32.
    let z = Tensor::from_vec_f32(vec![1.0, 2.0], &[2])
        .unwrap()
        .requires_grad();
    let out = &z * &z;
    let jac =
        autograd::grad_batched(&[out], &[z], &[Tensor::eye(2)], GradOptions::default()).unwrap();
    assert_eq!(jac[0].dtype(), DType::F32);
    assert_eq!(jac[0].to_vec(), vec![2.0, 0.0, 0.0, 4.0]);
}

/// A small MLP's loss and parameter gradients (relu(x W1 + b1) W2 + b2,
/// log-softmax cross-entropy against one-hot `picks`), in `dtype`.
fn mlp_step(dtype: DType) -> (f64, Vec<Tensor>) {
    let g = |shape: &[usize], seed: u64| (Tensor::rand(shape, seed) - 0.5).to_dtype(dtype);
    let x = g(&[16, 30], 1) * 4.0;
    let params: Vec<Tensor> = [g(&[30, 20], 2), g(&[20], 3), g(&[20, 5], 4), g(&[5], 5)]
        .into_iter()
        .map(Tensor::requires_grad)
        .collect();
    let labels: Vec<usize> = (0..16).map(|i| (i * 3) % 5).collect();
    let picks = (Tensor::one_hot(&labels, 5).unwrap() * (-1.0 / 16.0)).to_dtype(dtype);
    let logits = (x.matmul(&params[0]) + &params[1])
        .relu()
        .matmul(&params[2])
        + &params[3];
    let loss = (logits.log_softmax(1) * &picks).sum();
    assert_eq!(loss.dtype(), dtype);
    loss.backward().unwrap();
    (
        loss.item(),
        params.iter().map(|p| p.grad().unwrap()).collect(),
    )
}

#[test]
fn an_f32_mlp_step_agrees_with_the_f64_one() {
    // The f32 inputs are the f64 ones rounded, so the two differ by f32
    // rounding only: relative 1e-6 of the largest entry (the gradients'
    // f64 values are checked by finite differences in the bench's W3 tests
    // and by gradcheck of every op).
    let (l64, g64) = mlp_step(DType::F64);
    let (l32, g32) = mlp_step(DType::F32);
    assert!((l64 - l32).abs() <= 1e-6 * l64.abs(), "{l64} vs {l32}");
    for (i, (a, b)) in g32.iter().zip(&g64).enumerate() {
        assert_eq!(a.dtype(), DType::F32);
        assert_eq!(b.dtype(), DType::F64);
        let scale = b.to_vec().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (u, v) in a.to_vec().iter().zip(b.to_vec()) {
            assert!(
                (u - v).abs() <= 1e-6 * scale,
                "param {i}: {u} vs {v} (scale {scale})"
            );
        }
    }
}

#[test]
fn ops_without_an_f32_kernel_give_f32_results() {
    // Each op on f32 inputs: an f32 value within a few ulps of the f64
    // computation, and an f32 gradient close to the f64 one.
    let base = tensor![[0.3, -1.2, 0.7], [1.9, 0.4, -0.6]];
    type Op = fn(&Tensor) -> Tensor;
    let ops: Vec<(&str, Op)> = vec![
        ("sin", |x| x.sin()),
        ("sigmoid", |x| x.sigmoid()),
        ("softplus", |x| x.softplus()),
        ("powf", |x| x.abs().powf(1.5)),
        ("atan2", |x| x.atan2(&x.t().reshape(&[2, 3]))),
        ("max", |x| x.max(&x.t().reshape(&[2, 3]))),
        ("div", |x| x / &(x * x + 1.0)),
        ("amax", |x| x.amax(&[1], false)),
        ("amin", |x| x.amin(&[0], true)),
        ("prod", |x| x.prod_dim(&[1], false)),
        ("logsumexp", |x| x.logsumexp(1, false)),
        ("mean_dim", |x| x.mean_dim(&[0], false)),
        ("permute", |x| x.permute(&[1, 0]) * 1.0),
        ("unsqueeze", |x| x.unsqueeze(0).squeeze(Some(0)) * 1.0),
        ("narrow", |x| x.narrow(1, 1, 2)),
        ("index_select", |x| x.index_select(1, &[2, 0, 2])),
        ("get", |x| x.get(&[1, 2])),
        ("select", |x| x.select(0, 1)),
        ("cat", |x| Tensor::cat(&[x.clone(), x.sin()], 0)),
        ("stack", |x| Tensor::stack(&[x.clone(), x.exp()], 1)),
        ("where", |x| {
            Tensor::where_(&x.gt(&Tensor::scalar(0.0)), x, &x.cos())
        }),
        ("trace", |x| x.matmul(&x.t()).trace()),
        ("dot", |x| x.flatten().dot(&x.flatten().exp())),
        ("matvec", |x| x.matmul(&x.select(0, 0))),
        ("batched matmul", |x| {
            let b = x.reshape(&[2, 1, 3]);
            b.matmul(&b.permute(&[0, 2, 1]))
        }),
    ];
    for (name, op) in ops {
        let x64 = base.detach().requires_grad();
        let x32 = base.float().requires_grad();
        let (y64, y32) = (op(&x64), op(&x32));
        assert_within_ulps(name, &y32, &y64.detach(), 8.0);
        let w = Tensor::linspace(0.5, 1.5, y64.numel()).reshape(y64.shape());
        (&y64 * &w).sum().backward().unwrap();
        (&y32 * &w).sum().backward().unwrap();
        let (g64, g32) = (x64.grad().unwrap(), x32.grad().unwrap());
        assert_eq!(g32.dtype(), DType::F32, "{name}: gradient");
        for (u, v) in g32.to_vec().iter().zip(g64.to_vec()) {
            assert!(
                (u - v).abs() <= 1e-5 * v.abs().max(1.0),
                "{name}: gradient {u} vs {v}"
            );
        }
    }
}

#[test]
fn deferred_f32_products_know_their_dtype_unread() {
    let a = Tensor::from_vec_f32(vec![1.0, 2.0, 3.0, 4.0], &[2, 2])
        .unwrap()
        .requires_grad();
    let p = a.matmul(&a);
    assert_eq!(p.dtype(), DType::F32);
    let t = p.trace();
    assert_eq!(t.dtype(), DType::F32);
    // trace(A²) = 1 + 2·2·3 + 16 = 29; d/dA trace(A²) = 2 Aᵀ.
    assert_eq!(t.item(), 29.0);
    t.backward().unwrap();
    let g = a.grad().unwrap();
    assert_eq!(g.dtype(), DType::F32);
    assert_eq!(g.to_vec(), vec![2.0, 6.0, 4.0, 8.0]);
}

#[test]
fn f32_sigmoid_backward_is_pytorchs() {
    // Seed 000 Q3 in float32: a = σ(w·x + b) at w = 1, x = 2, b = 3. PyTorch's
    // f32 backward is (1 − y)·y from the rounded y = σ(5), times x: the seed
    // prints 0.013296065852046013 (the f64 value is 0.013296113341580066).
    let w = Tensor::scalar(1.0).float().requires_grad();
    let (x, b) = (Tensor::scalar(2.0).float(), Tensor::scalar(3.0).float());
    let a = (&(&w * &x) + &b).sigmoid();
    a.backward().unwrap();
    let g = w.grad().unwrap();
    assert_eq!(g.dtype(), DType::F32);
    assert_eq!(g.to_vec(), vec![0.013296065852046013]);
    // f64 keeps σ(x)σ(−x): exact in the tail, where 1 − y is 0 in f32.
    let w = Tensor::scalar(1.0).requires_grad();
    (w.clone() * 40.0).sigmoid().backward().unwrap();
    let g = w.grad().unwrap().item();
    assert!((g - 40.0 * (-40f64).exp() / (1.0 + (-40f64).exp()).powi(2)).abs() <= 1e-15 * g);
}
