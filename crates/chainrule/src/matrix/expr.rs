//! Shape-typed matrix expressions: shared (`Rc`) nodes built by smart
//! constructors that keep a light canonical form (numbers folded, numeric
//! coefficients outermost, transposes pushed down to the leaves, `A'' = A`,
//! `A' = A` for a symmetric `A`, `log(1 + exp(u)) = softplus(u)`,
//! `norm2(u)^2 = u'*u`).

use std::fmt;
use std::rc::Rc;

use crate::ops::{BinaryOp, UnaryOp};

/// One axis of a shape: the length 1 of a vector's or scalar's missing axis,
/// or a size named as the `names` field shows it (`n`, or a number `3`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// The axis of length 1 (a column vector is `(n, One)`, a scalar `(One, One)`).
    One,
    /// A size: its name, or its value written as a number.
    Size(Rc<str>),
}

impl Dim {
    /// A named (or numeric) size.
    pub fn size(name: &str) -> Dim {
        if name == "1" {
            Dim::One
        } else {
            Dim::Size(Rc::from(name))
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::One => f.write_str("1"),
            Dim::Size(s) => f.write_str(s),
        }
    }
}

/// The shape of a value: rows and columns (a vector is a column, `x'` a row,
/// a scalar `1 x 1`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Number of rows.
    pub rows: Dim,
    /// Number of columns.
    pub cols: Dim,
}

/// What a value is, by its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A number.
    Scalar,
    /// A column vector.
    Vector,
    /// A row vector (the transpose of a vector).
    RowVector,
    /// A matrix.
    Matrix,
}

impl Kind {
    /// `"scalar"`, `"vector"`, `"row vector"` or `"matrix"`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Vector => "vector",
            Kind::RowVector => "row vector",
            Kind::Matrix => "matrix",
        }
    }
}

impl Shape {
    /// `rows x cols`.
    pub fn new(rows: Dim, cols: Dim) -> Shape {
        Shape { rows, cols }
    }
    /// The scalar shape `1 x 1`.
    pub fn scalar() -> Shape {
        Shape::new(Dim::One, Dim::One)
    }
    /// A column vector of length `n`.
    pub fn vector(n: Dim) -> Shape {
        Shape::new(n, Dim::One)
    }
    /// True for `1 x 1`.
    pub fn is_scalar(&self) -> bool {
        self.rows == Dim::One && self.cols == Dim::One
    }
    /// The kind of value of this shape.
    pub fn kind(&self) -> Kind {
        match (&self.rows, &self.cols) {
            (Dim::One, Dim::One) => Kind::Scalar,
            (_, Dim::One) => Kind::Vector,
            (Dim::One, _) => Kind::RowVector,
            _ => Kind::Matrix,
        }
    }
    /// The axes that are not of length 1, in order (0, 1 or 2 of them).
    pub fn axes(&self) -> Vec<Dim> {
        [&self.rows, &self.cols]
            .into_iter()
            .filter(|d| **d != Dim::One)
            .cloned()
            .collect()
    }
    /// The transposed shape.
    pub fn t(&self) -> Shape {
        Shape::new(self.cols.clone(), self.rows.clone())
    }
}

/// A node of a matrix expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A named scalar, vector or matrix; `symmetric` when declared so.
    Var {
        /// The name.
        name: Rc<str>,
        /// Declared symmetric (then `A' = A`).
        symmetric: bool,
    },
    /// A number.
    Num(f64),
    /// The identity matrix `I` (its size is the node's shape).
    Identity,
    /// `zeros(..)` of the node's shape.
    Zeros,
    /// `ones(n)`, a vector of ones.
    Ones,
    /// `a'`
    Transpose(Expr),
    /// `a*b`: the matrix product, or scaling when one side is a scalar
    /// (the scalar stands first).
    Mul(Expr, Expr),
    /// `a + b` (a scalar broadcasts).
    Add(Expr, Expr),
    /// `a - b` (a scalar broadcasts).
    Sub(Expr, Expr),
    /// `-a`
    Neg(Expr),
    /// An elementwise `.*` (`Mul`), `./` (`Div`) or `.^` (`Pow`); a scalar
    /// operand broadcasts.
    Elem(BinaryOp, Expr, Expr),
    /// A scalar function applied elementwise.
    Unary(UnaryOp, Expr),
    /// `tr(M)`
    Tr(Expr),
    /// `det(M)`
    Det(Expr),
    /// `logdet(M)` = log|det M|
    Logdet(Expr),
    /// `inv(M)`
    Inv(Expr),
    /// `diag(v)`: the diagonal matrix of a vector.
    Diag(Expr),
    /// `diag(M)`: the vector of a matrix's diagonal.
    DiagOf(Expr),
    /// `sum(v)` or `sum(M)`: the sum of all entries.
    Sum(Expr),
    /// `norm2(v)`: the Euclidean norm.
    Norm2(Expr),
    /// `norm1(v)`: the sum of absolute values.
    Norm1(Expr),
}

#[derive(Debug, PartialEq)]
struct Inner {
    node: Node,
    shape: Shape,
}

/// A shape-typed matrix expression; cloning shares the node.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr(Rc<Inner>);

fn num_fits(c: f64) -> Expr {
    Expr::raw(Node::Num(c), Shape::scalar())
}

impl Expr {
    fn raw(node: Node, shape: Shape) -> Expr {
        Expr(Rc::new(Inner { node, shape }))
    }
    /// The node.
    pub fn node(&self) -> &Node {
        &self.0.node
    }
    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.0.shape
    }
    /// True for a `1 x 1` value.
    pub fn is_scalar(&self) -> bool {
        self.0.shape.is_scalar()
    }
    /// The number, for a `Num` node.
    pub fn as_num(&self) -> Option<f64> {
        match self.node() {
            Node::Num(c) => Some(*c),
            _ => None,
        }
    }
    /// True for the number 0 and for `zeros`.
    pub fn is_zero(&self) -> bool {
        matches!(self.node(), Node::Zeros) || self.as_num() == Some(0.0)
    }
    /// The variable `name` of this shape.
    pub fn var(name: &str, shape: Shape, symmetric: bool) -> Expr {
        Expr::raw(
            Node::Var {
                name: Rc::from(name),
                symmetric,
            },
            shape,
        )
    }
    /// A number.
    pub fn num(c: f64) -> Expr {
        num_fits(c)
    }
    /// The `n x n` identity.
    pub fn identity(n: Dim) -> Expr {
        Expr::raw(Node::Identity, Shape::new(n.clone(), n))
    }
    /// Zeros of a shape (the number 0 for a scalar).
    pub fn zeros(shape: Shape) -> Expr {
        if shape.is_scalar() {
            Expr::num(0.0)
        } else {
            Expr::raw(Node::Zeros, shape)
        }
    }
    /// `ones(n)`
    pub fn ones(n: Dim) -> Expr {
        Expr::raw(Node::Ones, Shape::vector(n))
    }

    /// Does the expression mention the variable `name`?
    pub fn depends_on(&self, name: &str) -> bool {
        match self.node() {
            Node::Var { name: n, .. } => &**n == name,
            Node::Num(_) | Node::Identity | Node::Zeros | Node::Ones => false,
            _ => self.children().iter().any(|c| c.depends_on(name)),
        }
    }

    /// The operands of the node.
    pub fn children(&self) -> Vec<Expr> {
        use Node::*;
        match self.node() {
            Var { .. } | Num(_) | Identity | Zeros | Ones => vec![],
            Transpose(a)
            | Neg(a)
            | Unary(_, a)
            | Tr(a)
            | Det(a)
            | Logdet(a)
            | Inv(a)
            | Diag(a)
            | DiagOf(a)
            | Sum(a)
            | Norm2(a)
            | Norm1(a) => vec![a.clone()],
            Mul(a, b) | Add(a, b) | Sub(a, b) | Elem(_, a, b) => vec![a.clone(), b.clone()],
        }
    }

    /// The same node over new operands (through the smart constructors).
    pub fn with_children(&self, c: &[Expr]) -> Expr {
        use Node::*;
        match self.node() {
            Var { .. } | Num(_) | Identity | Zeros | Ones => self.clone(),
            Transpose(_) => t(&c[0]),
            Neg(_) => neg(&c[0]),
            Unary(op, _) => unary(*op, &c[0]),
            Tr(_) => tr(&c[0]),
            Det(_) => det(&c[0]),
            Logdet(_) => logdet(&c[0]),
            Inv(_) => inv(&c[0]),
            Diag(_) => diag(&c[0]),
            DiagOf(_) => diag_of(&c[0]),
            Sum(_) => sum(&c[0]),
            Norm2(_) => norm2(&c[0]),
            Norm1(_) => norm1(&c[0]),
            Mul(..) => mul(&c[0], &c[1]),
            Add(..) => add(&c[0], &c[1]),
            Sub(..) => sub(&c[0], &c[1]),
            Elem(op, ..) => elem(*op, &c[0], &c[1]),
        }
    }

    /// The number of operations (nodes that are not leaves).
    pub fn op_count(&self) -> usize {
        let c = self.children();
        if c.is_empty() {
            0
        } else {
            1 + c.iter().map(Expr::op_count).sum::<usize>()
        }
    }
}

fn scalar_shape() -> Shape {
    Shape::scalar()
}

/// The broadcast shape of two operands of an elementwise operation.
fn broadcast(a: &Expr, b: &Expr) -> Shape {
    if a.is_scalar() {
        b.shape().clone()
    } else {
        a.shape().clone()
    }
}

/// `a'`
pub fn t(a: &Expr) -> Expr {
    use Node::*;
    if a.is_scalar() {
        return a.clone();
    }
    match a.node() {
        Transpose(x) => x.clone(),
        Var {
            symmetric: true, ..
        }
        | Identity
        | Diag(_) => a.clone(),
        Zeros => Expr::zeros(a.shape().t()),
        Mul(x, y) => {
            if x.is_scalar() {
                mul(x, &t(y))
            } else {
                mul(&t(y), &t(x))
            }
        }
        Add(x, y) => add(&t(x), &t(y)),
        Sub(x, y) => sub(&t(x), &t(y)),
        Neg(x) => neg(&t(x)),
        Elem(op, x, y) => elem(*op, &t(x), &t(y)),
        Unary(op, x) => unary(*op, &t(x)),
        Inv(x) => inv(&t(x)),
        _ => Expr::raw(Transpose(a.clone()), a.shape().t()),
    }
}

/// `a*b`: the matrix product, or scaling when one side is a scalar.
pub fn mul(a: &Expr, b: &Expr) -> Expr {
    use Node::*;
    if !a.is_scalar() && b.is_scalar() {
        return mul(b, a);
    }
    let shape = if a.is_scalar() {
        b.shape().clone()
    } else {
        Shape::new(a.shape().rows.clone(), b.shape().cols.clone())
    };
    if a.is_zero() || b.is_zero() {
        return Expr::zeros(shape);
    }
    if let (Some(x), Some(y)) = (a.as_num(), b.as_num()) {
        return Expr::num(x * y);
    }
    if a.as_num() == Some(1.0) {
        return b.clone();
    }
    if a.as_num() == Some(-1.0) {
        return neg(b);
    }
    if b.as_num() == Some(1.0) {
        return a.clone();
    }
    if let Neg(x) = a.node() {
        return neg(&mul(x, b));
    }
    if let Neg(y) = b.node() {
        return neg(&mul(a, y));
    }
    if a.is_scalar() {
        // Numbers outermost: c*(d*x) = (cd)*x, s*(c*x) = c*(s*x).
        if let Mul(c, x) = b.node() {
            if let Some(cv) = c.as_num() {
                if let Some(av) = a.as_num() {
                    return mul(&Expr::num(av * cv), x);
                }
                return mul(c, &mul(a, x));
            }
        }
        if a.as_num().is_none() {
            if let Mul(c, x) = a.node() {
                if c.as_num().is_some() {
                    return mul(c, &mul(x, b));
                }
            }
        }
    } else {
        if matches!(a.node(), Identity) {
            return b.clone();
        }
        // X*inv(X) = inv(X)*X = I, also at the ends of products.
        let inverse = |p: &Expr, q: &Expr| {
            matches!(p.node(), Inv(x) if x == q) || matches!(q.node(), Inv(x) if x == p)
        };
        if inverse(a, b) {
            return Expr::identity(a.shape().rows.clone());
        }
        if let Mul(b1, b2) = b.node() {
            if !b1.is_scalar() && inverse(a, b1) {
                return b2.clone();
            }
        }
        if let Mul(a1, a2) = a.node() {
            if !a1.is_scalar() && inverse(a2, b) {
                return a1.clone();
            }
        }
        if matches!(b.node(), Identity) {
            return a.clone();
        }
        // A coefficient inside a product moves out: (c*A)*B = c*(A*B).
        if let Mul(c, x) = a.node() {
            if c.is_scalar() {
                return mul(c, &mul(x, b));
            }
        }
        if let Mul(c, y) = b.node() {
            if c.is_scalar() {
                return mul(c, &mul(a, y));
            }
        }
    }
    Expr::raw(Mul(a.clone(), b.clone()), shape)
}

/// `a + b`
pub fn add(a: &Expr, b: &Expr) -> Expr {
    let shape = broadcast(a, b);
    if let (Some(x), Some(y)) = (a.as_num(), b.as_num()) {
        return Expr::num(x + y);
    }
    if a.is_zero() && (a.is_scalar() == b.is_scalar() || !b.is_scalar()) {
        return b.clone();
    }
    if b.is_zero() && (a.is_scalar() == b.is_scalar() || !a.is_scalar()) {
        return a.clone();
    }
    if let Node::Neg(y) = b.node() {
        return sub(a, y);
    }
    Expr::raw(Node::Add(a.clone(), b.clone()), shape)
}

/// `a - b`
pub fn sub(a: &Expr, b: &Expr) -> Expr {
    let shape = broadcast(a, b);
    if let (Some(x), Some(y)) = (a.as_num(), b.as_num()) {
        return Expr::num(x - y);
    }
    if b.is_zero() && (a.is_scalar() == b.is_scalar() || !a.is_scalar()) {
        return a.clone();
    }
    if a.is_zero() && a.is_scalar() == b.is_scalar() {
        return neg(b);
    }
    if let Node::Neg(y) = b.node() {
        return add(a, y);
    }
    Expr::raw(Node::Sub(a.clone(), b.clone()), shape)
}

/// `-a`
pub fn neg(a: &Expr) -> Expr {
    match a.node() {
        Node::Num(c) => Expr::num(-c),
        Node::Neg(x) => x.clone(),
        Node::Zeros => a.clone(),
        Node::Mul(c, x) if c.as_num().is_some() => mul(&Expr::num(-c.as_num().unwrap_or(0.0)), x),
        _ => Expr::raw(Node::Neg(a.clone()), a.shape().clone()),
    }
}

/// A scalar function applied elementwise.
pub fn unary(op: UnaryOp, a: &Expr) -> Expr {
    use Node::*;
    match op {
        UnaryOp::Neg => return neg(a),
        UnaryOp::Powi(1) => return a.clone(),
        _ => {}
    }
    if let Some(c) = a.as_num() {
        return Expr::num(op.eval(c));
    }
    if op == UnaryOp::Ln {
        // log(1 + exp(u)) = softplus(u)
        if let Add(x, y) = a.node() {
            for (one, e) in [(x, y), (y, x)] {
                if one.as_num() == Some(1.0) {
                    if let Unary(UnaryOp::Exp, u) = e.node() {
                        return unary(UnaryOp::Softplus, u);
                    }
                }
            }
        }
        if let Unary(UnaryOp::Exp, u) = a.node() {
            return u.clone();
        }
    }
    if op == UnaryOp::Powi(2) {
        if let Norm2(u) = a.node() {
            return if u.shape().cols == Dim::One {
                mul(&t(u), u)
            } else {
                mul(u, &t(u))
            };
        }
    }
    if let (UnaryOp::Powi(n), Unary(UnaryOp::Powi(m), x)) = (op, a.node()) {
        if let Some(k) = n.checked_mul(*m) {
            return unary(UnaryOp::Powi(k), x);
        }
    }
    Expr::raw(Unary(op, a.clone()), a.shape().clone())
}

/// An elementwise `.*`, `./` or `.^` (a scalar operand broadcasts).
pub fn elem(op: BinaryOp, a: &Expr, b: &Expr) -> Expr {
    match op {
        BinaryOp::Add => return add(a, b),
        BinaryOp::Sub => return sub(a, b),
        BinaryOp::Mul if a.is_scalar() || b.is_scalar() => return mul(a, b),
        BinaryOp::Div => {
            if let Some(c) = b.as_num() {
                return mul(&Expr::num(1.0 / c), a);
            }
            if a.is_zero() {
                return Expr::zeros(broadcast(a, b));
            }
        }
        BinaryOp::Pow => {
            if let Some(c) = b.as_num() {
                if c.fract() == 0.0 && c.abs() < 1e6 {
                    return unary(UnaryOp::Powi(c as i32), a);
                }
            }
        }
        _ => {}
    }
    if let (Some(x), Some(y)) = (a.as_num(), b.as_num()) {
        return Expr::num(op.eval(x, y));
    }
    Expr::raw(Node::Elem(op, a.clone(), b.clone()), broadcast(a, b))
}

/// `tr(M)`
pub fn tr(a: &Expr) -> Expr {
    match a.node() {
        Node::Zeros => Expr::num(0.0),
        Node::Transpose(x) => tr(x),
        _ => Expr::raw(Node::Tr(a.clone()), scalar_shape()),
    }
}

/// `det(M)`
pub fn det(a: &Expr) -> Expr {
    Expr::raw(Node::Det(a.clone()), scalar_shape())
}

/// `logdet(M)` = log|det M|
pub fn logdet(a: &Expr) -> Expr {
    Expr::raw(Node::Logdet(a.clone()), scalar_shape())
}

/// `inv(M)`
pub fn inv(a: &Expr) -> Expr {
    match a.node() {
        Node::Inv(x) => x.clone(),
        Node::Identity => a.clone(),
        // inv(P*Q) = inv(Q)*inv(P) when both are square.
        Node::Mul(p, q)
            if !p.is_scalar()
                && p.shape().rows == p.shape().cols
                && q.shape().rows == q.shape().cols =>
        {
            mul(&inv(q), &inv(p))
        }
        _ => Expr::raw(Node::Inv(a.clone()), a.shape().clone()),
    }
}

/// `diag(v)`: the diagonal matrix of a vector.
pub fn diag(v: &Expr) -> Expr {
    let n = v.shape().axes().first().cloned().unwrap_or(Dim::One);
    match v.node() {
        Node::Ones => Expr::identity(n),
        _ => Expr::raw(Node::Diag(v.clone()), Shape::new(n.clone(), n)),
    }
}

/// `diag(M)`: the vector of the diagonal of a square matrix.
pub fn diag_of(m: &Expr) -> Expr {
    match m.node() {
        Node::Diag(v) => {
            if v.shape().cols == Dim::One {
                v.clone()
            } else {
                t(v)
            }
        }
        Node::Identity => Expr::ones(m.shape().rows.clone()),
        Node::Transpose(x) => diag_of(x),
        _ => Expr::raw(
            Node::DiagOf(m.clone()),
            Shape::vector(m.shape().rows.clone()),
        ),
    }
}

/// `sum(a)`
pub fn sum(a: &Expr) -> Expr {
    if a.is_scalar() {
        return a.clone();
    }
    match a.node() {
        Node::Zeros => Expr::num(0.0),
        Node::Transpose(x) => sum(x),
        _ => Expr::raw(Node::Sum(a.clone()), scalar_shape()),
    }
}

/// `norm2(v)`
pub fn norm2(a: &Expr) -> Expr {
    Expr::raw(Node::Norm2(a.clone()), scalar_shape())
}

/// `norm1(v)`
pub fn norm1(a: &Expr) -> Expr {
    Expr::raw(Node::Norm1(a.clone()), scalar_shape())
}
