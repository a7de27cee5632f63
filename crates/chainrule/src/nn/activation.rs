//! Elementwise activations as parameter-free modules.
//!
//! Each one calls the [`Real`] method of the same name, so its derivative
//! comes from the one rules table (relu'(0) = 0, a stable softplus and
//! sigmoid).

use super::Module;
use crate::error::Result;
use crate::real::Real;
use crate::tensor::Tensor;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl Module for $name {
            fn forward(&self, input: &Tensor) -> Result<Tensor> {
                Ok(input.$method())
            }
        }
    };
}

activation!(
    /// max(x, 0), as `torch.nn.ReLU`.
    ///
    /// ```
    /// use chainrule::nn::{Module, ReLU};
    /// use chainrule::tensor;
    /// assert_eq!(ReLU.forward(&tensor![-1.0, 2.0]).unwrap().to_vec(), vec![0.0, 2.0]);
    /// ```
    ReLU,
    relu
);
activation!(
    /// tanh x, as `torch.nn.Tanh`.
    Tanh,
    tanh
);
activation!(
    /// 1 / (1 + e⁻ˣ), as `torch.nn.Sigmoid`.
    Sigmoid,
    sigmoid
);
activation!(
    /// log(1 + eˣ), computed stably, as `torch.nn.Softplus` with β = 1.
    Softplus,
    softplus
);
