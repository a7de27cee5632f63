//! The computational graph of an expression as a Wengert list: one named
//! node per operation (a = −x, b = exp(a), c = 1 + b, f = 1/c), its forward
//! value, its local derivatives (from [`crate::rules`] at f64, and as
//! formulas in the nodes' names) and its adjoint ∂f/∂node from the reverse
//! sweep. It is built from the expression as written ([`Syntax`]), each node
//! keeping the index of the syntax node it came from.

use std::collections::HashMap;

use super::names::{fresh_names, output_name};
use crate::rules::{d_binary, d_unary};
use crate::symbolic::{parse_syntax, Expr, Syntax, SyntaxKind};
use crate::{BinaryOp, Error, Result, UnaryOp};

/// What a node of the list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A variable.
    Input,
    /// A constant.
    Const,
    /// An operation.
    Op,
}

/// A node of the Wengert list.
#[derive(Debug, Clone)]
pub struct Node {
    /// The node of the expression's [`Syntax`] it was made from (a
    /// variable's first occurrence): what it is, as written.
    pub source: usize,
    /// Its name: the variable's name, the constant's text, or a fresh name
    /// that no input has or starts like.
    pub name: String,
    /// Input, constant or operation.
    pub kind: Kind,
    /// The operation's name (`neg`, `exp`, `+`, `/`, `pow`, ...); `input` or `const`.
    pub op: String,
    /// The operation written with its arguments' names (`exp(a)`, `1 + b`).
    pub formula: String,
    /// Indices of the argument nodes.
    pub args: Vec<usize>,
    /// The forward value.
    pub value: f64,
    /// ∂node/∂arg for each argument, from [`crate::rules`] at f64.
    pub local: Vec<f64>,
    /// The same local derivatives as formulas in the nodes' names.
    pub local_formula: Vec<Option<String>>,
    /// ∂output/∂node, accumulated by the reverse sweep.
    pub adjoint: f64,
}

/// The whole list: nodes in evaluation order; the output is the last.
///
/// ```
/// use chainrule::graph::Wengert;
/// // Seed 002's sigmoid: a = -x, b = exp(a), c = 1 + b, f = 1/c.
/// let w = Wengert::parse("1/(1+exp(-x))", &[("x", 2.0)]).unwrap();
/// assert_eq!(w.nodes.last().unwrap().formula, "1/c");
/// let x = w.inputs()[0];
/// assert!((w.nodes[x].adjoint - 0.1049935854035065).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct Wengert {
    /// Every node: inputs, constants and operations, arguments before users.
    pub nodes: Vec<Node>,
    /// Index of the output node.
    pub output: usize,
}

impl Wengert {
    /// Parses `src` (the grammar of [`crate::symbolic::parse`]) and builds
    /// its list at `point`, which gives a value to every variable (names the
    /// expression lacks are ignored, as SymPy's `subs` does). A parse error
    /// or a variable without a value ([`Error::UnboundVariable`], with its
    /// place) is an error.
    pub fn parse(src: &str, point: &[(&str, f64)]) -> Result<Wengert> {
        let syntax = parse_syntax(src)?;
        for sn in &syntax.nodes {
            if let SyntaxKind::Variable(v) = &sn.kind {
                if !point.iter().any(|(n, _)| n == v) {
                    return Err(Error::UnboundVariable {
                        name: v.clone(),
                        span: Some(sn.span),
                    });
                }
            }
        }
        let value_of = |name: &str| {
            point
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(f64::NAN, |(_, v)| *v)
        };
        Ok(Wengert::build(&syntax, value_of))
    }

    /// Builds the list from the expression as written (its [`Syntax`], in
    /// post-order, the root last): one node per syntax node, except that the
    /// occurrences of a variable (or of a constant) share one. Evaluates it
    /// at `value_of` (the value of each variable), takes each node's local
    /// derivatives from the rules table, numerically and as formulas in the
    /// nodes' names, and runs the reverse sweep. The output node is named
    /// `f` (unless a variable is called `f`).
    pub fn build(syntax: &Syntax, value_of: impl Fn(&str) -> f64) -> Wengert {
        let written = &syntax.nodes;
        let var_names = syntax.variables();
        let var_refs: Vec<&str> = var_names.iter().map(String::as_str).collect();
        let ops = written
            .iter()
            .filter(|s| matches!(s.kind, SyntaxKind::Unary(..) | SyntaxKind::Binary(..)))
            .count();
        let last = written.len().saturating_sub(1);
        let root_is_op = written
            .last()
            .is_some_and(|s| matches!(s.kind, SyntaxKind::Unary(..) | SyntaxKind::Binary(..)));
        let mut fresh =
            fresh_names(&var_refs, ops.saturating_sub(usize::from(root_is_op))).into_iter();
        let out_name = output_name(&var_refs);
        let mut nodes: Vec<Node> = Vec::new();
        // Syntax index → node index (occurrences of a variable share one node).
        let mut map: Vec<usize> = Vec::with_capacity(written.len());
        let mut input_of: HashMap<String, usize> = HashMap::new();
        let mut const_of: HashMap<String, usize> = HashMap::new();
        let shared = |nodes: &mut Vec<Node>,
                      table: &mut HashMap<String, usize>,
                      name: &str,
                      kind: Kind,
                      value: f64,
                      si: usize| {
            *table.entry(name.to_string()).or_insert_with(|| {
                nodes.push(leaf(name.to_string(), kind, value, si));
                nodes.len() - 1
            })
        };
        for (si, sn) in written.iter().enumerate() {
            let idx = match &sn.kind {
                SyntaxKind::Variable(name) => shared(
                    &mut nodes,
                    &mut input_of,
                    name,
                    Kind::Input,
                    value_of(name),
                    si,
                ),
                // Constants written alike share one node too, so that a
                // name never stands for two nodes (`1 + 1/x` has one `1`).
                SyntaxKind::Number { value, text } => {
                    shared(&mut nodes, &mut const_of, text, Kind::Const, *value, si)
                }
                SyntaxKind::Constant(c) => shared(
                    &mut nodes,
                    &mut const_of,
                    c.name(),
                    Kind::Const,
                    c.value(),
                    si,
                ),
                SyntaxKind::Unary(op, a) => {
                    let a = map[*a];
                    let x = nodes[a].value;
                    let y = op.eval(x);
                    let d = d_unary(*op, &x, &y);
                    let name = if si == last {
                        out_name.clone()
                    } else {
                        fresh.next().unwrap_or_default()
                    };
                    nodes.push(Node {
                        source: si,
                        name,
                        kind: Kind::Op,
                        op: op_name_unary(*op),
                        formula: unary_formula(*op, &arg_text(&nodes[a])),
                        args: vec![a],
                        value: y,
                        local: vec![d],
                        local_formula: vec![None],
                        adjoint: 0.0,
                    });
                    nodes.len() - 1
                }
                SyntaxKind::Binary(op, a, b) => {
                    let (a, b) = (map[*a], map[*b]);
                    let (x, y) = (nodes[a].value, nodes[b].value);
                    let out = op.eval(x, y);
                    let (dx, dy) = d_binary(*op, &x, &y, &out);
                    let name = if si == last {
                        out_name.clone()
                    } else {
                        fresh.next().unwrap_or_default()
                    };
                    nodes.push(Node {
                        source: si,
                        name,
                        kind: Kind::Op,
                        op: op.name().to_string(),
                        formula: binary_formula(*op, &arg_text(&nodes[a]), &arg_text(&nodes[b])),
                        args: vec![a, b],
                        value: out,
                        local: vec![dx, dy],
                        local_formula: vec![None, None],
                        adjoint: 0.0,
                    });
                    nodes.len() - 1
                }
            };
            map.push(idx);
        }
        let output = map.last().copied().unwrap_or(0);
        let mut w = Wengert { nodes, output };
        w.local_formulas(syntax);
        w.sweep();
        w
    }

    /// Each operation's local derivatives as formulas in the nodes' names
    /// (the rules table run on symbols: the derivative of b = exp(a) by a is b).
    fn local_formulas(&mut self, syntax: &Syntax) {
        let symbols: Vec<Expr> = self
            .nodes
            .iter()
            .map(|n| match n.kind {
                Kind::Const => Expr::constant(n.value),
                _ => Expr::var(&n.name),
            })
            .collect();
        for i in 0..self.nodes.len() {
            let node = &self.nodes[i];
            let formulas: Vec<Option<String>> =
                match (&syntax.nodes[node.source].kind, node.args.as_slice()) {
                    (SyntaxKind::Unary(op, _), [a]) => {
                        vec![Some(d_unary(*op, &symbols[*a], &symbols[i]).to_string())]
                    }
                    (SyntaxKind::Binary(op, ..), [a, b]) => {
                        let (da, db) = d_binary(*op, &symbols[*a], &symbols[*b], &symbols[i]);
                        vec![Some(da.to_string()), Some(db.to_string())]
                    }
                    _ => continue,
                };
            self.nodes[i].local_formula = formulas;
        }
    }

    /// The reverse sweep: adjoint of the output is 1, each node passes
    /// adjoint · local derivative to its arguments.
    fn sweep(&mut self) {
        for n in &mut self.nodes {
            n.adjoint = 0.0;
        }
        if self.nodes.is_empty() {
            return;
        }
        self.nodes[self.output].adjoint = 1.0;
        for i in (0..self.nodes.len()).rev() {
            let adj = self.nodes[i].adjoint;
            for k in 0..self.nodes[i].args.len() {
                let (a, local) = (self.nodes[i].args[k], self.nodes[i].local[k]);
                self.nodes[a].adjoint += adj * local;
            }
        }
    }

    /// The output's value.
    pub fn value(&self) -> f64 {
        self.nodes.get(self.output).map_or(f64::NAN, |n| n.value)
    }

    /// The name of the output node.
    ///
    /// When the expression is a bare variable or constant (no operation),
    /// the function is still called `f` (`output` if a variable is `f`).
    pub fn output_name(&self) -> &str {
        match self.nodes.get(self.output) {
            Some(n) if n.kind == Kind::Op => n.name.as_str(),
            _ if self
                .nodes
                .iter()
                .any(|n| n.kind == Kind::Input && n.name == "f") =>
            {
                "output"
            }
            _ => "f",
        }
    }

    /// Indices of the input nodes, alphabetical by name.
    pub fn inputs(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].kind == Kind::Input)
            .collect();
        v.sort_by(|&a, &b| self.nodes[a].name.cmp(&self.nodes[b].name));
        v
    }

    /// The gradient: each input's name and ∂output/∂input, alphabetical.
    pub fn gradient(&self) -> Vec<(String, f64)> {
        self.inputs()
            .into_iter()
            .map(|i| (self.nodes[i].name.clone(), self.nodes[i].adjoint))
            .collect()
    }

    /// For each node, the operation nodes that use it, with the argument slot.
    pub fn users(&self) -> Vec<Vec<(usize, usize)>> {
        let mut users = vec![Vec::new(); self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for (k, &a) in n.args.iter().enumerate() {
                users[a].push((i, k));
            }
        }
        users
    }

    /// The text `∂user/∂arg` for the derivative of node `user` by its argument `arg`.
    pub fn partial(&self, user: usize, arg: usize) -> String {
        format!("∂{}/∂{}", self.nodes[user].name, self.nodes[arg].name)
    }
}

fn leaf(name: String, kind: Kind, value: f64, source: usize) -> Node {
    Node {
        source,
        formula: name.clone(),
        name,
        kind,
        op: if kind == Kind::Input {
            "input"
        } else {
            "const"
        }
        .to_string(),
        args: Vec::new(),
        value,
        local: Vec::new(),
        local_formula: Vec::new(),
        adjoint: 0.0,
    }
}

/// An argument as it appears inside a formula: negative constants in parentheses.
fn arg_text(n: &Node) -> String {
    if n.kind == Kind::Const && n.name.starts_with('-') {
        format!("({})", n.name)
    } else {
        n.name.clone()
    }
}

fn op_name_unary(op: UnaryOp) -> String {
    match op {
        UnaryOp::Powi(n) => format!("powi({n})"),
        UnaryOp::SphJ(n) => format!("spherical_jn({n})"),
        _ => op.name().to_string(),
    }
}

fn unary_formula(op: UnaryOp, a: &str) -> String {
    match op {
        UnaryOp::Neg => format!("-{a}"),
        UnaryOp::Powi(n) if n < 0 => format!("{a}^({n})"),
        UnaryOp::Powi(n) => format!("{a}^{n}"),
        _ => op.call(a),
    }
}

fn binary_formula(op: BinaryOp, a: &str, b: &str) -> String {
    match op {
        BinaryOp::Add | BinaryOp::Sub => format!("{a} {} {b}", op.name()),
        BinaryOp::Mul | BinaryOp::Div => format!("{a}{}{b}", op.name()),
        BinaryOp::Pow => format!("{a}^{b}"),
        _ => format!("{}({a}, {b})", op.name()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// 1/(1+exp(-x)) as seed 002 writes it: a = −x, b = exp(a), c = 1 + b, f = 1/c.
    pub(crate) fn sigmoid() -> Wengert {
        Wengert::parse("1/(1+exp(-x))", &[("x", 2.0)]).unwrap()
    }

    fn ops(w: &Wengert, field: impl Fn(&Node) -> &str) -> Vec<String> {
        w.nodes
            .iter()
            .filter(|n| n.kind == Kind::Op)
            .map(|n| field(n).to_string())
            .collect()
    }

    #[test]
    fn sigmoid_matches_the_seed_by_hand() {
        let w = sigmoid();
        assert_eq!(ops(&w, |n| &n.name), ["a", "b", "c", "f"]);
        assert_eq!(ops(&w, |n| &n.formula), ["-x", "exp(a)", "1 + b", "1/c"]);
        // The seed's manual backward pass, in closed form.
        let c = 1.0 + (-2f64).exp();
        let dsdc = -1.0 / (c * c);
        let dsda = dsdc * (-2f64).exp();
        let x = w.inputs()[0];
        assert!((w.nodes[x].adjoint - (-dsda)).abs() < 1e-15);
        // Seed 002 prints manual: 0.1049935854035065.
        assert!((w.nodes[x].adjoint - 0.1049935854035065).abs() < 1e-15);
        assert!((w.value() - 1.0 / c).abs() < 1e-15);
    }

    #[test]
    fn local_formulas_use_node_names() {
        let w = sigmoid();
        let b = w.nodes.iter().find(|n| n.name == "b").unwrap();
        // exp' = exp: the local derivative of b = exp(a) is b itself.
        assert_eq!(b.local_formula, vec![Some("b".to_string())]);
        let a = w.nodes.iter().find(|n| n.name == "a").unwrap();
        assert_eq!(a.local_formula, vec![Some("-1".to_string())]);
    }

    #[test]
    fn shared_inputs_accumulate() {
        // x*x + x at 3: the gradient is 2x + 1 = 7.
        let w = Wengert::parse("x*x + x", &[("x", 3.0)]).unwrap();
        assert_eq!(w.inputs().len(), 1);
        assert_eq!(w.gradient(), [("x".to_string(), 7.0)]);
    }

    #[test]
    fn seed_001_q6_gradient() {
        // Seed 001 Q6 prints df/dx=0.0581308218679247 df/dy=0.02660400976902784
        // df/dz=0.019376940622641566.
        let w = Wengert::parse(
            "tanh(log(1 + z*(2*x)/sin(y)))",
            &[("x", 1.0), ("y", 2.0), ("z", 3.0)],
        )
        .unwrap();
        let g = w.gradient();
        let want = [
            0.0581308218679247,
            0.02660400976902784,
            0.019376940622641566,
        ];
        for ((_, got), want) in g.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
    }

    #[test]
    fn intermediates_never_look_like_inputs() {
        let src = "exp(0.2*x1 + 0.4*x2 + 0.1*x3)/(exp(0.2*x1 + 0.4*x2 + 0.1*x3) \
                   + exp(-0.5*x1 + 0.1*x2 + 0.3*x3) + exp(0.3*x1 - 0.2*x2 + 0.2*x3))";
        let w = Wengert::parse(src, &[("x1", 1.0), ("x2", 2.0), ("x3", 3.0)]).unwrap();
        for n in w.nodes.iter().filter(|n| n.kind == Kind::Op) {
            assert!(!n.name.starts_with('x'), "{} looks like an input", n.name);
        }
        // Seed 003 prints the gradient [0.07993404 0.1105411 -0.03809503].
        let g = w.gradient();
        for ((_, got), want) in g.iter().zip([0.07993404, 0.1105411, -0.03809503]) {
            assert!((got - want).abs() < 1e-7, "{got} vs {want}");
        }
    }

    #[test]
    fn missing_and_extra_values_are_errors() {
        assert!(matches!(
            Wengert::parse("x*y", &[("x", 1.0)]),
            Err(Error::UnboundVariable { name, span: Some(s) }) if name == "y" && s.start == 3
        ));
        assert!(Wengert::parse("x", &[("x", 1.0), ("z", 2.0)]).is_ok());
        assert!(Wengert::parse("x +", &[("x", 1.0)]).is_err());
    }
}
