//! `chainrule matrix EXPR --wrt NAME [--let DECLS] [--hessian] [--at JSON]
//! [--latex] [--json]`: the derivative of a matrix expression as a formula in
//! matrix notation, with its Hessian, checked against reverse-mode autodiff
//! of the same expression on tensors (contract: CLI.md, "Matrix calculus").

use std::collections::BTreeMap;

use chainrule::matrix::{self, Dim, Expr, Kind, Problem, Shape, Values};
use chainrule::Tensor;

use crate::args::{require_expr, MatrixArgs};
use crate::error::{CliError, CliResult};
use crate::json::{num_text, Json};
use crate::Outcome;

/// Relative agreement the check asks of formula and autodiff.
const TOL: f64 = 1e-8;

fn shape_json(s: &Shape) -> Json {
    Json::Arr(s.axes().iter().map(|d| Json::from(d.to_string())).collect())
}

fn shape_text(s: &Shape) -> String {
    match s.kind() {
        Kind::Scalar => "scalar".into(),
        Kind::Vector | Kind::RowVector => format!("vector of {}", s.axes()[0]),
        Kind::Matrix => format!("{} x {} matrix", s.rows, s.cols),
    }
}

fn names_json(p: &Problem) -> Json {
    let mut o = Json::object();
    for n in &p.names {
        let mut v = Json::object()
            .with("kind", n.shape.kind().name())
            .with("shape", shape_json(&n.shape));
        if n.shape.kind() == Kind::Matrix {
            v.push("symmetric", n.symmetric);
        }
        o.push(&n.name, v);
    }
    o
}

/// A tensor (0-d, 1-d or 2-d) as JSON.
fn tensor_json(t: &Tensor) -> Json {
    let v = t.to_vec();
    match t.shape() {
        [] => Json::Num(v[0]),
        [_] => Json::from(v),
        [_, c] => Json::Arr(v.chunks(*c).map(|r| Json::from(r.to_vec())).collect()),
        _ => Json::Null,
    }
}

fn tensor_text(t: &Tensor) -> String {
    let v = t.to_vec();
    let row = |r: &[f64]| {
        r.iter()
            .map(|x| num_text(*x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match t.shape() {
        [] => num_text(v[0]),
        [_] => format!("[{}]", row(&v)),
        [_, c] => format!(
            "[{}]",
            v.chunks(*c)
                .map(|r| format!("[{}]", row(r)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    }
}

/// Reads the `--at` JSON object into tensors of natural shapes.
fn read_at(text: &str) -> CliResult<Vec<(String, Tensor)>> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| CliError::new(format!("--at: not a JSON object: {e}")))?;
    let serde_json::Value::Object(map) = v else {
        return Err(CliError::new(
            "--at: expected a JSON object of values, as {\"x\": [1, 2]}",
        ));
    };
    let mut out = Vec::new();
    for (name, val) in map {
        let bad = || {
            CliError::from(chainrule::Error::MatrixValue {
                name: name.clone(),
                problem: Box::new(chainrule::error::ValueProblem::Malformed),
            })
        };
        let num = |v: &serde_json::Value| v.as_f64().ok_or_else(bad);
        let t = match &val {
            serde_json::Value::Number(_) => Tensor::scalar(num(&val)?),
            serde_json::Value::Array(items)
                if items.iter().all(|i| i.is_array()) && !items.is_empty() =>
            {
                let rows: Vec<Vec<f64>> = items
                    .iter()
                    .map(|r| {
                        r.as_array()
                            .ok_or_else(bad)?
                            .iter()
                            .map(num)
                            .collect::<CliResult<Vec<f64>>>()
                    })
                    .collect::<CliResult<_>>()?;
                let c = rows[0].len();
                if c == 0 || rows.iter().any(|r| r.len() != c) {
                    return Err(bad());
                }
                Tensor::from_vec(rows.concat(), &[rows.len(), c]).map_err(CliError::from)?
            }
            serde_json::Value::Array(items) if !items.is_empty() => {
                let v = items.iter().map(num).collect::<CliResult<Vec<f64>>>()?;
                let n = v.len();
                Tensor::from_vec(v, &[n]).map_err(CliError::from)?
            }
            _ => return Err(bad()),
        };
        out.push((name, t));
    }
    Ok(out)
}

/// Sizes for the random check: 4, 3, 2, 5, ... by name (the first size
/// largest, so that `X'*X` of a first-named `X: n x m` is regular), so that different
/// sizes differ and a transposition shows.
/// The most random values the check draws for one name (a declared size
/// such as `x: 100000000000` aborted on the allocation, found by fuzzing).
const MAX_RANDOM_VALUES: u128 = 10_000_000;

/// Refuses declared sizes whose random check values would not fit.
fn check_random_size(p: &Problem, sizes: &BTreeMap<String, usize>) -> CliResult<()> {
    for n in &p.names {
        let count = n.shape.axes().iter().fold(1u128, |acc, d| {
            let k = match d {
                Dim::Size(s) => s
                    .parse::<u128>()
                    .unwrap_or_else(|_| sizes.get(&**s).map_or(3, |&k| k as u128)),
                _ => 1,
            };
            acc.saturating_mul(k)
        });
        if count > MAX_RANDOM_VALUES {
            return Err(CliError::new(format!(
                "matrix: the check's random value of {} would have {count} entries (at most \
                 {MAX_RANDOM_VALUES}); declare smaller sizes or give values with --at",
                n.name
            )));
        }
    }
    Ok(())
}

fn random_sizes(p: &Problem) -> BTreeMap<String, usize> {
    let mut sizes = BTreeMap::new();
    let cycle = [4, 3, 2, 5];
    for n in &p.names {
        for d in n.shape.axes() {
            if let Dim::Size(s) = d {
                if s.parse::<usize>().is_err() && !sizes.contains_key(&*s) {
                    let k = cycle[sizes.len() % cycle.len()];
                    sizes.insert(s.to_string(), k);
                }
            }
        }
    }
    sizes
}

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            if x == y {
                0.0
            } else {
                (x - y).abs()
                    / x.abs()
                        .max(y.abs())
                        .max(scale * 1e-9)
                        .max(f64::MIN_POSITIVE)
            }
        })
        .fold(0.0, f64::max)
}

/// A Hessian refused because of a name's kind, with a hint when a name
/// taken as a vector by default (lower case, not declared) would make it
/// possible if declared a scalar: the `--let` to write.
fn with_scalar_hint(e: chainrule::Error, src: &str, decls: &str, wrt: &str) -> CliError {
    if !matches!(e, chainrule::Error::MatrixHessian { .. }) {
        return e.into();
    }
    let declared: Vec<String> = matrix::parse_decls(decls)
        .map(|ds| ds.into_iter().map(|d| d.name).collect())
        .unwrap_or_default();
    let Ok(p) = matrix::parse(src, decls) else {
        return e.into();
    };
    let with = |name: &str| {
        if decls.trim().is_empty() {
            format!("{name}: scalar")
        } else {
            format!("{decls}, {name}: scalar")
        }
    };
    let fix = p.names.iter().map(|n| n.name.as_str()).find(|name| {
        name.starts_with(|c: char| c.is_lowercase())
            && !declared.iter().any(|d| d == name)
            && p.name(name).is_some_and(|n| n.shape.axes().len() == 1)
            && matrix::parse(src, &with(name)).is_ok_and(|q| q.hessian(wrt).is_ok())
    });
    match fix {
        Some(name) => CliError::new(format!(
            "{e} ('{name}' is taken as a vector: a lower-case name not declared is one; \
             for a scalar write --let \"{}\")",
            with(name)
        )),
        None => e.into(),
    }
}

/// Runs `matrix`.
pub fn run(a: &MatrixArgs) -> CliResult<Outcome> {
    let src = require_expr(&a.expr)?;
    let decls = a.let_.as_deref().unwrap_or("");
    matrix::parse_decls(decls).map_err(|e| CliError::new(format!("--let: {e}")))?;
    let p = matrix::parse(src, decls)?;
    let wrt = match &a.wrt {
        Some(w) => w.clone(),
        None if p.names.len() == 1 => p.names[0].name.clone(),
        None => {
            return Err(CliError::new(format!(
                "--wrt is needed: the expression has the names {}",
                p.names
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    let info = p
        .name(&wrt)
        .cloned()
        .ok_or_else(|| CliError::from(chainrule::Error::MatrixUnknownName { name: wrt.clone() }))?;
    let d_shape = p.derivative_shape(&wrt)?;
    let d = p.derivative(&wrt)?;
    let h = if a.hessian {
        Some(
            p.hessian(&wrt)
                .map_err(|e| with_scalar_hint(e, src, decls, &wrt))?,
        )
    } else {
        None
    };
    let h_shape = info
        .shape
        .axes()
        .first()
        .map_or(Shape::scalar(), |n| Shape::new(n.clone(), n.clone()));

    // Values: --at, or seeded random ones.
    let values = match &a.at {
        Some(text) => Values::bind(&p.names, &read_at(text)?)?,
        None => {
            let sizes = random_sizes(&p);
            check_random_size(&p, &sizes)?;
            Values::random(&p.names, |s| sizes.get(s).copied().unwrap_or(3), 2024)
        }
    };
    let value = matrix::natural(&matrix::eval(&p.expr, &values)?, p.expr.shape());
    let d_val = matrix::natural(&matrix::eval(&d, &values)?, &d_shape);
    let h_val = match &h {
        Some(h) => Some(matrix::natural(&matrix::eval(h, &values)?, &h_shape)),
        None => None,
    };
    // Reverse-mode autodiff of the same expression at the same values.
    let ad = p.autodiff(&wrt, &values)?;
    let mut err = rel_err(&d_val.to_vec(), &ad.to_vec());
    if let Some(hv) = &h_val {
        let adh = p.autodiff_hessian(&wrt, &values)?;
        err = err.max(rel_err(&hv.to_vec(), &adh.to_vec()));
    }
    let ok = err <= TOL;
    let sizes: BTreeMap<String, usize> = values
        .sizes()
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let code = if ok { 0 } else { 1 };

    if a.json {
        let mut o = Json::object()
            .with("expr", src)
            .with("wrt", wrt.as_str())
            .with("names", names_json(&p))
            .with("shape", shape_json(p.expr.shape()))
            .with("derivative", d.to_string())
            .with("derivative_shape", shape_json(&d_shape))
            .with("latex", matrix::latex(&d));
        if let Some(h) = &h {
            o.push("hessian", h.to_string());
            o.push("hessian_latex", matrix::latex(h));
        }
        if a.at.is_some() {
            let mut at = Json::object()
                .with("value", tensor_json(&value))
                .with("derivative", tensor_json(&d_val));
            if let Some(hv) = &h_val {
                at.push("hessian", tensor_json(hv));
            }
            o.push("at", at);
        }
        let sizes_json = Json::Obj(
            sizes
                .iter()
                .map(|(k, v)| (k.clone(), Json::from(*v)))
                .collect(),
        );
        o.push(
            "check",
            Json::object()
                .with("sizes", sizes_json)
                .with("max_rel_err", err)
                .with("ok", ok),
        );
        return Ok(Outcome {
            stdout: o.to_text() + "\n",
            code,
        });
    }
    let show = |e: &Expr| {
        if a.latex {
            matrix::latex(e)
        } else {
            e.to_string()
        }
    };
    let mut s = String::new();
    s.push_str(&format!("f = {src}\n"));
    for n in &p.names {
        let sym = if n.symmetric { ", symmetric" } else { "" };
        s.push_str(&format!("  {}: {}{sym}\n", n.name, shape_text(&n.shape)));
    }
    let grad_name = if p.expr.shape().is_scalar() {
        "gradient"
    } else {
        "derivative"
    };
    s.push_str(&format!(
        "\n{grad_name} by {wrt} ({}):\n  {}\n",
        shape_text(&d_shape),
        show(&d)
    ));
    if let Some(h) = &h {
        s.push_str(&format!(
            "Hessian by {wrt} ({}):\n  {}\n",
            shape_text(&h_shape),
            show(h)
        ));
    }
    if a.at.is_some() {
        s.push_str(&format!(
            "\nat the values given:\n  f = {}\n  {grad_name} = {}\n",
            tensor_text(&value),
            tensor_text(&d_val)
        ));
        if let Some(hv) = &h_val {
            s.push_str(&format!("  Hessian = {}\n", tensor_text(hv)));
        }
    }
    let sizes_text = sizes
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let wher = if a.at.is_some() {
        "the values given"
    } else {
        "seeded random values"
    };
    s.push_str(&format!(
        "\ncheck against reverse-mode autodiff at {wher}{}: max relative error {} ({})\n",
        if sizes_text.is_empty() {
            String::new()
        } else {
            format!(" ({sizes_text})")
        },
        num_text(err),
        if ok { "agree" } else { "DISAGREE" }
    ));
    Ok(Outcome { stdout: s, code })
}
