//! Layers, activations and losses, PyTorch-style, on
//! [`Tensor`](crate::Tensor) and its reverse mode.
//!
//! - [`Module`]: `forward` and `parameters`; [`Linear`], [`Sequential`] and
//!   the activations [`ReLU`], [`Tanh`], [`Sigmoid`], [`Softplus`].
//! - [`Parameter`]: the slot a module and an optimiser share; an update
//!   installs a new leaf in it (tensor values are immutable).
//! - [`loss`]: `mse`, `cross_entropy` (from logits), `nll`,
//!   `binary_cross_entropy_with_logits`, each the mean over the batch.
//! - [`accuracy`] of a classifier's logits; [`data::two_moons`]: the moons
//!   example's data set (its training loop is
//!   [`train::train_classifier`](crate::train::train_classifier)).
//!
//! Initialisation is seeded ([`Linear::new`] draws from a
//! [`SplitMix64`](crate::random::SplitMix64)), so a run gives the same
//! numbers every time.
//!
//! ```
//! use chainrule::nn::{loss, Linear, Module, ReLU, Sequential};
//! use chainrule::optim::{Adam, AdamConfig, Optimizer};
//! use chainrule::random::SplitMix64;
//! use chainrule::Tensor;
//! let mut rng = SplitMix64::new(1);
//! let model = Sequential::new().with(Linear::new(3, 4, &mut rng)).with(ReLU).with(Linear::new(4, 1, &mut rng));
//! let x = Tensor::randn(&[8, 3], 2);
//! let y = x.sum_dim(&[1], true);
//! let mut opt = Adam::new(model.parameters(), AdamConfig { lr: 0.01, ..Default::default() }).unwrap();
//! let first = opt.step_with(|| loss::mse(&model.forward(&x)?, &y)).unwrap();
//! let mut last = first;
//! for _ in 0..200 {
//!     last = opt.step_with(|| loss::mse(&model.forward(&x)?, &y)).unwrap();
//! }
//! assert!(last < 0.1 * first);
//! ```

mod activation;
pub mod data;
mod linear;
pub mod loss;
mod metrics;
mod module;
mod parameter;

pub use activation::{ReLU, Sigmoid, Softplus, Tanh};
pub use linear::Linear;
pub use metrics::accuracy;
pub use module::{Module, Sequential};
pub use parameter::Parameter;
