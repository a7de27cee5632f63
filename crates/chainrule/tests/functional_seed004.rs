//! Seed 004 by the JAX-style transforms: every example's comparison of
//! automatic against analytic, at 1e-12 relative, with random data of
//! sizes 1, 3 and 50 (non-symmetric A). The analytic side is computed
//! here with plain loops over f64, apart from the library's tensor ops.

use chainrule::functional::{derivative, grad, hessian, jacfwd, jacrev};
use chainrule::{Real, Tensor};

const SIZES: [usize; 3] = [1, 3, 50];

/// A row-major matrix of plain f64 for the analytic side.
#[derive(Clone, Debug)]
struct Mat {
    rows: usize,
    cols: usize,
    v: Vec<f64>,
}

impl Mat {
    fn of(t: &Tensor) -> Mat {
        let (rows, cols) = match t.shape() {
            [] => (1, 1),
            [n] => (*n, 1),
            [r, c] => (*r, *c),
            s => panic!("not a matrix: {s:?}"),
        };
        Mat {
            rows,
            cols,
            v: t.to_vec(),
        }
    }
    fn at(&self, i: usize, j: usize) -> f64 {
        self.v[i * self.cols + j]
    }
    fn from_fn(rows: usize, cols: usize, f: impl Fn(usize, usize) -> f64) -> Mat {
        let v = (0..rows * cols).map(|k| f(k / cols, k % cols)).collect();
        Mat { rows, cols, v }
    }
    fn t(&self) -> Mat {
        Mat::from_fn(self.cols, self.rows, |i, j| self.at(j, i))
    }
    fn mul(&self, o: &Mat) -> Mat {
        assert_eq!(self.cols, o.rows);
        Mat::from_fn(self.rows, o.cols, |i, j| {
            (0..self.cols).map(|k| self.at(i, k) * o.at(k, j)).sum()
        })
    }
    fn add(&self, o: &Mat) -> Mat {
        Mat::from_fn(self.rows, self.cols, |i, j| self.at(i, j) + o.at(i, j))
    }
    fn sub(&self, o: &Mat) -> Mat {
        Mat::from_fn(self.rows, self.cols, |i, j| self.at(i, j) - o.at(i, j))
    }
    fn scale(&self, s: f64) -> Mat {
        Mat::from_fn(self.rows, self.cols, |i, j| self.at(i, j) * s)
    }
}

/// Uniform in [−1, 1) from the SplitMix64 stream of `seed`.
fn random(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand(shape, seed) * 2.0 - 1.0
}

/// max |got − want| ≤ tol · max |want|, with the shape checked.
fn assert_rel(got: &Tensor, want: &Mat, shape: &[usize], tol: f64, what: &str) {
    assert_eq!(got.shape(), shape, "{what}: shape");
    let g = got.to_vec();
    assert_eq!(g.len(), want.v.len(), "{what}: size");
    let scale = want.v.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    let diff = g
        .iter()
        .zip(&want.v)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        diff <= tol * scale,
        "{what}: max difference {diff:e} against scale {scale:e}"
    );
}

fn assert_nonsymmetric(a: &Mat) {
    if a.rows > 1 {
        assert!(
            (0..a.rows).any(|i| (0..i).any(|j| a.at(i, j) != a.at(j, i))),
            "A should not be symmetric"
        );
    }
}

#[test]
fn quadratic_form_gradient_and_hessian() {
    for (k, &n) in SIZES.iter().enumerate() {
        let seed = 100 * k as u64;
        let a = random(&[n, n], seed + 1);
        let b = random(&[n], seed + 2);
        let x = random(&[n], seed + 3);
        let c = 0.75;
        let f = |x: &Tensor| x.dot(&a.matmul(x)) * 0.5 + b.dot(x) + c;
        let (am, bm, xm) = (Mat::of(&a), Mat::of(&b), Mat::of(&x));
        assert_nonsymmetric(&am);
        let sym = am.add(&am.t()).scale(0.5);
        let what = format!("n = {n}");
        assert_rel(&grad(f)(&x), &sym.mul(&xm).add(&bm), &[n], 1e-12, &what);
        assert_rel(&hessian(f)(&x), &sym, &[n, n], 1e-12, &what);
        // The value too, as ½xᵀAx + bᵀx + c.
        let value = 0.5 * xm.t().mul(&am).mul(&xm).v[0] + bm.t().mul(&xm).v[0] + c;
        assert!((f(&x).item() - value).abs() <= 1e-12 * value.abs().max(1.0));
    }
}

#[test]
fn trace_gradient_is_a_transpose_b_transpose() {
    for (k, &n) in SIZES.iter().enumerate() {
        // Rectangular: A is n×(n+1), X (n+1)×(n+2), B (n+2)×n.
        let seed = 200 + 100 * k as u64;
        let a = random(&[n, n + 1], seed + 1);
        let x = random(&[n + 1, n + 2], seed + 2);
        let b = random(&[n + 2, n], seed + 3);
        let f = |x: &Tensor| a.matmul(x).matmul(&b).trace();
        let (am, xm, bm) = (Mat::of(&a), Mat::of(&x), Mat::of(&b));
        let what = format!("n = {n}");
        let want = am.t().mul(&bm.t());
        assert_rel(&grad(f)(&x), &want, &[n + 1, n + 2], 1e-12, &what);
        let axb = am.mul(&xm).mul(&bm);
        let tr: f64 = (0..n).map(|i| axb.at(i, i)).sum();
        assert!((f(&x).item() - tr).abs() <= 1e-12 * tr.abs().max(1.0));
    }
}

#[test]
fn least_squares_gradient_and_hessian() {
    for (k, &n) in SIZES.iter().enumerate() {
        // A is (n+2)×n: overdetermined, as in a regression.
        let seed = 300 + 100 * k as u64;
        let m = n + 2;
        let a = random(&[m, n], seed + 1);
        let b = random(&[m], seed + 2);
        let x = random(&[n], seed + 3);
        let f = |x: &Tensor| {
            let r = a.matmul(x) - &b;
            r.dot(&r) * 0.5
        };
        let (am, bm, xm) = (Mat::of(&a), Mat::of(&b), Mat::of(&x));
        let what = format!("n = {n}");
        let residual = am.mul(&xm).sub(&bm);
        assert_rel(&grad(f)(&x), &am.t().mul(&residual), &[n], 1e-12, &what);
        assert_rel(&hessian(f)(&x), &am.t().mul(&am), &[n, n], 1e-12, &what);
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// σ(z)·a and σ(z)σ(−z)·aaᵀ (1 − σ(z) = σ(−z), which does not cancel).
fn logistic_analytic(a: &Mat, z: f64) -> (Mat, Mat) {
    let g = a.scale(sigmoid(z));
    let h = a.mul(&a.t()).scale(sigmoid(z) * sigmoid(-z));
    (g, h)
}

#[test]
fn logistic_gradient_and_hessian() {
    for (k, &n) in SIZES.iter().enumerate() {
        let seed = 400 + 100 * k as u64;
        let a = random(&[n], seed + 1);
        let x = random(&[n], seed + 2);
        let f = |x: &Tensor| a.dot(x).softplus();
        let (am, xm) = (Mat::of(&a), Mat::of(&x));
        let z = am.t().mul(&xm).v[0];
        let (g, h) = logistic_analytic(&am, z);
        let what = format!("n = {n}, z = {z}");
        assert_rel(&grad(f)(&x), &g, &[n], 1e-12, &what);
        assert_rel(&hessian(f)(&x), &h, &[n, n], 1e-12, &what);
    }
}

#[test]
fn logistic_is_stable_far_in_the_tails() {
    // a = (1, 2, 4), x = (800, 0, 0): ⟨a, x⟩ = 800 exactly.
    let a = Tensor::from_vec(vec![1.0, 2.0, 4.0], &[3]).unwrap();
    let f = |x: &Tensor| a.dot(x).softplus();
    let x = Tensor::from_vec(vec![800.0, 0.0, 0.0], &[3]).unwrap();
    assert_eq!(f(&x).item(), 800.0);
    // σ(800) = 1 and σ(800)σ(−800) = e⁻⁸⁰⁰ underflows to 0.
    assert_eq!(grad(f)(&x).to_vec(), vec![1.0, 2.0, 4.0]);
    assert_eq!(hessian(f)(&x).to_vec(), vec![0.0; 9]);
    // At ⟨a, x⟩ = ±40 the Hessian is about e⁻⁴⁰·aaᵀ = 4.2e-18·aaᵀ; written
    // as σ(1 − σ) it would be 0 at +40, where σ(40) rounds to 1.
    for z in [40.0, -40.0] {
        let x = Tensor::from_vec(vec![z, 0.0, 0.0], &[3]).unwrap();
        let (g, h) = logistic_analytic(&Mat::of(&a), z);
        assert_rel(&grad(f)(&x), &g, &[3], 1e-12, &format!("z = {z}"));
        assert_rel(&hessian(f)(&x), &h, &[3, 3], 1e-12, &format!("z = {z}"));
        assert!(h.v[0] > 0.0);
    }
}

#[test]
fn tanh_fourth_derivative_by_nested_grad_and_taylor_mode() {
    let t = 0.5f64.tanh();
    let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
    // The number (JAX in f64) and the closed form agree to rounding.
    assert!((closed - 3.952_219_563_724_582_5).abs() <= 1e-15 * closed);
    let nested = grad(grad(grad(grad(|x: &Tensor| x.tanh()))))(&Tensor::scalar(0.5)).item();
    assert!(
        (nested - closed).abs() <= 1e-14 * closed,
        "nested grad {nested}"
    );
    let taylor = derivative(|x| x.tanh(), 4)(0.5);
    assert!((taylor - closed).abs() <= 1e-14 * closed, "Taylor {taylor}");
}

/// cos x by its first 20 Taylor terms, written once for any number type.
fn taylor_cosine<T: Real>(x: T) -> T {
    let x2 = x.square();
    let mut term = T::from_f64(1.0);
    let mut sum = term.clone();
    for n in 1..20 {
        let k = (2 * n) as f64;
        term = -(term * x2.clone()) / (k * (k - 1.0));
        sum = sum + term.clone();
    }
    sum
}

#[test]
fn gradient_of_the_taylor_series_of_cos_is_minus_sin() {
    // On [−3, 3] the 20-term series' truncation error in the derivative is
    // below 3^38/38! ≈ 2e-27: what remains is rounding.
    let g = grad(|x: &Tensor| taylor_cosine(x.clone()));
    for x in [-3.0, -1.5, 0.0, 0.5, 1.0, 2.0, 3.0] {
        let d = g(&Tensor::scalar(x)).item();
        let want = -f64::sin(x);
        assert!(
            (d - want).abs() <= 1e-12 * want.abs().max(1.0),
            "x = {x}: {d}"
        );
    }
    // On a vector, elementwise through `sum`: the gradient has the input's shape.
    let x = Tensor::linspace(-2.0, 2.0, 9);
    let d = grad(|x: &Tensor| taylor_cosine(x.clone()).sum())(&x);
    assert_eq!(d.shape(), &[9]);
    for (xi, di) in x.to_vec().iter().zip(d.to_vec()) {
        assert!((di + xi.sin()).abs() <= 1e-12);
    }
}

#[test]
fn hessians_by_forward_and_reverse_over_reverse_agree() {
    // jacfwd(grad f) (the hessian) against jacrev(grad f), on the seed's
    // least-squares and logistic functions at n = 50.
    let n = 50;
    let a = random(&[n + 2, n], 901);
    let b = random(&[n + 2], 902);
    let x = random(&[n], 903);
    let ls = |x: &Tensor| {
        let r = a.matmul(x) - &b;
        r.dot(&r) * 0.5
    };
    let v = random(&[n], 904);
    let lg = |x: &Tensor| v.dot(x).softplus() + x.sin().sum();
    for (name, f) in [
        ("least squares", &ls as &dyn Fn(&Tensor) -> Tensor),
        ("logistic", &lg),
    ] {
        let fwd = jacfwd(grad(f))(&x);
        let rev = jacrev(grad(f))(&x);
        assert_rel(&fwd, &Mat::of(&rev), &[n, n], 1e-14, name);
    }
}
