//! The softmax family along one axis, each computed stably (shifted by the
//! maximum): [`Tensor::softmax`], [`Tensor::log_softmax`],
//! [`Tensor::logsumexp`].

use super::axes::norm_axis;
use super::reduce::{keep_shape, nan_max, reduce_data};
use super::Tensor;
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

#[cfg(test)]
mod tests {
    use crate::tensor;

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
