//! chainrule: automatic and symbolic differentiation in f64 (tensors in f32 too).
//!
//! - [`Real`]: one vocabulary of scalar math, implemented by every engine.
//! - [`rules`]: the one table of derivative rules that every engine calls.
//! - [`ops`]: the primitive operations, their names and f64 kernels.
//! - [`Tensor`] and [`autograd`]: n-d tensors with PyTorch-style reverse mode,
//!   f64 by default or f32 ([`DType`]).
//! - [`functional`]: JAX-style transforms (`grad`, `jacfwd`, `hessian`, …) that nest.
//! - [`sparse`]: sparse Jacobians and Hessians (detection, colouring, CSR).
//! - [`check`]: finite differences, gradcheck and gradgradcheck.
//! - [`matrix`]: matrix calculus, derivatives as formulas in matrix notation.
//! - [`nn`] and [`optim`]: layers, losses and optimisers, PyTorch-style;
//!   [`train`]: the training loop that joins them.
#![deny(missing_docs)]

pub mod autograd;
pub mod check;
pub mod compiled;
pub mod error;
pub mod forward;
pub mod functional;
#[cfg(feature = "graph")]
pub mod graph;
mod macros;
pub mod matrix;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod random;
pub mod real;
pub mod rules;
pub mod sparse;
pub mod symbolic;
pub mod tensor;
pub mod train;

pub use error::{Error, Result};
pub use forward::{Dual, Taylor};
pub use ops::{BinaryOp, UnaryOp};
pub use real::Real;
pub use tensor::{DType, Tensor};

/// The README's Rust examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
