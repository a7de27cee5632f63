//! Checking derivatives against finite differences.
//!
//! [`gradcheck`] compares every entry of the Jacobian that autograd computes
//! with central differences (Richardson-extrapolated), using PyTorch's f64
//! defaults (`eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`), and reports the
//! worst entry rather than only pass/fail. [`gradgradcheck`] does the same for
//! the gradient itself (second derivatives, through `create_graph`).
//!
//! Every finite difference in the workspace is the one rule here: central
//! differences at steps h, h/2, …, h/2ʳ combined by r rounds of Richardson
//! extrapolation ([`FdOptions`]). [`numerical_derivative`] and
//! [`numerical_gradient`] apply it to plain `f64` functions (the CLI's third
//! opinion, the rules table's tests), [`finite_difference`] and
//! [`numerical_jacobian`] to functions of tensors.
//!
//! ```
//! use chainrule::{check, tensor, Real, Tensor};
//! let f = |x: &[Tensor]| (x[0].sin() * &x[1]).sum();
//! let report = check::gradcheck(f, &[tensor![0.3, 1.2], tensor![2.0, -1.0]], Default::default()).unwrap();
//! assert!(report.passed, "{report}");
//! ```

use std::fmt;

use crate::autograd::{self, GradOptions};
use crate::error::{Error, Result};
use crate::random::SplitMix64;
use crate::tensor::Tensor;

/// Step and tolerances of [`gradcheck`]; the defaults are PyTorch's for f64.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradcheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numerical value).
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// How a central difference steps and extrapolates: the first step h
/// (`step`, or `step · max(1, |x|)` when `relative`), then steps h/2, …,
/// h/2^`rounds` combined by `rounds` rounds of Richardson extrapolation
/// (error O(h^(2·rounds + 2)) for a smooth function). The default is the
/// step of [`finite_difference`]: h = 10⁻³·max(1, |x|), one round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FdOptions {
    /// The first step, or its scale when `relative`.
    pub step: f64,
    /// Whether the step is `step · max(1, |x|)` (scaled to the point).
    pub relative: bool,
    /// Rounds of Richardson extrapolation (0: the plain central difference).
    pub rounds: u32,
}

impl Default for FdOptions {
    fn default() -> Self {
        FdOptions {
            step: 1e-3,
            relative: true,
            rounds: 1,
        }
    }
}

/// The one finite-difference rule: the derivative at `x` of a function of
/// one variable with any number of outputs (`at(t)` evaluates them at t),
/// each output extrapolated alike. `D(h) = (f(x + h) − f(x − h)) / 2h`
/// at h, h/2, …, then round m replaces each pair by
/// `(4ᵐ·D(h/2) − D(h)) / (4ᵐ − 1)`.
fn central<E>(
    x: f64,
    opts: FdOptions,
    mut at: impl FnMut(f64) -> std::result::Result<Vec<f64>, E>,
) -> std::result::Result<Vec<f64>, E> {
    let h = if opts.relative {
        opts.step * x.abs().max(1.0)
    } else {
        opts.step
    };
    let rounds = opts.rounds as usize;
    let mut table: Vec<Vec<f64>> = Vec::with_capacity(rounds + 1);
    for j in 0..=rounds {
        let hj = h / 2f64.powi(j as i32);
        let plus = at(x + hj)?;
        let minus = at(x - hj)?;
        table.push(
            plus.iter()
                .zip(&minus)
                .map(|(p, m)| (p - m) / (2.0 * hj))
                .collect(),
        );
    }
    for m in 1..=rounds {
        let w = 4f64.powi(m as i32);
        for j in 0..=rounds - m {
            let next = std::mem::take(&mut table[j + 1]);
            for (d, n) in table[j].iter_mut().zip(&next) {
                *d = (w * n - *d) / (w - 1.0);
            }
            table[j + 1] = next;
        }
    }
    Ok(table.swap_remove(0))
}

/// f′(x), the number, by central differences ([`FdOptions`]: step and
/// rounds of Richardson extrapolation); independent of every autodiff
/// engine (only `f` at f64 points).
///
/// ```
/// use chainrule::check::{numerical_derivative, FdOptions};
/// let d = numerical_derivative(f64::sin, 0.5, FdOptions::default());
/// assert!((d - 0.5f64.cos()).abs() < 1e-9);
/// let two_rounds = FdOptions { rounds: 2, ..Default::default() };
/// let d = numerical_derivative(f64::sin, 0.5, two_rounds);
/// assert!((d - 0.5f64.cos()).abs() < 1e-12);
/// ```
pub fn numerical_derivative(f: impl Fn(f64) -> f64, x: f64, opts: FdOptions) -> f64 {
    let d = central(x, opts, |t| Ok::<_, std::convert::Infallible>(vec![f(t)]));
    match d {
        Ok(d) => d[0],
        Err(never) => match never {},
    }
}

/// ∂f/∂xᵢ for every i, the numbers, by [`numerical_derivative`] along each
/// coordinate (the others held at `x`).
///
/// ```
/// use chainrule::check::{numerical_gradient, FdOptions};
/// let g = numerical_gradient(|p| p[0] * p[0] * p[1], &[3.0, 2.0], FdOptions::default());
/// assert!((g[0] - 12.0).abs() < 1e-9 && (g[1] - 9.0).abs() < 1e-9);
/// ```
pub fn numerical_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64], opts: FdOptions) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            numerical_derivative(
                |t| {
                    let mut p = x.to_vec();
                    p[i] = t;
                    f(&p)
                },
                x[i],
                opts,
            )
        })
        .collect()
}

/// One entry of the Jacobian: ∂ output\[output_index\] / ∂ inputs\[input\]\[input_index\].
#[derive(Clone, Debug, PartialEq)]
pub struct JacobianEntry {
    /// Which input.
    pub input: usize,
    /// The element of that input (multi-index).
    pub input_index: Vec<usize>,
    /// The element of the output (multi-index).
    pub output_index: Vec<usize>,
    /// The value from autograd.
    pub analytic: f64,
    /// The value from finite differences.
    pub numeric: f64,
    /// |analytic − numeric|.
    pub error: f64,
    /// `error / (atol + rtol·|numeric|)`: above 1 fails.
    pub ratio: f64,
}

/// The outcome of [`gradcheck`] or [`gradgradcheck`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// Whether every entry is within tolerance.
    pub passed: bool,
    /// The entry with the largest error relative to its tolerance (`None`
    /// when the Jacobian is empty).
    pub worst: Option<JacobianEntry>,
    /// How many Jacobian entries were compared.
    pub entries: usize,
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "passed" } else { "FAILED" };
        write!(f, "gradcheck {verdict} ({} entries)", self.entries)?;
        if let Some(w) = &self.worst {
            write!(
                f,
                "; worst: input {} index {:?}, output index {:?}: analytic {:e}, numeric {:e}, error {:e} ({:.3} of tolerance)",
                w.input, w.input_index, w.output_index, w.analytic, w.numeric, w.error, w.ratio
            )?;
        }
        Ok(())
    }
}

/// The row-major multi-index of flat position `k` in `shape`.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            idx[i] = k % d;
            k /= d;
        }
    }
    idx
}

/// `f` at `inputs` with element `k` of input `i` replaced by `v`, flattened.
fn eval_at(
    f: &impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    i: usize,
    k: usize,
    v: f64,
) -> Result<Vec<f64>> {
    let mut xs: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let mut data = inputs[i].to_vec();
    data[k] = v;
    xs[i] = Tensor::from_vec(data, inputs[i].shape())?.requires_grad();
    Ok(f(&xs).to_vec())
}

/// The Jacobian of `f` with respect to each input by central differences
/// with step `eps`, Richardson-extrapolated (steps `eps` and `eps/2`, the
/// [`FdOptions`] `{ step: eps, relative: false, rounds: 1 }`):
/// one tensor per input, of shape `[output numel, input numel]`.
///
/// The inputs are passed to `f` as leaves that require gradients, so `f`
/// may itself differentiate (as [`gradgradcheck`] does).
pub fn numerical_jacobian(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    eps: f64,
) -> Result<Vec<Tensor>> {
    if !(eps > 0.0 && eps.is_finite()) {
        return Err(Error::InvalidStep { value: eps });
    }
    let n_out = {
        let xs: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
        f(&xs).numel()
    };
    let mut jacobians = Vec::with_capacity(inputs.len());
    for (i, x) in inputs.iter().enumerate() {
        let n_in = x.numel();
        let base = x.to_vec();
        let mut jac = vec![0.0; n_out * n_in];
        let opts = FdOptions {
            step: eps,
            relative: false,
            rounds: 1,
        };
        for (k, &xk) in base.iter().enumerate() {
            let d = central(xk, opts, |t| eval_at(&f, inputs, i, k, t))?;
            for (j, dj) in d.into_iter().enumerate() {
                jac[j * n_in + k] = dj;
            }
        }
        jacobians.push(Tensor::from_vec(jac, &[n_out, n_in])?);
    }
    Ok(jacobians)
}

/// The gradient of a function of tensors with a one-element output by
/// finite differences ([`FdOptions::default`]: step 1e-3·max(1, |x|) and one
/// round of Richardson extrapolation, accurate to about 1e-10 for smooth
/// functions): one tensor per input, of its shape.
pub fn finite_difference(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
) -> Result<Vec<Tensor>> {
    let xs: Vec<Tensor> = inputs.iter().map(Tensor::detach).collect();
    let n_out = autograd::no_grad_scope(|| f(&xs).numel());
    if n_out != 1 {
        return Err(Error::NonScalarFunction {
            op: "finite_difference",
            outputs: n_out,
        });
    }
    let mut grads = Vec::with_capacity(inputs.len());
    for (i, x) in inputs.iter().enumerate() {
        let base = x.to_vec();
        let mut g = vec![0.0; base.len()];
        for (k, &xk) in base.iter().enumerate() {
            let at = |v: f64| -> Result<Vec<f64>> {
                let mut data = base.clone();
                data[k] = v;
                let mut ys = xs.clone();
                ys[i] = Tensor::from_vec(data, x.shape())?;
                Ok(vec![autograd::no_grad_scope(|| f(&ys)).to_vec()[0]])
            };
            g[k] = central(xk, FdOptions::default(), at)?[0];
        }
        grads.push(Tensor::from_vec(g, x.shape())?);
    }
    Ok(grads)
}

/// The Jacobian of `f` by reverse mode, one backward pass per output element.
pub fn analytical_jacobian(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
) -> Result<Vec<Tensor>> {
    let xs: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let out = f(&xs);
    let n_out = out.numel();
    let mut rows: Vec<Vec<f64>> = xs.iter().map(|x| vec![0.0; n_out * x.numel()]).collect();
    if out.is_requires_grad() {
        for j in 0..n_out {
            let mut onehot = vec![0.0; n_out];
            onehot[j] = 1.0;
            let v = Tensor::from_vec(onehot, out.shape())?;
            let gs = autograd::grad(
                std::slice::from_ref(&out),
                &xs,
                Some(&[v]),
                GradOptions::RETAIN_GRAPH,
            )?;
            for (r, g) in rows.iter_mut().zip(gs) {
                let n_in = g.numel();
                r[j * n_in..(j + 1) * n_in].copy_from_slice(&g.to_vec());
            }
        }
    }
    rows.into_iter()
        .zip(&xs)
        .map(|(r, x)| Tensor::from_vec(r, &[n_out, x.numel()]))
        .collect()
}

/// Compares the autograd Jacobian of `f` at `inputs` with finite
/// differences. `Ok` carries the report (check `passed`); `Err` only for
/// unusable arguments.
pub fn gradcheck(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    opts: GradcheckOptions,
) -> Result<GradcheckReport> {
    let analytic = analytical_jacobian(&f, inputs)?;
    let numeric = numerical_jacobian(&f, inputs, opts.eps)?;
    let out_shape = {
        let xs: Vec<Tensor> = inputs.iter().map(Tensor::detach).collect();
        autograd::no_grad_scope(|| f(&xs).shape().to_vec())
    };
    let mut worst: Option<JacobianEntry> = None;
    let mut entries = 0;
    for (i, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
        let n_in = inputs[i].numel();
        for (k, (&av, &nv)) in a.to_vec().iter().zip(&n.to_vec()).enumerate() {
            entries += 1;
            let error = (av - nv).abs();
            let ratio = if av.is_nan() && nv.is_nan() {
                0.0
            } else if error.is_nan() {
                f64::INFINITY
            } else {
                error / (opts.atol + opts.rtol * nv.abs())
            };
            if worst.as_ref().is_none_or(|w| ratio > w.ratio) {
                worst = Some(JacobianEntry {
                    input: i,
                    input_index: unravel(k % n_in.max(1), inputs[i].shape()),
                    output_index: unravel(k / n_in.max(1), &out_shape),
                    analytic: av,
                    numeric: nv,
                    error,
                    ratio,
                });
            }
        }
    }
    Ok(GradcheckReport {
        passed: worst.as_ref().is_none_or(|w| w.ratio <= 1.0),
        worst,
        entries,
    })
}

/// Checks second derivatives: [`gradcheck`] of the function
/// `inputs ↦ ∂⟨v, f(inputs)⟩/∂inputs` (all gradients flattened and
/// concatenated) for a fixed pseudo-random output weighting `v` (seed 0),
/// whose backward pass is recorded with `create_graph`.
pub fn gradgradcheck(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    opts: GradcheckOptions,
) -> Result<GradcheckReport> {
    let out_shape = {
        let xs: Vec<Tensor> = inputs.iter().map(Tensor::detach).collect();
        autograd::no_grad_scope(|| f(&xs).shape().to_vec())
    };
    let n: usize = out_shape.iter().product();
    let mut rng = SplitMix64::new(0);
    let v = Tensor::from_vec(rng.uniform_vec(n, 0.5, 1.5), &out_shape)?;
    let g = |xs: &[Tensor]| -> Tensor {
        let out = f(xs);
        if !out.is_requires_grad() {
            let total = xs.iter().map(Tensor::numel).sum();
            return Tensor::zeros(&[total]);
        }
        let gs = autograd::grad(
            &[out],
            xs,
            Some(std::slice::from_ref(&v)),
            GradOptions::CREATE_GRAPH,
        )
        .expect("shapes and flags were checked");
        let flat: Vec<Tensor> = gs.iter().map(Tensor::flatten).collect();
        Tensor::cat(&flat, 0)
    };
    gradcheck(g, inputs, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real::Real;
    use crate::tensor;

    #[test]
    fn finite_difference_matches_closed_form() {
        let g = finite_difference(|x| x[0].exp().sum(), &[tensor![0.1, 1.0]]).unwrap();
        let v = g[0].to_vec();
        assert!((v[0] - 0.1f64.exp()).abs() < 1e-10);
        assert!((v[1] - 1f64.exp()).abs() < 1e-10);
        assert!(finite_difference(|x| x[0].clone(), &[tensor![1.0, 2.0]]).is_err());
    }

    #[test]
    fn richardson_rounds_are_the_hand_written_formulas_bit_for_bit() {
        // What the CLI's fd.rs, the rules tests and finite_difference each
        // wrote by hand before they shared this implementation.
        let f = |t: f64| t.sin() * t.exp();
        for x in [-2.0, 0.0, 0.3, 7.5] {
            let d = |h: f64| (f(x + h) - f(x - h)) / (2.0 * h);
            let h = 1e-3 * f64::abs(x).max(1.0);
            let one = (4.0 * d(h / 2.0) - d(h)) / 3.0;
            let r2 = (4.0 * d(h / 4.0) - d(h / 2.0)) / 3.0;
            let two = (16.0 * r2 - one) / 15.0;
            let rounds = |rounds| FdOptions {
                rounds,
                ..Default::default()
            };
            assert_eq!(numerical_derivative(f, x, rounds(0)), d(h));
            assert_eq!(numerical_derivative(f, x, rounds(1)), one);
            assert_eq!(numerical_derivative(f, x, rounds(2)), two);
            let fixed = FdOptions {
                step: 2e-3,
                relative: false,
                rounds: 1,
            };
            let one_fixed = (4.0 * d(1e-3) - d(2e-3)) / 3.0;
            assert_eq!(numerical_derivative(f, x, fixed), one_fixed);
        }
    }

    #[test]
    fn a_wrong_gradient_is_reported_with_its_location() {
        // A function whose recorded gradient is wrong: the value of x², but
        // the gradient of a constant (detached) for the second element.
        let f = |x: &[Tensor]| {
            let a = x[0].get(&[0]).powi(2);
            let b = x[0].detach().get(&[1]).powi(2);
            Tensor::stack(&[a, b], 0)
        };
        let r = gradcheck(f, &[tensor![1.0, 3.0]], GradcheckOptions::default()).unwrap();
        assert!(!r.passed);
        let w = r.worst.unwrap();
        assert_eq!(
            (w.input, w.input_index.clone(), w.output_index.clone()),
            (0, vec![1], vec![1])
        );
        assert_eq!(w.analytic, 0.0);
        assert!((w.numeric - 6.0).abs() < 1e-6);
        assert_eq!(r.entries, 4);
    }
}
