//! Differentiation through the one rules table ([`crate::rules`]) with
//! `T = Expr`: each node's derivative is built once (memoised by node),
//! children before parents, without recursion.

use super::expr::{arena_len, topo, Expr, FxMap, Node};
use super::num::Num;
use super::simplify::{self, num};
use crate::error::{Error, Result};
use crate::ops::{BinaryOp, UnaryOp};
use crate::rules::{d_binary, d_unary};

/// The DAG below some roots, laid out once for differentiating with
/// respect to many variables: nodes in post-order and, for each node, the
/// positions of its children (so a node whose children all have zero
/// derivative is skipped without touching the arena).
struct Plan {
    order: Vec<Expr>,
    child_start: Vec<u32>,
    children: Vec<u32>,
    parent_start: Vec<u32>,
    parents: Vec<u32>,
    roots: Vec<u32>,
}

impl Plan {
    fn new(roots: &[Expr]) -> Plan {
        let order = topo(roots);
        let pos: FxMap<Expr, u32> = order
            .iter()
            .enumerate()
            .map(|(i, &e)| (e, i as u32))
            .collect();
        let mut child_start = Vec::with_capacity(order.len() + 1);
        let mut children = Vec::new();
        for &e in &order {
            child_start.push(children.len() as u32);
            e.with(|n| children.extend(n.children().iter().map(|c| pos[c])));
        }
        child_start.push(children.len() as u32);
        // The reverse edges, so each variable's dependants are found directly.
        let mut count = vec![0u32; order.len() + 1];
        for &c in &children {
            count[c as usize + 1] += 1;
        }
        for i in 0..order.len() {
            count[i + 1] += count[i];
        }
        let parent_start = count.clone();
        let mut parents = vec![0u32; children.len()];
        for i in 0..order.len() {
            for &c in &children[child_start[i] as usize..child_start[i + 1] as usize] {
                parents[count[c as usize] as usize] = i as u32;
                count[c as usize] += 1;
            }
        }
        let roots = roots.iter().map(|r| pos[r]).collect();
        Plan {
            order,
            child_start,
            children,
            parent_start,
            parents,
            roots,
        }
    }

    fn kids(&self, i: usize) -> &[u32] {
        &self.children[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// The derivative of every root with respect to `var`: only the nodes
    /// that depend on `var` are visited, in post-order.
    fn diff(&self, var: &str) -> Vec<Expr> {
        match self.diff_within(var, None) {
            Ok(d) => d,
            Err(_) => unreachable!("no budget, no error"),
        }
    }

    /// [`Plan::diff`], giving up with [`Error::FormulaTooLarge`] once the
    /// arena holds more than `budget` nodes.
    fn diff_within(&self, var: &str, budget: Option<usize>) -> Result<Vec<Expr>> {
        let zero = num(Num::ZERO);
        let target = Expr::var(var);
        let Some(leaf) = self.order.iter().position(|&e| e == target) else {
            return Ok(vec![zero; self.roots.len()]);
        };
        let mut seen = vec![false; self.order.len()];
        let mut todo = vec![leaf as u32];
        let mut affected = Vec::new();
        seen[leaf] = true;
        while let Some(i) = todo.pop() {
            affected.push(i);
            let (a, b) = (
                self.parent_start[i as usize],
                self.parent_start[i as usize + 1],
            );
            for &p in &self.parents[a as usize..b as usize] {
                if !seen[p as usize] {
                    seen[p as usize] = true;
                    todo.push(p);
                }
            }
        }
        affected.sort_unstable();
        // None stands for an exact zero derivative.
        let mut d: Vec<Option<Expr>> = vec![None; self.order.len()];
        d[leaf] = Some(num(Num::ONE));
        for &i in &affected[1..] {
            let i = i as usize;
            let e = self.order[i];
            let kids = self.kids(i);
            let dc = |j: usize| -> Expr { d[kids[j] as usize].unwrap_or(zero) };
            let de = derivative(e, &dc);
            d[i] = (!de.is_zero()).then_some(de);
            if let Some(limit) = budget {
                if arena_len() > limit {
                    return Err(Error::FormulaTooLarge { limit });
                }
            }
        }
        Ok(self
            .roots
            .iter()
            .map(|&r| d[r as usize].unwrap_or(zero))
            .collect())
    }
}

/// The derivative of node `e` given its children's derivatives (`dc(j)` for
/// the j-th child), by the rules table.
fn derivative(e: Expr, dc: &dyn Fn(usize) -> Expr) -> Expr {
    let zero = num(Num::ZERO);
    match e.node() {
        Node::Num(_) | Node::Const(_) | Node::Sym(_) => zero,
        Node::Add(ts) => {
            let parts: Vec<Expr> = (0..ts.len()).map(dc).filter(|t| !t.is_zero()).collect();
            simplify::add(parts)
        }
        Node::Mul(fs) => {
            // Product rule through the table: ∂(rest·f)/∂f = rest.
            let mut terms = Vec::new();
            for (i, f) in fs.iter().enumerate() {
                let df = dc(i);
                if df.is_zero() {
                    continue;
                }
                let rest = simplify::product_without(&fs, i);
                let (_, d_f) = d_binary(BinaryOp::Mul, &rest, f, &e);
                terms.push(simplify::mul([d_f, df]));
            }
            simplify::add(terms)
        }
        Node::Pow([b, x]) => {
            let (db, dx) = (dc(0), dc(1));
            match x
                .as_num()
                .and_then(|k| k.as_int())
                .and_then(|k| i32::try_from(k).ok())
            {
                Some(n) if dx.is_zero() => {
                    if db.is_zero() {
                        zero
                    } else {
                        simplify::mul([d_unary(UnaryOp::Powi(n), &b, &e), db])
                    }
                }
                _ => {
                    let (pb, px) = d_binary(BinaryOp::Pow, &b, &x, &e);
                    let mut terms = Vec::new();
                    if !db.is_zero() {
                        terms.push(simplify::mul([pb, db]));
                    }
                    if !dx.is_zero() {
                        terms.push(simplify::mul([px, dx]));
                    }
                    simplify::add(terms)
                }
            }
        }
        Node::Unary(op, a) => {
            let da = dc(0);
            if da.is_zero() {
                zero
            } else {
                simplify::mul([d_unary(op, &a, &e), da])
            }
        }
        Node::Binary(op, [a, b]) => {
            let (da, db) = (dc(0), dc(1));
            let (pa, pb) = d_binary(op, &a, &b, &e);
            simplify::add([simplify::mul([pa, da]), simplify::mul([pb, db])])
        }
    }
}

/// Derivatives with respect to `var` of every root, sharing one walk.
pub(crate) fn diff_many(roots: &[Expr], var: &str) -> Vec<Expr> {
    Plan::new(roots).diff(var)
}

impl Expr {
    /// ∂self/∂var, simplified.
    ///
    /// # Panics
    /// If the formula's arena is gone (a handle kept past
    /// [`collect`](super::collect) or [`with_fresh_arena`](super::with_fresh_arena),
    /// see [`Expr::is_live`]); [`Expr::try_diff`] returns
    /// [`Error::StaleFormula`] instead. As PyTorch's operators raise on
    /// misuse while their results are plain tensors, the convenience API
    /// returns `Expr` and refuses a stale handle loudly, never by reading
    /// another formula.
    pub fn diff(&self, var: &str) -> Expr {
        diff_many(&[*self], var)[0]
    }

    /// [`Expr::diff`] that returns [`Error::StaleFormula`] for a stale
    /// handle instead of panicking.
    ///
    /// ```
    /// use chainrule::symbolic::{with_fresh_arena, Expr};
    /// use chainrule::Error;
    /// let x = Expr::var("x");
    /// assert_eq!(x.try_diff("x").unwrap(), Expr::integer(1));
    /// with_fresh_arena(|| {
    ///     // (a handle cannot be carried in: make a stale one by collecting)
    ///     let y = Expr::var("y");
    ///     chainrule::symbolic::collect();
    ///     assert!(matches!(y.try_diff("y"), Err(Error::StaleFormula)));
    /// });
    /// ```
    pub fn try_diff(&self, var: &str) -> Result<Expr> {
        self.check_live()?;
        Ok(self.diff(var))
    }

    /// The k-th derivative with respect to `var` (`k = 0` is `self`).
    ///
    /// # Panics
    /// As [`Expr::diff`]; [`Expr::try_diff_n`] returns an error instead.
    pub fn diff_n(&self, var: &str, k: usize) -> Expr {
        let mut e = *self;
        for _ in 0..k {
            e = e.diff(var);
        }
        e
    }

    /// [`Expr::diff_n`] within a budget: an `Err`
    /// ([`Error::FormulaTooLarge`]) as soon as differentiating has added
    /// more than `max_new_nodes` nodes to this thread's formula arena,
    /// instead of running for minutes and gigabytes (the 14th derivative of
    /// `x^x`, the 2nd of a 1,000-deep `sin(sin(…))`). The check runs after
    /// each node's derivative, so the overshoot is one node's worth.
    ///
    /// ```
    /// use chainrule::symbolic::parse;
    /// use chainrule::Error;
    /// let x_x = parse("x^x").unwrap();
    /// assert!(matches!(x_x.try_diff_n("x", 14, 10_000), Err(Error::FormulaTooLarge { .. })));
    /// assert_eq!(x_x.try_diff_n("x", 1, 10_000).unwrap(), x_x.diff("x"));
    /// ```
    pub fn try_diff_n(&self, var: &str, k: usize, max_new_nodes: usize) -> Result<Expr> {
        self.check_live()?;
        let limit = arena_len().saturating_add(max_new_nodes);
        let mut e = *self;
        for _ in 0..k {
            e = Plan::new(&[e]).diff_within(var, Some(limit)).map_err(|_| {
                Error::FormulaTooLarge {
                    limit: max_new_nodes,
                }
            })?[0];
            if arena_len() > limit {
                return Err(Error::FormulaTooLarge {
                    limit: max_new_nodes,
                });
            }
        }
        Ok(e)
    }
}

/// The gradient as formulas: ∂expr/∂v for each v in `vars` (`&[&str]`,
/// `&[String]`, ...). The gradient as numbers is
/// [`forward::gradient_at`](crate::forward::gradient_at); the transform on tensors
/// [`functional::grad`](crate::functional::grad).
pub fn gradient_formula<S: AsRef<str>>(expr: &Expr, vars: &[S]) -> Vec<Expr> {
    let plan = Plan::new(&[*expr]);
    vars.iter().map(|v| plan.diff(v.as_ref())[0]).collect()
}

/// The Hessian as formulas: the matrix of second derivatives, rows and
/// columns in `vars` order (as numbers:
/// [`forward::hessian_at`](crate::forward::hessian_at); the transform on tensors
/// [`functional::hessian`](crate::functional::hessian)).
pub fn hessian_formula<S: AsRef<str>>(expr: &Expr, vars: &[S]) -> Vec<Vec<Expr>> {
    let g = gradient_formula(expr, vars);
    let n = vars.len();
    let plan = Plan::new(&g);
    let mut h = vec![vec![num(Num::ZERO); n]; n];
    for (j, v) in vars.iter().enumerate() {
        for (i, dij) in plan.diff(v.as_ref()).into_iter().enumerate() {
            h[i][j] = dij;
        }
    }
    h
}

/// The Jacobian as formulas: row i holds ∂`exprs[i]`/∂`vars[j]` for each j
/// (as numbers: [`forward::jacobian_at`](crate::forward::jacobian_at); the
/// transform on tensors [`functional::jacobian`](crate::functional::jacobian)).
pub fn jacobian_formula<S: AsRef<str>>(exprs: &[Expr], vars: &[S]) -> Vec<Vec<Expr>> {
    let plan = Plan::new(exprs);
    let cols: Vec<Vec<Expr>> = vars.iter().map(|v| plan.diff(v.as_ref())).collect();
    (0..exprs.len())
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect()
}
