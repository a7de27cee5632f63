//! The `Module` trait and `Sequential`, the composition of modules.

use std::fmt;

use super::{Linear, Parameter};
use crate::error::Result;
use crate::random::SplitMix64;
use crate::tensor::Tensor;

/// A differentiable function with trainable parameters, as `torch.nn.Module`.
///
/// `forward` builds the graph from the current parameter values, so a
/// `loss.backward()` after it fills the parameters' gradients, and an
/// optimiser built from [`Module::parameters`] updates them.
pub trait Module {
    /// The output for `input`; an `Err` if the input's shape does not fit.
    fn forward(&self, input: &Tensor) -> Result<Tensor>;

    /// The trainable parameters, in a fixed order (handles to the slots the
    /// module reads, so an optimiser's updates reach it).
    fn parameters(&self) -> Vec<Parameter> {
        Vec::new()
    }

    /// A one-line description, as PyTorch prints a module; by default the
    /// type's name, `Name()`.
    fn describe(&self) -> String {
        let path = std::any::type_name::<Self>();
        let name = path.split('<').next().unwrap_or(path);
        format!("{}()", name.rsplit("::").next().unwrap_or(name))
    }

    /// Clears the gradients of every parameter.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// The number of trainable scalars.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(Parameter::numel).sum()
    }
}

/// Modules applied one after another, as `torch.nn.Sequential`.
///
/// ```
/// use chainrule::nn::{Linear, Module, Sequential, Tanh};
/// use chainrule::random::SplitMix64;
/// use chainrule::Tensor;
/// let mut rng = SplitMix64::new(0);
/// let model = Sequential::new()
///     .with(Linear::new(2, 8, &mut rng))
///     .with(Tanh)
///     .with(Linear::new(8, 3, &mut rng));
/// let y = model.forward(&Tensor::zeros(&[5, 2])).unwrap();
/// assert_eq!(y.shape(), &[5, 3]);
/// assert_eq!(model.num_parameters(), 2 * 8 + 8 + 8 * 3 + 3);
/// assert!(model.forward(&Tensor::zeros(&[5, 4])).is_err());
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty composition (the identity).
    pub fn new() -> Sequential {
        Sequential { layers: Vec::new() }
    }

    /// A multilayer perceptron: [`Linear`] layers between consecutive
    /// `sizes`, drawn from `rng` in order, with `activation` after each but
    /// the last (so the output is raw scores).
    ///
    /// ```
    /// use chainrule::nn::{Module, Sequential, Tanh};
    /// use chainrule::random::SplitMix64;
    /// let model = Sequential::mlp(&[2, 16, 2], Tanh, &mut SplitMix64::new(0));
    /// assert_eq!(model.len(), 3);
    /// assert_eq!(model.num_parameters(), 2 * 16 + 16 + 16 * 2 + 2);
    /// ```
    pub fn mlp<A: Module + Clone + 'static>(
        sizes: &[usize],
        activation: A,
        rng: &mut SplitMix64,
    ) -> Sequential {
        let mut model = Sequential::new();
        for (i, pair) in sizes.windows(2).enumerate() {
            if i > 0 {
                model.push(activation.clone());
            }
            model.push(Linear::new(pair[0], pair[1], rng));
        }
        model
    }

    /// Appends `layer` (builder form).
    pub fn with(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends `layer`.
    pub fn push(&mut self, layer: impl Module + 'static) {
        self.layers.push(Box::new(layer));
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layers, in order.
    pub fn layers(&self) -> impl Iterator<Item = &dyn Module> {
        self.layers.iter().map(|l| l.as_ref())
    }
}

impl Module for Sequential {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let mut h = input.clone();
        for layer in &self.layers {
            h = layer.forward(&h)?;
        }
        Ok(h)
    }

    fn parameters(&self) -> Vec<Parameter> {
        self.layers.iter().flat_map(|l| l.parameters()).collect()
    }

    fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Sequential {
    /// PyTorch's layout: `Sequential(` then one numbered line per layer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Sequential(")?;
        for (i, layer) in self.layers.iter().enumerate() {
            let d = layer.describe().replace('\n', "\n  ");
            writeln!(f, "  ({i}): {d}")?;
        }
        write!(f, ")")
    }
}
