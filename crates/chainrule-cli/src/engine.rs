//! The bridge from the command line to the library's engines. An expression
//! is parsed once into its [`Syntax`] (the expression exactly as written)
//! and, when formulas are wanted, into its canonical [`Expr`]. The numbers
//! come from separate engines so that they check each other:
//!
//! - reverse mode: the Syntax evaluated on 0-d [`Tensor`]s that require grad,
//!   then `autograd::grad` (with `create_graph` for Hessians),
//! - Taylor mode: the Syntax evaluated on [`Taylor<f64>`],
//! - symbolic: `Expr::diff`, printed and evaluated,
//! - finite differences: the Syntax evaluated in f64.

use chainrule::autograd::{self, GradOptions};
use chainrule::compiled::Traced;
use chainrule::sparse::SparseHessian;
use chainrule::symbolic::{parse_syntax, Expr, Syntax, SyntaxKind};
use chainrule::{Real, Taylor, Tensor};

use crate::error::{quote, CliError, CliResult};
use crate::point::{is_name, Point};
use crate::wengert::Wengert;

/// Longest derivative order `diff` computes (formulas can grow quickly).
pub const MAX_DIFF_ORDER: u32 = 32;
/// Longest Taylor order `taylor` computes.
pub const MAX_TAYLOR_ORDER: u32 = 1000;

/// A parsed expression.
#[derive(Debug)]
pub struct Parsed {
    /// As written.
    pub syntax: Syntax,
    /// Alphabetical variables.
    pub variables: Vec<String>,
}

/// Parses an expression; `what` names it in errors (`the expression`, `--analytic`).
pub fn parse(src: &str, what: &str) -> CliResult<Parsed> {
    // The library's grammar is the CLI's: names are ASCII letters, digits
    // and '_' (x1, theta, w_2).
    let syntax = parse_syntax(src).map_err(|e| match e {
        chainrule::Error::Parse { kind, span } => {
            CliError::new(format!("{what}: {kind} at column {}", span.start))
        }
        other => CliError::new(format!("{what}: {other}")),
    })?;
    let variables = syntax.variables();
    Ok(Parsed { syntax, variables })
}

impl Parsed {
    /// The 1-based column where `name` first appears.
    pub fn column_of(&self, name: &str) -> Option<usize> {
        self.syntax.nodes.iter().find_map(|n| match &n.kind {
            SyntaxKind::Variable(v) if v == name => Some(n.span.start),
            _ => None,
        })
    }

    /// Checks that `point` gives exactly this expression's variables (plus `extra`).
    pub fn check_point(&self, point: &Point, extra: Option<&str>) -> CliResult<Vec<String>> {
        let mut vars = self.variables.clone();
        if let Some(x) = extra {
            if !vars.iter().any(|v| v == x) {
                vars.push(x.to_string());
                vars.sort();
            }
        }
        point.check_covers(&vars, |n| self.column_of(n))?;
        Ok(vars)
    }

    /// The canonical formula.
    pub fn expr(&self) -> Expr {
        Expr::from_syntax(&self.syntax)
    }

    /// The value in f64 at `point` (which covers the variables).
    pub fn value(&self, point: &Point) -> f64 {
        self.syntax
            .eval::<f64>(|n| point.get(n))
            .unwrap_or(f64::NAN)
    }

    /// The value and gradient by reverse mode: 0-d tensors that require
    /// grad, the expression evaluated on them, `backward()`, the leaves' `.grad`.
    pub fn reverse_gradient(&self, vars: &[String], point: &Point) -> CliResult<(f64, Vec<f64>)> {
        let leaves = leaves(vars, point);
        let y = self.eval_tensor(vars, &leaves, point)?;
        let value = y.item();
        if leaves.is_empty() || !y.is_requires_grad() {
            return Ok((value, vec![0.0; vars.len()]));
        }
        // As in PyTorch: backward() fills each leaf's .grad (None: not reached).
        y.backward()?;
        Ok((
            value,
            leaves
                .iter()
                .map(|l| l.grad().map_or(0.0, |g| g.item()))
                .collect(),
        ))
    }

    /// Value, gradient and Hessian by reverse over reverse: the first
    /// backward pass is recorded (`create_graph`), then each gradient entry
    /// is differentiated again. Rows and columns in `vars` order.
    pub fn reverse_hessian(
        &self,
        vars: &[String],
        point: &Point,
    ) -> CliResult<(f64, Vec<f64>, Vec<Vec<f64>>)> {
        let n = vars.len();
        let leaves = leaves(vars, point);
        let y = self.eval_tensor(vars, &leaves, point)?;
        let value = y.item();
        if leaves.is_empty() || !y.is_requires_grad() {
            return Ok((value, vec![0.0; n], vec![vec![0.0; n]; n]));
        }
        let g = autograd::grad(&[y], &leaves, None, GradOptions::CREATE_GRAPH)?;
        let mut hess = Vec::with_capacity(n);
        for gi in &g {
            if gi.is_requires_grad() {
                let row = autograd::grad(
                    std::slice::from_ref(gi),
                    &leaves,
                    None,
                    GradOptions::RETAIN_GRAPH,
                )?;
                hess.push(row.iter().map(Tensor::item).collect());
            } else {
                // This partial does not depend on any variable: its row is 0.
                hess.push(vec![0.0; n]);
            }
        }
        Ok((value, g.iter().map(Tensor::item).collect(), hess))
    }

    /// The sparse Hessian's plan in `vars` (every variable of the
    /// expression): the expression traced once, its pattern detected and
    /// star-coloured, the Hessian-vector products compiled
    /// ([`chainrule::sparse::SparseHessian`]).
    pub fn sparse_hessian(&self, vars: &[String], max_vars: usize) -> CliResult<SparseHessian> {
        let index = var_index(vars);
        let plan =
            SparseHessian::with_max_nonzeros(vars.len(), max_vars.saturating_mul(max_vars), |x| {
                self.syntax
                    .eval::<Traced>(|name| index.get(name).map(|&i| x[i]))
                    // The variables are checked against the point before.
                    .unwrap_or_else(|_| Traced::from_f64(f64::NAN))
            });
        match plan {
            // Detection stopped at the budget: the budget's line.
            Err(chainrule::Error::TooManyElements { numel, .. }) => {
                Err(crate::budget::sparse_hessian_too_large(numel, max_vars))
            }
            other => Ok(other?),
        }
    }

    /// The expression on tensors: the variables `vars` are the `leaves`,
    /// any other variable a constant at its value in `point` (a parameter).
    fn eval_tensor(&self, vars: &[String], leaves: &[Tensor], point: &Point) -> CliResult<Tensor> {
        let index = var_index(vars);
        Ok(self.syntax.eval::<Tensor>(|name| {
            index
                .get(name)
                .map(|&i| leaves[i].clone())
                .or_else(|| point.get(name).map(Tensor::scalar))
        })?)
    }

    /// The gradient by central finite differences on the f64 evaluation.
    pub fn fd_gradient(&self, vars: &[String], point: &Point) -> Vec<f64> {
        let base: Vec<f64> = vars
            .iter()
            .map(|v| point.get(v).unwrap_or(f64::NAN))
            .collect();
        let index = var_index(vars);
        crate::fd::gradient(
            |p| {
                self.syntax
                    .eval::<f64>(|name| index.get(name).map(|&i| p[i]).or_else(|| point.get(name)))
                    .unwrap_or(f64::NAN)
            },
            &base,
        )
    }

    /// Taylor coefficients c₀..c_k in `wrt` at the point, the other
    /// variables held at their values, by Taylor mode.
    pub fn taylor(&self, wrt: &str, point: &Point, k: usize) -> CliResult<Vec<f64>> {
        let x = point.get(wrt).unwrap_or(f64::NAN);
        let series = self.taylor_along(wrt, point, Taylor::variable(x, k))?;
        Ok((0..=k).map(|i| series.coeff(i)).collect())
    }

    /// The derivatives f, f', …, f^(k) in `wrt` at the point, finite at
    /// every order where they are (no overflow of k!; see
    /// [`chainrule::forward::derivatives_at_f64`]).
    pub fn taylor_derivatives(&self, wrt: &str, point: &Point, k: usize) -> CliResult<Vec<f64>> {
        let x = point.get(wrt).unwrap_or(f64::NAN);
        // The variable's run fails before the closure's can (same names).
        self.taylor_along(wrt, point, Taylor::variable(x, 0))?;
        Ok(chainrule::forward::derivatives_at_f64(
            |t| {
                self.taylor_along(wrt, point, t)
                    .unwrap_or_else(|_| Taylor::constant(f64::NAN))
            },
            x,
            k,
        ))
    }

    /// The expression on the series `t` for `wrt`, the other variables
    /// held at their values.
    fn taylor_along(&self, wrt: &str, point: &Point, t: Taylor<f64>) -> CliResult<Taylor<f64>> {
        Ok(self.syntax.eval::<Taylor<f64>>(|name| {
            if name == wrt {
                Some(t.clone())
            } else {
                point.get(name).map(Taylor::constant)
            }
        })?)
    }

    /// The Wengert list at the point, with each local derivative also as a
    /// formula in the nodes' names (the rules table run on symbols).
    pub fn wengert(&self, point: &Point) -> Wengert {
        Wengert::build(&self.syntax, |n| point.get(n).unwrap_or(f64::NAN))
    }
}

/// Each variable's position in `vars` (looked up by every evaluation:
/// indexed, not searched, so 10⁴ variables cost no more per lookup than 2).
pub fn var_index(vars: &[String]) -> std::collections::HashMap<&str, usize> {
    vars.iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i))
        .collect()
}

fn leaves(vars: &[String], point: &Point) -> Vec<Tensor> {
    vars.iter()
        .map(|v| Tensor::scalar(point.get(v).unwrap_or(f64::NAN)).requires_grad())
        .collect()
}

/// The variables of `--wrt x,y,...` (each checked as [`pick_wrt`] does; a
/// name may repeat, `x,x,y`), or the only variable when `--wrt` is left out.
pub fn pick_wrt_list(parsed: &Parsed, wrt: &Option<String>) -> CliResult<Vec<String>> {
    match wrt {
        Some(list) if list.contains(',') => list
            .split(',')
            .map(|w| pick_wrt(parsed, &Some(w.trim().to_string())))
            .collect(),
        _ => Ok(vec![pick_wrt(parsed, wrt)?]),
    }
}

/// The variable to differentiate by: `--wrt`, or the only variable.
pub fn pick_wrt(parsed: &Parsed, wrt: &Option<String>) -> CliResult<String> {
    match wrt {
        Some(w) => {
            if !is_name(w) {
                return Err(CliError::new(format!(
                    "--wrt {} is not a variable name",
                    quote(w)
                )));
            }
            if matches!(w.as_str(), "e" | "pi") {
                return Err(CliError::new(format!(
                    "--wrt '{w}' is a constant, not a variable"
                )));
            }
            Ok(w.clone())
        }
        None => match parsed.variables.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(CliError::new(
                "the expression has no variables: say which one with --wrt",
            )),
            many => Err(CliError::new(format!(
                "the expression has variables {}: choose one with --wrt",
                many.join(", ")
            ))),
        },
    }
}

/// The k-th derivative of `src` by `var`, as text (for the tour).
pub fn diff_text(src: &str, var: &str, k: usize) -> CliResult<String> {
    let p = parse(src, "the expression")?;
    Ok(p.expr().diff_n(var, k).to_string())
}

/// The value of `src` at the given variables (for the tour).
pub fn eval_text(src: &str, at: &[(&str, f64)]) -> CliResult<f64> {
    let p = parse(src, "the expression")?;
    Ok(p.syntax
        .eval::<f64>(|n| at.iter().find(|(v, _)| *v == n).map(|(_, x)| *x))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pairs: &[(&str, f64)]) -> Point {
        Point::from_pairs(pairs)
    }

    #[test]
    fn reverse_mode_matches_closed_forms() {
        // f = x²y + sin y: ∇f = (2xy, x² + cos y), H = [[2y, 2x], [2x, −sin y]].
        let p = parse("x^2*y + sin(y)", "the expression").unwrap();
        let point = at(&[("x", 1.5), ("y", -0.5)]);
        let vars = p.check_point(&point, None).unwrap();
        let (v, g, h) = p.reverse_hessian(&vars, &point).unwrap();
        assert!((v - (2.25 * -0.5 + (-0.5f64).sin())).abs() < 1e-15);
        assert!((g[0] - 2.0 * 1.5 * -0.5).abs() < 1e-15);
        assert!((g[1] - (2.25 + (-0.5f64).cos())).abs() < 1e-15);
        assert_eq!(h[0], vec![-1.0, 3.0]);
        assert!((h[1][1] - 0.5f64.sin()).abs() < 1e-15);
        let (_, g2) = p.reverse_gradient(&vars, &point).unwrap();
        assert_eq!(g, g2);
        let fd = p.fd_gradient(&vars, &point);
        assert!((fd[1] - g[1]).abs() < 1e-10);
    }

    #[test]
    fn taylor_holds_other_variables() {
        // exp(x*y) in x at x = 0, y = 3: coefficients 3^k/k!.
        let p = parse("exp(x*y)", "the expression").unwrap();
        let c = p.taylor("x", &at(&[("x", 0.0), ("y", 3.0)]), 3).unwrap();
        assert_eq!(c[..3], [1.0, 3.0, 4.5]);
        assert!((c[3] - 4.5).abs() < 1e-15);
    }

    #[test]
    fn errors_name_the_input_and_column() {
        let e = parse("x + foo(x)", "--analytic").unwrap_err();
        assert!(e.to_string().contains("--analytic"), "{e}");
        assert!(e.to_string().contains("column 5"), "{e}");
        let e = parse("xé", "the expression").unwrap_err();
        assert!(e.to_string().contains("column 2"), "{e}");
        let p = parse("x + y*z", "the expression").unwrap();
        assert_eq!(p.column_of("z"), Some(7));
        let e = p
            .check_point(&at(&[("x", 1.0), ("y", 1.0)]), None)
            .unwrap_err();
        assert!(
            e.to_string().contains("'z'") && e.to_string().contains("column 7"),
            "{e}"
        );
    }

    #[test]
    fn wrt_defaults_to_the_only_variable() {
        let one = parse("sin(t)", "the expression").unwrap();
        assert_eq!(pick_wrt(&one, &None).unwrap(), "t");
        let two = parse("x*y", "the expression").unwrap();
        assert!(pick_wrt(&two, &None).is_err());
        assert_eq!(pick_wrt(&two, &Some("y".into())).unwrap(), "y");
        assert!(pick_wrt(&two, &Some("pi".into())).is_err());
        assert!(pick_wrt(&two, &Some("1x".into())).is_err());
    }

    #[test]
    fn wengert_local_formulas_use_node_names() {
        let p = parse("1/(1+exp(-x))", "the expression").unwrap();
        let w = p.wengert(&at(&[("x", 2.0)]));
        let b = w.nodes.iter().find(|n| n.name == "b").unwrap();
        // exp' = exp: the local derivative of b = exp(a) is b itself.
        assert_eq!(b.local_formula, vec![Some("b".to_string())]);
        let a = w.nodes.iter().find(|n| n.name == "a").unwrap();
        assert_eq!(a.local_formula, vec![Some("-1".to_string())]);
    }
}
