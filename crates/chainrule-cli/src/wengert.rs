//! The computational graph of an expression as a Wengert list, for
//! `explain` and `graph`: built, explained and drawn by the library's
//! [`chainrule::graph`]; here only its JSON form (`explain --json`).

pub use chainrule::graph::{short, Kind, Wengert};

use crate::json::Json;

/// Every node as JSON: name, kind, op, formula, args, value, local
/// derivatives (by argument name; `name#slot` when a node takes one
/// argument twice, as in x*x), their formulas when known, adjoint.
pub fn nodes_json(w: &Wengert) -> Json {
    let mut arr = Vec::new();
    for n in &w.nodes {
        let mut local = Json::object();
        for (k, &a) in n.args.iter().enumerate() {
            // Two arguments can be the same node (x*x): key by slot then.
            let key = w.nodes[a].name.clone();
            let key = if n.args.iter().filter(|&&b| w.nodes[b].name == key).count() > 1 {
                format!("{key}#{k}")
            } else {
                key
            };
            local.push(&key, n.local[k]);
        }
        let mut j = Json::object()
            .with("name", n.name.as_str())
            .with(
                "kind",
                match n.kind {
                    Kind::Input => "input",
                    Kind::Const => "const",
                    Kind::Op => "op",
                },
            )
            .with("op", n.op.as_str())
            .with("formula", n.formula.as_str())
            .with(
                "args",
                Json::Arr(
                    n.args
                        .iter()
                        .map(|&a| Json::from(w.nodes[a].name.as_str()))
                        .collect(),
                ),
            )
            .with("value", n.value)
            .with("local", local);
        if n.local_formula.iter().any(Option::is_some) {
            j.push(
                "local_formula",
                Json::Arr(
                    n.local_formula
                        .iter()
                        .map(|f| f.clone().map_or(Json::Null, Json::from))
                        .collect(),
                ),
            );
        }
        j.push("adjoint", n.adjoint);
        arr.push(j);
    }
    Json::Arr(arr)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chainrule::symbolic::parse_syntax;

    #[test]
    fn json_keys_a_twice_used_argument_by_slot() {
        let w = Wengert::build(&parse_syntax("x*x").unwrap(), |_| 3.0);
        let text = nodes_json(&w).to_text();
        assert!(text.contains(r#""local":{"x#0":3,"x#1":3}"#), "{text}");
        assert!(text.contains(r#""adjoint":6"#), "{text}");
    }
}
