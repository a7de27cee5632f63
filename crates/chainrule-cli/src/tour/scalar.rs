//! Seeds 000 to 003: scalar functions whose derivatives the seeds work out
//! by hand and compare with PyTorch (and SymPy). Each exercise is the
//! seed's function in the CLI grammar, the analytic derivative transcribed
//! from the seed's own code (evaluated in f64 here), and the numbers the
//! seed printed.

use super::{Check, Section};
use crate::engine;
use crate::error::CliResult;
use crate::json::{num_text, Json};
use crate::point::Point;
use crate::table::{Align, Table};

/// The value of a variable at the exercise's point.
type Env<'a> = &'a dyn Fn(&str) -> f64;

/// One exercise.
struct Exercise {
    seed: &'static str,
    id: &'static str,
    title: &'static str,
    /// The function, in the CLI grammar, as the seed builds it.
    expr: &'static str,
    point: &'static [(&'static str, f64)],
    /// The variables the seed differentiates by.
    wrt: &'static [&'static str],
    /// The analytic derivative as the seed states it (None: the seed gives none).
    analytic_text: Option<&'static str>,
    /// The same, evaluated in f64, one value per `wrt`.
    analytic: Option<fn(Env) -> Vec<f64>>,
    /// SymPy's formulas, where the seed asks SymPy (compared as text).
    sympy: &'static [&'static str],
    /// What the seed printed: (label, value, relative tolerance; 1e-6 for
    /// PyTorch's float32, 1e-12 for NumPy's float64).
    printed: &'static [(&'static str, f64, f64)],
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// The seed 002 / 001 manual backward pass of 1/(1 + e⁻ˣ), transcribed
/// as written (hence the `* -1.0`).
#[allow(clippy::neg_multiply)]
fn grad_sigmoid_manual(x: f64) -> f64 {
    let a = -x;
    let b = a.exp();
    let c = 1.0 + b;
    let dsdc = -1.0 / (c * c);
    let dsdb = dsdc * 1.0;
    let dsda = dsdb * a.exp();
    dsda * -1.0
}

const POLY: &str = "8*x^4 + 3*x^3 + 7*x^2 + 6*x + 3";
const SOFTMAX_P0: &str = "exp(0.2*x1 + 0.4*x2 + 0.1*x3)/(exp(0.2*x1 + 0.4*x2 + 0.1*x3) + exp(-0.5*x1 + 0.1*x2 + 0.3*x3) + exp(0.3*x1 - 0.2*x2 + 0.2*x3))";
const W3: [[f64; 3]; 3] = [[0.2, -0.5, 0.3], [0.4, 0.1, -0.2], [0.1, 0.3, 0.2]];

/// The exercises; analytic derivatives are transcribed as the seeds write
/// them (hence products with −1).
#[allow(clippy::neg_multiply)]
fn exercises() -> Vec<Exercise> {
    vec![
        // ----- seed 000 -----
        Exercise {
            seed: "000",
            id: "Question 1",
            title: "z = 2x + 3y with x = 2a + 3b, y = 5a² + 3b³: dz/da",
            expr: "2*(2*a + 3*b) + 3*(5*a*a + 3*b*b*b)",
            point: &[("a", 1.0), ("b", 2.0)],
            wrt: &["a"],
            analytic_text: Some("dz/da = 2*(2) + 3*(2*5*a)"),
            analytic: Some(|v| vec![2.0 * 2.0 + 3.0 * (2.0 * 5.0 * v("a"))]),
            sympy: &[],
            printed: &[("Analytical", 34.0, 0.0), ("PyTorch", 34.0, 0.0)],
        },
        Exercise {
            seed: "000",
            id: "Question 2",
            title: "a = relu(w·x + b): da/dw",
            expr: "relu(w*x + b)",
            point: &[("b", 3.0), ("w", 1.0), ("x", 2.0)],
            wrt: &["w"],
            analytic_text: Some("da/dw = x if v > 0 else 0, with v = w*x + b"),
            analytic: Some(|v| {
                let vv = v("w") * v("x") + v("b");
                vec![if vv > 0.0 { v("x") } else { 0.0 }]
            }),
            sympy: &[],
            printed: &[("Analytical", 2.0, 0.0), ("PyTorch", 2.0, 0.0)],
        },
        Exercise {
            seed: "000",
            id: "Question 3",
            title: "a = sigmoid(w·x + b): da/dw",
            expr: "sigmoid(w*x + b)",
            point: &[("b", 3.0), ("w", 1.0), ("x", 2.0)],
            wrt: &["w"],
            analytic_text: Some("da/dw = σ(v)·(1 − σ(v))·x, with v = w*x + b"),
            analytic: Some(|v| {
                let s = sigmoid(v("w") * v("x") + v("b"));
                vec![s * (1.0 - s) * v("x")]
            }),
            sympy: &[],
            printed: &[
                ("Analytical (NumPy float64)", 0.013296113341580066, 1e-12),
                ("PyTorch (float32)", 0.013296065852046013, 1e-5),
            ],
        },
        Exercise {
            seed: "000",
            id: "Question 4",
            title: "f = exp(−x² − 2x − sin x): df/dx",
            expr: "exp(-x^2 - 2*x - sin(x))",
            point: &[("x", 1.0)],
            wrt: &["x"],
            analytic_text: Some("df/dx = -f·(2x + 2 + cos x)"),
            analytic: Some(|v| {
                let x = v("x");
                let f = (-x * x - 2.0 * x - x.sin()).exp();
                vec![-f * (2.0 * x + 2.0 + x.cos())]
            }),
            sympy: &[],
            printed: &[
                ("Analytical (from float32 values)", -0.09744400540415654, 1e-6),
                ("PyTorch (float32)", -0.09744400531053543, 1e-6),
            ],
        },
        Exercise {
            seed: "000",
            id: "Question 5",
            title: "y = 8x⁴ + 3x³ + 7x² + 6x + 3: dy/dx",
            expr: POLY,
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: Some("dy/dx = 32*x**3 + 9*x**2 + 14*x + 6"),
            analytic: Some(|v| {
                let x = v("x");
                vec![32.0 * x.powi(3) + 9.0 * x * x + 14.0 * x + 6.0]
            }),
            sympy: &[],
            printed: &[("Analytical gradient", 326.0, 0.0), ("PyTorch gradient", 326.0, 0.0)],
        },
        Exercise {
            seed: "000",
            id: "Question 6",
            title: "the same polynomial, PyTorch only",
            expr: POLY,
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: None,
            analytic: None,
            sympy: &[],
            printed: &[("The gradient of y at x = 2.0", 326.0, 0.0)],
        },
        // ----- seed 001 -----
        Exercise {
            seed: "001",
            id: "Example 1",
            title: "y = x·x, z = 2y + 3: dz/dx",
            expr: "2*(x*x) + 3",
            point: &[("x", 3.5)],
            wrt: &["x"],
            analytic_text: None,
            analytic: None,
            sympy: &[],
            printed: &[("gradient dz/dx(x=3.5)", 14.0, 0.0)],
        },
        Exercise {
            seed: "001",
            id: "Example 2",
            title: "f = (x − 2)²: df/dx",
            expr: "(x-2)^2",
            point: &[("x", 1.0)],
            wrt: &["x"],
            analytic_text: Some("df = 2*(x-2)"),
            analytic: Some(|v| vec![2.0 * (v("x") - 2.0)]),
            sympy: &[],
            printed: &[("using torch", -2.0, 0.0), ("using analytical function", -2.0, 0.0)],
        },
        Exercise {
            seed: "001",
            id: "Example 3",
            title: "y = x² + 5: dy/dx",
            expr: "x^2 + 5",
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: Some("dy = 2*x"),
            analytic: Some(|v| vec![2.0 * v("x")]),
            sympy: &[],
            printed: &[("using torch", 4.0, 0.0), ("using analytical function", 4.0, 0.0)],
        },
        Exercise {
            seed: "001",
            id: "Example 4",
            title: "sigmoid 1/(1 + e⁻ˣ) by a hand-written backward pass",
            expr: "1.0/(1.0 + exp(-x))",
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: Some("a=-x, b=exp(a), c=1+b, s=1/c; dsdc=-1/c**2, dsdb=dsdc*1, dsda=dsdb*exp(a), dsdx=-1*dsda"),
            analytic: Some(|v| vec![grad_sigmoid_manual(v("x"))]),
            sympy: &[],
            printed: &[
                ("using torch (float32)", 0.10499356687068939, 1e-6),
                ("using analytical function (float64)", 0.1049935854035065, 1e-12),
            ],
        },
        Exercise {
            seed: "001",
            id: "Question 1",
            title: "question 1 of seed 000 through named intermediates: dz/da",
            expr: "2*(2*a + 3*b) + 3*(5*(a*a) + (3*b)*(b*b))",
            point: &[("a", 1.0), ("b", 2.0)],
            wrt: &["a"],
            analytic_text: Some("dzda = dzdc*dcdx*dxdx1*dx1da + dzdd*dddy*dydy2*dy2dy1*dy1da, dy1da = 2*a"),
            analytic: Some(|v| vec![1.0 * 2.0 * 1.0 * 2.0 + 1.0 * 3.0 * 1.0 * 5.0 * (2.0 * v("a"))]),
            sympy: &[],
            printed: &[("using torch", 34.0, 0.0), ("using analytical function", 34.0, 0.0)],
        },
        Exercise {
            seed: "001",
            id: "Question 2",
            title: "a = v if v > 0 else 0 with v = w·x + b (a relu): da/dw",
            expr: "relu(w*x + b)",
            point: &[("b", 2.0), ("w", 3.0), ("x", 1.0)],
            wrt: &["w"],
            analytic_text: Some("dadw = dadv*dvdu*dudw = 1*1*x (0 when v <= 0)"),
            analytic: Some(|v| {
                let vv = v("w") * v("x") + v("b");
                vec![if vv > 0.0 { v("x") } else { 0.0 }]
            }),
            sympy: &[],
            printed: &[("using torch", 1.0, 0.0), ("using analytical function", 1.0, 0.0)],
        },
        Exercise {
            seed: "001",
            id: "Question 3",
            title: "a = 1/(1 + exp(−1·(w·x + b))): da/dw",
            expr: "1/(1 + exp(-1*(w*x + b)))",
            point: &[("b", 1.0), ("w", 1.0), ("x", 5.0)],
            wrt: &["w"],
            analytic_text: Some("dadw = diffSigmoid(v)*1*x, diffSigmoid by the hand-written backward pass"),
            analytic: Some(|v| vec![grad_sigmoid_manual(v("w") * v("x") + v("b")) * v("x")]),
            sympy: &[],
            printed: &[
                ("using torch (float32)", 0.012332547456026077, 1e-6),
                ("using analytical function (float64)", 0.012332546456800243, 1e-12),
            ],
        },
        Exercise {
            seed: "001",
            id: "Question 4",
            title: "f = exp(−x² − 2x − sin x) at x = 5: df/dx (a tiny value)",
            expr: "exp(-(x^2) - (2*x) - sin(x))",
            point: &[("x", 5.0)],
            wrt: &["x"],
            analytic_text: Some("df = -1*f(x)*(cos(x) + 2*x + 2)"),
            analytic: Some(|v| {
                let x = v("x");
                let f = (-(x * x) - 2.0 * x - x.sin()).exp();
                vec![-f * (x.cos() + 2.0 * x + 2.0)]
            }),
            sympy: &[],
            printed: &[
                ("using analytical func (float64)", -2.0205821812141855e-14, 1e-12),
                ("using torch (float32, 5 digits)", -2.0206e-14, 1e-4),
            ],
        },
        Exercise {
            seed: "001",
            id: "Question 5",
            title: "the polynomial 8x⁴ + 3x³ + 7x² + 6x + 3: df/dx",
            expr: POLY,
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: Some("grad = 32*x**3 + 9*x**2 + 14*x + 6"),
            analytic: Some(|v| {
                let x = v("x");
                vec![32.0 * x.powi(3) + 9.0 * x * x + 14.0 * x + 6.0]
            }),
            sympy: &[],
            printed: &[("using torch", 326.0, 0.0), ("using analytical function", 326.0, 0.0)],
        },
        Exercise {
            seed: "001",
            id: "Question 6",
            title: "f = tanh(log(1 + z·2x/sin y)): the full gradient by a hand-written backward pass",
            expr: "tanh(log(1 + z*((2*x)/sin(y))))",
            point: &[("x", 1.0), ("y", 2.0), ("z", 3.0)],
            wrt: &["x", "y", "z"],
            analytic_text: Some("a=2x, b=sin y, c=a/b, d=c*z, e=log(d+1), f=tanh e; dfde=1-f**2, dfdd=dfde/(d+1), dfdz=dfdd*c, dfdc=dfdd*z, dfdb=dfdc*(-a/b**2), dfdy=dfdb*cos y, dfda=dfdc/b, dfdx=dfda*2"),
            analytic: Some(|v| {
                let (x, y, z) = (v("x"), v("y"), v("z"));
                let a = 2.0 * x;
                let b = y.sin();
                let c = a / b;
                let d = c * z;
                let e = (d + 1.0).ln();
                let f = e.tanh();
                let dfde = 1.0 - f * f;
                let dfdd = dfde * (1.0 / (d + 1.0));
                let dfdz = dfdd * c;
                let dfdc = dfdd * z;
                let dfdb = dfdc * (-a / (b * b));
                let dfdy = dfdb * y.cos();
                let dfda = dfdc * (1.0 / b);
                let dfdx = dfda * 2.0;
                vec![dfdx, dfdy, dfdz]
            }),
            sympy: &[],
            printed: &[
                ("analytical df/dx", 0.0581308218679247, 1e-12),
                ("analytical df/dy", 0.02660400976902784, 1e-12),
                ("analytical df/dz", 0.019376940622641566, 1e-12),
            ],
        },
        // ----- seed 002 -----
        Exercise {
            seed: "002",
            id: "Problem 1",
            title: "y = x², z = 2y + 3: dz/dx = 4x",
            expr: "2*(x*x) + 3",
            point: &[("x", 3.5)],
            wrt: &["x"],
            analytic_text: Some("dz/dx = dz/dy · dy/dx = 2 · 2x = 4x"),
            analytic: Some(|v| vec![4.0 * v("x")]),
            sympy: &[],
            printed: &[("Gradient at x = 3.5", 14.0, 0.0)],
        },
        Exercise {
            seed: "002",
            id: "Problem 2",
            title: "f = (x − 2)²: f'(1)",
            expr: "(x-2)^2",
            point: &[("x", 1.0)],
            wrt: &["x"],
            analytic_text: Some("fp = 2*(x-2)"),
            analytic: Some(|v| vec![2.0 * (v("x") - 2.0)]),
            sympy: &[],
            printed: &[("Analytical f'(x)", -2.0, 0.0), ("PyTorch's f'(x)", -2.0, 0.0)],
        },
        Exercise {
            seed: "002",
            id: "Problem 3",
            title: "y = x² + 5: dy/dx",
            expr: "x^2 + 5",
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: Some("dy_dx = 2*x"),
            analytic: Some(|v| vec![2.0 * v("x")]),
            sympy: &[],
            printed: &[("PyTorch gradient", 4.0, 0.0), ("Analytical gradient", 4.0, 0.0)],
        },
        Exercise {
            seed: "002",
            id: "Problem 4",
            title: "σ(x) = 1/(1 + e⁻ˣ) as s(c(b(a(x)))): a = −x, b = eᵃ, c = 1 + b, s = 1/c",
            expr: "1.0/(1.0 + exp(-x))",
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: Some("grad_sigmoid_manual: dsdc = -1/c**2, dsdb = dsdc*1, dsda = dsdb*exp(a), dsdx = dsda*(-1)"),
            analytic: Some(|v| vec![grad_sigmoid_manual(v("x"))]),
            sympy: &[],
            printed: &[
                ("autograd (float32)", 0.10499356687068939, 1e-6),
                ("manual (float64)", 0.1049935854035065, 1e-12),
            ],
        },
        Exercise {
            seed: "002",
            id: "Problem 5",
            title: "y = 8x⁴ + 3x³ + 7x² + 6x + 3: dy/dx",
            expr: POLY,
            point: &[("x", 2.0)],
            wrt: &["x"],
            analytic_text: Some("analytical_gradient = 32*x**3 + 9*x**2 + 14*x + 6"),
            analytic: Some(|v| {
                let x = v("x");
                vec![32.0 * x.powi(3) + 9.0 * x * x + 14.0 * x + 6.0]
            }),
            sympy: &[],
            printed: &[("Analytical Gradient", 326.0, 0.0), ("x.grad", 326.0, 0.0)],
        },
        Exercise {
            seed: "002",
            id: "Problem 6",
            title: "a = ReLU(w·x + b): da/dw",
            expr: "relu(w*x + b)",
            point: &[("b", 0.5), ("w", 2.0), ("x", 1.0)],
            wrt: &["w"],
            analytic_text: Some("x if w*x + b > 0 else 0"),
            analytic: Some(|v| {
                let vv = v("w") * v("x") + v("b");
                vec![if vv > 0.0 { v("x") } else { 0.0 }]
            }),
            sympy: &[],
            printed: &[("Computed Gradient da/dw", 1.0, 0.0), ("Analytical Gradient da/dw", 1.0, 0.0)],
        },
        // ----- seed 003 -----
        Exercise {
            seed: "003",
            id: "Basic Maths",
            title: "f = x1² + 3·x1·x2 + x2²: PyTorch gradients against SymPy formulas",
            expr: "x1^2 + 3*x1*x2 + x2^2",
            point: &[("x1", 2.0), ("x2", 3.0)],
            wrt: &["x1", "x2"],
            analytic_text: Some("SymPy: ∂f/∂x1 = 2*x1 + 3*x2, ∂f/∂x2 = 3*x1 + 2*x2"),
            analytic: Some(|v| vec![2.0 * v("x1") + 3.0 * v("x2"), 3.0 * v("x1") + 2.0 * v("x2")]),
            sympy: &["2*x1 + 3*x2", "3*x1 + 2*x2"],
            // The seed's cell stopped at a SyntaxError (U+200B) before printing.
            printed: &[],
        },
        Exercise {
            seed: "003",
            id: "Example 1",
            title: "y = x²: dy/dx = 2x",
            expr: "x^2",
            point: &[("x", 3.0)],
            wrt: &["x"],
            analytic_text: Some("dy/dx = 2x"),
            analytic: Some(|v| vec![2.0 * v("x")]),
            sympy: &[],
            printed: &[("dy/dx", 6.0, 0.0)],
        },
        Exercise {
            seed: "003",
            id: "Example 2",
            title: "z = 2a + 3b: dz/da = 2, dz/db = 3",
            expr: "2*a + 3*b",
            point: &[("a", 4.0), ("b", 5.0)],
            wrt: &["a", "b"],
            analytic_text: Some("dz/da = 2, dz/db = 3"),
            analytic: Some(|_| vec![2.0, 3.0]),
            sympy: &[],
            printed: &[("dz/da", 2.0, 0.0), ("dz/db", 3.0, 0.0)],
        },
        Exercise {
            seed: "003",
            id: "Example 3",
            title: "y = (2x + 1)²: dy/dx = 4(2x + 1)",
            expr: "(2*x + 1)^2",
            point: &[("x", 3.0)],
            wrt: &["x"],
            analytic_text: Some("dy/dx = 4(2x + 1)"),
            analytic: Some(|v| vec![4.0 * (2.0 * v("x") + 1.0)]),
            sympy: &[],
            printed: &[("dy/dx", 28.0, 0.0)],
        },
        Exercise {
            seed: "003",
            id: "Example 4",
            title: "linear y = w·x + b with w = (0.5, −1), b = 2: dy/dx = w",
            expr: "0.5*x1 + (-1.0)*x2 + 2.0",
            point: &[("x1", 2.0), ("x2", 3.0)],
            wrt: &["x1", "x2"],
            analytic_text: Some("dy/dx = w"),
            analytic: Some(|_| vec![0.5, -1.0]),
            sympy: &[],
            printed: &[("dy/dx1", 0.5, 0.0), ("dy/dx2", -1.0, 0.0)],
        },
        Exercise {
            seed: "003",
            id: "Example 5",
            title: "logistic y = σ(w·x + b): dy/dx = σ'(z)·w",
            expr: "sigmoid(0.5*x1 + (-1.0)*x2 + 2.0)",
            point: &[("x1", 2.0), ("x2", 3.0)],
            wrt: &["x1", "x2"],
            analytic_text: Some("dy/dx = σ'(z)·w, σ' = σ(1 − σ)"),
            analytic: Some(|v| {
                let s = sigmoid(0.5 * v("x1") - v("x2") + 2.0);
                vec![s * (1.0 - s) * 0.5, s * (1.0 - s) * -1.0]
            }),
            sympy: &[],
            printed: &[("dy/dx1 (4 decimals)", 0.125, 1e-4), ("dy/dx2 (4 decimals)", -0.25, 1e-4)],
        },
        Exercise {
            seed: "003",
            id: "Multiclass",
            title: "softmax(xW)[0], the top class's probability: gradient by x",
            expr: SOFTMAX_P0,
            point: &[("x1", 1.0), ("x2", 2.0), ("x3", 3.0)],
            wrt: &["x1", "x2", "x3"],
            analytic_text: Some("∂p0/∂x_i = p0·(W[i][0] − Σ_j p_j·W[i][j])"),
            analytic: Some(|v| {
                let x = [v("x1"), v("x2"), v("x3")];
                let s: Vec<f64> = (0..3).map(|j| (0..3).map(|i| x[i] * W3[i][j]).sum()).collect();
                let z: f64 = s.iter().map(|t| t.exp()).sum();
                let p: Vec<f64> = s.iter().map(|t| t.exp() / z).collect();
                (0..3)
                    .map(|i| p[0] * (W3[i][0] - (0..3).map(|j| p[j] * W3[i][j]).sum::<f64>()))
                    .collect()
            }),
            sympy: &[],
            printed: &[
                ("Gradients inputs[0] (float32)", 0.07993404, 5e-6),
                ("Gradients inputs[1] (float32)", 0.1105411, 5e-6),
                ("Gradients inputs[2] (float32)", -0.03809503, 5e-6),
            ],
        },
    ]
}

/// Tolerances: analytic, formula and autodiff agree to rounding; finite
/// differences to about 1e-9.
const RTOL: f64 = 1e-12;
const FD_RTOL: f64 = 1e-7;

fn run_one(ex: &Exercise) -> CliResult<Section> {
    let parsed = engine::parse(ex.expr, "the expression")?;
    let point = Point::from_pairs(ex.point);
    let vars = parsed.check_point(&point, None)?;
    let (value, grad) = parsed.reverse_gradient(&vars, &point)?;
    let fd_all = parsed.fd_gradient(&vars, &point);
    let expr = parsed.expr();
    let env = |n: &str| point.get(n).unwrap_or(f64::NAN);
    let analytic = ex.analytic.map(|f| f(&env));
    let mut checks = Vec::new();
    let mut t = Table::new(&[
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Right,
        Align::Left,
    ])
    .header(["", "analytic", "autodiff", "formula", "finite diff.", ""]);
    let mut rows = Vec::new();
    let mut autodiff_values = Vec::new();
    // Formulas too long for the table are printed below it.
    let mut long_formulas = Vec::new();
    for (k, w) in ex.wrt.iter().enumerate() {
        let i = vars.iter().position(|v| v == w).unwrap_or(0);
        let auto = grad[i];
        let fd = fd_all[i];
        let formula = expr.diff(w);
        let formula_text = formula.to_string();
        let formula_value = formula.eval_with::<f64>(|n| point.get(n))?;
        let mut row_ok = true;
        let mut push = |c: Check, checks: &mut Vec<Check>| {
            row_ok &= c.ok;
            checks.push(c);
        };
        let an = analytic.as_ref().map(|a| a[k]);
        if let Some(a) = an {
            push(
                Check::numbers(
                    format!("∂f/∂{w}: analytic vs autodiff"),
                    a,
                    auto,
                    RTOL,
                    1e-15,
                ),
                &mut checks,
            );
        }
        push(
            Check::numbers(
                format!("∂f/∂{w}: formula vs autodiff"),
                formula_value,
                auto,
                RTOL,
                1e-15,
            ),
            &mut checks,
        );
        let floor = 1e-12 * value.abs().max(1.0);
        push(
            Check::numbers(
                format!("∂f/∂{w}: finite differences vs autodiff"),
                fd,
                auto,
                FD_RTOL,
                floor,
            ),
            &mut checks,
        );
        if let Some(s) = ex.sympy.get(k) {
            push(
                Check {
                    what: format!("∂f/∂{w}: formula is SymPy's {s}"),
                    ok: formula_text == *s,
                    rel_err: if formula_text == *s { 0.0 } else { 1.0 },
                    printed: false,
                },
                &mut checks,
            );
        }
        let shown = if formula_text.chars().count() > 60 {
            // Long formulas below the table, shared parts as where-bindings.
            long_formulas.push(format!(
                "   ∂f/∂{w} = {}\n",
                formula
                    .to_text_with_bindings()
                    .replacen(" where ", "\n       where ", 1)
            ));
            "(below)".to_string()
        } else {
            formula_text.clone()
        };
        t.row([
            format!("∂f/∂{w}"),
            an.map_or("-".to_string(), num_text),
            num_text(auto),
            shown,
            num_text(fd),
            if row_ok {
                "✓".to_string()
            } else {
                "✗".to_string()
            },
        ]);
        rows.push(
            Json::object()
                .with("wrt", *w)
                .with("analytic", an.map_or(Json::Null, Json::Num))
                .with("autodiff", auto)
                .with("formula", formula_text)
                .with("formula_value", formula_value)
                .with("finite_difference", fd),
        );
        autodiff_values.push(auto);
    }
    // The numbers the seed printed, against ours.
    let mut printed_text = Vec::new();
    for (j, (label, v, tol)) in ex.printed.iter().enumerate() {
        // Printed values are of the first wrt variable, except where the
        // seed prints one per variable (as many values as variables).
        let ours = if ex.printed.len() == ex.wrt.len() && ex.wrt.len() > 1 {
            autodiff_values[j]
        } else {
            autodiff_values[0]
        };
        let mut c = Check::numbers(
            format!("the seed printed {label} = {}", num_text(*v)),
            ours,
            *v,
            *tol,
            0.0,
        );
        c.printed = true;
        checks.push(c);
        printed_text.push(format!("{label}: {}", num_text(*v)));
    }
    let point_text = crate::cmd::point_text(&point);
    let mut text = format!(
        "   f = {}   at {point_text}   (f = {})\n",
        ex.expr,
        num_text(value)
    );
    match ex.analytic_text {
        Some(a) => text.push_str(&wrap(
            &format!("analytic, as the seed states it: {a}"),
            100,
            "   ",
            "     ",
        )),
        None => text.push_str("   analytic: the seed gives none, only PyTorch's number\n"),
    }
    if !printed_text.is_empty() {
        text.push_str(&wrap(
            &format!("the seed printed: {}", printed_text.join("; ")),
            100,
            "   ",
            "     ",
        ));
    }
    text.push_str(&t.render());
    for f in long_formulas {
        text.push_str(&f);
    }
    Ok(Section {
        seed: ex.seed,
        id: ex.id.to_string(),
        title: ex.title.to_string(),
        text,
        checks,
        json: Json::object()
            .with("expr", ex.expr)
            .with("point", Json::num_map(&point.to_map()))
            .with("value", value)
            .with("derivatives", Json::Arr(rows)),
    })
}

/// `text` in lines of at most `width` characters, broken after ", " or
/// "; ", the first line indented by `first`, the others by `rest`.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut fresh = true;
    for piece in text.split_inclusive([',', ';']) {
        let piece_len = piece.chars().count();
        if !fresh && line.chars().count() + piece_len > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            line.push_str(piece.trim_start());
        } else {
            line.push_str(piece);
        }
        fresh = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The sections for seeds 000 to 003.
pub fn sections() -> CliResult<Vec<Section>> {
    exercises().iter().map(run_one).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_after_separators() {
        let w = wrap("aaa, bbb; ccc, ddd", 10, "> ", "  ");
        assert_eq!(w, "> aaa,\n  bbb;\n  ccc, ddd\n");
        assert_eq!(wrap("short", 80, "", ""), "short\n");
    }

    #[test]
    fn every_scalar_exercise_agrees() {
        for s in sections().unwrap() {
            for c in &s.checks {
                assert!(c.ok, "seed {} {}: {} ({})", s.seed, s.id, c.what, c.rel_err);
            }
        }
    }
}
