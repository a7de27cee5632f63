//! The computational graph of an expression as a Wengert list: one named
//! node per operation (a = −x, b = exp(a), c = 1 + b, f = 1/c), its forward
//! value, its local derivatives (from `chainrule::rules` at f64) and its
//! adjoint ∂f/∂node from the reverse sweep. `explain` prints it, `graph`
//! draws it. It is built from the library's [`Syntax`] (the expression as
//! written), each node keeping the index of the syntax node it came from.

use chainrule::rules::{d_binary, d_unary};
use chainrule::symbolic::{Syntax, SyntaxKind};
use chainrule::{BinaryOp, UnaryOp};

use crate::json::{num_text, Json};

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
    /// Its name: the variable's name, the constant's text, or a fresh letter.
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
    /// ∂node/∂arg for each argument, from `chainrule::rules` at f64.
    pub local: Vec<f64>,
    /// The same local derivatives as formulas in the nodes' names, when known.
    pub local_formula: Vec<Option<String>>,
    /// ∂output/∂node, accumulated by the reverse sweep.
    pub adjoint: f64,
}

/// The whole list: nodes in evaluation order; the output is the last.
#[derive(Debug, Clone)]
pub struct Wengert {
    /// Every node: inputs, constants and operations, arguments before users.
    pub nodes: Vec<Node>,
    /// Index of the output node.
    pub output: usize,
}

/// Names that a fresh node must not take: the constants of the grammar.
const RESERVED: [&str; 3] = ["e", "f", "pi"];

impl Wengert {
    /// Builds the list from the expression as written (its [`Syntax`], in
    /// post-order, the root last): one node per syntax node, except that
    /// the occurrences of a variable (or of a constant) share one. Evaluates it at `value_of`
    /// (the value of each variable), takes each node's local derivatives
    /// from the rules table, and runs the reverse sweep. The output node is
    /// named `f` (unless a variable is called `f`).
    pub fn build(syntax: &Syntax, value_of: impl Fn(&str) -> f64) -> Wengert {
        let written = &syntax.nodes;
        let var_names: Vec<&str> = written
            .iter()
            .filter_map(|s| match &s.kind {
                SyntaxKind::Variable(n) => Some(n.as_str()),
                _ => None,
            })
            .collect();
        let mut fresh = FreshNames::new(&var_names);
        let mut nodes: Vec<Node> = Vec::new();
        // Syntax index → node index (occurrences of a variable share one node).
        let mut map: Vec<usize> = Vec::with_capacity(written.len());
        let mut input_of: std::collections::HashMap<String, usize> = Default::default();
        let mut const_of: std::collections::HashMap<String, usize> = Default::default();
        let last = written.len().saturating_sub(1);
        for (si, sn) in written.iter().enumerate() {
            let idx = match &sn.kind {
                SyntaxKind::Variable(name) => match input_of.get(name) {
                    Some(&i) => i,
                    None => {
                        nodes.push(leaf(name.clone(), Kind::Input, "input", value_of(name), si));
                        input_of.insert(name.clone(), nodes.len() - 1);
                        nodes.len() - 1
                    }
                },
                // Constants written alike share one node too, so that a
                // name never stands for two nodes (`1 + 1/x` has one `1`).
                SyntaxKind::Number { value, text } => match const_of.get(text) {
                    Some(&i) => i,
                    None => {
                        nodes.push(leaf(text.clone(), Kind::Const, "const", *value, si));
                        const_of.insert(text.clone(), nodes.len() - 1);
                        nodes.len() - 1
                    }
                },
                SyntaxKind::Constant(c) => {
                    let name = c.name().to_string();
                    match const_of.get(&name) {
                        Some(&i) => i,
                        None => {
                            nodes.push(leaf(name.clone(), Kind::Const, "const", c.value(), si));
                            const_of.insert(name, nodes.len() - 1);
                            nodes.len() - 1
                        }
                    }
                }
                SyntaxKind::Unary(op, a) => {
                    let a = map[*a];
                    let x = nodes[a].value;
                    let y = op.eval(x);
                    let d = d_unary(*op, &x, &y);
                    let formula = unary_formula(*op, &arg_text(&nodes[a]));
                    let name = if si == last {
                        fresh.output()
                    } else {
                        fresh.next()
                    };
                    nodes.push(Node {
                        source: si,
                        name,
                        kind: Kind::Op,
                        op: op_name_unary(*op),
                        formula,
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
                    let formula = binary_formula(*op, &arg_text(&nodes[a]), &arg_text(&nodes[b]));
                    let name = if si == last {
                        fresh.output()
                    } else {
                        fresh.next()
                    };
                    nodes.push(Node {
                        source: si,
                        name,
                        kind: Kind::Op,
                        op: op.name().to_string(),
                        formula,
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
        w.sweep();
        w
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
            let args = self.nodes[i].args.clone();
            for (k, a) in args.into_iter().enumerate() {
                let contribution = adj * self.nodes[i].local[k];
                self.nodes[a].adjoint += contribution;
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

    /// The explanation as a student would write it: the list, the forward
    /// values, the reverse sweep, the gradient.
    pub fn explain_text(&self, expr: &str, point: &str) -> String {
        use crate::table::{Align, Table};
        let out_name = self.output_name().to_string();
        let mut s = String::new();
        s.push_str(&format!("{out_name} = {expr}"));
        if !point.is_empty() {
            s.push_str(&format!("   at {point}"));
        }
        s.push_str("\n\nForward pass: the Wengert list, one elementary operation per line\n");
        let mut t = Table::new(&[
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
        ]);
        for i in self.inputs() {
            let n = &self.nodes[i];
            t.row([
                n.name.clone(),
                "=".into(),
                "(input)".into(),
                "=".into(),
                num_text(n.value),
            ]);
        }
        for n in self.nodes.iter().filter(|n| n.kind == Kind::Op) {
            t.row([
                n.name.clone(),
                "=".into(),
                n.formula.clone(),
                "=".into(),
                num_text(n.value),
            ]);
        }
        s.push_str(&t.render());

        s.push_str(&format!(
            "\nReverse pass: adjoints ∂{out_name}/∂v from the output back to the inputs,\n\
             each the sum over v's users u of ∂{out_name}/∂u · ∂u/∂v (local derivatives from the rules table)\n"
        ));
        let users = self.users();
        let mut t = Table::new(&[
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Left,
        ]);
        let order: Vec<usize> = (0..self.nodes.len())
            .rev()
            .filter(|&i| self.nodes[i].kind != Kind::Const)
            .collect();
        for i in order {
            let n = &self.nodes[i];
            let lhs = format!("∂{out_name}/∂{}", n.name);
            if i == self.output {
                t.row([
                    lhs,
                    "= 1".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    "(the output)".into(),
                ]);
                continue;
            }
            // A variable used thousands of times: show the first terms only.
            // A user that takes this node in several slots (x*x) is one
            // term, its local derivative the sum over the slots.
            const SHOWN: usize = 4;
            let mut all: Vec<(usize, Vec<usize>)> = Vec::new();
            for &(u, k) in &users[i] {
                match all.last_mut() {
                    Some((last, slots)) if *last == u => slots.push(k),
                    _ => all.push((u, vec![k])),
                }
            }
            let shown = if all.len() > SHOWN + 1 {
                SHOWN
            } else {
                all.len()
            };
            let mut chain = Vec::new();
            let mut locals: Vec<String> = Vec::new();
            let mut numbers = Vec::new();
            for (u, slots) in &all[..shown] {
                let un = &self.nodes[*u];
                let partial = self.partial(*u, i);
                chain.push(format!("∂{out_name}/∂{} · {partial}", un.name));
                let local: f64 = slots.iter().map(|&k| un.local[k]).sum();
                let local_text = match &slots[..] {
                    [k] => match &un.local_formula[*k] {
                        Some(f) if f != &num_text(un.local[*k]) => {
                            format!("{partial} = {f} = {}", short(un.local[*k]))
                        }
                        _ => format!("{partial} = {}", short(un.local[*k])),
                    },
                    _ => {
                        let parts: Vec<String> = slots
                            .iter()
                            .map(|&k| paren_neg(short(un.local[k])))
                            .collect();
                        format!(
                            "{partial} = {} = {} ({} uses {} {} times)",
                            parts.join(" + "),
                            short(local),
                            un.name,
                            self.nodes[i].name,
                            slots.len()
                        )
                    }
                };
                if !locals.contains(&local_text) {
                    locals.push(local_text);
                }
                numbers.push(format!(
                    "{} · {}",
                    short(un.adjoint),
                    paren_neg(short(local))
                ));
            }
            if all.len() > shown {
                let more = format!("... ({} more)", all.len() - shown);
                chain.push(more.clone());
                numbers.push(more.clone());
                locals.push(more);
            }
            if chain.is_empty() {
                // A node the output does not use (cannot happen for a well-formed list).
                chain.push("0".into());
            }
            t.row([
                lhs,
                format!("= {}", chain.join(" + ")),
                format!("= {}", numbers.join(" + ")),
                "=".into(),
                num_text(n.adjoint),
                format!("where {}", locals.join(", ")),
            ]);
        }
        s.push_str(&t.render());

        s.push_str(&format!("\nGradient of {out_name}\n"));
        let mut t = Table::new(&[Align::Left, Align::Left, Align::Right]);
        for i in self.inputs() {
            let n = &self.nodes[i];
            t.row([
                format!("∂{out_name}/∂{}", n.name),
                "=".into(),
                num_text(n.adjoint),
            ]);
        }
        if self.inputs().is_empty() {
            t.row(["(the expression has no variables)", "", ""]);
        }
        s.push_str(&t.render());
        s
    }

    /// Every node as JSON: name, op, formula, args, value, local derivatives, adjoint.
    pub fn nodes_json(&self) -> Json {
        let mut arr = Vec::new();
        for n in &self.nodes {
            let mut local = Json::object();
            for (k, &a) in n.args.iter().enumerate() {
                // Two arguments can be the same node (x*x): key by slot then.
                let key = self.nodes[a].name.clone();
                let key = if n
                    .args
                    .iter()
                    .filter(|&&b| self.nodes[b].name == key)
                    .count()
                    > 1
                {
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
                            .map(|&a| Json::from(self.nodes[a].name.as_str()))
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
}

fn leaf(name: String, kind: Kind, op: &str, value: f64, source: usize) -> Node {
    Node {
        source,
        formula: name.clone(),
        name,
        kind,
        op: op.to_string(),
        args: Vec::new(),
        value,
        local: Vec::new(),
        local_formula: Vec::new(),
        adjoint: 0.0,
    }
}

/// Fresh letters for intermediate nodes: a, b, c, ... skipping the
/// grammar's constants (`e`, `pi`), the output's `f` and the variables.
struct FreshNames {
    taken: std::collections::HashSet<String>,
    vars_have_f: bool,
    next: usize,
    counter: usize,
}

impl FreshNames {
    fn new(vars: &[&str]) -> Self {
        let mut taken: std::collections::HashSet<String> =
            vars.iter().map(|s| s.to_string()).collect();
        let vars_have_f = taken.contains("f");
        taken.extend(RESERVED.iter().map(|s| s.to_string()));
        FreshNames {
            taken,
            vars_have_f,
            next: 0,
            counter: 0,
        }
    }

    fn next(&mut self) -> String {
        loop {
            let name = if self.next < 26 {
                let c = (b'a' + self.next as u8) as char;
                self.next += 1;
                c.to_string()
            } else {
                self.counter += 1;
                format!("v{}", self.counter)
            };
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }

    fn output(&mut self) -> String {
        // `f` is reserved for the output unless a variable already has it.
        if self.vars_have_f {
            self.next()
        } else {
            "f".to_string()
        }
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

fn paren_neg(s: String) -> String {
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
}

fn op_name_unary(op: UnaryOp) -> String {
    match op {
        UnaryOp::Powi(n) => format!("powi({n})"),
        _ => op.name().to_string(),
    }
}

fn unary_formula(op: UnaryOp, a: &str) -> String {
    match op {
        UnaryOp::Neg => format!("-{a}"),
        UnaryOp::Powi(n) if n < 0 => format!("{a}^({n})"),
        UnaryOp::Powi(n) => format!("{a}^{n}"),
        _ => format!("{}({a})", op.name()),
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

/// A number with at most 6 significant digits, for the chain-rule products.
pub fn short(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return num_text(x);
    }
    let full = num_text(x);
    let abs = x.abs();
    let text = if (1e-4..1e6).contains(&abs) {
        let decimals = (5 - abs.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{x:.5e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{e}")
            }
            None => s,
        }
    };
    if text.len() >= full.len() {
        full
    } else {
        text
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chainrule::symbolic::parse_syntax;

    /// 1/(1+exp(-x)) as seed 002 writes it: a = −x, b = exp(a), c = 1 + b, s = 1/c.
    pub(crate) fn sigmoid_syntax() -> Syntax {
        parse_syntax("1/(1+exp(-x))").unwrap()
    }

    #[test]
    fn sigmoid_matches_the_seed_by_hand() {
        let w = Wengert::build(&sigmoid_syntax(), |_| 2.0);
        let names: Vec<&str> = w
            .nodes
            .iter()
            .filter(|n| n.kind == Kind::Op)
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c", "f"]);
        let formulas: Vec<&str> = w
            .nodes
            .iter()
            .filter(|n| n.kind == Kind::Op)
            .map(|n| n.formula.as_str())
            .collect();
        assert_eq!(formulas, ["-x", "exp(a)", "1 + b", "1/c"]);
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
    fn shared_inputs_accumulate() {
        // x*x + x at 3: the gradient is 2x + 1 = 7.
        let w = Wengert::build(&parse_syntax("x*x + x").unwrap(), |_| 3.0);
        assert_eq!(w.inputs().len(), 1);
        assert_eq!(w.nodes[w.inputs()[0]].adjoint, 7.0);
        let text = w.explain_text("x*x + x", "x = 3");
        assert!(
            text.contains(
                "= ∂f/∂a · ∂a/∂x + ∂f/∂a · ∂a/∂x + ∂f/∂f · ∂f/∂x  = 1 · 3 + 1 · 3 + 1 · 1  =  7"
            ),
            "{text}"
        );
    }

    #[test]
    fn fresh_names_skip_variables_and_constants() {
        let mut f = FreshNames::new(&["a", "c"]);
        let got: Vec<String> = (0..4).map(|_| f.next()).collect();
        assert_eq!(got, ["b", "d", "g", "h"]);
        assert_eq!(f.output(), "f");
        let mut f = FreshNames::new(&["f"]);
        assert_eq!(f.output(), "a");
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.1049935854035065), "0.104994");
        assert_eq!(short(-0.7758034428122263), "-0.775803");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(-2.0205821812141855e-14), "-2.02058e-14");
        assert_eq!(short(326.0), "326");
        assert_eq!(short(f64::INFINITY), "inf");
    }
}
