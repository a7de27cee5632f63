//! Reverse-mode transforms: `grad`, `value_and_grad`, `vjp`, `hvp`.

use super::pullback::vjp_one;
use super::scope::Call;
use crate::error::{Error, Result};
use crate::Tensor;

/// An `Err` unless `y` is a scalar (0-d), as JAX requires of `grad`.
fn check_scalar(what: &'static str, y: &Tensor) -> Result<()> {
    if y.ndim() == 0 {
        Ok(())
    } else {
        Err(Error::NonScalarOutput {
            op: what,
            shape: y.shape().to_vec(),
        })
    }
}

/// (f(x), ∇f(x)) for a scalar `f`, recorded when a caller may differentiate it.
fn value_and_grad_at(
    what: &'static str,
    f: &dyn Fn(&Tensor) -> Tensor,
    x: &Tensor,
) -> Result<(Tensor, Tensor)> {
    let call = Call::enter(&[x]);
    let xi = call.input(x);
    let y = f(&xi);
    check_scalar(what, &y)?;
    let g = vjp_one(&y, &xi, &Tensor::scalar(1.0), call.create_graph())?;
    Ok((call.output(y), call.output(g)))
}

/// The gradient of a scalar function: `grad(f)` is the function
/// `x ↦ ∇f(x)`, of `x`'s shape (0-d, vector, matrix, …).
///
/// The returned function can be transformed again: its backward pass is
/// recorded whenever a caller could differentiate the result, so
/// `grad(grad(f))` is the second derivative, and nesting never confuses an
/// outer variable that `f` closes over with its own argument (see the
/// [module docs](crate::functional)).
///
/// # Panics
/// The returned function panics if `f` does not return a 0-d tensor (a
/// programming error, as in JAX); [`try_grad`] returns an `Err` instead.
///
/// ```
/// use chainrule::functional::grad;
/// use chainrule::{Real, Tensor};
/// // d⁴/dx⁴ tanh x = 24t⁵ − 40t³ + 16t, t = tanh x
/// let d4 = grad(grad(grad(grad(|x: &Tensor| x.tanh()))));
/// let t = 0.5f64.tanh();
/// let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
/// assert!((d4(&Tensor::scalar(0.5)).item() - closed).abs() < 1e-14);
///
/// // A gradient has the shape of the input: ∇ ½‖x‖² = x.
/// let x = Tensor::from_vec(vec![1.0, -2.0, 3.0, 0.5], &[2, 2]).unwrap();
/// let g = grad(|x: &Tensor| (x * x).sum() * 0.5)(&x);
/// assert_eq!(g.shape(), &[2, 2]);
/// assert_eq!(g.to_vec(), x.to_vec());
/// ```
pub fn grad<F>(f: F) -> impl Fn(&Tensor) -> Tensor
where
    F: Fn(&Tensor) -> Tensor,
{
    move |x| {
        value_and_grad_at("grad", &f, x)
            .map(|(_, g)| g)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// [`grad`] whose function returns an `Err` (instead of panicking) when
/// `f` does not return a scalar, for shapes known only at run time.
///
/// ```
/// use chainrule::functional::try_grad;
/// use chainrule::Tensor;
/// let g = try_grad(|x: &Tensor| x * 2.0);
/// assert!(g(&Tensor::scalar(1.0)).is_ok());
/// assert!(g(&Tensor::ones(&[3])).is_err());
/// ```
pub fn try_grad<F>(f: F) -> impl Fn(&Tensor) -> Result<Tensor>
where
    F: Fn(&Tensor) -> Tensor,
{
    labelled_grad("grad", f)
}

/// [`try_grad`] whose errors name the transform `what` the user called.
pub(crate) fn labelled_grad<F>(what: &'static str, f: F) -> impl Fn(&Tensor) -> Result<Tensor>
where
    F: Fn(&Tensor) -> Tensor,
{
    move |x| value_and_grad_at(what, &f, x).map(|(_, g)| g)
}

/// `value_and_grad(f)` is `x ↦ (f(x), ∇f(x))` from one forward and one
/// backward pass.
///
/// # Panics
/// As [`grad`]: if `f` does not return a 0-d tensor (see
/// [`try_value_and_grad`]).
///
/// ```
/// use chainrule::functional::value_and_grad;
/// use chainrule::{Real, Tensor};
/// let (y, g) = value_and_grad(|x: &Tensor| x.sin() * x)(&Tensor::scalar(1.0));
/// assert_eq!(y.item(), 1f64.sin());
/// assert!((g.item() - (1f64.cos() + 1f64.sin())).abs() < 1e-15);
/// ```
pub fn value_and_grad<F>(f: F) -> impl Fn(&Tensor) -> (Tensor, Tensor)
where
    F: Fn(&Tensor) -> Tensor,
{
    move |x| value_and_grad_at("value_and_grad", &f, x).unwrap_or_else(|e| panic!("{e}"))
}

/// [`value_and_grad`] returning an `Err` when `f` does not return a scalar.
///
/// ```
/// use chainrule::functional::try_value_and_grad;
/// use chainrule::Tensor;
/// let vg = try_value_and_grad(|x: &Tensor| x.sum());
/// let (y, g) = vg(&Tensor::ones(&[3])).unwrap();
/// assert_eq!((y.item(), g.to_vec()), (3.0, vec![1.0; 3]));
/// ```
pub fn try_value_and_grad<F>(f: F) -> impl Fn(&Tensor) -> Result<(Tensor, Tensor)>
where
    F: Fn(&Tensor) -> Tensor,
{
    move |x| value_and_grad_at("value_and_grad", &f, x)
}

/// The pullback of `f` at `x`: `(f(x), ct ↦ ctᵀ·J_f(x))`, as `jax.vjp`.
/// The cotangent `ct` has the output's shape and the result the input's;
/// the pullback can be called any number of times (the graph is kept).
///
/// # Panics
/// The pullback panics if the cotangent's shape is not the output's (see
/// [`try_vjp`]).
///
/// ```
/// use chainrule::functional::vjp;
/// use chainrule::{tensor, Real, Tensor};
/// // f(x) = (x₀x₁, sin x₀): Jᵀ·(1, 2) = (x₁ + 2 cos x₀, x₀)
/// let f = |x: &Tensor| Tensor::stack(&[x.get(&[0]) * x.get(&[1]), x.get(&[0]).sin()], 0);
/// let (y, pullback) = vjp(f, &tensor![0.5, 3.0]);
/// assert_eq!(y.to_vec(), vec![1.5, 0.5f64.sin()]);
/// assert_eq!(pullback(&tensor![1.0, 2.0]).to_vec(), vec![3.0 + 2.0 * 0.5f64.cos(), 0.5]);
/// assert_eq!(pullback(&tensor![1.0, 0.0]).to_vec(), vec![3.0, 0.5]);
/// ```
pub fn vjp<F>(f: F, x: &Tensor) -> (Tensor, impl Fn(&Tensor) -> Tensor)
where
    F: Fn(&Tensor) -> Tensor,
{
    let (y, pullback) = try_vjp(f, x);
    (y, move |ct: &Tensor| {
        pullback(ct).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// [`vjp`] whose pullback returns an `Err` for a cotangent of the wrong shape.
///
/// ```
/// use chainrule::functional::try_vjp;
/// use chainrule::Tensor;
/// let (_, pullback) = try_vjp(|x: &Tensor| x * 3.0, &Tensor::ones(&[2]));
/// assert_eq!(pullback(&Tensor::ones(&[2])).unwrap().to_vec(), vec![3.0, 3.0]);
/// assert!(pullback(&Tensor::ones(&[3])).is_err());
/// ```
pub fn try_vjp<F>(f: F, x: &Tensor) -> (Tensor, impl Fn(&Tensor) -> Result<Tensor>)
where
    F: Fn(&Tensor) -> Tensor,
{
    let call = Call::enter(&[x]);
    let xi = call.input(x);
    let y = f(&xi);
    let primal = call.output(y.clone());
    drop(call);
    let x = x.clone();
    let pullback = move |ct: &Tensor| {
        // Whether the cotangent's product is recorded is decided per call:
        // the pullback may run inside a transform, or on a tracked `ct`.
        let call = Call::enter(&[&x, ct]);
        vjp_one(&y, &xi, ct, call.create_graph()).map(|g| call.output(g))
    };
    (primal, pullback)
}

/// The Hessian–vector product: `hvp(f)` is `(x, v) ↦ ∇²f(x)·v` for a
/// scalar `f`, without forming the Hessian.
///
/// Computed reverse over reverse, as `∇ₓ⟨∇f(x), v⟩` (two backward passes):
/// that is `Hᵀv`, which is `Hv` because a Hessian is symmetric, and it is
/// cheaper here than JAX's forward-over-reverse `jvp(grad f)`, which
/// without a forward-mode tensor engine would cost a third pass.
///
/// # Panics
/// If `f` does not return a scalar or `v`'s shape is not `x`'s (see
/// [`try_hvp`]).
///
/// ```
/// use chainrule::functional::hvp;
/// use chainrule::{tensor, Real, Tensor};
/// // f(x) = x₀²x₁: H = [[2x₁, 2x₀], [2x₀, 0]]
/// let f = |x: &Tensor| x.get(&[0]).square() * x.get(&[1]);
/// let hv = hvp(f)(&tensor![1.0, 3.0], &tensor![1.0, -1.0]);
/// assert_eq!(hv.to_vec(), vec![6.0 - 2.0, 2.0]);
/// ```
pub fn hvp<F>(f: F) -> impl Fn(&Tensor, &Tensor) -> Tensor
where
    F: Fn(&Tensor) -> Tensor,
{
    let h = try_hvp(f);
    move |x, v| h(x, v).unwrap_or_else(|e| panic!("{e}"))
}

/// [`hvp`] returning an `Err` when `f` does not return a scalar or `v`'s
/// shape is not `x`'s.
///
/// ```
/// use chainrule::functional::try_hvp;
/// use chainrule::Tensor;
/// let h = try_hvp(|x: &Tensor| (x * x).sum());
/// assert_eq!(h(&Tensor::ones(&[2]), &Tensor::ones(&[2])).unwrap().to_vec(), vec![2.0, 2.0]);
/// assert!(h(&Tensor::ones(&[2]), &Tensor::ones(&[3])).is_err());
/// ```
pub fn try_hvp<F>(f: F) -> impl Fn(&Tensor, &Tensor) -> Result<Tensor>
where
    F: Fn(&Tensor) -> Tensor,
{
    move |x, v| {
        if v.shape() != x.shape() {
            return Err(Error::ShapeMismatch {
                op: "hvp: vector and point",
                left: v.shape().to_vec(),
                right: x.shape().to_vec(),
            });
        }
        let call = Call::enter(&[x, v]);
        let xi = call.input(x);
        let y = f(&xi);
        check_scalar("hvp", &y)?;
        let g = vjp_one(&y, &xi, &Tensor::scalar(1.0), true)?;
        let hv = vjp_one(&g, &xi, v, call.create_graph())?;
        Ok(call.output(hv))
    }
}
