//! Property test: random well-typed matrix expressions (scalars, vectors,
//! matrices, elementwise functions, traces, norms); the printed derivative
//! and Hessian, parsed back and evaluated, equal reverse-mode autodiff of
//! the expression at random values of sizes 2 to 5, with a non-square
//! (`R: n x m`) and non-symmetric matrices; so does the compiled formula.

use chainrule::matrix::{self, Values};
use proptest::prelude::*;

/// A small deterministic generator (SplitMix64).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn scalar(&mut self, d: usize) -> String {
        if d == 0 {
            return ["c", "x'*y", "sum(x)"][self.pick(3)].into();
        }
        match self.pick(9) {
            0 => format!("{}'*{}", self.vector(d - 1), self.vector(d - 1)),
            1 => format!(
                "{}'*{}*{}",
                self.vector(d - 1),
                self.matrix(d - 1),
                self.vector(d - 1)
            ),
            2 => format!("tr({})", self.matrix(d - 1)),
            3 => format!("sum({})", self.vector(d - 1)),
            4 => format!("({})*({})", self.scalar(d - 1), self.scalar(d - 1)),
            5 => format!("({} + {})", self.scalar(d - 1), self.scalar(d - 1)),
            6 => format!("sin({})", self.scalar(d - 1)),
            7 => format!("norm2({})^2", self.vector(d - 1)),
            _ => format!("sigmoid({})", self.scalar(d - 1)),
        }
    }

    fn vector(&mut self, d: usize) -> String {
        if d == 0 {
            return ["x", "y", "x"][self.pick(3)].into();
        }
        let v = match self.pick(9) {
            0 => format!("{}*{}", self.matrix(d - 1), self.vector(d - 1)),
            1 => format!("({} + {})", self.vector(d - 1), self.vector(d - 1)),
            2 => format!("({} .* {})", self.vector(d - 1), self.vector(d - 1)),
            3 => format!("({})*{}", self.scalar(d - 1), self.vector(d - 1)),
            4 => format!("tanh({})", self.vector(d - 1)),
            5 => format!("{}'*{}", self.matrix(d - 1), self.vector(d - 1)),
            6 => format!("({} - {})", self.vector(d - 1), self.vector(d - 1)),
            7 => format!("R*(R'*{})", self.vector(d - 1)),
            _ => format!("exp({}/4)", self.vector(d - 1)),
        };
        format!("({v})")
    }

    /// A matrix of the other size (m x m), from the non-square R (n x m).
    fn small(&mut self, d: usize) -> String {
        match self.pick(3) {
            0 => format!("(R'*{}*R)", self.matrix(d)),
            1 => "C".into(),
            _ => "(C .* C')".into(),
        }
    }

    fn matrix(&mut self, d: usize) -> String {
        if d == 0 {
            return ["A", "B", "A"][self.pick(3)].into();
        }
        let m = match self.pick(7) {
            0 => format!("({} + {})", self.matrix(d - 1), self.matrix(d - 1)),
            1 => format!("{}*{}", self.matrix(d - 1), self.matrix(d - 1)),
            2 => format!("{}'", self.matrix(d - 1)),
            3 => format!("{}*{}'", self.vector(d - 1), self.vector(d - 1)),
            4 => format!("diag({})", self.vector(d - 1)),
            5 => format!("R*{}*R'", self.small(d - 1)),
            _ => format!("({} .* {})", self.matrix(d - 1), self.matrix(d - 1)),
        };
        format!("({m})")
    }
}

const DECLS: &str = "A: n x n, B: n x n, R: n x m, C: m x m, x: n, y: n, c: scalar";

fn close(a: &[f64], b: &[f64]) -> bool {
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-8 * scale)
}

fn check(seed: u64) -> Result<(), String> {
    let mut g = Gen(seed);
    let src = format!("{} + c*sum(x)", g.scalar(3));
    let p = matrix::parse(&src, DECLS).map_err(|e| format!("{src}: {e}"))?;
    // Sizes 2 to 5, n and m different: R is never square.
    let n = 2 + (seed % 4) as usize;
    let m = if n == 5 { 3 } else { n + 1 };
    let v = Values::random(&p.names, |s| if s == "m" { m } else { n }, seed);
    for hessian in [false, true] {
        let d = if hessian {
            p.hessian("x")
        } else {
            p.derivative("x")
        }
        .map_err(|e| format!("{src}: {e}"))?;
        let printed = d.to_string();
        let back = p
            .parse_formula(&printed, Some(d.shape()))
            .map_err(|e| format!("{src}: printed {printed}: {e}"))?;
        let got = matrix::natural(
            &matrix::eval(&back, &v).map_err(|e| e.to_string())?,
            d.shape(),
        );
        let compiled = matrix::natural(
            &matrix::compile(&d).eval(&v).map_err(|e| e.to_string())?,
            d.shape(),
        );
        let want = if hessian {
            p.autodiff_hessian("x", &v)
        } else {
            p.autodiff("x", &v)
        }
        .map_err(|e| e.to_string())?;
        if !close(&compiled.to_vec(), &want.to_vec()) {
            return Err(format!(
                "{src}: compiled {printed} = {:?}, autodiff {:?}",
                compiled.to_vec(),
                want.to_vec()
            ));
        }
        if !close(&got.to_vec(), &want.to_vec()) {
            return Err(format!(
                "{src}: {} {printed} = {:?}, autodiff {:?}",
                if hessian { "Hessian" } else { "gradient" },
                got.to_vec(),
                want.to_vec()
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn printed_derivative_equals_autodiff(seed in any::<u64>()) {
        if let Err(e) = check(seed) {
            prop_assert!(false, "{}", e);
        }
    }
}
