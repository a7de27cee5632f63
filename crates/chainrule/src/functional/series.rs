//! The k-th derivative by Taylor mode: the transform [`derivative`], and
//! [`SeriesPlan`], a function of one variable recorded once and replayed on
//! f64 series in buffers it keeps (what a caller that evaluates the same
//! function many times, as the Python package's `nth_derivative`, needs).

use std::cell::{Cell, RefCell};
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::forward::taylor::{binary_series_into, unary_series_into};
use crate::forward::{nth_derivative_at, scaled_by_factorials, Taylor};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;

/// The k-th derivative as a transform: `derivative(f, k)` is the function
/// `x ↦ f⁽ᵏ⁾(x)`, for a function written generically over [`Real`] (the
/// number f′(x) is [`forward::derivative_at`](crate::forward::derivative_at)).
///
/// One pass of truncated Taylor series ([`Taylor`]) of order `k`: every
/// primitive maps coefficients by a recurrence, so the k-th derivative
/// costs O(k²) operations per primitive, where nesting `grad` k times
/// costs a factor that grows exponentially in k (each level differentiates
/// the recorded graph of the level below, several times its size).
///
/// `T` is any [`Real`]: `f64`; [`Dual`](crate::Dual) (to differentiate the
/// k-th derivative again); or [`Tensor`](crate::Tensor), where the series
/// is elementwise, recorded on the tape, and so nests inside `grad`.
///
/// ```
/// use chainrule::functional::derivative;
/// use chainrule::{Real, Tensor};
/// fn tanh<T: Real>(x: T) -> T {
///     x.tanh()
/// }
/// let t = 0.5f64.tanh();
/// let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
/// assert!((derivative(tanh, 4)(0.5) - closed).abs() < 1e-14);
/// // The 16th derivative: one pass of order 16, O(16²) work.
/// assert!(derivative(tanh, 16)(0.5).is_finite());
/// // On tensors: elementwise, d³/dx³ sin = −cos.
/// let d3 = derivative(|x| x.sin(), 3)(Tensor::from_vec(vec![0.0, 1.0], &[2]).unwrap());
/// assert_eq!(d3.to_vec(), vec![-1.0, -1f64.cos()]);
/// ```
pub fn derivative<T, F>(f: F, k: usize) -> impl Fn(T) -> T
where
    T: Real,
    F: Fn(Taylor<T>) -> Taylor<T>,
{
    move |x| nth_derivative_at(&f, x, k)
}

/// One recorded operation of a [`SeriesPlan`]; operands are indices of
/// earlier operations. Each is replayed as the [`Taylor`] operation it
/// stands for (the operators `+ −` keep the longer operand's stored
/// coefficients, `Binary(Add)` pads both, so they are kept apart).
#[derive(Clone, Copy, Debug)]
enum Op {
    Input,
    Const(f64),
    Unary(UnaryOp, u32),
    /// `Real::binary`, and the operators `·` and `/` (which [`Taylor`]
    /// forms with it, as it does `strong_mul` and `strong_div`).
    Binary(BinaryOp, u32, u32),
    Add(u32, u32),
    Sub(u32, u32),
    Neg(u32),
    AddC(u32, f64),
    SubC(u32, f64),
    MulC(u32, f64),
    DivC(u32, f64),
}

impl Op {
    /// The operands (at most two).
    fn args(self) -> [Option<u32>; 2] {
        match self {
            Op::Input | Op::Const(_) => [None, None],
            Op::Unary(_, a)
            | Op::Neg(a)
            | Op::AddC(a, _)
            | Op::SubC(a, _)
            | Op::MulC(a, _)
            | Op::DivC(a, _) => [Some(a), None],
            Op::Binary(_, a, b) | Op::Add(a, b) | Op::Sub(a, b) => [Some(a), Some(b)],
        }
    }
}

/// The trace under way on this thread: its operations and its number
/// (so that a [`PlanNumber`] of another trace is caught; 0: none).
struct Recording {
    ops: Vec<Op>,
    trace: u32,
}

thread_local! {
    static RECORDING: RefCell<Recording> = const {
        RefCell::new(Recording { ops: Vec::new(), trace: 0 })
    };
    /// The number of the last trace begun on this thread.
    static TRACES: Cell<u32> = const { Cell::new(0) };
}

/// A number that records the operations it takes part in: what
/// [`SeriesPlan::trace`] passes to the function it records. Its only use
/// is inside that function.
#[derive(Clone, Debug)]
pub struct PlanNumber {
    index: u32,
    trace: u32,
}

/// Records `op`, whose operands are `args`, in the trace under way.
fn push(op: Op, args: &[&PlanNumber]) -> PlanNumber {
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        assert!(
            r.trace != 0 && args.iter().all(|a| a.trace == r.trace),
            "a PlanNumber was used outside the SeriesPlan::trace call that made it"
        );
        r.ops.push(op);
        PlanNumber {
            index: (r.ops.len() - 1) as u32,
            trace: r.trace,
        }
    })
}

macro_rules! plan_operator {
    ($trait:ident, $method:ident, $op:expr, $opc:ident) => {
        impl $trait for PlanNumber {
            type Output = PlanNumber;
            fn $method(self, rhs: PlanNumber) -> PlanNumber {
                push($op(self.index, rhs.index), &[&self, &rhs])
            }
        }
        impl $trait<f64> for PlanNumber {
            type Output = PlanNumber;
            fn $method(self, rhs: f64) -> PlanNumber {
                push(Op::$opc(self.index, rhs), &[&self])
            }
        }
    };
}

plan_operator!(Add, add, Op::Add, AddC);
plan_operator!(Sub, sub, Op::Sub, SubC);
plan_operator!(Mul, mul, |a, b| Op::Binary(BinaryOp::Mul, a, b), MulC);
plan_operator!(Div, div, |a, b| Op::Binary(BinaryOp::Div, a, b), DivC);

impl Neg for PlanNumber {
    type Output = PlanNumber;
    fn neg(self) -> PlanNumber {
        push(Op::Neg(self.index), &[&self])
    }
}

impl Real for PlanNumber {
    fn from_f64(x: f64) -> Self {
        push(Op::Const(x), &[])
    }
    fn unary(&self, op: UnaryOp) -> Self {
        push(Op::Unary(op, self.index), &[self])
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        push(Op::Binary(op, self.index, rhs.index), &[self, rhs])
    }
    // strong_mul and strong_div: the defaults (`·` and `/`), as Taylor's.
}

/// A function of one variable, recorded once and replayed on truncated
/// Taylor series of f64: the k-th derivative at any point and any order,
/// with no walk of a formula and no allocation per call once its buffers
/// have grown to the order asked for.
///
/// The function is written once, generic over [`Real`] (or is a formula,
/// evaluated with [`Expr::eval_with`](crate::symbolic::Expr::eval_with)),
/// and recorded by calling it once on a [`PlanNumber`]. Like `jax.jit`,
/// the record holds the operations of that one call, so the function must
/// not branch on its argument's value (a `PlanNumber` has none to branch
/// on). A replay calls the same series recurrences in the same order as
/// running the function on [`Taylor`] numbers would, so the results are
/// those of [`forward::derivatives_at_f64`](crate::forward::derivatives_at_f64)
/// bit for bit; operations that do not depend on the variable are
/// evaluated once, when recorded.
///
/// ```
/// use chainrule::functional::SeriesPlan;
/// use chainrule::Real;
/// let mut plan = SeriesPlan::trace(|x| x.clone().tanh() * x.exp());
/// let d4 = plan.derivative(0.5, 4);
/// let generic = chainrule::forward::derivatives_at_f64(|x| x.clone().tanh() * x.exp(), 0.5, 4);
/// assert_eq!(d4, generic[4]);
/// assert_eq!(plan.derivatives(0.5, 4), &generic[..]);
/// // d⁵/dx⁵ sin at 0 = 1
/// assert_eq!(SeriesPlan::trace(|x| x.sin()).derivative(0.0, 5), 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct SeriesPlan {
    ops: Vec<Op>,
    /// The operations that depend on the variable, in order; the others
    /// hold their (order-0) values from the trace.
    live: Vec<u32>,
    output: u32,
    /// Each operation's stored coefficients (a prefix; the rest are zero).
    values: Vec<Vec<f64>>,
    /// Scratch for the kernels (the other half of sin/cos, tanh's g).
    tmp: Vec<f64>,
    /// The output's coefficients c₀ … c_K, zero-padded; those of the first
    /// run when a second (scaled) one is needed; the derivatives.
    coeffs: Vec<f64>,
    first: Vec<f64>,
    derivs: Vec<f64>,
}

impl SeriesPlan {
    /// Records `f` by calling it once on a [`PlanNumber`].
    ///
    /// # Panics
    ///
    /// If `f` uses a `PlanNumber` made by another call of `trace` (one
    /// kept from an earlier trace, say).
    pub fn trace(f: impl FnOnce(PlanNumber) -> PlanNumber) -> SeriesPlan {
        match Self::try_trace(|x| Ok::<_, std::convert::Infallible>(f(x))) {
            Ok(plan) => plan,
            Err(never) => match never {},
        }
    }

    /// [`trace`](SeriesPlan::trace) for a function that can fail (a
    /// formula's `eval_with` does, on a variable with no value): its error.
    ///
    /// ```
    /// use chainrule::functional::SeriesPlan;
    /// use chainrule::symbolic::parse;
    /// let f = parse("x * sin(y)").unwrap();
    /// let traced = SeriesPlan::try_trace(|x| f.eval_with(|v| (v == "x").then(|| x.clone())));
    /// assert!(traced.is_err());
    /// ```
    ///
    /// # Panics
    ///
    /// As [`trace`](SeriesPlan::trace).
    pub fn try_trace<E>(
        f: impl FnOnce(PlanNumber) -> Result<PlanNumber, E>,
    ) -> Result<SeriesPlan, E> {
        // A fresh recording with a new number; the caller's (a trace
        // within a trace) is kept aside and put back after.
        let trace = TRACES.with(|t| {
            let n = t.get().wrapping_add(1).max(1);
            t.set(n);
            n
        });
        let fresh = Recording {
            ops: Vec::new(),
            trace,
        };
        let outer = RECORDING.with(|r| std::mem::replace(&mut *r.borrow_mut(), fresh));
        let x = push(Op::Input, &[]);
        let out = f(x);
        let ops = RECORDING.with(|r| std::mem::replace(&mut *r.borrow_mut(), outer).ops);
        let out = out?;
        Ok(SeriesPlan::new(ops, out.index))
    }

    fn new(ops: Vec<Op>, output: u32) -> SeriesPlan {
        let mut depends = vec![false; ops.len()];
        let mut live = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            depends[i] =
                matches!(op, Op::Input) || op.args().iter().flatten().any(|&a| depends[a as usize]);
            if depends[i] {
                live.push(i as u32);
            }
        }
        let mut plan = SeriesPlan {
            values: vec![Vec::new(); ops.len()],
            ops,
            live,
            output,
            tmp: Vec::new(),
            coeffs: Vec::new(),
            first: Vec::new(),
            derivs: Vec::new(),
        };
        // The constants and what is computed from them alone, once, as
        // order-0 series.
        for (i, _) in depends.iter().enumerate().filter(|(_, &d)| !d) {
            plan.eval(i, 1, 0.0, 0.0);
        }
        plan
    }

    /// Operation `i` to `n` coefficients, on the line `x + h·t` for the input.
    #[inline]
    fn eval(&mut self, i: usize, n: usize, x: f64, h: f64) {
        let (done, rest) = self.values.split_at_mut(i);
        let y = &mut rest[0];
        let v = |a: u32| &done[a as usize];
        match self.ops[i] {
            Op::Input => {
                y.clear();
                y.push(x);
                if n > 1 {
                    y.push(h);
                }
            }
            Op::Const(c) => {
                y.clear();
                y.push(c);
            }
            Op::Unary(op, a) => unary_series_into(v(a), n, op, y, &mut self.tmp),
            Op::Binary(op, a, b) => binary_series_into(v(a), v(b), n, op, y),
            // Taylor's `+`: the longer operand's coefficients, plus the
            // shorter's where it has them.
            Op::Add(a, b) => {
                let (a, b) = (v(a), v(b));
                let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                y.clear();
                y.extend_from_slice(long);
                for (s, t) in y.iter_mut().zip(short) {
                    *s += *t;
                }
            }
            // Taylor's `−`: a − b where a is at least as long, else 0 − b
            // past a's end.
            Op::Sub(a, b) => {
                let (a, b) = (v(a), v(b));
                y.clear();
                if a.len() >= b.len() {
                    y.extend_from_slice(a);
                    for (s, t) in y.iter_mut().zip(b) {
                        *s -= *t;
                    }
                } else {
                    y.extend(
                        b.iter()
                            .enumerate()
                            .map(|(k, t)| a.get(k).copied().unwrap_or(0.0) - t),
                    );
                }
            }
            Op::Neg(a) => {
                y.clear();
                y.extend(v(a).iter().map(|s| -s));
            }
            Op::AddC(a, c) => {
                y.clear();
                y.extend_from_slice(v(a));
                y[0] += c;
            }
            Op::SubC(a, c) => {
                y.clear();
                y.extend_from_slice(v(a));
                y[0] -= c;
            }
            Op::MulC(a, c) => {
                y.clear();
                y.extend(v(a).iter().map(|s| s * c));
            }
            Op::DivC(a, c) => {
                y.clear();
                y.extend(v(a).iter().map(|s| s / c));
            }
        }
    }

    /// Replays the plan on the line `x + h·t` to order `k`; the output's
    /// stored coefficients (a prefix of k + 1, the rest zero).
    fn run(&mut self, x: f64, h: f64, k: usize) -> &[f64] {
        for j in 0..self.live.len() {
            let i = self.live[j] as usize;
            self.eval(i, k + 1, x, h);
        }
        &self.values[self.output as usize]
    }

    /// The output's coefficients on `x + h·t`, zero-padded to k + 1, into
    /// `self.coeffs`.
    fn coefficients(&mut self, x: f64, h: f64, k: usize) {
        self.run(x, h, k);
        let c = &self.values[self.output as usize];
        self.coeffs.clear();
        self.coeffs.extend_from_slice(&c[..c.len().min(k + 1)]);
        self.coeffs.resize(k + 1, 0.0);
    }

    /// The k-th derivative at `x`: entry k of [`derivatives`](SeriesPlan::derivatives)
    /// (the same number), computing only it.
    ///
    /// ```
    /// use chainrule::functional::SeriesPlan;
    /// use chainrule::Real;
    /// let mut d = SeriesPlan::trace(|x| x.tanh());
    /// let t = 0.5f64.tanh();
    /// let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
    /// assert!((d.derivative(0.5, 4) - closed).abs() < 1e-14);
    /// ```
    pub fn derivative(&mut self, x: f64, k: usize) -> f64 {
        self.coefficients(x, 1.0, k);
        let ck = self.coeffs[k];
        let d = nth_scaled(&self.coeffs, 1.0);
        let h = k as f64 / std::f64::consts::E;
        if h > 2.0 && (lost(ck) || ck == 0.0) {
            self.coefficients(x, h, k);
            let sk = self.coeffs[k];
            let scaled = nth_scaled(&self.coeffs, h);
            if scaled.is_finite() && scaled != 0.0 && !lost(sk) {
                return scaled;
            }
        }
        d
    }

    /// The derivatives `f(x), f′(x), …, f⁽ᵏ⁾(x)`, as
    /// [`forward::derivatives_at_f64`](crate::forward::derivatives_at_f64)
    /// computes them (finite wherever they are, at any order), in a buffer
    /// the plan keeps.
    pub fn derivatives(&mut self, x: f64, k: usize) -> &[f64] {
        self.coefficients(x, 1.0, k);
        self.derivs.clear();
        self.derivs.extend(scaled_by_factorials(&self.coeffs, 1.0));
        let h = k as f64 / std::f64::consts::E;
        let any_lost = self.coeffs.iter().skip(1).any(|&ci| lost(ci) || ci == 0.0);
        if h > 2.0 && any_lost {
            self.first.clone_from(&self.coeffs);
            self.coefficients(x, h, k);
            let (first, coeffs) = (&self.first, &self.coeffs);
            for (i, scaled) in scaled_by_factorials(coeffs, h).enumerate().skip(1) {
                let better = scaled.is_finite() && scaled != 0.0 && !lost(coeffs[i]);
                if (lost(first[i]) || first[i] == 0.0) && better {
                    self.derivs[i] = scaled;
                }
            }
        }
        &self.derivs
    }
}

/// A coefficient below the normal range lost digits or vanished, one that
/// overflowed lost everything (as `derivatives_at_f64` judges them).
fn lost(c: f64) -> bool {
    !c.is_finite() || (c != 0.0 && c.abs() < f64::MIN_POSITIVE)
}

/// The last entry of `scaled_by_factorials(c, h)`: `c_K · K!/h^K`.
fn nth_scaled(c: &[f64], h: f64) -> f64 {
    scaled_by_factorials(c, h).last().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::derivatives_at_f64;

    /// Bit-for-bit equality of two lists (NaNs equal when both are NaN).
    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    /// Every unary op of the table, a binary op of each kind, the
    /// operators with constants on either side, and constants folded at
    /// trace time: the replay gives derivatives_at_f64's numbers bit for
    /// bit, at several points and orders, and again on a second call.
    #[test]
    fn the_replay_is_the_generic_taylor_run_bit_for_bit() {
        fn check<F: Fn(PlanNumber) -> PlanNumber, G: Fn(Taylor<f64>) -> Taylor<f64>>(
            what: &str,
            f: F,
            g: G,
            points: &[f64],
        ) {
            let mut plan = SeriesPlan::trace(f);
            for &x in points {
                for k in [0, 1, 2, 5, 8, 16, 40] {
                    let want = derivatives_at_f64(&g, x, k);
                    for _ in 0..2 {
                        assert!(
                            same(plan.derivatives(x, k), &want),
                            "{what} at {x}, k = {k}"
                        );
                        let d = plan.derivative(x, k);
                        assert!(
                            same(&[d], &want[k..]),
                            "{what} at {x}, k = {k}: {d} vs {}",
                            want[k]
                        );
                    }
                }
            }
        }
        for op in UnaryOp::ALL {
            let points = [op.domain().at(0.3), op.domain().at(0.7)];
            check(
                &format!("{op:?}"),
                |x| (x.clone() + x.square() * 0.01).unary(op) + x,
                |x| (x.clone() + x.square() * 0.01).unary(op) + x,
                &points,
            );
        }
        for op in BinaryOp::ALL {
            let (da, db) = op.domain();
            let (a, b) = (da.at(0.4), db.at(0.6));
            check(
                &format!("{op:?}"),
                |x| (x.clone() + (a - 0.5)).binary(op, &(x * 0.5 + (b - 0.25))),
                |x| (x.clone() + (a - 0.5)).binary(op, &(x * 0.5 + (b - 0.25))),
                &[0.5],
            );
        }
        // Operators in both orders with constants (a constant's one
        // coefficient against the variable's two and a series' many),
        // strong ops, and a constant subexpression folded once.
        fn mixed<T: Real>(x: T) -> T {
            let c = T::from_f64(2.0).exp() / T::from_f64(3.0);
            let s = x.sin();
            let a = c.clone() - x.clone();
            let b = s.clone() - c.clone() + (T::from_f64(1.0) + x.clone());
            let q = (-a.clone()).strong_mul(&s) + a.strong_div(&(x.clone() + 5.0));
            q * b / 0.7 - x.square() * c + x.powi(-3) - x.clone().powf(2.5) - x.clone().atan2(&s)
        }
        check("mixed", mixed, mixed, &[0.8, 1.7, -0.9]);
        // A constant function and the variable itself.
        check(
            "constant",
            |_| PlanNumber::from_f64(4.0),
            |_| Taylor::from_f64(4.0),
            &[1.0],
        );
        check("identity", |x| x, |x| x, &[1.0]);
        // Orders where the scaled second run is taken: exp at 1 to order 200.
        let mut plan = SeriesPlan::trace(|x| x.exp());
        let want = derivatives_at_f64(|x| x.exp(), 1.0, 200);
        assert!(same(plan.derivatives(1.0, 200), &want));
        assert!(same(&[plan.derivative(1.0, 200)], &want[200..]));
        assert!((want[200] - std::f64::consts::E).abs() < 1e-12);
    }

    #[test]
    fn closed_forms() {
        // d^k/dx^k tanh at 0.5 for k = 4, 8, 16 (W5's closed forms, values
        // from the seed and the polynomial P_k).
        let mut plan = SeriesPlan::trace(|x| x.tanh());
        assert!((plan.derivative(0.5, 4) - 3.9522195637245825).abs() < 1e-14);
        assert!((plan.derivative(0.5, 8) / 322.8593181 - 1.0).abs() < 1e-9);
        assert!((plan.derivative(0.5, 16) / -7381543787.0 - 1.0).abs() < 1e-9);
        // x³ to order 5 at 2: 8, 12, 12, 6, 0, 0.
        let mut cube = SeriesPlan::trace(|x| x.clone() * x.clone() * x);
        assert_eq!(cube.derivatives(2.0, 5), &[8.0, 12.0, 12.0, 6.0, 0.0, 0.0]);
    }

    #[test]
    fn traces_nest_and_stray_numbers_are_caught() {
        // A trace inside a trace records into its own plan.
        let mut outer = SeriesPlan::trace(|x| {
            let mut inner = SeriesPlan::trace(|y| y.exp());
            let e = inner.derivative(0.0, 3);
            x * e
        });
        assert_eq!(outer.derivative(2.0, 1), 1.0);
        // A PlanNumber kept from an earlier trace is refused.
        let mut kept = None;
        let _ = SeriesPlan::trace(|x| {
            kept = Some(x.clone());
            x
        });
        let stray = kept.unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SeriesPlan::trace(|x| x + stray.clone())
        }));
        assert!(r.is_err());
        // The recording is usable afterwards.
        assert_eq!(SeriesPlan::trace(|x| x.square()).derivative(3.0, 1), 6.0);
    }
}
