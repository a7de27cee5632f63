//! `Parameter`: a trainable tensor that a model and its optimiser share.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A shared slot holding a leaf tensor that requires gradients.
///
/// A [`Tensor`]'s value never changes after it is made (graphs that saved it
/// rely on that), so an update makes a new leaf. The slot is what the model
/// (which reads it in `forward`) and the optimiser (which replaces it in
/// `step`) share: clones of a `Parameter` are handles to the same slot, the
/// way `torch.nn.Parameter` objects are shared between a module and
/// `optimizer.param_groups`.
///
/// ```
/// use chainrule::nn::Parameter;
/// use chainrule::tensor;
/// let p = Parameter::new(tensor![1.0, 2.0]);
/// let q = p.clone();
/// q.set(&tensor![3.0, 4.0]).unwrap();
/// assert_eq!(p.value().to_vec(), vec![3.0, 4.0]);
/// assert!(p.value().is_requires_grad() && p.value().is_leaf());
/// ```
///
/// Each replacement bumps the slot's [`version`](Parameter::version) and
/// marks the value it replaces, so a backward pass through a graph built
/// before the replacement (a `set` or an optimiser step between forward and
/// backward) fails with [`Error::ModifiedParameter`], as PyTorch's "modified
/// by an inplace operation", instead of storing the gradient where no one
/// reads it:
///
/// ```
/// use chainrule::error::Error;
/// use chainrule::nn::Parameter;
/// use chainrule::tensor;
/// let p = Parameter::new(tensor![1.0, 2.0]);
/// let loss = (p.value() * p.value()).sum();
/// p.set(&tensor![3.0, 4.0]).unwrap();
/// assert_eq!(p.version(), 1);
/// assert!(matches!(loss.backward(), Err(Error::ModifiedParameter { .. })));
/// ```
#[derive(Clone)]
pub struct Parameter(Rc<Slot>);

/// What a [`Parameter`]'s handles share.
struct Slot {
    value: RefCell<Tensor>,
    /// How many times the value was replaced.
    version: Cell<u64>,
}

impl Parameter {
    /// A parameter holding a copy of `value` as a leaf that requires
    /// gradients (the value's history, if any, is not kept).
    pub fn new(value: Tensor) -> Parameter {
        Parameter(Rc::new(Slot {
            value: RefCell::new(value.detach().requires_grad()),
            version: Cell::new(0),
        }))
    }

    /// The current value: a leaf that requires gradients. Build the graph
    /// from this each forward pass; after an optimiser step it is a new leaf.
    pub fn value(&self) -> Tensor {
        self.0.value.borrow().clone()
    }

    /// The gradient accumulated on the current value, if any.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.value.borrow().grad()
    }

    /// Clears the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        self.0.value.borrow().zero_grad();
    }

    /// The shape of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.0.value.borrow().shape().to_vec()
    }

    /// The number of elements of the value.
    pub fn numel(&self) -> usize {
        self.0.value.borrow().numel()
    }

    /// Replaces the value with a copy of `value`, keeping the gradient; an
    /// `Err` if the shape differs.
    pub fn set(&self, value: &Tensor) -> Result<()> {
        let shape = self.shape();
        if value.shape() != shape.as_slice() {
            return Err(Error::ShapeMismatch {
                op: "Parameter::set: value and parameter",
                left: value.shape().to_vec(),
                right: shape,
            });
        }
        self.replace(value.detach());
        Ok(())
    }

    /// Installs `fresh` (a leaf nobody else holds, such as the result of an
    /// operation under `no_grad`) as the value, moving the gradient over.
    pub(crate) fn replace(&self, fresh: Tensor) {
        debug_assert!(fresh.is_leaf(), "a parameter's value is a leaf");
        let fresh = fresh.requires_grad();
        let mut slot = self.0.value.borrow_mut();
        fresh.set_grad(slot.grad());
        slot.0.replaced.set(true);
        *slot = fresh;
        self.0.version.set(self.0.version.get() + 1);
    }

    /// `value ← value + alpha · g` for an optimiser step, keeping the
    /// gradient and bumping the version: written into the value's own
    /// buffer when no graph or other handle holds the value (one pass,
    /// nothing allocated); otherwise installed as a new leaf as
    /// [`Parameter::replace`] does, so that a graph built on the old value
    /// refuses a backward pass. An `Err` if `g` does not broadcast to the
    /// parameter's shape.
    pub(crate) fn add_scaled(&self, g: &Tensor, alpha: f64) -> Result<()> {
        let mut slot = self.0.value.borrow_mut();
        if crate::tensor::strong_count(&slot) == 1 {
            slot.add_scaled_(g, alpha)?;
            drop(slot);
            self.0.version.set(self.0.version.get() + 1);
            return Ok(());
        }
        let mut fresh = slot.detach();
        drop(slot);
        fresh.add_scaled_(g, alpha)?;
        self.replace(fresh);
        Ok(())
    }

    /// How many times the value was replaced (by [`Parameter::set`] or an
    /// optimiser step): PyTorch's `_version`.
    pub fn version(&self) -> u64 {
        self.0.version.get()
    }

    /// Whether `self` and `other` are the same slot.
    pub fn same(&self, other: &Parameter) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parameter")
            .field("shape", &self.shape())
            .field("data", &self.value().to_vec())
            .finish()
    }
}
