//! Evaluation of matrix expressions on [`Tensor`]s (f64), recorded on the
//! tape when the values require gradients, so that the same evaluation
//! gives reverse-mode autodiff of an expression. Internally every value is
//! a 2-d tensor (a vector `n x 1`, a scalar `1 x 1`).

use std::collections::HashMap;

use super::expr::{Dim, Expr, Kind, Node, Shape};
use super::parse::NameInfo;
use crate::error::{Error, Result, ValueProblem};
use crate::ops::UnaryOp;
use crate::Tensor;

/// Values of the names of an expression, and the sizes they give.
#[derive(Clone, Debug)]
pub struct Values {
    vars: HashMap<String, Tensor>,
    sizes: HashMap<String, usize>,
}

fn value_err(name: &str, problem: ValueProblem) -> Error {
    Error::MatrixValue {
        name: name.into(),
        problem: Box::new(problem),
    }
}

/// A tensor of a value's natural shape (a scalar 0-d, a vector 1-d) as the
/// 2-d tensor of `shape`.
fn as_2d(t: &Tensor, shape: &Shape) -> Result<Tensor> {
    let (r, c) = (shape.rows != Dim::One, shape.cols != Dim::One);
    let s = t.shape();
    let rows = if r {
        s.first().copied().unwrap_or(1)
    } else {
        1
    };
    let cols = if c { s.last().copied().unwrap_or(1) } else { 1 };
    t.try_reshape(&[rows, cols])
}

/// A 2-d value as a tensor of its natural shape: 0-d for a scalar, 1-d
/// for a vector (row or column), else 2-d.
pub fn natural(t: &Tensor, shape: &Shape) -> Tensor {
    match shape.kind() {
        Kind::Scalar => t.reshape(&[]),
        Kind::Vector | Kind::RowVector => t.reshape(&[t.numel()]),
        Kind::Matrix => t.clone(),
    }
}

impl Values {
    /// Binds `given` (natural shapes: a number, a vector, a matrix) to the
    /// names of an expression, checking kinds, sizes and symmetry.
    pub fn bind(names: &[NameInfo], given: &[(String, Tensor)]) -> Result<Values> {
        let mut v = Values {
            vars: HashMap::new(),
            sizes: HashMap::new(),
        };
        for (n, _) in given {
            if !names.iter().any(|i| &i.name == n) {
                return Err(value_err(n, ValueProblem::Extra));
            }
        }
        for info in names {
            let Some((_, t)) = given.iter().find(|(n, _)| *n == info.name) else {
                return Err(value_err(&info.name, ValueProblem::Missing));
            };
            v.insert(info, t)?;
        }
        Ok(v)
    }

    fn insert(&mut self, info: &NameInfo, t: &Tensor) -> Result<()> {
        let axes = info.shape.axes();
        if t.ndim() != axes.len() {
            return Err(value_err(
                &info.name,
                ValueProblem::WrongKind {
                    expected: info.shape.kind().name(),
                    got: t.shape().to_vec(),
                },
            ));
        }
        for (d, &got) in axes.iter().zip(t.shape()) {
            let Dim::Size(s) = d else { continue };
            let expected = match s.parse::<usize>() {
                Ok(k) => Some(k),
                Err(_) => self.sizes.get(&**s).copied(),
            };
            match expected {
                Some(k) if k != got => {
                    return Err(value_err(
                        &info.name,
                        ValueProblem::SizeDisagrees {
                            size: s.to_string(),
                            expected: k,
                            got,
                        },
                    ))
                }
                _ => {
                    self.sizes.insert(s.to_string(), got);
                }
            }
        }
        if got_asymmetric(info, t) {
            return Err(value_err(&info.name, ValueProblem::Asymmetric));
        }
        self.vars.insert(info.name.clone(), as_2d(t, &info.shape)?);
        Ok(())
    }

    /// Seeded random values: every size from `size_of`, entries uniform in
    /// [0.1, 1.1) (positive, so that `log` and `sqrt` are defined), a
    /// square matrix plus n·I (so that it is well conditioned), a
    /// symmetric one symmetrised.
    pub fn random(names: &[NameInfo], size_of: impl Fn(&str) -> usize, seed: u64) -> Values {
        let mut v = Values {
            vars: HashMap::new(),
            sizes: HashMap::new(),
        };
        for (k, info) in names.iter().enumerate() {
            let dims: Vec<usize> = info
                .shape
                .axes()
                .iter()
                .map(|d| match d {
                    Dim::One => 1,
                    Dim::Size(s) => s.parse::<usize>().unwrap_or_else(|_| size_of(s)),
                })
                .collect();
            let mut t = Tensor::rand(&dims, seed.wrapping_add(k as u64 * 7919)).map(|x| x + 0.1);
            if dims.len() == 2 && dims[0] == dims[1] {
                let n = dims[0];
                t = &t + &(Tensor::eye(n) * n as f64);
                if info.symmetric {
                    t = (&t + &t.t()) * 0.5;
                }
            }
            let _ = v.insert(info, &t);
        }
        v
    }

    /// The value of a name (2-d).
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.vars.get(name)
    }

    /// The value of a name in its natural shape.
    pub fn natural(&self, info: &NameInfo) -> Option<Tensor> {
        self.vars.get(&info.name).map(|t| natural(t, &info.shape))
    }

    /// The same values with `name` set to `t` (a 2-d tensor).
    pub fn with(&self, name: &str, t: Tensor) -> Values {
        let mut v = self.clone();
        v.vars.insert(name.into(), t);
        v
    }

    /// The sizes the values give, by name.
    pub fn sizes(&self) -> &HashMap<String, usize> {
        &self.sizes
    }

    pub(crate) fn size(&self, d: &Dim) -> Result<usize> {
        match d {
            Dim::One => Ok(1),
            Dim::Size(s) => s
                .parse::<usize>()
                .ok()
                .or_else(|| self.sizes.get(&**s).copied())
                .ok_or_else(|| Error::MatrixUnboundSize {
                    size: s.to_string(),
                }),
        }
    }
}

fn got_asymmetric(info: &NameInfo, t: &Tensor) -> bool {
    if !info.symmetric || t.ndim() != 2 {
        return false;
    }
    let a = t.to_vec();
    let n = t.shape()[0];
    (0..n).any(|i| {
        (0..n).any(|j| {
            let (x, y) = (a[i * n + j], a[j * n + i]);
            (x - y).abs() > 1e-12 * x.abs().max(y.abs()).max(1.0)
        })
    })
}

fn scalar(t: Tensor) -> Result<Tensor> {
    t.try_reshape(&[1, 1])
}

/// The rows of a square matrix after elimination with partial pivoting
/// (choices by value, arithmetic on the tape), the pivots and the sign of
/// the row permutation. With `augment`, Gauss–Jordan on `[M | I]`.
fn eliminate(m: &Tensor, augment: bool) -> Result<(Vec<Tensor>, Vec<Tensor>, f64)> {
    let n = m.shape()[0];
    let mut rows: Vec<Tensor> = (0..n)
        .map(|i| {
            let r = m.try_select(0, i)?;
            if augment {
                Tensor::try_cat(&[r, Tensor::eye(n).try_select(0, i)?], 0)
            } else {
                Ok(r)
            }
        })
        .collect::<Result<_>>()?;
    let mut pivots = Vec::with_capacity(n);
    let mut sign = 1.0;
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| {
                let a = rows[i]
                    .try_get(&[c])
                    .and_then(|t| t.try_item())
                    .unwrap_or(0.0)
                    .abs();
                let b = rows[j]
                    .try_get(&[c])
                    .and_then(|t| t.try_item())
                    .unwrap_or(0.0)
                    .abs();
                a.total_cmp(&b)
            })
            .unwrap_or(c);
        if p != c {
            rows.swap(p, c);
            sign = -sign;
        }
        let piv = rows[c].try_get(&[c])?;
        if augment {
            rows[c] = rows[c].try_div(&piv)?;
        }
        for i in 0..n {
            if i == c || (!augment && i < c) {
                continue;
            }
            let f = rows[i].try_get(&[c])?;
            let f = if augment { f } else { f.try_div(&piv)? };
            rows[i] = rows[i].try_sub(&f.try_mul(&rows[c])?)?;
        }
        pivots.push(piv);
    }
    Ok((rows, pivots, sign))
}

/// Evaluates `e` at `values`: a 2-d tensor (`n x 1` for a vector, `1 x 1`
/// for a scalar).
pub fn eval(e: &Expr, values: &Values) -> Result<Tensor> {
    use Node::*;
    let shape = e.shape();
    let ev = |x: &Expr| eval(x, values);
    Ok(match e.node() {
        Var { name, .. } => values
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnboundVariable {
                name: name.to_string(),
                span: None,
            })?,
        Num(c) => Tensor::full(&[1, 1], *c),
        Identity => Tensor::eye(values.size(&shape.rows)?),
        Zeros => Tensor::zeros(&[values.size(&shape.rows)?, values.size(&shape.cols)?]),
        Ones => Tensor::ones(&[values.size(&shape.rows)?, 1]),
        Transpose(a) => ev(a)?.t(),
        Mul(a, b) => {
            let (x, y) = (ev(a)?, ev(b)?);
            if a.is_scalar() || b.is_scalar() {
                x.try_mul(&y)?
            } else {
                x.try_matmul(&y)?
            }
        }
        Add(a, b) => ev(a)?.try_add(&ev(b)?)?,
        Sub(a, b) => ev(a)?.try_sub(&ev(b)?)?,
        Neg(a) => -ev(a)?,
        Elem(op, a, b) => ev(a)?.try_binary(*op, &ev(b)?)?,
        Unary(op, a) => ev(a)?.unary_op(*op),
        Tr(a) => scalar(ev(a)?.try_trace()?)?,
        Sum(a) => scalar(ev(a)?.sum())?,
        Norm2(a) => {
            let v = ev(a)?;
            scalar(v.try_mul(&v)?.sum().unary_op(UnaryOp::Sqrt))?
        }
        Norm1(a) => scalar(ev(a)?.unary_op(UnaryOp::Abs).sum())?,
        Diag(a) => {
            let v = ev(a)?;
            let n = v.numel();
            v.try_reshape(&[n, 1])?.try_mul(&Tensor::eye(n))?
        }
        DiagOf(a) => {
            let m = ev(a)?;
            let n = m.shape()[0];
            m.try_mul(&Tensor::eye(n))?.try_sum_dim(&[1], true)?
        }
        Det(a) => {
            let (_, piv, sign) = eliminate(&ev(a)?, false)?;
            let mut d = Tensor::scalar(sign);
            for p in piv {
                d = d.try_mul(&p)?;
            }
            scalar(d)?
        }
        Logdet(a) => {
            let (_, piv, _) = eliminate(&ev(a)?, false)?;
            let mut d = Tensor::scalar(0.0);
            for p in piv {
                d = d.try_add(&p.unary_op(UnaryOp::Abs).unary_op(UnaryOp::Ln))?;
            }
            scalar(d)?
        }
        Inv(a) => {
            let m = ev(a)?;
            let n = m.shape()[0];
            let (rows, _, _) = eliminate(&m, true)?;
            let right: Vec<Tensor> = rows
                .iter()
                .map(|r| r.try_narrow(0, n, n))
                .collect::<Result<_>>()?;
            Tensor::try_stack(&right, 0)?
        }
    })
}
