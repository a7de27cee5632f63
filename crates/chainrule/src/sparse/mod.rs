//! Sparse Jacobians and Hessians: sparsity detection, colouring and
//! compressed products.
//!
//! A function written generically over [`Real`](crate::Real) is traced
//! once on [`Traced`](crate::compiled::Traced) values. From the trace:
//!
//! 1. **Detection** ([`Pattern`]): every value carries the set of inputs it
//!    depends on, and a scalar function's Hessian the set of pairs with a
//!    possibly nonzero second derivative, as SparseConnectivityTracer.jl
//!    does; which ops are linear is read off the rules table. The pattern
//!    is conservative: it never misses a structural nonzero.
//! 2. **Colouring** ([`Coloring`]): [`column_coloring`] for Jacobians,
//!    [`star_coloring`] for symmetric Hessians; one product per colour.
//! 3. **Compressed products**: `J·v_c` (forward mode) or `H·v_c` (forward
//!    over reverse) for each colour's 0/1 seed `v_c`, compiled into one
//!    straight-line program (see [`crate::compiled`]) whose outputs are the
//!    entries, unpacked into a [`CsrMatrix`].
//! 4. **Repeated terms** (Hessians): a function traced as a sum whose terms
//!    are few formulas on different inputs (a partially separable function,
//!    such as extended Rosenbrock) is split into those formulas instead;
//!    each one's Hessian is compiled once, as a function of its few inputs,
//!    run over many terms at once in lanes, and added into the values at
//!    places found once ([`SparseHessian::whole`] keeps the one program).
//!
//! [`SparseHessian`] and [`SparseJacobian`] keep the compiled products to
//! evaluate at many points; [`functional::sparse_hessian`](crate::functional::sparse_hessian)
//! and [`functional::sparse_jacobian`](crate::functional::sparse_jacobian)
//! are the same as transforms.
//!
//! The matrix type is this module's own small CSR ([`CsrMatrix`], a shared
//! [`Pattern`] and a value per entry): what detection and unpacking need is
//! a pattern with no values and an index per entry, which a general
//! sparse-matrix crate would add a dependency for without using its
//! arithmetic.

mod color;
mod csr;
mod detect;
mod elements;
mod pattern;
mod plan;
mod terms;

pub use color::{column_coloring, star_coloring, Coloring};
pub use csr::CsrMatrix;
pub use pattern::Pattern;
pub use plan::{SparseHessian, SparseJacobian};
