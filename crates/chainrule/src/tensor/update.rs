//! The update of an optimiser step, `p ← p + α·g`, in one pass and in
//! `p`'s own buffer when nothing else holds it ([`Tensor::add_scaled_`]).

use super::broadcast::broadcast_shapes;
use super::dtype::Elem;
use super::kernels::{from_vec, unique_values};
use super::{same_shape, DType, Data, Tensor};
use crate::error::{Error, Result};

impl Tensor {
    /// `self ← self + alpha · other`, as PyTorch's `p.add_(g, alpha=α)`
    /// under `torch.no_grad()` (SGD's `p -= lr * g` is α = −lr): not
    /// recorded; `self` stays a leaf with its `requires_grad` flag, its
    /// gradient and its dtype, and `other` may broadcast to its shape.
    /// The values are those of `self + other * alpha` (α·g rounded to the
    /// element type, then added).
    ///
    /// A tensor's value never changes under another handle: when `self`
    /// is the only handle to its value and the buffer is not shared, the new
    /// values are written into that buffer (one pass, nothing allocated);
    /// otherwise `self` becomes a new leaf holding them and the other handles
    /// keep the old values.
    ///
    /// An `Err` if `self` is not a leaf ([`Error::NotALeaf`]) or `other`
    /// does not broadcast to its shape.
    ///
    /// ```
    /// use chainrule::tensor;
    /// let mut p = tensor![1.0, 2.0].requires_grad();
    /// let kept = p.clone();
    /// p.add_scaled_(&tensor![10.0, 20.0], -0.1).unwrap();
    /// assert_eq!(p.to_vec(), vec![0.0, 0.0]);
    /// assert!(p.is_leaf() && p.is_requires_grad());
    /// assert_eq!(kept.to_vec(), vec![1.0, 2.0]);
    /// ```
    pub fn add_scaled_(&mut self, other: &Tensor, alpha: f64) -> Result<()> {
        if !self.is_leaf() {
            return Err(Error::NotALeaf);
        }
        // A 0-d f64 weight and update (W2's w): one write into the only
        // handle's node, the value of `update`'s step.
        if let (Some(g), Some(node)) = (scalar_of(other), super::NodeRc::get_mut(&mut self.0)) {
            if let Some(Data::Scalar(p)) = node.value.get_mut() {
                *p += alpha * g;
                return Ok(());
            }
        }
        let fits = same_shape(self.shape(), other.shape())
            || broadcast_shapes(self.shape(), other.shape()).as_deref() == Some(self.shape());
        if !fits {
            return Err(Error::ShapeMismatch {
                op: "add_scaled_: tensor and update",
                left: self.shape().to_vec(),
                right: other.shape().to_vec(),
            });
        }
        let done = same_shape(self.shape(), other.shape())
            && match (self.dtype(), other.dtype()) {
                (DType::F64, DType::F64) => update::<f64>(self, other, alpha),
                (DType::F32, DType::F32) => update::<f32>(self, other, alpha),
                _ => false,
            };
        if !done {
            let fresh = crate::autograd::no_grad_scope(|| self.detach() + other * alpha)
                .to_dtype(self.dtype());
            install(self, fresh);
        }
        Ok(())
    }
}

/// The value of a computed 0-d f64 tensor.
#[inline(always)]
fn scalar_of(t: &Tensor) -> Option<f64> {
    match t.0.value.get() {
        Some(Data::Scalar(g)) => Some(*g),
        _ => None,
    }
}

/// Updates in place of at least this many values run in one band per
/// thread ([`super::bands::run`]); W3's 784 × 256 weight has 200,704, and
/// its gradient's bands of rows were just written by the same threads'
/// bands of the gemm, so each thread reads them from its own cache.
const PARALLEL_UPDATE: usize = 1 << 17;

/// [`Tensor::add_scaled_`] of two contiguous tensors of one element type
/// and shape; `false` (nothing done) if either is not contiguous.
fn update<T: Elem>(p: &mut Tensor, g: &Tensor, alpha: f64) -> bool {
    let Some(gs) = T::slice_of(g.data()) else {
        return false;
    };
    // α·g rounded to T, then added in T: the values of `p + g * α`. α is
    // copied into each loop (`move`): read through a reference that had
    // escaped to the thread pool, it was loaded again for every value and
    // the loops did not vectorise (2.1× the instructions in one build).
    let step = move |p: T, g: T| p + T::of_f64(alpha * g.to_f64());
    if let Some(ps) = unique_values::<T>(p) {
        let update = move |(ps, gs): (&mut [T], &[T])| update_wide(ps, gs, alpha);
        let parts = super::matmul::threads();
        if parts > 1 && ps.len() >= PARALLEL_UPDATE {
            let len = ps.len().div_ceil(parts);
            super::bands::run(ps.chunks_mut(len).zip(gs.chunks(len)).collect(), update);
        } else {
            update((ps, gs));
        }
        return true;
    }
    let Some(ps) = T::slice_of(p.data()) else {
        return false;
    };
    let mut v = T::buffer(ps.len());
    v.extend(ps.iter().zip(gs).map(|(&p, &g)| step(p, g)));
    let fresh = from_vec(v, p.shape());
    install(p, fresh);
    true
}

/// `p ← p + T(α·g)` over two slices of one length: compiled for AVX-512
/// or AVX2 where the processor has them (the same operations, IEEE's in
/// any width, so the same bits: tested against the one-value loop),
/// else the baseline loop. The f32 loop widens, multiplies and rounds
/// back, which the baseline's SSE2 does two values at a time.
fn update_wide<T: Elem>(ps: &mut [T], gs: &[T], alpha: f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor has AVX-512F (checked on the line above).
            return unsafe { update_avx512(ps, gs, alpha) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked on the line above).
            return unsafe { update_avx2(ps, gs, alpha) };
        }
    }
    update_body(ps, gs, alpha);
}

/// [`update_body`] compiled for AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn update_avx512<T: Elem>(ps: &mut [T], gs: &[T], alpha: f64) {
    update_body(ps, gs, alpha);
}

/// [`update_body`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn update_avx2<T: Elem>(ps: &mut [T], gs: &[T], alpha: f64) {
    update_body(ps, gs, alpha);
}

/// The update's loop: α·g in f64, rounded to `T`, added in `T` (the
/// values of `p + g * α`).
#[inline(always)]
fn update_body<T: Elem>(ps: &mut [T], gs: &[T], alpha: f64) {
    ps.iter_mut()
        .zip(gs)
        .for_each(|(p, &g)| *p = *p + T::of_f64(alpha * g.to_f64()));
}

/// Makes `fresh` (a new leaf) the value of `p`, with `p`'s flag and gradient.
fn install(p: &mut Tensor, fresh: Tensor) {
    fresh.0.requires_grad.set(p.is_requires_grad());
    fresh.set_grad(p.grad());
    *p = fresh;
}

#[cfg(test)]
mod tests {
    use crate::{tensor, DType, Tensor};

    #[test]
    fn the_only_handle_is_updated_in_its_own_buffer() {
        let g = tensor![0.5, -1.0, 4.0];
        let mut p = tensor![1.0, 2.0, 3.0].requires_grad();
        p.set_grad(Some(g.clone()));
        let ptr = p.data().as_slice().unwrap().as_ptr();
        p.add_scaled_(&g, -0.25).unwrap();
        // 1 − 0.125, 2 + 0.25, 3 − 1: exact in binary.
        assert_eq!(p.to_vec(), vec![0.875, 2.25, 2.0]);
        assert_eq!(p.data().as_slice().unwrap().as_ptr(), ptr);
        assert!(p.is_leaf() && p.is_requires_grad());
        assert_eq!(p.grad().unwrap().to_vec(), g.to_vec());
    }

    #[test]
    fn a_0d_weight_is_written_in_its_node_with_the_unfused_bits() {
        let specials = [0.0, -0.0, 1.0 / 3.0, -2.5e-300, f64::INFINITY, f64::NAN];
        for p0 in specials {
            for g0 in specials {
                for alpha in [-0.01, 1.0, -0.0] {
                    let want = (&Tensor::scalar(p0) + &(&Tensor::scalar(g0) * alpha)).item();
                    let mut p = Tensor::scalar(p0).requires_grad();
                    p.set_grad(Some(Tensor::scalar(7.0)));
                    let node = p.0.as_ptr();
                    p.add_scaled_(&Tensor::scalar(g0), alpha).unwrap();
                    let got = p.item();
                    assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()));
                    // The same node, still a leaf wanting its gradient.
                    assert_eq!(p.0.as_ptr(), node);
                    assert!(p.is_leaf() && p.is_requires_grad());
                    assert_eq!(p.grad().unwrap().item(), 7.0);
                }
            }
        }
        // Another handle keeps the old value; a non-leaf is refused.
        let mut p = Tensor::scalar(1.0).requires_grad();
        let kept = p.clone();
        p.add_scaled_(&Tensor::scalar(2.0), -0.5).unwrap();
        assert_eq!((p.item(), kept.item()), (0.0, 1.0));
        let mut y = &Tensor::scalar(2.0).requires_grad() * 3.0;
        assert!(y.add_scaled_(&Tensor::scalar(1.0), 1.0).is_err());
    }

    #[test]
    fn shared_values_are_copied_not_written() {
        let p0 = tensor![1.0, 2.0];
        let mut p = p0.detach().requires_grad();
        p.add_scaled_(&tensor![1.0, 1.0], 2.0).unwrap();
        assert_eq!(p.to_vec(), vec![3.0, 4.0]);
        assert_eq!(p0.to_vec(), vec![1.0, 2.0]);
        assert!(p.is_requires_grad());
        // A row broadcast over a matrix, and an f64 update of f32 values.
        let mut m = Tensor::ones(&[2, 2]).float();
        m.add_scaled_(&tensor![1.0, 2.0], 0.5).unwrap();
        assert_eq!(m.dtype(), DType::F32);
        assert_eq!(m.to_vec(), vec![1.5, 2.0, 1.5, 2.0]);
        assert!(m.add_scaled_(&Tensor::ones(&[3]), 1.0).is_err());
        let mut y = &tensor![1.0] * &tensor![2.0].requires_grad();
        assert!(y.add_scaled_(&tensor![1.0], 1.0).is_err());
    }

    #[test]
    fn f32_values_are_those_of_the_unfused_expression() {
        // α·g rounds to f32 first, then the sum rounds: as `p + g * α`.
        let pv: Vec<f32> = (0..100).map(|i| 1.0 + i as f32 / 7.0).collect();
        let gv: Vec<f32> = (0..100).map(|i| (i as f32 - 50.0) / 3.0).collect();
        let p = Tensor::from_vec_f32(pv, &[100]).unwrap();
        let g = Tensor::from_vec_f32(gv, &[100]).unwrap();
        let want = (&p + &g * -0.1).to_vec_f32();
        let mut q = p.detach();
        drop(p);
        q.add_scaled_(&g, -0.1).unwrap();
        assert_eq!(q.to_vec_f32(), want);
    }

    #[test]
    fn a_large_update_in_bands_is_the_unfused_expression() {
        // More than PARALLEL_UPDATE values, an odd count (uneven bands),
        // in the parameter's own buffer.
        let n = super::PARALLEL_UPDATE + 12_345;
        let pv: Vec<f64> = (0..n).map(|i| (i % 97) as f64 / 7.0).collect();
        let gv: Vec<f64> = (0..n).map(|i| (i % 89) as f64 / 3.0 - 14.0).collect();
        let p = Tensor::from_vec(pv, &[n]).unwrap();
        let g = Tensor::from_vec(gv, &[n]).unwrap();
        let want = (&p + &g * -0.1).to_vec();
        let mut q = p.detach().requires_grad();
        drop(p);
        let ptr = q.data().as_slice().unwrap().as_ptr();
        q.add_scaled_(&g, -0.1).unwrap();
        assert_eq!(q.data().as_slice().unwrap().as_ptr(), ptr);
        assert!(q
            .to_vec()
            .iter()
            .zip(&want)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
    }

    /// Values with zeros of both signs, subnormals, ±∞, NaN, overflow of
    /// α·g and of the sum, and ordinary ones, cycled over `n`.
    fn specials(n: usize, shift: usize) -> Vec<f64> {
        let s = [
            0.0,
            -0.0,
            5e-324,
            -2.2e-308,
            1.0 / 3.0,
            -7.25,
            1e308,
            -1.7e308,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            3.4e38,
            1e-45,
        ];
        (0..n)
            .map(|i| match (i + shift) % 17 {
                j if j < s.len() => s[j],
                j => (i as f64 - 40.0) * 0.37 + j as f64,
            })
            .collect()
    }

    /// Bitwise equality, any NaN equal to any NaN.
    fn same<T: super::Elem>(a: &[T], b: &[T]) -> bool {
        a.iter().zip(b).all(|(x, y)| {
            let (x, y) = (x.to_f64(), y.to_f64());
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        })
    }

    #[test]
    fn the_wide_update_has_the_bits_of_the_one_value_loop() {
        // Every length up to past two AVX-512 registers of f32 (tails of
        // every size), and a long one; α with the sign and size of SGD's,
        // one, zero and one that overflows α·g.
        for n in (0..=40).chain([1001]) {
            for alpha in [-0.1, 1.0, -0.0, 3e300] {
                let (p64, g64) = (specials(n, 0), specials(n, 5));
                let mut got = p64.clone();
                super::update_wide(&mut got, &g64, alpha);
                let want: Vec<f64> = p64.iter().zip(&g64).map(|(p, g)| p + alpha * g).collect();
                assert!(same(&got, &want), "f64 n = {n}, alpha = {alpha}");

                let p32: Vec<f32> = p64.iter().map(|&v| v as f32).collect();
                let g32: Vec<f32> = g64.iter().map(|&v| v as f32).collect();
                let mut got = p32.clone();
                super::update_wide(&mut got, &g32, alpha);
                // α·g in f64, rounded to f32, then the f32 sum.
                let want: Vec<f32> = p32
                    .iter()
                    .zip(&g32)
                    .map(|(&p, &g)| p + (alpha * f64::from(g)) as f32)
                    .collect();
                assert!(same(&got, &want), "f32 n = {n}, alpha = {alpha}");
            }
        }
    }
}
