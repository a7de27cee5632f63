//! Element types: f64 (the default) and f32, as PyTorch's `dtype`.
//!
//! - An f32 value is stored as its own array (`Data::F32`, boxed like the
//!   f64 one, so a graph node keeps its size); the 0-d fast path is f64's.
//! - The kernels W3 runs are generic over [`Elem`] and read and write f32
//!   storage directly: elementwise operations with broadcasting (each value
//!   widened to f64 in a register, the result rounded once: for `+ − · /`
//!   that is the correctly rounded f32 result), reductions, the fused
//!   elementwise backward and the matrix product (the `gemm` crate's f32 kernel).
//! - Any other operation reads an f32 value through an f64 copy and its
//!   result is rounded to f32 where the operation is made
//!   ([`Tensor::custom`]): correct values, slower.
//! - Promotion as PyTorch: two operands of one dtype keep it; an operand
//!   with axes decides over a 0-d one; otherwise the result is f64. An f64
//!   constant (`&x * 0.5`) never promotes.

use ndarray::{ArcArray, ArrayD, ArrayViewD, IxDyn, LinalgScalar};

use super::{buffers, Data, Tensor};
use crate::error::{Error, Result};

/// The element type of a tensor, as PyTorch's `torch.float64` / `torch.float32`.
///
/// ```
/// use chainrule::{DType, Tensor};
/// let x = Tensor::from_vec_f32(vec![1.5, 2.0], &[2]).unwrap();
/// assert_eq!(x.dtype(), DType::F32);
/// assert_eq!(x.double().dtype(), DType::F64);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit IEEE floats (`torch.float32`).
    F32,
    /// 64-bit IEEE floats (`torch.float64`), the default.
    F64,
}

impl DType {
    /// PyTorch's name (`"torch.float32"`).
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::F32 => "torch.float32",
            DType::F64 => "torch.float64",
        }
    }
}

/// The dtype of an operation on operands of `a` (with `a_0d`: it is 0-d)
/// and `b`, by PyTorch's rules (see the module documentation).
pub(crate) fn promote(a: DType, a_0d: bool, b: DType, b_0d: bool) -> DType {
    if a == b {
        a
    } else if a_0d != b_0d {
        if a_0d {
            b
        } else {
            a
        }
    } else {
        DType::F64
    }
}

/// The dtype of an operation on `inputs` (f64 for none).
pub(crate) fn promote_all(inputs: &[Tensor]) -> DType {
    let mut it = inputs.iter();
    let Some(first) = it.next() else {
        return DType::F64;
    };
    let (mut d, mut zero_d) = (first.dtype(), first.ndim() == 0);
    for t in it {
        d = promote(d, zero_d, t.dtype(), t.ndim() == 0);
        zero_d &= t.ndim() == 0;
    }
    d
}

/// An element type with native kernels.
pub(crate) trait Elem: LinalgScalar + PartialOrd + std::fmt::Debug + Send + Sync {
    /// Its dtype.
    const DTYPE: DType;
    /// Widened (exact).
    fn to_f64(self) -> f64;
    /// Rounded to nearest.
    fn of_f64(v: f64) -> Self;
    /// An array as a value (a 0-d f64 array becomes the scalar fast path).
    fn wrap(a: ArrayD<Self>) -> Data;
    /// A shared array as a value.
    fn wrap_shared(a: ArcArray<Self, IxDyn>) -> Data;
    /// The stored array, if `d` is an array of this type.
    fn array_of(d: &Data) -> Option<&ArcArray<Self, IxDyn>>;
    /// A view of `d` if it holds this type (0-d for the f64 fast path).
    fn view_of(d: &Data) -> Option<ArrayViewD<'_, Self>>;
    /// The values of `d` in row-major order, if it holds this type contiguously.
    fn slice_of(d: &Data) -> Option<&[Self]>;
    /// An empty vector with room for `len` values (reusing a large buffer).
    fn buffer(len: usize) -> Vec<Self>;
    /// `len` values the caller overwrites without reading (see
    /// `buffers::take_dirty`).
    fn dirty_buffer(len: usize) -> Vec<Self>;
    /// A 0-d value.
    fn scalar(v: f64) -> Data;
    /// An array of f64 results as a value of this type (rounded for f32).
    fn from_f64_array(a: ArrayD<f64>) -> Data;
    /// The values of `d` to write in place: `d` holds this type in a
    /// row-major buffer that no other array shares.
    fn unique_slice_mut(d: &mut Data) -> Option<&mut [Self]>;
}

impl Elem for f64 {
    const DTYPE: DType = DType::F64;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn of_f64(v: f64) -> f64 {
        v
    }
    fn wrap(a: ArrayD<f64>) -> Data {
        Data::from_array(a)
    }
    fn wrap_shared(a: ArcArray<f64, IxDyn>) -> Data {
        Data::from_shared(a)
    }
    #[inline]
    fn array_of(d: &Data) -> Option<&ArcArray<f64, IxDyn>> {
        match d {
            Data::Array(a) => Some(a),
            _ => None,
        }
    }
    fn view_of(d: &Data) -> Option<ArrayViewD<'_, f64>> {
        match d {
            Data::F32(_) => None,
            _ => Some(d.view_f64()),
        }
    }
    #[inline]
    fn slice_of(d: &Data) -> Option<&[f64]> {
        match d {
            Data::Scalar(x) => Some(std::slice::from_ref(x)),
            Data::Array(a) => super::contiguous(a),
            Data::F32(_) => None,
        }
    }
    fn buffer(len: usize) -> Vec<f64> {
        buffers::take(len)
    }
    fn dirty_buffer(len: usize) -> Vec<f64> {
        buffers::take_dirty(len)
    }
    fn scalar(v: f64) -> Data {
        Data::Scalar(v)
    }
    fn from_f64_array(a: ArrayD<f64>) -> Data {
        Data::from_array(a)
    }
    #[inline]
    fn unique_slice_mut(d: &mut Data) -> Option<&mut [f64]> {
        match d {
            Data::Scalar(x) => Some(std::slice::from_mut(x)),
            Data::Array(a) if a.is_unique() => {
                let n = super::contiguous(a)?.len();
                // SAFETY: the only handle to a contiguous buffer (as
                // `small::array_with`; `as_slice_mut` would prove both again,
                // uniqueness with an atomic operation), borrowed mutably
                // through `d` for the slice's lifetime.
                Some(unsafe { std::slice::from_raw_parts_mut(a.as_ptr().cast_mut(), n) })
            }
            _ => None,
        }
    }
}

impl Elem for f32 {
    const DTYPE: DType = DType::F32;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn of_f64(v: f64) -> f32 {
        v as f32
    }
    fn wrap(a: ArrayD<f32>) -> Data {
        Data::F32(Box::new(a.into_shared()))
    }
    fn wrap_shared(a: ArcArray<f32, IxDyn>) -> Data {
        Data::F32(Box::new(a))
    }
    fn array_of(d: &Data) -> Option<&ArcArray<f32, IxDyn>> {
        match d {
            Data::F32(a) => Some(a),
            _ => None,
        }
    }
    fn view_of(d: &Data) -> Option<ArrayViewD<'_, f32>> {
        Self::array_of(d).map(|a| a.view())
    }
    fn slice_of(d: &Data) -> Option<&[f32]> {
        Self::array_of(d).and_then(|a| super::contiguous(a))
    }
    fn buffer(len: usize) -> Vec<f32> {
        buffers::take(len)
    }
    fn dirty_buffer(len: usize) -> Vec<f32> {
        buffers::take_dirty(len)
    }
    fn scalar(v: f64) -> Data {
        f32::wrap(ArrayD::from_elem(IxDyn(&[]), v as f32))
    }
    fn from_f64_array(a: ArrayD<f64>) -> Data {
        f32::wrap(a.mapv(|v| v as f32))
    }
    fn unique_slice_mut(d: &mut Data) -> Option<&mut [f32]> {
        match d {
            Data::F32(a) if a.is_standard_layout() && a.is_unique() => a.as_slice_mut(),
            _ => None,
        }
    }
}

impl Data {
    /// The element type.
    #[inline]
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Data::F32(_) => DType::F32,
            _ => DType::F64,
        }
    }

    /// The value in `dtype` (rounded to nearest for f32), a new header over
    /// the same values when it already is.
    pub(crate) fn cast(self, dtype: DType) -> Data {
        match (self, dtype) {
            (Data::F32(a), DType::F64) => Data::from_array(a.mapv(f64::from)),
            (d @ Data::F32(_), DType::F32) => d,
            (d, DType::F64) => d,
            (d, DType::F32) => d.with_view(|v| f32::wrap(v.mapv(|x| x as f32))),
        }
    }

    /// [`Data::cast`] of a borrowed value.
    pub(crate) fn cast_ref(&self, dtype: DType) -> Data {
        self.clone().cast(dtype)
    }
}

impl Tensor {
    /// The element type (f64 unless made f32).
    ///
    /// ```
    /// use chainrule::{DType, Tensor};
    /// assert_eq!(Tensor::ones(&[2]).dtype(), DType::F64);
    /// assert_eq!(Tensor::ones(&[2]).float().dtype(), DType::F32);
    /// ```
    pub fn dtype(&self) -> DType {
        self.0.dtype()
    }

    /// This tensor in `dtype` (f64 → f32 rounds to nearest), differentiable
    /// like PyTorch's `.to(dtype)`: the gradient flows back cast to this
    /// tensor's dtype. `self` when it already has that dtype.
    ///
    /// ```
    /// use chainrule::{DType, Tensor};
    /// let x = Tensor::from_vec(vec![0.1, 2.0], &[2]).unwrap().requires_grad();
    /// let y = x.to_dtype(DType::F32);
    /// assert_eq!(y.to_vec(), vec![0.1f32 as f64, 2.0]);
    /// (&y * &y).sum().backward().unwrap();
    /// let g = x.grad().unwrap();
    /// assert_eq!(g.dtype(), DType::F64);
    /// assert_eq!(g.to_vec(), vec![2.0 * (0.1f32 as f64), 4.0]);
    /// ```
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if self.dtype() == dtype {
            return self.clone();
        }
        let from = self.dtype();
        Tensor::custom_in(
            self.0.data().cast_ref(dtype),
            dtype,
            "ToCopyBackward0",
            vec![self.clone()],
            move |g, _, _, _| vec![Some(g.to_dtype(from))],
            move |ts, _, _| crate::forward::tangents::only(ts).to_dtype(dtype),
        )
    }

    /// This tensor in f32 (PyTorch's `.float()`).
    pub fn float(&self) -> Tensor {
        self.to_dtype(DType::F32)
    }

    /// This tensor in f64 (PyTorch's `.double()`).
    pub fn double(&self) -> Tensor {
        self.to_dtype(DType::F64)
    }

    /// An f32 tensor of the given shape from row-major values; an `Err` if
    /// the number of values is not the product of the shape.
    ///
    /// ```
    /// use chainrule::{DType, Tensor};
    /// let x = Tensor::from_vec_f32(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// assert_eq!(x.dtype(), DType::F32);
    /// assert_eq!(x.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(x.to_string(), "tensor([[1., 2.],\n        [3., 4.]], dtype=torch.float32)");
    /// assert!(Tensor::from_vec_f32(vec![1.0], &[2]).is_err());
    /// ```
    pub fn from_vec_f32(data: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        let n = super::checked_numel("from_vec_f32", shape)?;
        if n != data.len() {
            return Err(Error::ShapeMismatch {
                op: "from_vec_f32",
                left: vec![data.len()],
                right: shape.to_vec(),
            });
        }
        // The length matches, so only the size can fail.
        let a = ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|_| Error::ShapeOverflow {
            op: "from_vec_f32",
            shape: shape.to_vec(),
        })?;
        Ok(Tensor::from_data(f32::wrap(a)))
    }

    /// The values in row-major order as f32 (rounded to nearest from f64).
    pub fn to_vec_f32(&self) -> Vec<f32> {
        match self.0.data() {
            Data::F32(a) => match a.as_slice() {
                Some(s) => s.to_vec(),
                None => a.iter().copied().collect(),
            },
            _ => self.to_vec().into_iter().map(|v| v as f32).collect(),
        }
    }
}
