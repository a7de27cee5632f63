//! The Tensor API without gradients: construction, operators, shapes,
//! reductions, indexing and printing.

use chainrule::random::SplitMix64;
use chainrule::{tensor, Error, Real, Tensor};

#[test]
fn literals_and_constructors() {
    let s = Tensor::scalar(3.5);
    assert_eq!((s.ndim(), s.numel(), s.item()), (0, 1, 3.5));
    let v = tensor![1.0, 2.0, 3.0];
    assert_eq!(v.shape(), &[3]);
    let m = tensor![[1.0, 2.0], [3.0, 4.0]];
    assert_eq!(m.shape(), &[2, 2]);
    assert_eq!(m.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    let c = tensor![[[1.0], [2.0]], [[3.0], [4.0]]];
    assert_eq!(c.shape(), &[2, 2, 1]);
    assert_eq!(Tensor::zeros(&[2, 3]).to_vec(), vec![0.0; 6]);
    assert_eq!(Tensor::ones(&[2]).to_vec(), vec![1.0; 2]);
    assert_eq!(Tensor::full(&[], 7.0).item(), 7.0);
    assert_eq!(
        Tensor::eye(3).to_vec(),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    );
    assert_eq!(
        Tensor::arange(1.0, 2.0, 0.5).unwrap().to_vec(),
        vec![1.0, 1.5]
    );
    assert_eq!(
        Tensor::linspace(0.0, 1.0, 5).to_vec(),
        vec![0.0, 0.25, 0.5, 0.75, 1.0]
    );
    assert_eq!(
        Tensor::from_vec(vec![1.0, 2.0, 3.0], &[2, 2]).unwrap_err(),
        Error::ShapeMismatch {
            op: "from_vec",
            left: vec![3],
            right: vec![2, 2]
        }
    );
}

#[test]
fn seeded_random_tensors_follow_splitmix64() {
    let mut g = SplitMix64::new(42);
    let expected: Vec<f64> = (0..4).map(|_| g.next_f64()).collect();
    assert_eq!(Tensor::rand(&[2, 2], 42).to_vec(), expected);
    let mut g = SplitMix64::new(5);
    let expected: Vec<f64> = (0..3).map(|_| g.normal()).collect();
    assert_eq!(Tensor::randn(&[3], 5).to_vec(), expected);
    assert_eq!(
        Tensor::rand(&[3], 1).to_vec(),
        Tensor::rand(&[3], 1).to_vec()
    );
}

#[test]
fn operators_on_owned_borrowed_and_f64() {
    let a = tensor![1.0, 2.0];
    let b = tensor![3.0, 5.0];
    assert_eq!((&a + &b).to_vec(), vec![4.0, 7.0]);
    assert_eq!((a.clone() - b.clone()).to_vec(), vec![-2.0, -3.0]);
    assert_eq!((a.clone() * &b).to_vec(), vec![3.0, 10.0]);
    assert_eq!((&a / b.clone()).to_vec(), vec![1.0 / 3.0, 0.4]);
    assert_eq!((&a + 1.0).to_vec(), vec![2.0, 3.0]);
    assert_eq!((10.0 - &a).to_vec(), vec![9.0, 8.0]);
    assert_eq!((2.0 * a.clone()).to_vec(), vec![2.0, 4.0]);
    assert_eq!((1.0 / &b).to_vec(), vec![1.0 / 3.0, 0.2]);
    assert_eq!((-&a).to_vec(), vec![-1.0, -2.0]);
    assert_eq!((-a.clone()).to_vec(), vec![-1.0, -2.0]);
}

/// Generic code written once for every engine.
fn softsign<T: Real>(x: T) -> T {
    x.clone() / (T::from_f64(1.0) + x.abs())
}

#[test]
fn real_generic_code_runs_elementwise() {
    let x = tensor![-3.0, 1.0];
    assert_eq!(softsign(x).to_vec(), vec![-0.75, 0.5]);
    let t = tensor![0.5, 2.0];
    assert_eq!(t.powf(3.0).to_vec(), vec![0.125, 8.0]);
    assert_eq!(t.pow(&tensor![2.0, 0.5]).to_vec(), vec![0.25, 2f64.sqrt()]);
    assert_eq!(Real::max(&t, &Tensor::scalar(1.0)).to_vec(), vec![1.0, 2.0]);
    assert_eq!(
        t.atan2(&Tensor::scalar(1.0)).to_vec(),
        vec![0.5f64.atan2(1.0), 2f64.atan2(1.0)]
    );
    assert_eq!(tensor![-1.0, 0.0, 2.0].relu().to_vec(), vec![0.0, 0.0, 2.0]);
    assert_eq!(
        tensor![-1.0, 0.0, 2.0].sign().to_vec(),
        vec![-1.0, 0.0, 1.0]
    );
    assert!(tensor![-1.0].ln().item().is_nan());
}

#[test]
fn shape_mismatch_panics_name_the_op_and_both_shapes() {
    let r = std::panic::catch_unwind(|| tensor![1.0, 2.0] + tensor![1.0, 2.0, 3.0]);
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.contains("add") && msg.contains("[2]") && msg.contains("[3]"),
        "{msg}"
    );
    let r = std::panic::catch_unwind(|| Tensor::ones(&[2, 3]).matmul(&Tensor::ones(&[2, 3])));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("matmul") && msg.contains("[2, 3]"), "{msg}");
    assert!(Tensor::ones(&[2]).try_mul(&Tensor::ones(&[3])).is_err());
    assert!(Tensor::ones(&[2]).try_sub(&Tensor::ones(&[3])).is_err());
    assert!(Tensor::ones(&[2]).try_div(&Tensor::ones(&[1])).is_ok());
}

#[test]
fn reductions_with_axes_and_keepdim() {
    let x = Tensor::arange(1.0, 7.0, 1.0).unwrap().reshape(&[2, 3]);
    assert_eq!(x.sum_dim(&[0, 1], false).item(), 21.0);
    assert_eq!(x.sum_dim(&[-2], true).to_vec(), vec![5.0, 7.0, 9.0]);
    assert_eq!(x.sum_dim(&[-2], true).shape(), &[1, 3]);
    assert_eq!(x.mean().item(), 3.5);
    assert_eq!(x.prod_dim(&[1], false).to_vec(), vec![6.0, 120.0]);
    assert_eq!(x.amin(&[1], true).to_vec(), vec![1.0, 4.0]);
    assert_eq!(x.max_all().item(), 6.0);
    assert!(tensor![1.0, f64::NAN].max_all().item().is_nan());
    let e = x.try_mean_dim(&[5], false).unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn matmul_batched_broadcast_against_loops() {
    let a = Tensor::randn(&[2, 1, 3, 4], 1);
    let b = Tensor::randn(&[5, 4, 2], 2);
    let c = a.matmul(&b);
    assert_eq!(c.shape(), &[2, 5, 3, 2]);
    let (av, bv, cv) = (a.to_vec(), b.to_vec(), c.to_vec());
    for i in 0..2 {
        for j in 0..5 {
            for r in 0..3 {
                for s in 0..2 {
                    let mut acc = 0.0;
                    for k in 0..4 {
                        acc += av[i * 12 + r * 4 + k] * bv[j * 8 + k * 2 + s];
                    }
                    let got = cv[((i * 5 + j) * 3 + r) * 2 + s];
                    assert!((got - acc).abs() < 1e-13);
                }
            }
        }
    }
}

#[test]
fn indexing_and_joining() {
    let x = Tensor::arange(0.0, 24.0, 1.0).unwrap().reshape(&[2, 3, 4]);
    assert_eq!(x.get(&[1]).shape(), &[3, 4]);
    assert_eq!(x.get(&[1, 2, 3]).item(), 23.0);
    assert_eq!(
        x.select(2, 1).to_vec(),
        vec![1.0, 5.0, 9.0, 13.0, 17.0, 21.0]
    );
    assert_eq!(x.narrow(-1, 2, 2).shape(), &[2, 3, 2]);
    assert_eq!(x.permute(&[2, 0, 1]).shape(), &[4, 2, 3]);
    assert_eq!(x.permute(&[2, 0, 1]).get(&[3, 1, 2]).item(), 23.0);
    assert_eq!(x.transpose(0, 2).get(&[3, 2, 1]).item(), 23.0);
    assert!(x.try_permute(&[0, 0, 1]).is_err());
    let v = tensor![10.0, 20.0, 30.0];
    assert_eq!(
        v.index_select(0, &[2, 2, 0]).to_vec(),
        vec![30.0, 30.0, 10.0]
    );
    assert!(v.try_index_select(0, &[3]).is_err());
    let s = Tensor::stack(&[v.clone(), v.clone()], 1);
    assert_eq!(s.shape(), &[3, 2]);
    assert_eq!(s.to_vec(), vec![10.0, 10.0, 20.0, 20.0, 30.0, 30.0]);
    assert!(Tensor::try_cat(&[v.clone(), Tensor::ones(&[2, 2])], 0).is_err());
    assert!(Tensor::try_cat(&[], 0).is_err());
    assert_eq!(v.reshape(&[3, 1]).squeeze(Some(1)).shape(), &[3]);
    assert_eq!(v.unsqueeze(-1).shape(), &[3, 1]);
    assert_eq!(v.flatten().shape(), &[3]);
    assert_eq!(tensor![3.0, 9.0, 9.0, 1.0].argmax(), Some(1));
}

#[test]
fn softmax_family_against_closed_forms() {
    let xs = [0.5, -1.0, 2.0];
    let x = Tensor::from_vec(xs.to_vec(), &[3]).unwrap();
    let z: f64 = xs.iter().map(|v| v.exp()).sum();
    let p = x.softmax(0).to_vec();
    let lp = x.log_softmax(-1).to_vec();
    for i in 0..3 {
        assert!((p[i] - xs[i].exp() / z).abs() < 1e-15);
        assert!((lp[i] - (xs[i] - z.ln())).abs() < 1e-15);
    }
    assert!((x.logsumexp(0, false).item() - z.ln()).abs() < 1e-15);
    let m = tensor![[1.0, 2.0], [3.0, 4.0]];
    let rows = m.softmax(1).sum_dim(&[1], false).to_vec();
    assert!(rows.iter().all(|r| (r - 1.0).abs() < 1e-15));
    assert_eq!(m.logsumexp(1, true).shape(), &[2, 1]);
    // Infinite inputs do not make NaNs.
    let p = tensor![f64::NEG_INFINITY, 0.0].softmax(0).to_vec();
    assert_eq!(p, vec![0.0, 1.0]);
}

#[test]
fn display_follows_pytorch() {
    assert_eq!(Tensor::scalar(14.0).to_string(), "tensor(14.)");
    assert_eq!(Tensor::scalar(-0.5).to_string(), "tensor(-0.5000)");
    assert_eq!(
        tensor![[1.5, -2.25], [10.0, 0.0]].to_string(),
        "tensor([[ 1.5000, -2.2500],\n        [10.0000,  0.0000]])"
    );
    assert_eq!(
        tensor![1e-5, 1.0].to_string(),
        "tensor([1.0000e-05, 1.0000e+00])"
    );
    assert_eq!(tensor![f64::INFINITY, 1.0].to_string(), "tensor([inf, 1.])");
    let w = Tensor::ones(&[2, 2]).requires_grad();
    assert_eq!(
        w.to_string(),
        "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"
    );
    let d = format!("{:?}", tensor![0.1, 1.0 / 3.0]);
    assert!(d.contains("0.3333333333333333") && d.contains("[2]"), "{d}");
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [4]")]
fn an_operator_on_mismatched_shapes_panics_naming_both_shapes() {
    let _ = Tensor::zeros(&[2, 3]) + Tensor::zeros(&[4]);
}

#[test]
fn the_try_form_of_a_mismatch_is_an_error_naming_op_and_shapes() {
    let e = Tensor::zeros(&[2, 3])
        .try_add(&Tensor::zeros(&[4]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[2, 3]") && e.contains("[4]"), "{e}");
    let e = Tensor::zeros(&[2, 3])
        .try_matmul(&Tensor::zeros(&[2, 3]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("matmul"), "{e}");
}

/// Issue 16: sizes that overflow or exceed memory are errors, not panics or
/// aborts; literals have the rank of their nesting.
#[test]
fn huge_shapes_and_ranges_are_errors() {
    use chainrule::tensor::MAX_NUMEL;
    let e = Tensor::zeros(&[4])
        .try_reshape(&[(1 << 62) + 1, 4])
        .unwrap_err();
    assert!(
        matches!(e, Error::ShapeOverflow { op: "reshape", .. }),
        "{e}"
    );
    let e = Tensor::zeros(&[4])
        .try_expand(&[(1 << 62) + 1, 4])
        .unwrap_err();
    assert!(matches!(e, Error::ShapeOverflow { .. }), "{e}");
    for end in [1e30, 1e15] {
        let e = Tensor::arange(0.0, end, 1.0).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooManyElements {
                    op: "arange",
                    limit: MAX_NUMEL,
                    ..
                }
            ),
            "{e}"
        );
    }
    assert!(Tensor::from_vec(vec![], &[0, usize::MAX, 2]).is_err());
    assert!(Tensor::one_hot(&[0, 0], usize::MAX).is_err());
    assert_eq!(
        Tensor::arange(0.0, 5.0, 2.0).unwrap().to_vec(),
        vec![0.0, 2.0, 4.0]
    );
}

#[test]
fn literal_nesting_depth_is_the_rank() {
    assert_eq!(tensor![1.0].shape(), &[1]);
    assert_eq!(tensor![[1.0, 2.0]].shape(), &[1, 2]);
    assert_eq!(tensor![[1.0], [2.0]].shape(), &[2, 1]);
    assert_eq!(tensor![[[1.0, 2.0]]].shape(), &[1, 1, 2]);
    assert_eq!(tensor![].shape(), &[0]);
    assert_eq!(Tensor::scalar(1.0).ndim(), 0);
}
