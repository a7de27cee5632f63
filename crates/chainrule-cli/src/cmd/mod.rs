//! One module per command.

pub mod check;
pub mod diff;
pub mod explain;
pub mod grad;
pub mod graph;
pub mod hessian;
pub mod matrix;
pub mod taylor;

use crate::json::{num_text, Json};
use crate::point::Point;

/// `x = 1, y = 2.5` for the human-readable reports (alphabetical).
pub fn point_text(point: &Point) -> String {
    point
        .to_map()
        .iter()
        .map(|(k, v)| format!("{k} = {}", num_text(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The point as a JSON object, alphabetical.
pub fn point_json(point: &Point) -> Json {
    Json::num_map(&point.to_map())
}

/// A list of names as a JSON array.
pub fn names_json(names: &[String]) -> Json {
    Json::Arr(names.iter().map(|n| Json::from(n.as_str())).collect())
}

/// An object from names and numbers, in the order given.
pub fn named_numbers(names: &[String], values: &[f64]) -> Json {
    Json::Obj(
        names
            .iter()
            .zip(values)
            .map(|(n, v)| (n.clone(), Json::Num(*v)))
            .collect(),
    )
}
