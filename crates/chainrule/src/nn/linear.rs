//! `Linear`: the affine layer y = x Wᵀ + b.

use super::{Module, Parameter};
use crate::error::{Error, Result};
use crate::random::SplitMix64;
use crate::tensor::Tensor;

/// y = x Wᵀ + b over the last axis of `x`, as `torch.nn.Linear`: the weight
/// has shape `[out_features, in_features]`, the bias `[out_features]`.
///
/// ```
/// use chainrule::nn::{Linear, Module};
/// use chainrule::tensor;
/// let layer = Linear::from_tensors(tensor![[1.0, 2.0], [0.0, -1.0]], Some(tensor![0.5, 0.0])).unwrap();
/// let y = layer.forward(&tensor![[3.0, 4.0]]).unwrap();
/// assert_eq!(y.to_vec(), vec![11.5, -4.0]);
/// ```
pub struct Linear {
    weight: Parameter,
    bias: Option<Parameter>,
    in_features: usize,
    out_features: usize,
}

impl Linear {
    /// A layer with weight and bias drawn uniformly from ±1/√in_features
    /// (PyTorch's default initialisation), weight first, row-major, from
    /// `rng`: the same generator state gives the same layer.
    pub fn new(in_features: usize, out_features: usize, rng: &mut SplitMix64) -> Linear {
        Linear::init(in_features, out_features, true, rng)
    }

    /// As [`Linear::new`] without a bias.
    pub fn without_bias(in_features: usize, out_features: usize, rng: &mut SplitMix64) -> Linear {
        Linear::init(in_features, out_features, false, rng)
    }

    fn init(in_features: usize, out_features: usize, bias: bool, rng: &mut SplitMix64) -> Linear {
        // kaiming_uniform_(a = √5) gives the bound 1/√fan_in for the weight,
        // and PyTorch uses the same bound for the bias.
        let bound = if in_features == 0 {
            0.0
        } else {
            1.0 / (in_features as f64).sqrt()
        };
        let w = rng.uniform_vec(out_features * in_features, -bound, bound);
        let weight = Tensor::from_vec(w, &[out_features, in_features]).expect("weight size");
        let bias = bias.then(|| {
            Tensor::from_vec(
                rng.uniform_vec(out_features, -bound, bound),
                &[out_features],
            )
            .expect("bias size")
        });
        Linear {
            weight: Parameter::new(weight),
            bias: bias.map(Parameter::new),
            in_features,
            out_features,
        }
    }

    /// A layer with the given weight `[out, in]` and optional bias `[out]`;
    /// an `Err` if the shapes do not fit together.
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Result<Linear> {
        if weight.ndim() != 2 {
            return Err(Error::WrongRank {
                op: "Linear",
                expected: "a 2-d weight [out_features, in_features]",
                shape: weight.shape().to_vec(),
            });
        }
        let (out_features, in_features) = (weight.shape()[0], weight.shape()[1]);
        if let Some(b) = &bias {
            if b.shape() != [out_features] {
                return Err(Error::ShapeMismatch {
                    op: "Linear: weight and bias",
                    left: weight.shape().to_vec(),
                    right: b.shape().to_vec(),
                });
            }
        }
        Ok(Linear {
            weight: Parameter::new(weight),
            bias: bias.map(Parameter::new),
            in_features,
            out_features,
        })
    }

    /// The weight, `[out_features, in_features]`.
    pub fn weight(&self) -> &Parameter {
        &self.weight
    }

    /// The bias, `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<&Parameter> {
        self.bias.as_ref()
    }

    /// The size of the last axis of the input.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// The size of the last axis of the output.
    pub fn out_features(&self) -> usize {
        self.out_features
    }
}

impl Module for Linear {
    /// `input` of shape `[..., in_features]` to `[..., out_features]`.
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        if input.shape().last() != Some(&self.in_features) {
            return Err(Error::ShapeMismatch {
                op: "Linear: input and weight",
                left: input.shape().to_vec(),
                right: self.weight.shape(),
            });
        }
        let y = input.try_matmul(&self.weight.value().t())?;
        match &self.bias {
            Some(b) => y.try_add(&b.value()),
            None => Ok(y),
        }
    }

    fn parameters(&self) -> Vec<Parameter> {
        let mut ps = vec![self.weight.clone()];
        ps.extend(self.bias.clone());
        ps
    }

    fn describe(&self) -> String {
        format!(
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features,
            self.out_features,
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
}
