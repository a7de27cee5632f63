//! W3 mlp-step: Linear(784→256) → ReLU → Linear(256→10), softmax
//! cross-entropy (mean over the batch of 128), SGD (lr 0.1) on the four
//! parameters, in f64 and f32. Unit s/step; check: the loss of the first step.

use std::cell::RefCell;
use std::rc::Rc;

use chainrule::nn::loss::cross_entropy;
use chainrule::{DType, Real, Tensor};
use ndarray::{Array1, Array2, Axis, LinalgScalar, Zip};
use num_traits::Float;

use crate::data::{w3_data, W3Data};
use crate::registry::{Entry, Mode, Prepared};

/// SGD learning rate.
pub const LR: f64 = 0.1;
/// Most steps per repetition (every repetition restarts from the initial parameters).
pub const STEPS_PER_REP: u64 = 20;

/// The four parameters W1 (784 × 256), b1, W2 (256 × 10), b2.
#[derive(Clone, Debug)]
pub struct Params<T> {
    /// First layer weights, x @ W1 layout.
    pub w1: Array2<T>,
    /// First layer bias.
    pub b1: Array1<T>,
    /// Second layer weights.
    pub w2: Array2<T>,
    /// Second layer bias.
    pub b2: Array1<T>,
}

/// The network, its data and preallocated buffers for the hand-written step.
#[derive(Clone, Debug)]
pub struct Mlp<T> {
    x: Array2<T>,
    labels: Vec<usize>,
    /// The initial parameters ([`Mlp::reset`] restores them).
    pub init: Params<T>,
    /// The current parameters.
    pub params: Params<T>,
    grads: Params<T>,
    z1: Array2<T>,
    a1: Array2<T>,
    logits: Array2<T>,
    dz1: Array2<T>,
}

impl<T: LinalgScalar + Float + Send + Sync> Mlp<T> {
    /// The network on W3's data, converted to `T` (f64 → f32 rounds to nearest, as NumPy's astype).
    pub fn new(data: &W3Data) -> Self {
        let cast2 = |a: &Array2<f64>| a.mapv(|v| T::from(v).unwrap_or_else(T::nan));
        let cast1 = |a: &Array1<f64>| a.mapv(|v| T::from(v).unwrap_or_else(T::nan));
        let init = Params {
            w1: cast2(&data.w1),
            b1: cast1(&data.b1),
            w2: cast2(&data.w2),
            b2: cast1(&data.b2),
        };
        let (batch, hidden, classes) = (data.x.nrows(), data.w1.ncols(), data.w2.ncols());
        Mlp {
            x: cast2(&data.x),
            labels: data.labels.clone(),
            params: init.clone(),
            grads: init.clone(),
            init,
            z1: Array2::zeros((batch, hidden)),
            a1: Array2::zeros((batch, hidden)),
            logits: Array2::zeros((batch, classes)),
            dz1: Array2::zeros((batch, hidden)),
        }
    }

    /// Restore the initial parameters.
    pub fn reset(&mut self) {
        self.params.clone_from(&self.init);
    }

    /// One training step: forward, loss, backward by hand, SGD. Returns the loss
    /// before the update (accumulated in f64 over the batch).
    pub fn step(&mut self) -> f64 {
        let zero = T::zero();
        let p = &mut self.params;
        let g = &mut self.grads;
        // Forward: z1 = x W1 + b1, a1 = relu(z1), logits = a1 W2 + b2.
        self.z1.assign(&p.b1);
        crate::gemm(&self.x.view(), &p.w1.view(), &mut self.z1.view_mut(), true);
        Zip::from(&mut self.a1)
            .and(&self.z1)
            .for_each(|a, &z| *a = z.max(zero));
        self.logits.assign(&p.b2);
        crate::gemm(
            &self.a1.view(),
            &p.w2.view(),
            &mut self.logits.view_mut(),
            true,
        );
        // Softmax cross-entropy; the logits become d loss / d logits.
        let batch = self.labels.len();
        let inv_batch = T::from(1.0 / batch as f64).unwrap_or_else(T::nan);
        let mut loss = 0.0;
        for (mut row, &label) in self.logits.axis_iter_mut(Axis(0)).zip(&self.labels) {
            let top = row.fold(T::neg_infinity(), |m, &v| m.max(v));
            let picked = row[label];
            row.mapv_inplace(|v| (v - top).exp());
            let sum = row.sum();
            loss += (sum.ln() + top - picked).to_f64().unwrap_or(f64::NAN);
            let scale = inv_batch / sum;
            row.mapv_inplace(|e| e * scale);
            row[label] = row[label] - inv_batch;
        }
        let dlogits = &self.logits;
        // Backward: dW2 = a1ᵀ dlogits, db2 = Σ rows, dz1 = (dlogits W2ᵀ) ⊙ [z1 > 0],
        // dW1 = xᵀ dz1, db1 = Σ rows.
        crate::gemm(&self.a1.t(), &dlogits.view(), &mut g.w2.view_mut(), false);
        g.b2.assign(&dlogits.sum_axis(Axis(0)));
        crate::gemm(&dlogits.view(), &p.w2.t(), &mut self.dz1.view_mut(), false);
        Zip::from(&mut self.dz1)
            .and(&self.z1)
            .for_each(|d, &z| *d = if z > zero { *d } else { zero });
        crate::gemm(&self.x.t(), &self.dz1.view(), &mut g.w1.view_mut(), false);
        g.b1.assign(&self.dz1.sum_axis(Axis(0)));
        // SGD.
        let lr = T::from(LR).unwrap_or_else(T::nan);
        p.w1.scaled_add(-lr, &g.w1);
        p.b1.scaled_add(-lr, &g.b1);
        p.w2.scaled_add(-lr, &g.w2);
        p.b2.scaled_add(-lr, &g.b2);
        loss / batch as f64
    }
}

fn entry<T: LinalgScalar + Float + Send + Sync>(size: &'static str) -> Entry {
    Entry::timed(
        "W3",
        "chainrule-manual",
        size,
        "s/step",
        format!(
            "hand-written forward, softmax cross-entropy, backward and SGD into preallocated \
             buffers; the gemm crate's gemm with {} thread(s); check is the loss of the first \
             step; each repetition restarts from the initial parameters and makes up to \
             {STEPS_PER_REP} steps",
            crate::gemm_threads()
        ),
        || {
            let mlp = Rc::new(RefCell::new(Mlp::<T>::new(&w3_data())));
            let reset = Rc::clone(&mlp);
            Prepared::new(move || mlp.borrow_mut().step())
                .setup(move || reset.borrow_mut().reset())
                .max_inner(STEPS_PER_REP)
        },
    )
}

/// The network on the tape, written as PyTorch's `torch_step` in peers.py.
pub struct EagerMlp {
    x: Tensor,
    labels: Vec<usize>,
    init: [Tensor; 4],
    /// The current parameters W1, b1, W2, b2 (leaves requiring gradients).
    pub params: [Tensor; 4],
}

impl EagerMlp {
    /// The network on W3's data (f64).
    pub fn new(data: &W3Data) -> Self {
        EagerMlp::with_dtype(data, DType::F64)
    }

    /// The network on W3's data in `dtype` (f64 → f32 rounds to nearest, as
    /// [`Mlp::new`] does).
    pub fn with_dtype(data: &W3Data, dtype: DType) -> Self {
        let t2 = |a: &Array2<f64>| Tensor::from_ndarray(a.clone().into_dyn()).to_dtype(dtype);
        let t1 = |a: &Array1<f64>| Tensor::from_ndarray(a.clone().into_dyn()).to_dtype(dtype);
        let init = [t2(&data.w1), t1(&data.b1), t2(&data.w2), t1(&data.b2)];
        EagerMlp {
            x: t2(&data.x),
            labels: data.labels.clone(),
            params: init.clone().map(|p| own_copy(&p)),
            init,
        }
    }

    /// Restore the initial parameters into buffers of their own, as
    /// peers.py's `p.copy_(p0)` in its untimed setup: parameters sharing
    /// `init`'s buffers made the first timed step of every repetition copy
    /// W1 (1.6 MB in f64) on its SGD update, which torch's step never does.
    pub fn reset(&mut self) {
        self.params = self.init.clone().map(|p| own_copy(&p));
    }

    /// One step: forward, cross-entropy (mean over the batch), `backward()`,
    /// SGD as `p -= lr * p.grad; p.grad = None` (in place, not recorded);
    /// returns the loss before the update.
    pub fn step(&mut self) -> f64 {
        let [w1, b1, w2, b2] = &self.params;
        let logits = (self.x.matmul(w1) + b1).relu().matmul(w2) + b2;
        let loss = cross_entropy(&logits, &self.labels).expect("labels below the classes");
        loss.backward()
            .expect("the loss is a scalar computed from the parameters");
        for p in &mut self.params {
            let g = p.grad().expect("every parameter reaches the loss");
            p.zero_grad();
            p.add_scaled_(&g, -LR)
                .expect("a parameter is a leaf of its gradient's shape");
        }
        loss.item()
    }
}

/// A leaf requiring gradients with `p`'s values in a buffer of its own.
fn own_copy(p: &Tensor) -> Tensor {
    Tensor::from_ndarray(p.to_ndarray())
        .to_dtype(p.dtype())
        .requires_grad()
}

fn eager_entry(size: &'static str, dtype: DType) -> Entry {
    Entry::timed(
        "W3",
        "chainrule-eager",
        size,
        "s/step",
        format!(
            "the tape: relu(x@W1 + b1)@W2 + b2, cross_entropy, backward(), SGD in place \
             (add_scaled_, as p -= lr * p.grad); gemm with {} thread(s); check is the loss of the first step; each \
             repetition restarts from the initial parameters and makes up to {STEPS_PER_REP} \
             steps",
            crate::gemm_threads()
        ),
        move || {
            let mlp = Rc::new(RefCell::new(EagerMlp::with_dtype(&w3_data(), dtype)));
            let reset = Rc::clone(&mlp);
            Prepared::new(move || mlp.borrow_mut().step())
                .setup(move || reset.borrow_mut().reset())
                .max_inner(STEPS_PER_REP)
        },
    )
}

/// W3's implementations.
pub fn entries(_mode: &Mode) -> Vec<Entry> {
    vec![
        entry::<f64>("f64"),
        entry::<f32>("f32"),
        eager_entry("f64", DType::F64),
        eager_entry("f32", DType::F32),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small problem: batch 3, 4 inputs, 5 hidden, 3 classes.
    fn tiny() -> W3Data {
        let m = |seed, r, c| crate::data::matrix(seed, r, c, -1.0, 1.0);
        W3Data {
            x: m(1, 3, 4),
            labels: vec![0, 2, 1],
            w1: m(2, 4, 5),
            b1: m(3, 1, 5).row(0).to_owned(),
            w2: m(4, 5, 3),
            b2: m(5, 1, 3).row(0).to_owned(),
        }
    }

    /// Picks one parameter entry.
    type Pick = dyn Fn(&mut Params<f64>) -> &mut f64;

    /// The loss of parameters `p` written naively, for finite differences.
    fn loss(d: &W3Data, p: &Params<f64>) -> f64 {
        let logits = (d.x.dot(&p.w1) + &p.b1).mapv(|v| v.max(0.0)).dot(&p.w2) + &p.b2;
        let mut total = 0.0;
        for (row, &label) in logits.rows().into_iter().zip(&d.labels) {
            let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
            total += lse - row[label];
        }
        total / d.labels.len() as f64
    }

    #[test]
    fn first_loss_of_uniform_logits_is_ln_classes() {
        // Zero weights: every logit is 0 and the loss is ln 3.
        let mut d = tiny();
        d.w2.fill(0.0);
        d.b2.fill(0.0);
        let mut mlp = Mlp::<f64>::new(&d);
        assert!((mlp.step() - 3f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn step_is_sgd_on_the_finite_difference_gradient() {
        let d = tiny();
        let mut mlp = Mlp::<f64>::new(&d);
        let first = mlp.step();
        assert!((first - loss(&d, &mlp.init)).abs() < 1e-14);
        let e = 1e-6;
        let fd = |pick: &Pick| {
            let (mut plus, mut minus) = (mlp.init.clone(), mlp.init.clone());
            *pick(&mut plus) += e;
            *pick(&mut minus) -= e;
            (loss(&d, &plus) - loss(&d, &minus)) / (2.0 * e)
        };
        let checks: [(&Pick, &str); 4] = [
            (&|p| &mut p.w1[[1, 2]], "w1"),
            (&|p| &mut p.b1[3], "b1"),
            (&|p| &mut p.w2[[4, 1]], "w2"),
            (&|p| &mut p.b2[2], "b2"),
        ];
        for (pick, name) in checks {
            let before = *pick(&mut mlp.init.clone());
            let after = *pick(&mut mlp.params.clone());
            let gradient = (before - after) / LR;
            assert!(
                (gradient - fd(pick)).abs() < 1e-8,
                "{name}: {gradient} vs {}",
                fd(pick)
            );
        }
    }

    #[test]
    fn eager_steps_agree_with_the_hand_written_steps() {
        // The hand-written step is checked against finite differences above;
        // the tape must make the same steps (losses and parameters).
        let d = tiny();
        let mut manual = Mlp::<f64>::new(&d);
        let mut eager = EagerMlp::new(&d);
        for step in 0..3 {
            let (lm, le) = (manual.step(), eager.step());
            assert!((lm - le).abs() < 1e-14, "step {step}: {lm} vs {le}");
        }
        let w1 = eager.params[0].to_vec();
        for (a, b) in w1.iter().zip(manual.params.w1.iter()) {
            assert!((a - b).abs() < 1e-14);
        }
        eager.reset();
        let first = eager.step();
        assert!((first - loss(&d, &manual.init)).abs() < 1e-14);
    }

    #[test]
    fn reset_restores_the_eager_parameters_bit_for_bit() {
        // The parameters get buffers of their own at reset: the steps after
        // it start again from the initial values (never written), in f64
        // and f32, with the dtype, the leaf and the flag kept.
        let d = tiny();
        for dtype in [DType::F64, DType::F32] {
            let mut eager = EagerMlp::with_dtype(&d, dtype);
            let (first, second) = (eager.step(), eager.step());
            assert_ne!(first, second);
            for _ in 0..2 {
                eager.reset();
                assert_eq!(eager.step().to_bits(), first.to_bits());
                assert_eq!(eager.step().to_bits(), second.to_bits());
            }
            for p in &eager.params {
                assert!(p.is_leaf() && p.is_requires_grad() && p.dtype() == dtype);
            }
        }
    }

    #[test]
    fn eager_f32_steps_agree_with_the_hand_written_f32_steps() {
        // The same network in f32 on the tape and by hand: f32 tensors all
        // the way (parameters and gradients), the same losses and updated
        // parameters up to f32 rounding, and both close to the f64 step.
        let d = tiny();
        let mut manual = Mlp::<f32>::new(&d);
        let mut eager = EagerMlp::with_dtype(&d, DType::F32);
        let mut exact = Mlp::<f64>::new(&d);
        for step in 0..3 {
            let (lm, le, l64) = (manual.step(), eager.step(), exact.step());
            assert!((lm - le).abs() < 1e-6 * l64, "step {step}: {lm} vs {le}");
            assert!((le - l64).abs() < 1e-6 * l64, "step {step}: {le} vs {l64}");
        }
        for p in &eager.params {
            assert_eq!(p.dtype(), DType::F32);
        }
        let w1 = eager.params[0].to_vec();
        for (a, b) in w1.iter().zip(manual.params.w1.iter()) {
            assert!((a - f64::from(*b)).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn eager_f32_first_loss_on_w3_agrees_with_f64() {
        let d = w3_data();
        let first = EagerMlp::new(&d).step();
        let first32 = EagerMlp::with_dtype(&d, DType::F32).step();
        let manual32 = Mlp::<f32>::new(&d).step();
        assert!(
            (first - first32).abs() < 1e-6 * first,
            "{first} vs {first32}"
        );
        assert!(
            (manual32 - first32).abs() < 1e-6 * first,
            "{manual32} vs {first32}"
        );
    }

    #[test]
    fn reset_restores_and_f32_agrees_with_f64() {
        let d = w3_data();
        let mut m64 = Mlp::<f64>::new(&d);
        let mut m32 = Mlp::<f32>::new(&d);
        let first = m64.step();
        m64.step();
        m64.reset();
        assert_eq!(m64.step(), first);
        let first32 = m32.step();
        assert!(
            (first - first32).abs() < 1e-5 * first,
            "{first} vs {first32}"
        );
        // 128 samples, 10 classes, small weights: close to ln 10.
        assert!((first - 10f64.ln()).abs() < 0.1);
    }
}
