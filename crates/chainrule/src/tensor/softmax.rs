//! The softmax family along one axis, each computed stably (shifted by the
//! maximum): [`Tensor::softmax`], [`Tensor::log_softmax`],
//! [`Tensor::logsumexp`].

use super::axes::norm_axis;
use super::dtype::Elem;
use super::kernels;
use super::reduce::{keep_shape, nan_max, reduce_data};
use super::{DType, Data, Tensor};
use crate::error::Result;
use crate::forward::tangents::only;
use crate::macros::panicking;
use crate::real::Real;

impl Tensor {
    /// The maximum along `axis` as a constant, 0 where it is not finite.
    fn shift(&self, axis: usize) -> Tensor {
        let m = reduce_data(self.0.data(), &[axis], true, f64::NEG_INFINITY, nan_max);
        Tensor::from_data(m.map(|v| if v.is_finite() { v } else { 0.0 }))
    }

    /// exp(x) / Σ exp(x) along `axis`, computed stably.
    pub fn try_softmax(&self, axis: isize) -> Result<Tensor> {
        let ax = norm_axis("softmax", axis, self.ndim())?;
        let x = self.detach();
        let y = crate::autograd::no_grad_scope(|| {
            let e = (&x - &x.shift(ax)).exp();
            let s = e.sum_dim(&[ax as isize], true);
            e / s
        });
        Ok(Tensor::custom(
            y.into_data(),
            "SoftmaxBackward0",
            vec![self.clone()],
            move |g, out, _, b| {
                // y ⊙ (g − Σ g ⊙ y)
                let gy = g * out;
                let s = gy.sum_dim(&[b.axis(ax) as isize], true);
                vec![Some(gy - out * s)]
            },
            move |ts, out, _| {
                // y ⊙ (ẋ − Σ y ⊙ ẋ)
                let y = out.unsqueeze(-1);
                let yt = &y * only(ts);
                let s = yt.sum_dim(&[ax as isize], true);
                yt - y * s
            },
        ))
    }

    panicking! {
        /// Softmax along `axis`.
        ///
        /// # Panics
        /// If `axis` is out of range.
        pub fn softmax(&self, axis: isize) -> Tensor = try_softmax;
    }

    /// x − log Σ exp(x) along `axis`, computed stably.
    pub fn try_log_softmax(&self, axis: isize) -> Result<Tensor> {
        let ax = norm_axis("log_softmax", axis, self.ndim())?;
        let x = self.detach();
        let y = crate::autograd::no_grad_scope(|| {
            let z = &x - &x.shift(ax);
            let lse = z.exp().sum_dim(&[ax as isize], true).ln();
            z - lse
        });
        Ok(Tensor::custom(
            y.into_data(),
            "LogSoftmaxBackward0",
            vec![self.clone()],
            move |g, out, _, b| {
                // g − softmax ⊙ Σ g
                let s = g.sum_dim(&[b.axis(ax) as isize], true);
                vec![Some(g - out.exp() * s)]
            },
            move |ts, out, _| {
                // ẋ − Σ softmax ⊙ ẋ
                let t = only(ts);
                t - (out.exp().unsqueeze(-1) * t).sum_dim(&[ax as isize], true)
            },
        ))
    }

    panicking! {
        /// Log-softmax along `axis`.
        ///
        /// # Panics
        /// If `axis` is out of range.
        pub fn log_softmax(&self, axis: isize) -> Tensor = try_log_softmax;
    }

    /// log Σ exp(x) along `axis`, computed stably.
    pub fn try_logsumexp(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        let ax = norm_axis("logsumexp", axis, self.ndim())?;
        let x = self.detach();
        let y = crate::autograd::no_grad_scope(|| {
            let m = x.shift(ax);
            let out = (&x - &m).exp().sum_dim(&[ax as isize], true).ln() + m;
            if keepdim {
                Ok(out)
            } else {
                out.try_squeeze(Some(ax as isize))
            }
        })?;
        let keep = keep_shape(self.shape(), &[ax]);
        Ok(Tensor::custom(
            y.into_data(),
            "LogsumexpBackward0",
            vec![self.clone()],
            move |g, _out, inp, b| {
                // g ⊙ softmax(x): the same value as exp(x − logsumexp), but
                // exp(1000 − 1000.69…) would carry the rounding of the large
                // logsumexp (0.5000000000000275 for [1000, 1000]); softmax
                // shifts by the max first and gives 0.5.
                vec![Some(b.reshape(g, &keep) * inp[0].softmax(ax as isize))]
            },
            move |ts, _out, inp| {
                // Σ softmax ⊙ ẋ
                let p = inp[0].softmax(ax as isize).unsqueeze(-1);
                (p * only(ts)).sum_dim(&[ax as isize], keepdim)
            },
        ))
    }

    panicking! {
        /// logsumexp along `axis`.
        ///
        /// # Panics
        /// If `axis` is out of range.
        pub fn logsumexp(&self, axis: isize, keepdim: bool) -> Tensor = try_logsumexp;
    }
}

/// The shift (the row's maximum, 0 where it is not finite, as
/// [`Tensor::softmax`] shifts) and Σ exp(x − shift) of each row of `c`
/// values, the sum over rows of `x[t] − shift − ln Σ` (the log-softmax
/// of the target class), and every exp(x − shift) in row order, kept for
/// the gradient (which would otherwise compute each exponential again),
/// for [`Tensor::softmax_cross_entropy`].
fn rows_lse<T: Elem>(x: &[T], c: usize, targets: &[usize]) -> (Vec<(f64, f64)>, f64, Vec<f64>) {
    let mut rows = Vec::with_capacity(targets.len());
    let mut exps = Vec::with_capacity(targets.len() * c);
    let mut picked = 0.0;
    for (row, &t) in x.chunks_exact(c).zip(targets) {
        let m = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| nan_max(m, v.to_f64()));
        let m = if m.is_finite() { m } else { 0.0 };
        let start = exps.len();
        exps.extend(row.iter().map(|&v| (v.to_f64() - m).exp()));
        let s: f64 = exps[start..].iter().sum();
        picked += (row[t].to_f64() - m) - s.ln();
        rows.push((m, s));
    }
    (rows, picked, exps)
}

/// `(softmax − one_hot) · g / n` for each value `g` of `gs`, one after the
/// other, from the saved sums and exponentials of [`rows_lse`]: one pass
/// each, no exponential computed again (the values are those of
/// `exp(x − shift) / Σ · g/n` computed afresh, bit for bit).
fn ce_gradient<T: Elem>(
    c: usize,
    targets: &[usize],
    rows: &[(f64, f64)],
    exps: &[f64],
    gs: &[f64],
) -> Vec<T> {
    let n = targets.len() as f64;
    let mut v = T::buffer(gs.len() * exps.len());
    for &g in gs {
        let coef = g / n;
        for ((row, &t), &(_, s)) in exps.chunks_exact(c).zip(targets).zip(rows) {
            let start = v.len();
            v.extend(row.iter().map(|&e| T::of_f64((e / s) * coef)));
            v[start + t] = T::of_f64((row[t] / s - 1.0) * coef);
        }
    }
    v
}

impl Tensor {
    /// The mean over rows of `logsumexp(x_i) − x_i[t_i]` (softmax
    /// cross-entropy of class indices, `torch.nn.functional.cross_entropy`)
    /// for `self` of shape `[n, c]`, or `[c]` with one target; the caller
    /// checks the shape and that every target is below `c`. One pass over
    /// each row forward (the maximum, Σ exp, one log per row), and the
    /// gradient `(softmax − one_hot) · g / n` in one pass from the saved
    /// maxima and sums (recorded tensor operations when the backward pass
    /// is itself recorded).
    pub(crate) fn softmax_cross_entropy(&self, targets: &[usize]) -> Tensor {
        let c = self.shape().last().copied().unwrap_or(1);
        let n = targets.len();
        let dtype = self.dtype();
        let x = self.data();
        let (rows, picked, exps) = match dtype {
            DType::F32 => match f32::slice_of(x) {
                Some(s) => rows_lse(s, c, targets),
                None => rows_lse(&self.to_vec_f32(), c, targets),
            },
            DType::F64 => match x.as_slice() {
                Some(s) => rows_lse(s, c, targets),
                None => rows_lse(&self.to_vec(), c, targets),
            },
        };
        let loss = -(picked / n as f64);
        let targets: std::rc::Rc<[usize]> = targets.into();
        let jvp_targets = std::rc::Rc::clone(&targets);
        // softmax − one_hot over / n as recorded tensor operations.
        let recorded = move |x: &Tensor, targets: &[usize]| {
            let one_hot = Tensor::one_hot(targets, c)
                .expect("targets checked below the classes")
                .reshape(x.shape())
                .to_dtype(x.dtype());
            (x.softmax(-1) - one_hot) * (1.0 / n as f64)
        };
        Tensor::custom(
            Data::Scalar(loss),
            "NllLossBackward0",
            vec![self.clone()],
            move |g, _, inp, b| {
                let x = &inp[0];
                if crate::autograd::is_grad_enabled()
                    && (g.is_requires_grad() || x.is_requires_grad())
                {
                    let ones = vec![1; x.ndim()];
                    return vec![Some(b.reshape(g, &ones) * recorded(x, &targets))];
                }
                let gs = g.to_vec();
                let shape = b.shape(g, x.shape());
                let grad = match dtype {
                    DType::F32 => kernels::from_vec(
                        ce_gradient::<f32>(c, &targets, &rows, &exps, &gs),
                        &shape,
                    ),
                    DType::F64 => kernels::from_vec(
                        ce_gradient::<f64>(c, &targets, &rows, &exps, &gs),
                        &shape,
                    ),
                };
                vec![Some(grad)]
            },
            move |ts, _, inp| {
                // Σ (softmax − one_hot)/n ⊙ ẋ over every axis but the batch.
                let x = &inp[0];
                let axes: Vec<isize> = (0..x.ndim() as isize).collect();
                let d = recorded(x, &jvp_targets).unsqueeze(-1);
                (d * only(ts)).sum_dim(&axes, false)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::{tensor, Tensor};

    /// The loss and `(softmax − one_hot)/n` of rows of 3 logits, from
    /// the definition in f64 (shift by the row's maximum, Σ exp).
    fn by_definition(xs: &[f64], targets: &[usize]) -> (f64, Vec<f64>) {
        let n = targets.len() as f64;
        let (mut loss, mut grad) = (0.0, Vec::new());
        for (row, &t) in xs.chunks_exact(3).zip(targets) {
            let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let s: f64 = row.iter().map(|&v| (v - m).exp()).sum();
            loss += (row[t] - m) - s.ln();
            for (j, &v) in row.iter().enumerate() {
                let p = (v - m).exp() / s;
                grad.push(if j == t { (p - 1.0) / n } else { p / n });
            }
        }
        (-(loss / n), grad)
    }

    #[test]
    fn cross_entropy_from_kept_exponentials_is_the_definition_bit_for_bit() {
        // The backward reuses the forward's exponentials: the same bits as
        // computing them again, in f64 and in f32 (rounded once at the end).
        let xs = [
            0.3, -1.2, 2.5, 1000.0, 999.0, -3.0, 0.0, 0.0, 0.0, -7.5, 1e-3, 40.0,
        ];
        let targets = [2, 0, 1, 1];
        let (loss, grad) = by_definition(&xs, &targets);
        let x = Tensor::from_vec(xs.to_vec(), &[4, 3])
            .unwrap()
            .requires_grad();
        let l = x.softmax_cross_entropy(&targets);
        assert_eq!(l.item().to_bits(), loss.to_bits());
        l.backward().unwrap();
        let got = x.grad().unwrap().to_vec();
        assert!(got
            .iter()
            .zip(&grad)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        let x32: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
        let wide: Vec<f64> = x32.iter().map(|&v| f64::from(v)).collect();
        let (_, grad) = by_definition(&wide, &targets);
        let x = Tensor::from_vec_f32(x32, &[4, 3]).unwrap().requires_grad();
        x.softmax_cross_entropy(&targets).backward().unwrap();
        let got = x.grad().unwrap().to_vec_f32();
        assert!(got.iter().zip(&grad).all(|(&a, &b)| a == b as f32));
    }

    #[test]
    fn softmax_is_stable() {
        let x = tensor![1000.0, 1000.0];
        assert_eq!(x.softmax(0).to_vec(), vec![0.5, 0.5]);
        let l = x.logsumexp(0, false).item();
        assert!((l - (1000.0 + 2f64.ln())).abs() < 1e-12);
        let ls = tensor![0.0, 0.0].log_softmax(0).to_vec();
        assert!((ls[0] + 2f64.ln()).abs() < 1e-15);
    }
}
