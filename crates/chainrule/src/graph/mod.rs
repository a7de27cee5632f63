//! Pictures and explanations of an expression's computational graph: the
//! Wengert list ([`Wengert`]: one named node per operation, its value, its
//! local derivatives and its adjoint), explained as a student would write it
//! ([`Wengert::explain_text`], [`Wengert::explain_html`]) and drawn as SVG
//! with a layered (Sugiyama) layout ([`Wengert::to_svg`]) or as Graphviz DOT
//! ([`Wengert::to_dot`]). The `chainrule` command's `explain` and `graph` and
//! the Python package's `chainrule.explain` and `chainrule.graph` are these.
//!
//! ```
//! use chainrule::graph::Wengert;
//! let w = Wengert::parse("x*y + sin(x)", &[("x", 1.0), ("y", 2.0)]).unwrap();
//! let svg = w.to_svg("x*y + sin(x)", "x = 1, y = 2");
//! assert!(svg.starts_with("<svg") && svg.contains("∂f/∂x"));
//! assert!(w.explain_text("x*y + sin(x)", "x = 1, y = 2").contains("Reverse pass"));
//! ```

mod dot;
mod explain;
mod layout;
mod names;
mod number;
mod svg;
mod wengert;

pub use number::{num_text, short};
pub use wengert::{Kind, Node, Wengert};
