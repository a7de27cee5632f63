//! Sparse Jacobians and Hessians (`chainrule::sparse`): on random functions
//! with banded, arrow, block-diagonal and random structure, the sparse
//! Hessian equals the dense one (nested duals, `forward::hessian_at`) and
//! the detected pattern holds every entry that is nonzero at random points
//! (it never misses a structural nonzero) and nothing outside the
//! structure that was built in; the same for Jacobians against
//! `forward::jacobian_at`; the extended Rosenbrock Hessian (W9) against its
//! closed form.

use chainrule::compiled::Traced;
use chainrule::forward::{hessian_at, jacobian_at};
use chainrule::functional::{sparse_hessian, try_sparse_hessian};
use chainrule::sparse::{column_coloring, star_coloring, Pattern, SparseHessian, SparseJacobian};
use chainrule::{BinaryOp, Real, UnaryOp};
use proptest::prelude::*;

mod common;
use common::{bin, close, one_plus_square, smooth_unary, smooth_unary_ops, un, Tree};

/// Smooth formulas of three local variables, with kinks left out (their
/// second derivatives are 0 almost everywhere, which would hide misses).
fn term() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (0..3usize).prop_map(Tree::Var),
        prop_oneof![Just(0.5), Just(2.0), Just(-1.5)].prop_map(Tree::Const),
    ];
    let ops = smooth_unary_ops();
    leaf.prop_recursive(3, 12, 2, move |inner| {
        prop_oneof![
            (proptest::sample::select(ops.clone()), inner.clone())
                .prop_map(|(op, a)| smooth_unary(op, a)),
            (
                proptest::sample::select(vec![BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| bin(op, a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| bin(
                BinaryOp::Div,
                a,
                one_plus_square(b)
            )),
            (inner.clone(), 2i32..4).prop_map(|(a, n)| Tree::Powi(Box::new(a), n)),
        ]
    })
}

/// The structures: which variables each term reads.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Banded(usize),
    Arrow,
    BlockDiagonal(usize),
    Random(u64),
}

fn sets(shape: Shape, n: usize) -> Vec<[usize; 3]> {
    match shape {
        Shape::Banded(b) => (0..n)
            .map(|i| [i, (i + 1).min(n - 1), (i + b).min(n - 1)])
            .collect(),
        Shape::Arrow => (0..n).map(|i| [0, i, i]).collect(),
        Shape::BlockDiagonal(s) => (0..n)
            .map(|i| {
                let start = i / s * s;
                let last = (start + s - 1).min(n - 1);
                [i, (i + 1).min(last), start]
            })
            .collect(),
        Shape::Random(seed) => {
            let mut z = seed;
            let mut next = move || {
                z = z
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (z >> 33) as usize % n
            };
            (0..n).map(|_| [next(), next(), next()]).collect()
        }
    }
}

/// Σ_k term_k(x[set_k]): a sum of element functions.
#[derive(Clone, Debug)]
struct Sum {
    terms: Vec<([usize; 3], Tree)>,
}

impl Sum {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        self.terms
            .iter()
            .map(|(s, t)| t.eval(&[x[s[0]].clone(), x[s[1]].clone(), x[s[2]].clone()]))
            .fold(T::from_f64(0.0), |a, b| a + b)
    }
    fn outputs<T: Real>(&self, x: &[T]) -> Vec<T> {
        self.terms
            .iter()
            .map(|(s, t)| t.eval(&[x[s[0]].clone(), x[s[1]].clone(), x[s[2]].clone()]))
            .collect()
    }
    /// Whether i and j appear in one term.
    fn together(&self, i: usize, j: usize) -> bool {
        self.terms
            .iter()
            .any(|(s, _)| s.contains(&i) && s.contains(&j))
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        (1usize..4).prop_map(Shape::Banded),
        Just(Shape::Arrow),
        (2usize..5).prop_map(Shape::BlockDiagonal),
        any::<u64>().prop_map(Shape::Random),
    ]
}

fn problem() -> impl Strategy<Value = (Sum, Vec<f64>, Vec<f64>)> {
    (shape(), 3usize..11).prop_flat_map(|(shape, n)| {
        let s = sets(shape, n);
        (
            proptest::collection::vec(term(), n).prop_map(move |ts| Sum {
                terms: s.iter().copied().zip(ts).collect(),
            }),
            proptest::collection::vec(-1.0f64..1.0, n),
            proptest::collection::vec(-1.0f64..1.0, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sparse_hessians_equal_dense_ones_and_never_miss_a_nonzero(
        (sum, x1, x2) in problem()
    ) {
        let n = x1.len();
        let mut h = SparseHessian::new(n, |x| sum.eval(x)).unwrap();
        let p = h.pattern().clone();
        prop_assert_eq!(&p, &p.transpose(), "symmetric");
        for (i, j) in p.iter() {
            prop_assert!(sum.together(i, j), "({}, {}) is outside the structure", i, j);
        }
        for x in [&x1, &x2] {
            let dense = hessian_at(|v| sum.eval(v), x);
            if dense.iter().flatten().any(|v| !v.is_finite()) {
                continue;
            }
            let m = h.eval(x).unwrap();
            for (i, row) in dense.iter().enumerate() {
                for (j, &d) in row.iter().enumerate() {
                    if d != 0.0 {
                        prop_assert!(p.contains(i, j), "missed ({}, {}) = {}", i, j, d);
                    }
                    prop_assert!(
                        close(m.get(i, j), d, 1e-10),
                        "H[{}][{}]: sparse {} dense {}", i, j, m.get(i, j), d
                    );
                }
            }
        }
    }

    #[test]
    fn sparse_jacobians_equal_dense_ones_and_never_miss_a_nonzero(
        (sum, x1, _) in problem()
    ) {
        let n = x1.len();
        let mut jac = SparseJacobian::new(n, |x| sum.outputs(x)).unwrap();
        let p = jac.pattern().clone();
        for (i, j) in p.iter() {
            prop_assert!(sum.terms[i].0.contains(&j), "({}, {}) is outside the structure", i, j);
        }
        let dense = jacobian_at(|v| sum.outputs(v), &x1).unwrap();
        let m = jac.eval(&x1).unwrap();
        for (i, row) in dense.iter().enumerate() {
            for (j, &d) in row.iter().enumerate() {
                if d != 0.0 {
                    prop_assert!(p.contains(i, j), "missed ({}, {})", i, j);
                }
                prop_assert!(close(m.get(i, j), d, 1e-12), "J[{}][{}]: {} vs {}", i, j, m.get(i, j), d);
            }
        }
    }
}

/// W9's function: Σ_{i<n} 100 (x_{i+1} − x_i²)² + (1 − x_i)².
fn rosenbrock<T: Real>(x: &[T]) -> T {
    x.windows(2)
        .map(|w| {
            (w[1].clone() - w[0].square()).square() * 100.0
                + (T::from_f64(1.0) - w[0].clone()).square()
        })
        .fold(T::from_f64(0.0), |s, t| s + t)
}

#[test]
fn extended_rosenbrock_has_the_closed_form_tridiagonal_hessian() {
    let n = 1000;
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 37 % 101) as f64 / 101.0) * 3.0 - 1.5)
        .collect();
    let mut h = SparseHessian::new(n, rosenbrock).unwrap();
    assert_eq!(h.pattern().nnz(), 3 * n - 2);
    assert_eq!(h.coloring().n_colors(), 3);
    let m = h.eval(&x).unwrap();
    for i in 0..n {
        let mut diag = if i + 1 < n {
            1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
        } else {
            0.0
        };
        if i > 0 {
            diag += 200.0;
        }
        assert!(
            close(m.get(i, i), diag, 1e-13),
            "H[{i}][{i}] = {} vs {diag}",
            m.get(i, i)
        );
        if i + 1 < n {
            assert_eq!(m.get(i, i + 1), -400.0 * x[i]);
            assert_eq!(m.get(i + 1, i), -400.0 * x[i]);
        }
    }
    // The transform agrees, and re-plans for another length.
    let t = sparse_hessian(rosenbrock);
    assert_eq!(t(&x).values(), m.values());
    assert_eq!(t(&x[..10]).nnz(), 28);
}

#[test]
fn linear_and_piecewise_constant_parts_add_no_pairs() {
    // x₀ + 3x₁ − x₂ is linear; sign and step cut dependencies; x₀·x₁ adds
    // only the cross pair; x₂/x₃ the cross pair and (3, 3).
    let mut h = SparseHessian::new(5, |x| {
        x[0] + x[1] * 3.0 - x[2]
            + (x[4].sin()).sign() * x[4].square()
            + x[4].step()
            + x[0] * x[1]
            + x[2] / x[3]
    })
    .unwrap();
    let entries: Vec<_> = h.pattern().iter().collect();
    assert_eq!(
        entries,
        vec![(0, 1), (1, 0), (2, 3), (3, 2), (3, 3), (4, 4)]
    );
    let m = h.eval(&[1.0, 2.0, 3.0, 4.0, 0.5]).unwrap();
    assert_eq!(m.get(0, 1), 1.0);
    assert_eq!(m.get(2, 3), -1.0 / 16.0);
    assert_eq!(m.get(3, 3), 2.0 * 3.0 / 64.0);
    assert_eq!(m.get(4, 4), 2.0);
}

#[test]
fn colourings_recover_arrow_and_dense_matrices() {
    let n = 7;
    let arrow = Pattern::from_entries(n, n, (0..n).flat_map(|i| [(0, i), (i, 0), (i, i)])).unwrap();
    assert_eq!(star_coloring(&arrow).n_colors(), 2);
    assert_eq!(column_coloring(&arrow).n_colors(), n);
    let f = |x: &[Traced]| {
        (1..x.len())
            .map(|i| (x[0] * x[i]).sin())
            .fold(Traced::from_f64(0.0), |a, b| a + b)
    };
    let x: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.2).collect();
    let mut h = SparseHessian::new(n, f).unwrap();
    assert_eq!(h.pattern(), &arrow);
    assert_eq!(h.coloring().n_colors(), 2);
    let dense = hessian_at(
        |v| {
            (1..v.len())
                .map(|i| (v[0] * v[i]).sin())
                .fold(Real::from_f64(0.0), |a, b| a + b)
        },
        &x,
    );
    let m = h.eval(&x).unwrap();
    assert_eq!(m.to_dense().len(), n);
    for (i, row) in dense.iter().enumerate() {
        for (j, &d) in row.iter().enumerate() {
            assert!(close(m.get(i, j), d, 1e-13));
        }
    }
    // A dense Hessian: every vertex its own colour.
    let mut full = SparseHessian::new(4, |x| (x[0] + x[1] + x[2] + x[3]).exp()).unwrap();
    assert_eq!(full.pattern().nnz(), 16);
    assert_eq!(full.coloring().n_colors(), 4);
    let m = full.eval(&[0.0; 4]).unwrap();
    assert!(m.values().iter().all(|&v| v == 1.0));
}

#[test]
fn errors_are_typed() {
    let h = try_sparse_hessian(|x| x[0].square());
    assert!(h(&[1.0]).is_ok());
    let mut plan = SparseHessian::new(2, |x| x[0] * x[1]).unwrap();
    assert!(matches!(
        plan.eval(&[1.0]),
        Err(chainrule::Error::LengthMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    // Inside another trace: traces do not nest.
    let nested = chainrule::compiled::grad_program(1, |x| {
        assert!(matches!(
            SparseHessian::new(1, |y| y[0].square()),
            Err(chainrule::Error::NestedTrace)
        ));
        x[0]
    });
    assert!(nested.is_ok());
    // No variables, no entries; a constant function, an empty pattern.
    assert_eq!(sparse_hessian(|_| Traced::from_f64(1.0))(&[]).nnz(), 0);
    let mut c = SparseHessian::new(3, |x| x[0] * 0.0 + 2.0).unwrap();
    assert_eq!(c.pattern().nnz(), 0);
    assert_eq!(c.eval(&[1.0, 2.0, 3.0]).unwrap().nnz(), 0);
    let _ = un(UnaryOp::Neg, Tree::Var(0));
}

/// A Hessian that is in fact dense, (x₁ + … + x₃₀₀₀)² with 9·10⁶ nonzeros,
/// is refused under a limit of 1,000 nonzeros while it is detected: the
/// count in the error stays near the limit (detection stopped there) rather
/// than the full 9·10⁶ that a check after detection would report; without
/// the limit, a small dense case still comes out whole.
#[test]
fn a_dense_hessian_stops_detection_at_the_limit() {
    let n = 3000;
    let sum = |x: &[Traced]| {
        let s = x.iter().skip(1).fold(x[0], |s, &xi| s + xi);
        s * s
    };
    match SparseHessian::with_max_nonzeros(n, 1000, sum) {
        Err(chainrule::Error::TooManyElements { op, numel, limit }) => {
            assert_eq!((op, limit), ("sparse_hessian", 1000));
            assert!(numel > 1000 && numel < 20_000, "stopped at {numel}");
        }
        other => panic!(
            "expected the limit's error, got {:?}",
            other.map(|h| h.pattern().nnz())
        ),
    }
    let small = SparseHessian::with_max_nonzeros(30, 900, sum).expect("900 nonzeros fit");
    assert_eq!(small.pattern().nnz(), 900);
}

/// Bit for bit, NaN matching any NaN.
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// Many repeated terms of several shapes: a product wrapping around (its
/// last instance reads x_{n−1} and x_0, so its inputs are gathered, not a
/// sliding window), an arrow `x_0·x_i²` (whose i = 0 term is another shape,
/// left to the whole-function program), a quotient read with a minus sign
/// and an exponential of a window of three.
fn repeated<T: Real>(x: &[T]) -> T {
    let n = x.len();
    let mut s = T::from_f64(0.0);
    for i in 0..n {
        let (j, k) = ((i + 1) % n, (i + 2) % n);
        s = s + (x[i].clone() * x[j].clone()).sin() + x[0].clone() * x[i].square();
        s = s - x[i].clone() / (T::from_f64(1.0) + x[k].square());
        if i + 2 < n {
            s = s + (x[i].clone() - x[i + 1].clone() * x[i + 2].clone() * 0.5).exp();
        }
    }
    s
}

/// Points with every kind of f64: finite, zeros, infinities, NaNs.
fn points(n: usize) -> Vec<Vec<f64>> {
    let finite: Vec<f64> = (0..n)
        .map(|i| ((i * 37 % 101) as f64 / 101.0) * 3.0 - 1.5)
        .collect();
    let mut zeros = finite.clone();
    let mut odd = finite.clone();
    for i in (0..n).step_by(3) {
        zeros[i] = if i % 2 == 0 { 0.0 } else { -0.0 };
    }
    let special = [f64::INFINITY, f64::NAN, f64::NEG_INFINITY, 0.0];
    for (c, i) in (0..n).step_by(5).enumerate() {
        odd[i] = special[c % special.len()];
    }
    vec![finite, zeros, odd, vec![0.0; n], vec![f64::NAN; n]]
}

/// A sum of repeated terms runs each shape's Hessian over lanes, 128 terms
/// per instruction, and the last `count mod 128` terms on scalars; with
/// lanes off, every term on scalars. The two give the same values bit for
/// bit (NaN for NaN), including at zeros, infinities and NaNs, for lengths
/// below, at and above multiples of the lane width.
#[test]
fn repeated_terms_over_lanes_equal_term_by_term_bit_for_bit() {
    for n in [1, 2, 3, 4, 5, 127, 128, 129, 130, 257, 300, 1000] {
        for (name, f) in [
            (
                "rosenbrock",
                rosenbrock::<Traced> as fn(&[Traced]) -> Traced,
            ),
            ("repeated", repeated::<Traced>),
        ] {
            let mut h = SparseHessian::new(n, f).unwrap();
            if n >= 3 {
                assert!(
                    h.repeated_terms() >= n - 1,
                    "{name} n = {n}: split into terms"
                );
            }
            for x in points(n) {
                h.set_lanes(true);
                let lanes = h.eval(&x).unwrap();
                h.set_lanes(false);
                let scalar = h.eval(&x).unwrap();
                assert!(
                    same_bits(lanes.values(), scalar.values()),
                    "{name} n = {n} at {:?}",
                    &x[..n.min(6)]
                );
                let mut into = vec![1.0; h.pattern().nnz()];
                h.set_lanes(true);
                h.eval_into(&x, &mut into).unwrap();
                assert!(
                    same_bits(&into, lanes.values()),
                    "eval_into, {name} n = {n}"
                );
            }
        }
    }
}

/// The split evaluation against the whole function's compressed products
/// (one program, [`SparseHessian::whole`]): the same pattern, and values
/// that differ only in the order in which the terms' contributions to an
/// entry are added (within 1e-14 of the matrix's largest entry).
#[test]
fn repeated_terms_agree_with_the_whole_program() {
    for n in [3, 4, 129, 1000] {
        for f in [
            rosenbrock::<Traced> as fn(&[Traced]) -> Traced,
            repeated::<Traced>,
        ] {
            let mut split = SparseHessian::new(n, f).unwrap();
            let mut whole = SparseHessian::whole(n, f).unwrap();
            assert_eq!(whole.repeated_terms(), 0);
            assert_eq!(split.pattern(), whole.pattern());
            let x = &points(n)[0];
            let (a, b) = (split.eval(x).unwrap(), whole.eval(x).unwrap());
            let scale = b.values().iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for ((i, j, u), v) in a.iter().zip(b.values()) {
                assert!(
                    (u - v).abs() <= 1e-14 * scale,
                    "n = {n}, H[{i}][{j}]: split {u}, whole {v}"
                );
            }
        }
    }
}

/// W9's off-diagonal, −400 x_i, comes from one term: exact on both paths.
#[test]
fn rosenbrock_off_diagonal_is_exact_with_lanes() {
    let n = 1000;
    let x = &points(n)[0];
    let mut h = SparseHessian::new(n, rosenbrock).unwrap();
    assert_eq!(h.repeated_terms(), 2 * (n - 1));
    let m = h.eval(x).unwrap();
    for (i, &xi) in x.iter().enumerate().take(n - 1) {
        assert_eq!(m.get(i, i + 1), -400.0 * xi);
        assert_eq!(m.get(i + 1, i), -400.0 * xi);
    }
}

/// One random formula of three variables repeated over a banded, arrow,
/// block-diagonal or random structure, long enough for full blocks of
/// lanes: the split evaluation (lanes on and off, bit for bit) against the
/// whole function's one program. Terms whose variables coincide (at the
/// ends of a band, an arrow's first term, random repeats) are other shapes
/// or are left to the whole-function program.
fn repeated_problem() -> impl Strategy<Value = (Shape, usize, Tree, Vec<f64>)> {
    (shape(), 130usize..300, term()).prop_flat_map(|(shape, n, t)| {
        (
            Just(shape),
            Just(n),
            Just(t),
            proptest::collection::vec(-1.0f64..1.0, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn repeated_random_terms_over_lanes_match_the_whole_program(
        (shape, n, t, x) in repeated_problem()
    ) {
        let sum = Sum { terms: sets(shape, n).into_iter().map(|s| (s, t.clone())).collect() };
        let mut split = SparseHessian::new(n, |v| sum.eval(v)).unwrap();
        let mut whole = SparseHessian::whole(n, |v| sum.eval(v)).unwrap();
        prop_assert_eq!(split.pattern(), whole.pattern());
        let lanes = split.eval(&x).unwrap();
        split.set_lanes(false);
        let scalar = split.eval(&x).unwrap();
        prop_assert!(same_bits(lanes.values(), scalar.values()), "{:?} {:?}", shape, t);
        let w = whole.eval(&x).unwrap();
        if w.values().iter().all(|v| v.is_finite()) {
            let scale = w.values().iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for ((i, j, u), v) in lanes.iter().zip(w.values()) {
                prop_assert!(
                    (u - v).abs() <= 1e-12 * scale,
                    "{:?} n = {}, H[{}][{}]: split {}, whole {}", shape, n, i, j, u, v
                );
            }
        }
    }
}
