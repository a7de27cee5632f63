//! `Tensor`: n-dimensional arrays of f64 (or f32, see [`DType`]) with NumPy
//! broadcasting that record their history for reverse-mode differentiation
//! (see [`crate::autograd`]).
//!
//! A `Tensor` is a cheap-to-clone counted handle (`handle.rs`) to an immutable value plus,
//! when it was computed from tensors that require gradients while gradients
//! are enabled, the operation that made it and its inputs. It is therefore not
//! `Send`: a graph lives on one thread.
//!
//! Scalars are 0-d tensors and have a fast path (no n-d array is allocated),
//! so graphs of many scalar operations stay cheap.
//!
//! The API, briefly:
//! - construction: [`Tensor::scalar`], [`Tensor::from_vec`], [`Tensor::from_vec_f32`], [`tensor!`](crate::tensor!),
//!   [`Tensor::zeros`], [`Tensor::ones`], [`Tensor::full`], [`Tensor::eye`],
//!   [`Tensor::arange`], [`Tensor::linspace`], [`Tensor::rand`], [`Tensor::randn`],
//!   [`Tensor::one_hot`];
//! - elementwise math through [`Real`](crate::Real) (bring it into scope:
//!   `x.sin()`, `x.powi(2)`, `a.max(&b)` is the elementwise maximum), the
//!   operators `+ − · /` and negation on `Tensor`, `&Tensor` and `f64`, with
//!   NumPy broadcasting; comparisons ([`Tensor::gt`] ...) and [`Tensor::where_`];
//! - reductions over all elements or given axes: [`Tensor::sum_dim`],
//!   [`Tensor::mean_dim`], [`Tensor::amax`], [`Tensor::amin`],
//!   [`Tensor::prod_dim`], [`Tensor::argmax`], [`Tensor::softmax`],
//!   [`Tensor::log_softmax`], [`Tensor::logsumexp`];
//! - shapes: [`Tensor::reshape`], [`Tensor::permute`], [`Tensor::t`],
//!   [`Tensor::unsqueeze`], [`Tensor::squeeze`], [`Tensor::expand`],
//!   [`Tensor::get`], [`Tensor::narrow`], [`Tensor::index_select`],
//!   [`Tensor::cat`], [`Tensor::stack`], and [`Tensor::matmul`] / [`Tensor::dot`] /
//!   [`Tensor::trace`];
//! - element type: [`Tensor::dtype`], [`Tensor::to_dtype`], [`Tensor::float`],
//!   [`Tensor::double`] (PyTorch's promotion rules; see `dtype.rs`);
//! - autograd flags and results: [`Tensor::requires_grad`], [`Tensor::grad`],
//!   [`Tensor::backward`] (see [`crate::autograd`]).
//!
//! Operations that can fail on shapes or axes come in pairs: `try_x`
//! returns a `Result`, `x` panics with a message naming the operation and
//! the shapes.
//!
//! ```
//! use chainrule::{tensor, Tensor};
//! let x = Tensor::scalar(3.5).requires_grad();
//! let z = 2.0 * (&x * &x) + 3.0;
//! z.backward().unwrap();
//! assert_eq!(x.grad().unwrap().item(), 14.0);
//! assert_eq!(format!("{z}"), "tensor(27.5000, grad_fn=<AddBackward0>)");
//! let m = tensor![[1.0, 2.0], [3.0, 4.0]];
//! assert_eq!(m.shape(), &[2, 2]);
//! ```

mod axes;
mod bands;
mod broadcast;
pub(crate) mod buffers;
mod deferred;
mod display;
pub(crate) mod dtype;
mod elementwise;
mod handle;
mod identity;
mod index;
#[cfg(feature = "internals")]
mod internals;
mod join;
pub(crate) mod kernels;
#[cfg(test)]
mod lane_tests;
mod layout;
mod matmul;
mod matvec;
mod reduce;
mod small;
mod softmax;
mod update;

use std::cell::{Cell, OnceCell, RefCell};

use ndarray::{ArcArray, ArrayD, IxDyn};

use crate::autograd::graph::{Batch, Custom, Op};
use crate::error::{Error, Result};
use crate::macros::panicking;
use crate::random::SplitMix64;

pub(crate) use deferred::Deferred;
pub use dtype::DType;
use handle::NodeRc;
pub(crate) use handle::{pool_nodes, prefetch_node};
#[cfg(feature = "internals")]
pub use matmul::gemm;
/// The gemm on views, for the compiled matrix formulas (`crate::matrix`).
pub(crate) use matmul::gemm as gemm_into;
pub use matmul::threads as matmul_threads;
pub(crate) use reduce::{total_grad, total_grad_of, total_tangent};
#[cfg(test)]
pub(crate) use small::without_lane;
pub(crate) use small::{lane, lane_values_mut};

/// The most elements a tensor made by a `Result` API may have (2⁴⁰, 8 TiB
/// of f64): above it `arange`, `from_vec`, `reshape`, `expand` and
/// `one_hot` return [`Error::TooManyElements`] instead of trying to allocate;
/// below it, an allocation that fails is the same error where the API
/// allocates (`arange`).
pub const MAX_NUMEL: usize = 1 << 40;

/// The number of elements of `shape`; an `Err` if the product overflows
/// ([`Error::ShapeOverflow`]) or exceeds [`MAX_NUMEL`].
pub(crate) fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    let n = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::ShapeOverflow {
            op,
            shape: shape.to_vec(),
        })?;
    if n > MAX_NUMEL {
        return Err(Error::TooManyElements {
            op,
            numel: n,
            limit: MAX_NUMEL,
        });
    }
    Ok(n)
}

/// Whether two shapes are equal, compared inline (`==` on slices calls
/// `memcmp`, which costs more than the one or two axes of a small array).
#[inline]
pub(crate) fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The values of `a` in row-major order if they are contiguous, as
/// `as_slice`, with a 1-d array answered by one stride test: ndarray's
/// layout test on a dynamic rank loops over the axes through the shape's
/// inline-or-heap storage, a sizeable part of an operation on four values.
#[inline]
pub(crate) fn contiguous<T>(a: &ArcArray<T, IxDyn>) -> Option<&[T]> {
    if let ([n], [s]) = (a.shape(), a.strides()) {
        if *s == 1 || *n <= 1 {
            // SAFETY: a 1-d array of stride 1 (or of at most one value)
            // holds its `n` values contiguously from `as_ptr`; the slice
            // borrows `a`, as `as_slice`'s does.
            return Some(unsafe { std::slice::from_raw_parts(a.as_ptr(), *n) });
        }
        return None;
    }
    a.as_slice()
}

/// The value of a tensor: a 0-d fast path or an n-d array (ndim ≥ 1).
#[derive(Clone, Debug)]
pub(crate) enum Data {
    /// A 0-d tensor.
    Scalar(f64),
    /// A tensor with at least one axis (boxed to keep graph nodes small).
    /// The buffer is shared (`ArcArray`), so a reshape of a contiguous
    /// array and a detached copy are new headers over the same values, and
    /// a kernel writing into a buffer no one else holds needs no copy.
    Array(Box<ArcArray<f64, IxDyn>>),
    /// An f32 tensor of any rank, 0-d included (boxed like `Array`; see
    /// `dtype.rs` for which kernels read it natively).
    F32(Box<ArcArray<f32, IxDyn>>),
}

impl Data {
    /// Wraps an array, turning a 0-d array into the scalar fast path.
    pub(crate) fn from_array(a: ArrayD<f64>) -> Data {
        if a.ndim() == 0 {
            Data::Scalar(a.iter().next().copied().unwrap_or(0.0))
        } else {
            Data::Array(Box::new(a.into_shared()))
        }
    }

    /// Wraps a shared array (ndim ≥ 1).
    pub(crate) fn from_shared(a: ArcArray<f64, IxDyn>) -> Data {
        if a.ndim() == 0 {
            Data::Scalar(a.iter().next().copied().unwrap_or(0.0))
        } else {
            Data::Array(Box::new(a))
        }
    }

    pub(crate) fn shape(&self) -> &[usize] {
        match self {
            Data::Scalar(_) => &[],
            Data::Array(a) => a.shape(),
            Data::F32(a) => a.shape(),
        }
    }

    /// The value as an f64 n-d array (a copy for arrays, a 0-d array for
    /// scalars; f32 values widened).
    pub(crate) fn to_array(&self) -> ArrayD<f64> {
        match self {
            Data::Scalar(x) => ArrayD::from_elem(IxDyn(&[]), *x),
            Data::Array(a) => a.as_ref().to_owned(),
            Data::F32(a) => a.mapv(f64::from),
        }
    }

    /// The f64 values in row-major order, if they are contiguous f64.
    pub(crate) fn as_slice(&self) -> Option<&[f64]> {
        match self {
            Data::Scalar(x) => Some(std::slice::from_ref(x)),
            Data::Array(a) => contiguous(a),
            Data::F32(_) => None,
        }
    }

    /// The value as an f64 n-d array: a view, or a widened copy of f32.
    pub(crate) fn view(&self) -> ndarray::CowArray<'_, f64, IxDyn> {
        match self {
            Data::F32(a) => a.mapv(f64::from).into(),
            _ => self.view_f64().into(),
        }
    }

    /// A view of an f64 value (0-d for scalars).
    ///
    /// # Panics
    /// On an f32 value (callers check the dtype).
    pub(crate) fn view_f64(&self) -> ndarray::ArrayViewD<'_, f64> {
        match self {
            Data::Scalar(x) => ndarray::ArrayView::from_shape(IxDyn(&[]), std::slice::from_ref(x))
                .expect("a 0-d view of one element"),
            Data::Array(a) => a.view(),
            Data::F32(_) => unreachable!("view_f64 of an f32 value"),
        }
    }

    /// Applies `f` to a view of the value as an n-d array.
    pub(crate) fn with_view<R>(&self, f: impl FnOnce(ndarray::ArrayViewD<'_, f64>) -> R) -> R {
        match self {
            Data::Scalar(x) => f(ndarray::ArrayView::from_shape(
                IxDyn(&[]),
                std::slice::from_ref(x),
            )
            .expect("a 0-d view of one element")),
            Data::Array(a) => f(a.view()),
            Data::F32(a) => f(a.mapv(f64::from).view()),
        }
    }

    /// `f` of every value, in the value's dtype (f32 values are widened
    /// for `f` and its result rounded, one value at a time).
    pub(crate) fn map(&self, f: impl Fn(f64) -> f64) -> Data {
        if let Some(d) = small::map_1d(self, &f) {
            return d;
        }
        self.map_general(f)
    }

    /// [`Data::map`] outside the 1-d lane (its own function, so that the
    /// lane does not pay for this path's stack frame).
    #[inline(never)]
    fn map_general(&self, f: impl Fn(f64) -> f64) -> Data {
        match self {
            Data::Scalar(x) => Data::Scalar(f(*x)),
            Data::Array(a) => match contiguous(a) {
                Some(s) => small::array_with(a.shape(), |o| {
                    o.iter_mut().zip(s).for_each(|(o, &x)| *o = f(x));
                })
                .unwrap_or_else(|| Data::from_array(kernels::map_slice(a.view(), f))),
                None => Data::from_array(kernels::map_slice(a.view(), f)),
            },
            Data::F32(a) => Data::F32(Box::new(
                kernels::map_slice(a.view(), |x: f32| f(f64::from(x)) as f32).into_shared(),
            )),
        }
    }
}

/// Empties `value`, keeping a large buffer no one else holds for reuse.
/// Inlined: for a 0-d value (W1's every node) it is a tag test.
#[inline]
fn release(value: &mut OnceCell<Data>) {
    if let Some(d) = value.take() {
        if !matches!(d, Data::Scalar(_)) {
            release_data(d);
        }
    }
}

/// Hands the buffer of an array value to the buffer cache (see [`release`]).
#[inline(never)]
fn release_data(d: Data) {
    match d {
        Data::Array(a) => {
            if let Some(a) = small::keep(a) {
                release_array(*a);
            }
        }
        Data::F32(a) => release_array(*a),
        Data::Scalar(_) => {}
    }
}

/// Hands a large buffer no one else holds to the buffer cache (a call: a
/// kept small array's path through `release_data` needs no large frame).
#[inline(never)]
fn release_array<T: buffers::Pooled>(a: ArcArray<T, IxDyn>) {
    if a.len() >= buffers::MIN_LEN {
        if let Ok(owned) = a.try_into_owned_nocopy() {
            buffers::give(owned.into_raw_vec_and_offset().0);
        }
    }
}

/// The value of a new node: computed, or deferred until it is read.
pub(crate) enum Value {
    /// Computed when the node is made.
    Now(Data),
    /// Computed on first read (see `deferred.rs`).
    Later(Box<Deferred>),
}

impl From<Data> for Value {
    fn from(data: Data) -> Value {
        Value::Now(data)
    }
}

/// The shared part of a tensor: value, gradient bookkeeping and history.
///
/// Kept small (one allocation of at most 120 bytes per recorded op, which
/// glibc serves from its fast bins): the name of the backward function is
/// derived from `op`, not stored.
pub(crate) struct Node {
    /// The value; empty only while a deferred value is not read yet (read
    /// it with [`Node::data`]).
    value: OnceCell<Data>,
    /// The shape and recipe of a deferred value (see `deferred.rs`); `None`
    /// for a value computed when the node was made.
    deferred: Option<Box<Deferred>>,
    /// The accumulated gradient (a `Cell`: read by take, clone and put back).
    pub(crate) grad: Cell<Option<Tensor>>,
    pub(crate) op: RefCell<Op>,
    /// When the node was made: larger than its inputs' (numbered per
    /// thread), so a backward pass visits nodes in decreasing order.
    pub(crate) seq: u64,
    /// This node's gradient slot while a backward pass has it pending,
    /// [`NO_SLOT`] otherwise; [`IN_NODE`] while its gradient is a plain f64
    /// kept in `gacc` (a 0-d chain needs no slot at all).
    pub(crate) slot: Cell<u32>,
    /// The pending 0-d gradient while `slot` is [`IN_NODE`].
    pub(crate) gacc: Cell<f64>,
    /// One of the inputs whose gradients the running pass returns.
    pub(crate) pass_input: Cell<bool>,
    pub(crate) requires_grad: Cell<bool>,
    pub(crate) retains_grad: Cell<bool>,
    /// A parameter's value that [`Parameter`](crate::nn::Parameter) has
    /// since replaced (`set` or an optimiser step): its version is behind
    /// the slot's, and a backward pass that would store a gradient on it
    /// fails ([`Error::ModifiedParameter`]) instead of losing the gradient.
    pub(crate) replaced: Cell<bool>,
    /// Made by a constructor, `detach` or without recording (never changes).
    pub(crate) leaf: bool,
}

impl Node {
    /// The value, computed first if it was deferred.
    #[inline]
    pub(crate) fn data(&self) -> &Data {
        match self.value.get() {
            Some(d) => d,
            None => deferred::force(self),
        }
    }

    /// The dtype, known without computing a deferred value.
    #[inline]
    pub(crate) fn dtype(&self) -> DType {
        match (self.value.get(), &self.deferred) {
            (Some(d), _) => d.dtype(),
            (None, Some(d)) => d.dtype(),
            (None, None) => unreachable!("a node has a value or a recipe"),
        }
    }

    /// The shape, known without computing a deferred value.
    #[inline]
    pub(crate) fn shape(&self) -> &[usize] {
        match (self.value.get(), &self.deferred) {
            (Some(d), _) => d.shape(),
            (None, Some(d)) => d.shape(),
            (None, None) => unreachable!("a node has a value or a recipe"),
        }
    }
}

/// The number of handles to `t`'s node.
#[inline]
pub(crate) fn strong_count(t: &Tensor) -> usize {
    NodeRc::strong_count(&t.0)
}

/// A node in a counted handle, reusing a pooled allocation when there is one.
#[inline]
fn new_node(node: Node) -> NodeRc {
    NodeRc::new(node)
}

/// The most nodes a backward pass collects for the pool (see [`pool_nodes`]).
pub(crate) const POOL_LIMIT: usize = handle::POOL_AT_MOST;

/// The slot of a node that no backward pass has pending.
pub(crate) const NO_SLOT: u32 = u32::MAX;
/// The slot of a pending node whose gradient is a plain f64 in the node.
pub(crate) const IN_NODE: u32 = u32::MAX - 1;

thread_local! {
    /// The number of the last node made on this thread.
    static SEQ: Cell<u64> = const { Cell::new(0) };
}

/// The next node's sequence number.
#[inline]
fn next_seq() -> u64 {
    SEQ.with(|c| {
        let v = c.get() + 1;
        c.set(v);
        v
    })
}

/// A fresh node: a leaf not requiring gradients for `Op::Leaf`, else a
/// recorded operation.
#[inline(always)]
fn node_of(data: Data, op: Op) -> Node {
    node_with(OnceCell::from(data), None, op)
}

/// A fresh node with a value or a deferred value (see [`node_of`]).
#[inline(always)]
fn node_with(value: OnceCell<Data>, deferred: Option<Box<Deferred>>, op: Op) -> Node {
    let leaf = matches!(op, Op::Leaf);
    Node {
        value,
        deferred,
        grad: Cell::new(None),
        op: RefCell::new(op),
        seq: next_seq(),
        slot: Cell::new(NO_SLOT),
        gacc: Cell::new(0.0),
        pass_input: Cell::new(false),
        requires_grad: Cell::new(!leaf),
        retains_grad: Cell::new(false),
        replaced: Cell::new(false),
        leaf,
    }
}

/// An n-dimensional array of f64 (or f32, see [`DType`]) that records
/// operations for autograd.
///
/// Cloning is cheap and shares the value and the graph node. Not `Send`.
#[derive(Clone)]
pub struct Tensor(pub(crate) NodeRc);

/// A nested array literal accepted by [`tensor!`](crate::tensor!) and
/// [`Tensor::from_nested`]: `f64`, or an array of literals.
pub trait NestedLiteral {
    /// Appends this literal's shape (outermost axis first).
    fn literal_shape(&self, shape: &mut Vec<usize>);
    /// Appends this literal's values in row-major order.
    fn literal_values(&self, out: &mut Vec<f64>);
}

impl NestedLiteral for f64 {
    fn literal_shape(&self, _shape: &mut Vec<usize>) {}
    fn literal_values(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
}

impl<T: NestedLiteral, const N: usize> NestedLiteral for [T; N] {
    fn literal_shape(&self, shape: &mut Vec<usize>) {
        shape.push(N);
        if let Some(first) = self.first() {
            first.literal_shape(shape);
        }
    }
    fn literal_values(&self, out: &mut Vec<f64>) {
        for x in self {
            x.literal_values(out);
        }
    }
}

/// Builds a [`Tensor`] from a literal, like `torch.tensor`: the nesting
/// depth is the rank, and the macro's own brackets are the outermost axis.
///
/// `tensor![1.0, 2.0]` has shape `[2]`, `tensor![1.0]` shape `[1]`,
/// `tensor![[1.0, 2.0]]` shape `[1, 2]` and `tensor![[1.0, 2.0], [3.0, 4.0]]`
/// shape `[2, 2]`; `tensor![]` is empty, of shape `[0]`. A 0-d tensor is
/// [`Tensor::scalar`].
///
/// ```
/// use chainrule::tensor;
/// assert_eq!(tensor![1.0].shape(), &[1]);
/// assert_eq!(tensor![[1.0, 2.0]].shape(), &[1, 2]);
/// assert_eq!(tensor![1.0, 2.0, 3.0].shape(), &[3]);
/// assert_eq!(tensor![[1.0, 2.0], [3.0, 4.0]].to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(tensor![].shape(), &[0]);
/// ```
#[macro_export]
macro_rules! tensor {
    () => {
        $crate::Tensor::zeros(&[0])
    };
    ($($x:expr),+ $(,)?) => {
        $crate::Tensor::from_nested(&[$($x),+])
    };
}

impl Tensor {
    // ----- construction -------------------------------------------------

    /// A leaf holding `data`.
    pub(crate) fn from_data(data: Data) -> Tensor {
        Tensor(new_node(node_of(data, Op::Leaf)))
    }

    /// A node holding `data` and recording `op`, built in place: a non-leaf
    /// (callers check that recording is wanted), or with [`Op::Leaf`] a
    /// leaf on a hot path (a backward pass's gradients), where the
    /// out-of-line [`Tensor::from_data`] would copy it in once more. The 0-d
    /// operators take [`Tensor::from_scalar_op`] instead. Inlined into its
    /// few callers: out of line, the value and operation were copied in
    /// once more (W2 n = 4: 27 instructions a step).
    #[inline(always)]
    pub(crate) fn from_op(data: Data, op: Op) -> Tensor {
        Tensor(NodeRc::new_with(|| node_of(data, op)))
    }

    /// A non-leaf of the 0-d value `x` recording the operation `op` returns
    /// (W1's every node): the value and the operation are made after the
    /// pooled allocation is taken, so that they are stored straight into
    /// it. Made first, on the stack, the copy read them back with 16-byte
    /// loads that the 8-byte stores which made them could not forward, and
    /// each such load waited for every earlier store to reach the cache.
    #[inline(always)]
    pub(crate) fn from_scalar_op(x: f64, op: impl FnOnce() -> Op) -> Tensor {
        Tensor(NodeRc::new_with(|| node_of(Data::Scalar(x), op())))
    }

    /// A node holding `value` and recording `op`.
    fn from_value(value: Value, op: Op) -> Tensor {
        let node = match value {
            Value::Now(data) => node_of(data, op),
            Value::Later(d) => node_with(OnceCell::new(), Some(d), op),
        };
        Tensor(new_node(node))
    }

    /// The result of a structural operation: records `vjp` when gradients
    /// are enabled and an input requires them, else a plain leaf. The value
    /// may be deferred ([`Value::Later`]).
    ///
    /// `jvp` is the operation's Jacobian–vector product for forward mode
    /// (see [`JvpFn`](crate::autograd::graph::JvpFn): tangents carry their
    /// batch axis last).
    pub(crate) fn custom(
        value: impl Into<Value>,
        name: &'static str,
        inputs: Vec<Tensor>,
        vjp: impl Fn(&Tensor, &Tensor, &[Tensor], Batch) -> Vec<Option<Tensor>> + 'static,
        jvp: impl Fn(&[Option<Tensor>], &Tensor, &[Tensor]) -> Tensor + 'static,
    ) -> Tensor {
        let dtype = dtype::promote_all(&inputs);
        Tensor::custom_in(value, dtype, name, inputs, vjp, jvp)
    }

    /// [`Tensor::custom`] with a result of `dtype`: a value computed in
    /// another dtype (an operation without an f32 kernel) is cast to it.
    pub(crate) fn custom_in(
        value: impl Into<Value>,
        dtype: DType,
        name: &'static str,
        inputs: Vec<Tensor>,
        vjp: impl Fn(&Tensor, &Tensor, &[Tensor], Batch) -> Vec<Option<Tensor>> + 'static,
        jvp: impl Fn(&[Option<Tensor>], &Tensor, &[Tensor]) -> Tensor + 'static,
    ) -> Tensor {
        let value = match value.into() {
            Value::Now(d) if d.dtype() != dtype => Value::Now(d.cast(dtype)),
            Value::Later(mut d) => {
                d.set_dtype(dtype);
                Value::Later(d)
            }
            v => v,
        };
        if crate::autograd::is_grad_enabled() && inputs.iter().any(Tensor::is_requires_grad) {
            Tensor::from_value(
                value,
                Op::Custom(Box::new(Custom {
                    inputs,
                    vjp: Box::new(vjp),
                    jvp: Box::new(jvp),
                    name,
                })),
            )
        } else {
            Tensor::from_value(value, Op::Leaf)
        }
    }

    pub(crate) fn from_array(a: ArrayD<f64>) -> Tensor {
        Tensor::from_data(Data::from_array(a))
    }

    /// The value, without copying when this handle is the only one.
    pub(crate) fn into_data(mut self) -> Data {
        self.0.data();
        match NodeRc::get_mut(&mut self.0) {
            Some(node) => node.value.take().expect("computed above"),
            None => self.0.data().clone(),
        }
    }

    /// The value, computed first if it was deferred.
    #[inline]
    pub(crate) fn data(&self) -> &Data {
        self.0.data()
    }

    /// The value of a 0-d tensor, `None` for an array (one test of the
    /// value's tag on the hot path of 0-d backward passes).
    #[inline]
    pub(crate) fn scalar_value(&self) -> Option<f64> {
        match self.0.value.get() {
            Some(Data::Scalar(x)) => Some(*x),
            Some(_) => None,
            None => match self.0.data() {
                Data::Scalar(x) => Some(*x),
                _ => None,
            },
        }
    }

    /// A 0-d tensor.
    pub fn scalar(x: f64) -> Tensor {
        Tensor::from_data(Data::Scalar(x))
    }

    /// A tensor of the given shape from row-major values; an `Err` if the
    /// number of values is not the product of the shape.
    pub fn from_vec(data: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
        let n = checked_numel("from_vec", shape)?;
        if n != data.len() {
            return Err(Error::ShapeMismatch {
                op: "from_vec",
                left: vec![data.len()],
                right: shape.to_vec(),
            });
        }
        if shape.is_empty() {
            return Ok(Tensor::scalar(data[0]));
        }
        // The length matches, so only the size can fail.
        let a = ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|_| Error::ShapeOverflow {
            op: "from_vec",
            shape: shape.to_vec(),
        })?;
        Ok(Tensor::from_array(a))
    }

    /// A tensor from a nested literal (see [`tensor!`](crate::tensor!)).
    pub fn from_nested<L: NestedLiteral + ?Sized>(literal: &L) -> Tensor {
        let mut shape = Vec::new();
        literal.literal_shape(&mut shape);
        let mut values = Vec::new();
        literal.literal_values(&mut values);
        Tensor::from_vec(values, &shape).expect("a literal's values match its shape")
    }

    /// A tensor of the given shape filled with `value`.
    pub fn full(shape: &[usize], value: f64) -> Tensor {
        if shape.is_empty() {
            Tensor::scalar(value)
        } else if let Some(d) = match shape {
            [n] => small::full_1d(*n, value),
            _ => None,
        } {
            // Built in place (a backward pass's gradient of a mean).
            Tensor::from_op(d, Op::Leaf)
        } else if let Some(d) = small::array_with(shape, |o| o.fill(value)) {
            Tensor::from_data(d)
        } else {
            let n = shape.iter().product();
            Tensor::from_array(
                ArrayD::from_shape_vec(IxDyn(shape), buffers::filled(n, value)).expect("n values"),
            )
        }
    }

    /// Zeros of the given shape.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// Ones of the given shape.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// Zeros of `self`'s shape and dtype (as `torch.zeros_like`).
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape()).to_dtype(self.dtype())
    }

    /// Ones of `self`'s shape and dtype (as `torch.ones_like`).
    pub fn ones_like(&self) -> Tensor {
        Tensor::ones(self.shape()).to_dtype(self.dtype())
    }

    /// The n×n identity matrix. Up to 1448×1448 the last one made on a
    /// thread is shared (values are copy-on-write), so the identity that
    /// seeds every Jacobian and Hessian is made once, and matrix products
    /// recognise it without reading it.
    pub fn eye(n: usize) -> Tensor {
        Tensor::from_data(Data::from_shared(identity::eye(n)))
    }

    /// `start, start + step, ...` up to but excluding `end` (1-d); an `Err`
    /// if `step` is zero or not finite, or if the range has more than
    /// [`MAX_NUMEL`] elements or more than memory holds.
    ///
    /// ```
    /// use chainrule::{Error, Tensor};
    /// assert_eq!(Tensor::arange(0.0, 3.0, 1.0).unwrap().to_vec(), vec![0.0, 1.0, 2.0]);
    /// assert!(matches!(Tensor::arange(0.0, 1e30, 1.0), Err(Error::TooManyElements { .. })));
    /// ```
    pub fn arange(start: f64, end: f64, step: f64) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::InvalidRange { start, end, step });
        }
        // `as usize` saturates: 1e30 elements reads as usize::MAX.
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        let too_many = |numel| Error::TooManyElements {
            op: "arange",
            numel,
            limit: MAX_NUMEL,
        };
        if n > MAX_NUMEL {
            return Err(too_many(n));
        }
        let mut v: Vec<f64> = Vec::new();
        v.try_reserve_exact(n).map_err(|_| too_many(n))?;
        v.extend((0..n).map(|i| start + i as f64 * step));
        Tensor::from_vec(v, &[n])
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive (1-d).
    pub fn linspace(start: f64, end: f64, steps: usize) -> Tensor {
        let v: Vec<f64> = match steps {
            0 => vec![],
            1 => vec![start],
            _ => {
                let h = (end - start) / (steps - 1) as f64;
                (0..steps)
                    .map(|i| {
                        if i == steps - 1 {
                            end
                        } else {
                            start + i as f64 * h
                        }
                    })
                    .collect()
            }
        };
        Tensor::from_vec(v, &[steps]).expect("linspace length")
    }

    /// Uniform values in [0, 1) from the shared SplitMix64 stream of `seed`,
    /// in row-major order.
    pub fn rand(shape: &[usize], seed: u64) -> Tensor {
        let mut g = SplitMix64::new(seed);
        let n = shape.iter().product();
        Tensor::from_vec(g.uniform_vec(n, 0.0, 1.0), shape).expect("rand length")
    }

    /// One row per label with a 1 in column `label` (shape `[labels.len(),
    /// classes]`); an `Err` if a label is not below `classes`.
    pub fn one_hot(labels: &[usize], classes: usize) -> Result<Tensor> {
        if let Some((sample, &label)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
            return Err(Error::ClassOutOfRange {
                op: "one_hot",
                label,
                sample,
                classes,
            });
        }
        let n = checked_numel("one_hot", &[labels.len(), classes])?;
        let mut v = vec![0.0; n];
        for (i, &l) in labels.iter().enumerate() {
            v[i * classes + l] = 1.0;
        }
        Tensor::from_vec(v, &[labels.len(), classes])
    }

    /// Standard normal values (Box–Muller on SplitMix64 of `seed`).
    pub fn randn(shape: &[usize], seed: u64) -> Tensor {
        let mut g = SplitMix64::new(seed);
        let n = shape.iter().product();
        let v = (0..n).map(|_| g.normal()).collect();
        Tensor::from_vec(v, shape).expect("randn length")
    }

    // ----- inspection ----------------------------------------------------

    /// The shape (empty for 0-d).
    pub fn shape(&self) -> &[usize] {
        self.0.shape()
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.shape().iter().product()
    }

    /// The value of a one-element tensor, an `Err` otherwise.
    pub fn try_item(&self) -> Result<f64> {
        match self.0.data() {
            Data::Scalar(x) => Ok(*x),
            Data::Array(a) if a.len() == 1 => Ok(a.iter().copied().next().unwrap_or(f64::NAN)),
            Data::F32(a) if a.len() == 1 => {
                Ok(a.iter().map(|&v| f64::from(v)).next().unwrap_or(f64::NAN))
            }
            d => Err(Error::NotAScalar {
                numel: d.shape().iter().product::<usize>(),
            }),
        }
    }

    panicking! {
        /// The value of a one-element tensor.
        ///
        /// # Panics
        /// If the tensor has more or fewer than one element (see [`Tensor::try_item`]).
        pub fn item(&self) -> f64 = try_item, "item";
    }

    /// The values in row-major order (f32 values widened, exactly).
    pub fn to_vec(&self) -> Vec<f64> {
        match self.0.data() {
            Data::Scalar(x) => vec![*x],
            Data::Array(a) => match a.as_slice() {
                Some(s) => s.to_vec(),
                None => a.iter().copied().collect(),
            },
            Data::F32(a) => a.iter().map(|&v| f64::from(v)).collect(),
        }
    }

    /// Whether `self` and `other` are the same tensor (same node).
    pub fn same(&self, other: &Tensor) -> bool {
        NodeRc::ptr_eq(&self.0, &other.0)
    }

    // ----- autograd flags ------------------------------------------------

    /// Marks a leaf as needing gradients (builder form of
    /// [`Tensor::requires_grad_`]); a non-leaf already requires them.
    pub fn requires_grad(self) -> Tensor {
        if self.is_leaf() {
            self.0.requires_grad.set(true);
        }
        self
    }

    /// Sets whether a leaf needs gradients. Turning it off on a non-leaf is
    /// an `Err`, as in PyTorch.
    pub fn requires_grad_(&self, flag: bool) -> Result<&Tensor> {
        if !self.is_leaf() {
            if flag {
                return Ok(self);
            }
            return Err(Error::NotALeaf);
        }
        self.0.requires_grad.set(flag);
        Ok(self)
    }

    /// Whether gradients flow to this tensor.
    pub fn is_requires_grad(&self) -> bool {
        self.0.requires_grad.get()
    }

    /// Whether this tensor was not computed by a recorded operation.
    pub fn is_leaf(&self) -> bool {
        self.0.leaf
    }

    /// PyTorch's name of the operation that made this tensor
    /// (`"MulBackward0"`), `None` for leaves.
    pub fn grad_fn(&self) -> Option<&'static str> {
        self.0.op.borrow().name()
    }

    /// The accumulated gradient (leaves, and non-leaves after
    /// [`Tensor::retain_grad`]).
    pub fn grad(&self) -> Option<Tensor> {
        let g = self.0.grad.take();
        self.0.grad.set(g.clone());
        g
    }

    /// Clears the accumulated gradient.
    pub fn zero_grad(&self) {
        self.0.grad.set(None);
    }

    /// Replaces the accumulated gradient (used by optimizers).
    pub fn set_grad(&self, grad: Option<Tensor>) {
        self.0.grad.set(grad);
    }

    /// Asks a non-leaf to keep its gradient in `.grad()` during backward.
    pub fn retain_grad(&self) {
        if !self.is_leaf() {
            self.0.retains_grad.set(true);
        }
    }

    /// A new leaf with the same value and no history.
    pub fn detach(&self) -> Tensor {
        Tensor::from_data(self.0.data().clone())
    }

    /// Whether an operation on this tensor should be recorded.
    #[inline]
    pub(crate) fn tracks(&self) -> bool {
        self.0.requires_grad.get() && crate::autograd::is_grad_enabled()
    }

    /// Maps every element through `f` into a new leaf (no gradient), in
    /// this tensor's dtype (f32 values are widened for `f` and rounded back).
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Tensor {
        Tensor::from_data(self.0.data().map(f))
    }
}

impl From<f64> for Tensor {
    fn from(x: f64) -> Tensor {
        Tensor::scalar(x)
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Tensor");
        s.field("shape", &self.shape())
            .field("data", &self.to_vec());
        if let Some(name) = self.grad_fn() {
            s.field("grad_fn", &name);
        } else if self.is_requires_grad() {
            s.field("requires_grad", &true);
        }
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(Tensor::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(
            Tensor::arange(0.0, 1.0, 0.25).unwrap().to_vec(),
            vec![0.0, 0.25, 0.5, 0.75]
        );
        assert_eq!(
            Tensor::linspace(1.0, 4.0, 4).to_vec(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        assert!(Tensor::from_vec(vec![1.0], &[2]).is_err());
        assert!(Tensor::arange(0.0, 1.0, 0.0).is_err());
        let r = Tensor::rand(&[2, 3], 7);
        assert_eq!(r.shape(), &[2, 3]);
        let mut g = SplitMix64::new(7);
        assert_eq!(r.to_vec()[0], g.next_f64());
        assert!(r.to_vec().iter().all(|v| (0.0..1.0).contains(v)));
        assert_eq!(tensor![2.0].shape(), &[1]);
        assert_eq!(tensor![[1.0, 2.0]].shape(), &[1, 2]);
        assert_eq!(tensor![[[1.0], [2.0]]].shape(), &[1, 2, 1]);
        assert!(Tensor::ones(&[3]).try_item().is_err());
        let h = Tensor::one_hot(&[2, 0], 3).unwrap();
        assert_eq!(h.to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        assert!(Tensor::one_hot(&[3], 3).is_err());
    }

    #[test]
    fn a_node_fits_a_fast_bin() {
        // glibc serves chunks of up to 128 bytes (120 requested) from its
        // fast bins; W1's per-op cost depends on it.
        assert!(std::mem::size_of::<handle::Shared>() <= 120);
    }

    #[test]
    fn long_chain_drops_without_recursion() {
        let x = Tensor::scalar(1.0).requires_grad();
        let mut h = x.clone();
        for _ in 0..200_000 {
            h = &h * 1.0;
        }
        drop(h);
        assert_eq!(NodeRc::strong_count(&x.0), 1);
    }
}
