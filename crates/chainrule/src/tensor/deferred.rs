//! Deferred values: an expensive result computed when it is first read.
//!
//! `autograd::grad(trace(A @ X @ B), X)` never reads the values of the two
//! products or of the trace: the trace's vector–Jacobian product needs only
//! its input's shape and each product's only its inputs. A matrix product
//! therefore records its shape at once (so shape errors are still reported
//! when it is made) and a recipe for its value, which runs on the first read
//! ([`Node::data`]); a reduction, a trace or a reshape of a deferred value is
//! deferred as well. A value no one reads is never computed, as a compiler's
//! dead-code elimination would drop it, and W7's gradient costs one product.
//!
//! - Reading a value forces its deferred inputs first, on an explicit stack
//!   (no recursion on a deep chain of deferred values).
//! - A recipe holds its inputs until it runs (the graph's own record of them
//!   may be freed by a backward pass before the value is read) and releases
//!   them as soon as it has run; `Node`'s `Drop` unlinks both records
//!   iteratively.
//! - Everything but the value is known at once: shape, `requires_grad`, the
//!   node's history.

use std::cell::RefCell;

use super::{Data, Node, Tensor};

/// What computes a deferred value from its inputs (all computed by then).
type Compute = Box<dyn FnOnce(&[Tensor]) -> Data>;

/// The inputs of a value not yet computed and the function that computes it.
struct Recipe {
    inputs: Vec<Tensor>,
    compute: Compute,
}

/// A value not computed yet: its shape (known at once) and its recipe
/// (`None` once it has run).
pub(crate) struct Deferred {
    shape: Vec<usize>,
    /// The dtype of the value (the computed value is cast to it).
    dtype: super::DType,
    recipe: RefCell<Option<Recipe>>,
    /// A product of two matrices (inputs `[a, b]`, both 2-d), which an
    /// addition of a bias row folds into (see `matmul.rs`).
    product: bool,
}

impl Deferred {
    /// A value of `shape` computed by `compute` from `inputs` when read.
    pub(crate) fn new(
        shape: Vec<usize>,
        inputs: Vec<Tensor>,
        compute: impl FnOnce(&[Tensor]) -> Data + 'static,
    ) -> Box<Deferred> {
        let dtype = super::dtype::promote_all(&inputs);
        Box::new(Deferred {
            shape,
            dtype,
            recipe: RefCell::new(Some(Recipe {
                inputs,
                compute: Box::new(compute),
            })),
            product: false,
        })
    }

    /// Marks the value as a product of two matrices, the recipe's inputs.
    pub(crate) fn mark_product(&mut self) {
        self.product = true;
    }

    /// The two matrices of a product not computed yet (see
    /// [`Deferred::mark_product`]).
    pub(crate) fn product_operands(&self) -> Option<[Tensor; 2]> {
        if !self.product {
            return None;
        }
        let recipe = self.recipe.borrow();
        match recipe.as_ref()?.inputs.as_slice() {
            [a, b] => Some([a.clone(), b.clone()]),
            _ => None,
        }
    }

    /// The shape of the value.
    pub(crate) fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The dtype of the value.
    pub(crate) fn dtype(&self) -> super::DType {
        self.dtype
    }

    /// Makes the value of `dtype` (cast once computed, if it is not).
    pub(crate) fn set_dtype(&mut self, dtype: super::DType) {
        self.dtype = dtype;
    }

    /// Moves the recipe's inputs out (used by `Drop`).
    pub(crate) fn take_inputs(&mut self, out: &mut Vec<Tensor>) {
        if let Some(r) = self.recipe.get_mut().take() {
            out.extend(r.inputs);
        }
    }
}

thread_local! {
    /// How many deferred values this thread has computed (read by tests).
    #[cfg(test)]
    static COMPUTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The number of deferred values computed so far on this thread.
#[cfg(test)]
pub(crate) fn computed() -> usize {
    COMPUTED.with(std::cell::Cell::get)
}

/// The first unread deferred input of `node`'s recipe, if any.
fn pending_input(node: &Node) -> Option<Tensor> {
    let d = node.deferred.as_ref()?;
    let recipe = d.recipe.borrow();
    recipe
        .as_ref()?
        .inputs
        .iter()
        .find(|t| t.0.value.get().is_none())
        .cloned()
}

/// Runs the recipe of `node`, whose inputs are all computed.
fn run(node: &Node) {
    let d = node
        .deferred
        .as_ref()
        .expect("a node without a value has a recipe");
    let recipe = d
        .recipe
        .borrow_mut()
        .take()
        .expect("a deferred value is computed once");
    let mut value = (recipe.compute)(&recipe.inputs);
    if value.dtype() != d.dtype {
        value = value.cast(d.dtype);
    }
    #[cfg(test)]
    COMPUTED.with(|c| c.set(c.get() + 1));
    if node.value.set(value).is_err() {
        unreachable!("a deferred value is set once");
    }
    // The inputs go now, not with the node: dropping them may free a chain,
    // which `Node`'s Drop unlinks iteratively.
    drop(recipe.inputs);
}

/// Computes the value of `root` (not computed yet) and the deferred values
/// it depends on, inputs first, on an explicit stack.
#[cold]
#[inline(never)]
pub(crate) fn force(root: &Node) -> &Data {
    let mut stack: Vec<Tensor> = Vec::new();
    loop {
        let top = stack.last().cloned();
        let node = top.as_ref().map_or(root, |t| &*t.0);
        if let Some(input) = pending_input(node) {
            stack.push(input);
            continue;
        }
        run(node);
        if stack.pop().is_none() {
            break;
        }
    }
    root.value.get().expect("computed above")
}

impl Tensor {
    /// Whether this tensor's value has been computed (false only for a
    /// deferred value not read yet).
    pub(crate) fn is_computed(&self) -> bool {
        self.0.value.get().is_some()
    }
}

impl super::Value {
    /// A value computed by `compute` from `inputs` when it is first read.
    pub(crate) fn later(
        shape: Vec<usize>,
        inputs: &[Tensor],
        compute: impl FnOnce(&[Tensor]) -> Data + 'static,
    ) -> super::Value {
        super::Value::Later(Deferred::new(shape, inputs.to_vec(), compute))
    }

    /// `compute(inputs)`, computed now unless an input is itself deferred:
    /// then deferred too, so that the inputs are computed only if this value
    /// is read (a reduction, trace or reshape of a matrix product).
    pub(crate) fn after(
        shape: impl FnOnce() -> Vec<usize>,
        inputs: &[Tensor],
        compute: impl FnOnce(&[Tensor]) -> Data + 'static,
    ) -> super::Value {
        if inputs.iter().all(Tensor::is_computed) {
            super::Value::Now(compute(inputs))
        } else {
            super::Value::later(shape(), inputs, compute)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::computed;
    use crate::autograd::{self, GradOptions};
    use crate::real::Real;
    use crate::tensor::Tensor;

    /// A rows × cols matrix of small integers (products and sums of them
    /// are exact in f64, so values can be compared exactly).
    fn integers(rows: usize, cols: usize, seed: usize) -> Vec<f64> {
        (0..rows * cols)
            .map(|i| ((i * 7 + seed * 3) % 11) as f64 - 5.0)
            .collect()
    }

    /// a (m×k) · b (k×n) by the definition.
    fn product(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        c
    }

    fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        (0..rows * cols)
            .map(|i| a[(i % rows) * cols + i / rows])
            .collect()
    }

    fn matrix(v: &[f64], rows: usize, cols: usize) -> Tensor {
        Tensor::from_vec(v.to_vec(), &[rows, cols]).unwrap()
    }

    #[test]
    fn values_the_gradient_does_not_read_are_never_computed() {
        // ∇_X tr(AXB) = AᵀBᵀ: the backward pass reads neither product.
        let n = 5;
        let (av, xv, bv) = (integers(n, n, 1), integers(n, n, 2), integers(n, n, 3));
        let (a, b) = (matrix(&av, n, n), matrix(&bv, n, n));
        let x = matrix(&xv, n, n).requires_grad();
        let before = computed();
        let ax = a.matmul(&x);
        let axb = ax.matmul(&b);
        let t = axb.trace();
        assert_eq!((ax.shape(), t.shape()), (&[n, n][..], &[][..]));
        let g =
            autograd::grad(std::slice::from_ref(&t), &[x], None, GradOptions::default()).unwrap();
        let expected = product(&transpose(&av, n, n), &transpose(&bv, n, n), n, n, n);
        assert_eq!(g[0].to_vec(), expected);
        assert!(!ax.is_computed() && !axb.is_computed() && !t.is_computed());
        assert_eq!(computed(), before);
        // Read after the backward pass freed the graph: the trace computes
        // both products first, once each.
        let axb_v = product(&product(&av, &xv, n, n, n), &bv, n, n, n);
        let trace: f64 = (0..n).map(|i| axb_v[i * n + i]).sum();
        assert_eq!(t.item(), trace);
        assert_eq!(computed(), before + 3);
        assert!(ax.is_computed() && axb.is_computed());
        assert_eq!(axb.to_vec(), axb_v);
        assert_eq!(ax.to_vec(), product(&av, &xv, n, n, n));
        assert_eq!(computed(), before + 3);
    }

    #[test]
    fn shapes_and_shape_errors_are_known_at_once() {
        let a = matrix(&integers(2, 3, 1), 2, 3);
        let b = matrix(&integers(3, 4, 2), 3, 4);
        let c = a.matmul(&b);
        assert!(!c.is_computed());
        assert_eq!(c.shape(), &[2, 4]);
        assert_eq!(c.sum_dim(&[0], true).shape(), &[1, 4]);
        assert_eq!(c.mean_dim(&[1], false).shape(), &[2]);
        assert_eq!(c.reshape(&[8]).shape(), &[8]);
        assert!(!c.is_computed());
        assert!(a.try_matmul(&a).is_err());
        assert!(c.try_trace().is_ok());
        assert!(c.try_reshape(&[3, 3]).is_err());
    }

    #[test]
    fn printing_and_reading_compute_the_same_values_as_the_definition() {
        let (av, bv) = (integers(3, 2, 4), integers(2, 3, 5));
        let expected = product(&av, &bv, 3, 2, 3);
        let c = autograd::no_grad_scope(|| matrix(&av, 3, 2).matmul(&matrix(&bv, 2, 3)));
        assert!(c.is_leaf() && !c.is_computed());
        assert_eq!(format!("{c}"), format!("{}", matrix(&expected, 3, 3)));
        let s = matrix(&av, 3, 2).matmul(&matrix(&bv, 2, 3)).sum();
        assert_eq!(s.item(), expected.iter().sum::<f64>());
        let m = matrix(&av, 3, 2)
            .matmul(&matrix(&bv, 2, 3))
            .mean_dim(&[1], false);
        // A mean is the sum times 1/n.
        let means: Vec<f64> = expected
            .chunks(3)
            .map(|r| r.iter().sum::<f64>() * (1.0 / 3.0))
            .collect();
        assert_eq!(m.to_vec(), means);
    }

    #[test]
    fn a_deep_chain_of_deferred_values_is_computed_and_dropped_without_recursion() {
        // X·P^k with P the 2×2 swap: odd k swaps the columns of X.
        let swap = matrix(&[0.0, 1.0, 1.0, 0.0], 2, 2);
        let x = matrix(&[1.0, 2.0, 3.0, 4.0], 2, 2).requires_grad();
        let chain = |k: usize| {
            let mut y = x.clone();
            for _ in 0..k {
                y = y.matmul(&swap);
            }
            y
        };
        let k = 100_001;
        drop(chain(k));
        let y = chain(k);
        let s = y.sum();
        // d/dX Σ X P^k = 1 (P^k)ᵀ = 1 for a permutation.
        let g = autograd::grad(
            std::slice::from_ref(&s),
            std::slice::from_ref(&x),
            None,
            GradOptions::default(),
        )
        .unwrap();
        assert_eq!(g[0].to_vec(), vec![1.0; 4]);
        assert!(!y.is_computed());
        assert_eq!(y.to_vec(), vec![2.0, 1.0, 4.0, 3.0]);
        assert_eq!(s.item(), 10.0);
        drop((y, s));
        assert_eq!(crate::tensor::strong_count(&x), 1);
    }

    #[test]
    fn a_deferred_product_differentiates_twice() {
        // f(x) = Σ (Ax)²: ∇f = 2AᵀAx, and ∇⟨∇f, 1⟩ = 2AᵀA·1.
        let (m, n) = (4, 3);
        let av = integers(m, n, 6);
        let xv = vec![1.0, -2.0, 3.0];
        let a = matrix(&av, m, n);
        let x = Tensor::from_vec(xv.clone(), &[n]).unwrap().requires_grad();
        let ax = a.matmul(&x);
        let f = ax.powi(2).sum();
        let g = autograd::grad(
            &[f],
            std::slice::from_ref(&x),
            None,
            GradOptions::CREATE_GRAPH,
        )
        .unwrap();
        let ata = product(&transpose(&av, m, n), &av, n, m, n);
        let grad: Vec<f64> = product(&ata, &xv, n, n, 1)
            .iter()
            .map(|v| 2.0 * v)
            .collect();
        assert_eq!(g[0].to_vec(), grad);
        let h1 = autograd::grad(&[g[0].sum()], &[x], None, GradOptions::default()).unwrap();
        let row_sums: Vec<f64> = ata.chunks(n).map(|r| 2.0 * r.iter().sum::<f64>()).collect();
        assert_eq!(h1[0].to_vec(), row_sums);
    }
}
