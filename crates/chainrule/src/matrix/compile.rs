//! Compilation of a matrix formula (a derivative or Hessian printed by
//! [`Problem::derivative`](super::Problem::derivative)) to a flat program,
//! evaluated per call with no derivation, no tape and no tree walk: a
//! Hessian then costs what its closed form costs.
//!
//! The formula's nodes become instructions over registers of 2-d f64
//! arrays, shared subexpressions once (`sigmoid(a'*x)` and `-(a'*x)` read
//! one `a'*x`). A transpose swaps strides and copies nothing; a matrix
//! product is the tape's gemm on the operands' views (`A'*A` reads `A`
//! twice); a linear combination `c*(X + Y')` is one pass; a scaling of a
//! temporary is done in place. `det`, `logdet` and `inv` use an LU
//! factorisation with partial pivoting.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView2, CowArray, Ix2, Zip};

use super::eval::Values;
use super::expr::{Dim, Expr, Node, Shape};
use crate::error::{Error, Result};
use crate::ops::{BinaryOp, UnaryOp};
use crate::Tensor;

type Reg = usize;

#[derive(Clone, Debug)]
enum Op {
    Input(String),
    Num(f64),
    Identity(Dim),
    Zeros(Dim, Dim),
    Ones(Dim),
    T(Reg),
    MatMul(Reg, Reg),
    /// α·x + β·y, a 1 x 1 operand broadcast.
    Lin(f64, Reg, f64, Option<Reg>),
    /// The scalar in the first register times the second.
    Scale(Reg, Reg),
    Elem(BinaryOp, Reg, Reg),
    Unary(UnaryOp, Reg),
    Tr(Reg),
    Sum(Reg),
    Norm2(Reg),
    Norm1(Reg),
    Diag(Reg),
    DiagOf(Reg),
    Det(Reg),
    Logdet(Reg),
    Inv(Reg),
}

impl Op {
    fn reads(&self) -> Vec<Reg> {
        use Op::*;
        match self {
            Input(_) | Num(_) | Identity(_) | Zeros(..) | Ones(_) => vec![],
            Lin(_, x, _, Some(y)) => vec![*x, *y],
            Lin(_, x, _, None) => vec![*x],
            MatMul(a, b) | Scale(a, b) | Elem(_, a, b) => vec![*a, *b],
            T(a)
            | Unary(_, a)
            | Tr(a)
            | Sum(a)
            | Norm2(a)
            | Norm1(a)
            | Diag(a)
            | DiagOf(a)
            | Det(a)
            | Logdet(a)
            | Inv(a) => vec![*a],
        }
    }
}

/// A compiled formula: instruction `i` writes register `i`.
#[derive(Clone, Debug)]
pub struct Program {
    ops: Vec<Op>,
    /// The last instruction that reads each register.
    last_use: Vec<usize>,
    shape: Shape,
}

struct Compiler {
    ops: Vec<Op>,
    memo: HashMap<String, Reg>,
}

/// `c*x` as (c, x); `-x` as (-1, x); else (1, e).
fn coefficient(e: &Expr) -> (f64, &Expr) {
    match e.node() {
        Node::Mul(k, x) if k.as_num().is_some() => (k.as_num().unwrap_or(1.0), x),
        Node::Neg(x) => (-1.0, x),
        _ => (1.0, e),
    }
}

impl Compiler {
    fn push(&mut self, key: String, op: Op) -> Reg {
        if let Some(&r) = self.memo.get(&key) {
            return r;
        }
        self.ops.push(op);
        let r = self.ops.len() - 1;
        self.memo.insert(key, r);
        r
    }

    /// `c1*a ± c2*b` as one instruction.
    fn lin(&mut self, key: String, c: f64, a: &Expr, sign: f64, b: &Expr) -> Reg {
        let (ca, a) = coefficient(a);
        let (cb, b) = coefficient(b);
        let (ra, rb) = (self.expr(a), self.expr(b));
        self.push(key, Op::Lin(c * ca, ra, c * sign * cb, Some(rb)))
    }

    /// `s*m` for a scalar `s`: the scalars of a chain `s1*(s2*(... m))`
    /// multiplied first (1 x 1), then one scaling of `m`; of an outer
    /// product `u*v'`, the scaling of `u` (n entries, not n²).
    fn scaled(&mut self, key: String, s: &Expr, m: &Expr) -> Reg {
        let mut scalars = vec![s.clone()];
        let mut rest = m.clone();
        while let Node::Mul(p, q) = rest.node() {
            if !p.is_scalar() || q.is_scalar() {
                break;
            }
            scalars.push(p.clone());
            rest = q.clone();
        }
        let mut k = self.expr(&scalars[0]);
        for x in &scalars[1..] {
            let r = self.expr(x);
            k = self.push(format!("scalar {k} * {r}"), Op::Scale(k, r));
        }
        if let Node::Mul(u, v) = rest.node() {
            if !u.is_scalar() && u.shape().cols == Dim::One {
                let (ru, rv) = (self.expr(u), self.expr(v));
                let su = self.push(format!("scaled {k} * {ru}"), Op::Scale(k, ru));
                return self.push(key, Op::MatMul(su, rv));
            }
        }
        let r = self.expr(&rest);
        self.push(key, Op::Scale(k, r))
    }

    fn expr(&mut self, e: &Expr) -> Reg {
        let key = format!("{e}|{:?}", e.shape());
        if let Some(&r) = self.memo.get(&key) {
            return r;
        }
        use Node::*;
        let shape = e.shape();
        let op = match e.node() {
            Var { name, .. } => Op::Input(name.to_string()),
            Num(c) => Op::Num(*c),
            Identity => Op::Identity(shape.rows.clone()),
            Zeros => Op::Zeros(shape.rows.clone(), shape.cols.clone()),
            Ones => Op::Ones(shape.rows.clone()),
            Transpose(a) => Op::T(self.expr(a)),
            Add(a, b) => return self.lin(key, 1.0, a, 1.0, b),
            Sub(a, b) => return self.lin(key, 1.0, a, -1.0, b),
            Neg(a) => Op::Lin(-1.0, self.expr(a), 0.0, None),
            Mul(k, x) if k.as_num().is_some() => {
                let c = k.as_num().unwrap_or(1.0);
                match x.node() {
                    Add(a, b) => return self.lin(key, c, a, 1.0, b),
                    Sub(a, b) => return self.lin(key, c, a, -1.0, b),
                    _ => Op::Lin(c, self.expr(x), 0.0, None),
                }
            }
            Mul(a, b) if a.is_scalar() && !b.is_scalar() => return self.scaled(key, a, b),
            Mul(a, b) if a.is_scalar() => Op::Scale(self.expr(a), self.expr(b)),
            Mul(a, b) if b.is_scalar() => Op::Scale(self.expr(b), self.expr(a)),
            Mul(a, b) => Op::MatMul(self.expr(a), self.expr(b)),
            Elem(op, a, b) => Op::Elem(*op, self.expr(a), self.expr(b)),
            Unary(op, a) => Op::Unary(*op, self.expr(a)),
            Tr(a) => Op::Tr(self.expr(a)),
            Sum(a) => Op::Sum(self.expr(a)),
            Norm2(a) => Op::Norm2(self.expr(a)),
            Norm1(a) => Op::Norm1(self.expr(a)),
            Diag(a) => Op::Diag(self.expr(a)),
            DiagOf(a) => Op::DiagOf(self.expr(a)),
            Det(a) => Op::Det(self.expr(a)),
            Logdet(a) => Op::Logdet(self.expr(a)),
            Inv(a) => Op::Inv(self.expr(a)),
        };
        self.push(key, op)
    }
}

/// Compiles a formula (of the names of the problem it came from) to a
/// [`Program`].
///
/// ```
/// use chainrule::matrix::{self, Values};
/// use chainrule::Tensor;
/// let p = matrix::parse("1/2*norm2(A*x - b)^2", "").unwrap();
/// let h = matrix::compile(&p.hessian("x").unwrap()); // A'*A
/// let a = Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], &[3, 2]).unwrap();
/// let (x, b) = (Tensor::from_vec(vec![1., -1.], &[2]).unwrap(), Tensor::zeros(&[3]));
/// let names = [("A".to_string(), a), ("x".to_string(), x), ("b".to_string(), b)];
/// let v = Values::bind(&p.names, &names).unwrap();
/// assert_eq!(h.eval(&v).unwrap().to_vec(), [35., 44., 44., 56.]);
/// ```
pub fn compile(e: &Expr) -> Program {
    let mut c = Compiler {
        ops: Vec::new(),
        memo: HashMap::new(),
    };
    let out = c.expr(e);
    // Instructions after the output's are none (it is the last pushed).
    debug_assert_eq!(out + 1, c.ops.len());
    let n = c.ops.len();
    let mut last_use = vec![n; n];
    for (i, op) in c.ops.iter().enumerate() {
        for r in op.reads() {
            last_use[r] = i;
        }
    }
    Program {
        ops: c.ops,
        last_use,
        shape: e.shape().clone(),
    }
}

type Arr<'a> = CowArray<'a, f64, Ix2>;

fn num(x: f64) -> Arr<'static> {
    Array2::from_elem((1, 1), x).into()
}

fn first(a: &Arr<'_>) -> f64 {
    a.iter().next().copied().unwrap_or(0.0)
}

/// `f(x, y)` entrywise, a 1 x 1 operand broadcast.
fn zip_with(
    x: &ArrayView2<'_, f64>,
    y: &ArrayView2<'_, f64>,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Array2<f64>> {
    let one = |a: &ArrayView2<'_, f64>| a.dim() == (1, 1);
    if x.dim() == y.dim() {
        Ok(Zip::from(x).and(y).map_collect(|&a, &b| f(a, b)))
    } else if one(x) {
        let a = x[[0, 0]];
        Ok(y.mapv(|b| f(a, b)))
    } else if one(y) {
        let b = y[[0, 0]];
        Ok(x.mapv(|a| f(a, b)))
    } else {
        Err(Error::ShapeMismatch {
            op: "matrix program",
            left: vec![x.nrows(), x.ncols()],
            right: vec![y.nrows(), y.ncols()],
        })
    }
}

/// LU with partial pivoting of a square matrix: the factors in place, the
/// sign of the permutation and the row order.
fn lu(m: &ArrayView2<'_, f64>) -> (Array2<f64>, f64, Vec<usize>) {
    let mut a = m.to_owned();
    let n = a.nrows();
    let mut sign = 1.0;
    let mut perm: Vec<usize> = (0..n).collect();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[[i, c]].abs().total_cmp(&a[[j, c]].abs()))
            .unwrap_or(c);
        if p != c {
            for j in 0..n {
                a.swap([p, j], [c, j]);
            }
            perm.swap(p, c);
            sign = -sign;
        }
        let piv = a[[c, c]];
        for i in c + 1..n {
            let f = a[[i, c]] / piv;
            a[[i, c]] = f;
            if f != 0.0 {
                for j in c + 1..n {
                    a[[i, j]] -= f * a[[c, j]];
                }
            }
        }
    }
    (a, sign, perm)
}

fn inverse(m: &ArrayView2<'_, f64>) -> Array2<f64> {
    let (lu, _, perm) = lu(m);
    let n = lu.nrows();
    let mut out = Array2::zeros((n, n));
    for col in 0..n {
        // Solve L y = P e_col, then U x = y.
        let mut y: Vec<f64> = (0..n)
            .map(|i| if perm[i] == col { 1.0 } else { 0.0 })
            .collect();
        for i in 0..n {
            for k in 0..i {
                y[i] -= lu[[i, k]] * y[k];
            }
        }
        for i in (0..n).rev() {
            for k in i + 1..n {
                y[i] -= lu[[i, k]] * y[k];
            }
            y[i] /= lu[[i, i]];
        }
        for i in 0..n {
            out[[i, col]] = y[i];
        }
    }
    out
}

impl Program {
    /// The number of instructions (shared subexpressions counted once).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True for a program of no instructions (never: a formula has a node).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The shape of the formula.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Evaluates the formula at `values` (the names' values and sizes): a
    /// 2-d tensor, as [`eval`](super::eval) gives it.
    pub fn eval(&self, values: &Values) -> Result<Tensor> {
        let mut regs: Vec<Option<Arr<'_>>> = Vec::with_capacity(self.ops.len());
        for (i, op) in self.ops.iter().enumerate() {
            let v = self.step(i, op, &mut regs, values)?;
            regs.push(Some(v));
            for r in op.reads() {
                if self.last_use[r] == i {
                    regs[r] = None;
                }
            }
        }
        let out = regs.pop().flatten().unwrap_or_else(|| num(f64::NAN));
        let out = if out.is_standard_layout() {
            out.into_owned()
        } else {
            out.as_standard_layout().into_owned()
        };
        Ok(Tensor::from_array(out.into_dyn()))
    }

    fn step<'a>(
        &self,
        i: usize,
        op: &Op,
        regs: &mut [Option<Arr<'a>>],
        values: &'a Values,
    ) -> Result<Arr<'a>> {
        let get = |r: Reg| -> Result<&Arr<'a>> {
            regs[r].as_ref().ok_or(Error::MatrixUnboundSize {
                size: format!("register {r}"),
            })
        };
        let size = |d: &Dim| values.size(d);
        Ok(match op {
            Op::Input(name) => {
                let t = values.get(name).ok_or_else(|| Error::UnboundVariable {
                    name: name.clone(),
                    span: None,
                })?;
                let v = t.data().view();
                let v: CowArray<'a, f64, ndarray::IxDyn> = v;
                v.into_dimensionality::<Ix2>()
                    .map_err(|_| Error::MatrixUnboundSize { size: name.clone() })?
            }
            Op::Num(c) => num(*c),
            Op::Identity(n) => Array2::eye(size(n)?).into(),
            Op::Zeros(r, c) => Array2::zeros((size(r)?, size(c)?)).into(),
            Op::Ones(n) => Array2::ones((size(n)?, 1)).into(),
            Op::T(a) => {
                if self.last_use[*a] == i {
                    regs[*a]
                        .take()
                        .map(|a| a.reversed_axes())
                        .unwrap_or_else(|| num(f64::NAN))
                } else {
                    get(*a)?.clone().reversed_axes()
                }
            }
            Op::MatMul(a, b) => {
                let (x, y) = (get(*a)?.view(), get(*b)?.view());
                if x.ncols() == 1 {
                    // An outer product u*v': one pass that writes it.
                    let (u, v) = (x.column(0), y.row(0));
                    Array2::from_shape_fn((u.len(), v.len()), |(i, j)| u[i] * v[j]).into()
                } else {
                    let mut out = Array2::zeros((x.nrows(), y.ncols()));
                    crate::tensor::gemm_into(&x, &y, &mut out.view_mut(), false);
                    out.into()
                }
            }
            Op::Lin(alpha, x, _, None) => {
                let (alpha, x) = (*alpha, *x);
                let own = self.last_use[x] == i && regs[x].as_ref().is_some_and(|a| a.is_owned());
                if own {
                    let mut a = regs[x].take().map(|a| a.into_owned()).unwrap_or_default();
                    a.mapv_inplace(|v| alpha * v);
                    a.into()
                } else {
                    get(x)?.mapv(|v| alpha * v).into()
                }
            }
            Op::Lin(alpha, x, beta, Some(y)) => {
                let (alpha, beta) = (*alpha, *beta);
                zip_with(&get(*x)?.view(), &get(*y)?.view(), |a, b| {
                    alpha * a + beta * b
                })?
                .into()
            }
            Op::Scale(s, x) => {
                let k = first(get(*s)?);
                let own = self.last_use[*x] == i && regs[*x].as_ref().is_some_and(|a| a.is_owned());
                if own {
                    let mut a = regs[*x].take().map(|a| a.into_owned()).unwrap_or_default();
                    a.mapv_inplace(|v| k * v);
                    a.into()
                } else {
                    get(*x)?.mapv(|v| k * v).into()
                }
            }
            Op::Elem(op, a, b) => {
                zip_with(&get(*a)?.view(), &get(*b)?.view(), |x, y| op.eval(x, y))?.into()
            }
            Op::Unary(op, a) => get(*a)?.mapv(|x| op.eval(x)).into(),
            Op::Tr(a) => num(get(*a)?.diag().sum()),
            Op::Sum(a) => num(get(*a)?.sum()),
            Op::Norm2(a) => num(get(*a)?.iter().map(|v| v * v).sum::<f64>().sqrt()),
            Op::Norm1(a) => num(get(*a)?.iter().map(|v| v.abs()).sum()),
            Op::Diag(a) => {
                let v: Vec<f64> = get(*a)?.iter().copied().collect();
                let n = v.len();
                let mut m = Array2::zeros((n, n));
                for (k, x) in v.into_iter().enumerate() {
                    m[[k, k]] = x;
                }
                m.into()
            }
            Op::DiagOf(a) => {
                let d = get(*a)?.diag().to_owned();
                let n = d.len();
                d.into_shape_with_order((n, 1))
                    .map_err(|_| Error::MatrixUnboundSize {
                        size: "diag".into(),
                    })?
                    .into()
            }
            Op::Det(a) => {
                let (lu, sign, _) = lu(&get(*a)?.view());
                num(sign * lu.diag().product())
            }
            Op::Logdet(a) => {
                let (lu, _, _) = lu(&get(*a)?.view());
                num(lu.diag().iter().map(|p| p.abs().ln()).sum())
            }
            Op::Inv(a) => inverse(&get(*a)?.view()).into(),
        })
    }
}
