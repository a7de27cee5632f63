//! Work budgets: inputs whose cost would run into minutes or gigabytes end
//! in exit 2 and one line saying which limit was hit and how to raise it,
//! instead of running away (issue 16).

use chainrule::symbolic::Expr;

use crate::error::{CliError, CliResult};

/// Default work budget of `grad`, `hessian` and `check`: expression nodes ×
/// variables (the finite-difference check evaluates the expression about
/// six times per variable; 2·10⁷ is a few seconds).
pub const DEFAULT_WORK: u64 = 20_000_000;

/// Default limit on `hessian`'s variables (10⁶ entries).
pub const DEFAULT_HESSIAN_VARS: usize = 1_000;

/// Default formula-size budget of `diff`: formula nodes built while
/// differentiating, and nodes of a formula printed as one tree.
pub const DEFAULT_FORMULA_NODES: usize = 200_000;

/// An `Err` if `nodes × vars` exceeds `budget` (`what` names the work).
pub fn check_work(what: &str, nodes: usize, vars: usize, budget: u64) -> CliResult<()> {
    let work = (nodes as u64).saturating_mul(vars as u64);
    if work > budget {
        return Err(CliError::new(format!(
            "{what}: {nodes} expression nodes × {vars} variables = {work} exceeds the work \
             budget of {budget}; raise it with --budget N"
        )));
    }
    Ok(())
}

/// An `Err` if the Hessian of `vars` variables is over the limit.
pub fn check_hessian_vars(vars: usize, limit: usize) -> CliResult<()> {
    if vars > limit {
        return Err(CliError::new(format!(
            "hessian: {vars} variables exceeds the limit of {limit} (the Hessian would have \
             {vars}² entries); raise it with --max-vars N"
        )));
    }
    Ok(())
}

/// An `Err` if a sparse Hessian has more nonzeros than `limit²` (the
/// entries a dense Hessian of `--max-vars` variables would have).
pub fn check_sparse_hessian(nnz: usize, limit: usize) -> CliResult<()> {
    if nnz > limit.saturating_mul(limit) {
        return Err(sparse_hessian_too_large(nnz, limit));
    }
    Ok(())
}

/// The line for a sparse Hessian with more than `--max-vars` squared
/// nonzeros (`nnz` may be a lower bound: detection stops at the limit).
pub fn sparse_hessian_too_large(nnz: usize, limit: usize) -> CliError {
    let most = limit.saturating_mul(limit);
    CliError::new(format!(
        "hessian --sparse: {nnz} nonzeros exceeds the limit of {most} (--max-vars {limit}, \
         squared); raise it with --max-vars N"
    ))
}

/// The line for a derivative that outgrew the formula-size budget.
pub fn formula_too_large(order: u32, limit: usize) -> CliError {
    CliError::new(format!(
        "diff: derivative {order} needs more than {limit} formula nodes (the formula-size \
         budget); raise it with --max-nodes N, or use 'chainrule taylor' for its value at a point"
    ))
}

/// The number of nodes of `e` printed as a tree (shared subformulas counted
/// once per use), saturating at `cap + 1`: linear in the DAG.
pub fn tree_size(e: Expr, cap: usize) -> usize {
    use std::collections::HashMap;
    let mut size: HashMap<Expr, usize> = HashMap::new();
    let mut stack = vec![(e, false)];
    while let Some((n, expanded)) = stack.pop() {
        if size.contains_key(&n) {
            continue;
        }
        let kids = n.children();
        if expanded {
            let s = kids
                .iter()
                .fold(1usize, |acc, k| acc.saturating_add(size[k]))
                .min(cap.saturating_add(1));
            size.insert(n, s);
        } else {
            stack.push((n, true));
            stack.extend(
                kids.into_iter()
                    .filter(|k| !size.contains_key(k))
                    .map(|k| (k, false)),
            );
        }
    }
    size[&e]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_size_counts_shared_subformulas_per_use() {
        let e = chainrule::symbolic::parse("sin(x)*cos(sin(x)) + sin(x)").unwrap();
        let small = tree_size(e, 1000);
        assert!((6..=12).contains(&small), "{small}");
        // b ↦ sin(b)·cos(b) 40 times: a tree of more than 2^40 nodes, a DAG
        // of about 120 (b·b would fold into b^2, a tree of linear size).
        use chainrule::Real;
        let mut big = chainrule::symbolic::parse("x + 1").unwrap();
        for _ in 0..40 {
            big = big.sin() * big.cos();
        }
        assert_eq!(tree_size(big, 1000), 1001);
        assert!(tree_size(big, usize::MAX - 1) > 1 << 40);
    }

    #[test]
    fn budget_lines_say_how_to_raise_them() {
        let e = check_work("grad", 4001, 10_000, DEFAULT_WORK).unwrap_err();
        assert!(e.to_string().contains("--budget"), "{e}");
        assert!(check_work("grad", 4001, 2_000, DEFAULT_WORK).is_ok());
        let e = check_hessian_vars(10_000, DEFAULT_HESSIAN_VARS).unwrap_err();
        assert!(e.to_string().contains("--max-vars"), "{e}");
        assert!(formula_too_large(14, 5).to_string().contains("--max-nodes"));
    }
}
