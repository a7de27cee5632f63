//! `Display` as PyTorch prints tensors (torch/_tensor_str.py with the
//! default print options: precision 4, linewidth 80, threshold 1000,
//! edgeitems 3).

use std::fmt;

use ndarray::{ArrayViewD, Axis};

use super::Tensor;

const PRECISION: usize = 4;
const LINEWIDTH: usize = 80;
const THRESHOLD: usize = 1000;
const EDGEITEMS: usize = 3;

/// Python's `'{:.4e}'.format(v)`: at least two exponent digits with a sign.
fn sci(v: f64) -> String {
    if !v.is_finite() {
        return nonfinite(v);
    }
    let s = format!("{v:.PRECISION$e}");
    let (mantissa, exp) = s.split_once('e').expect("exponent form");
    let e: i32 = exp.parse().expect("integer exponent");
    let sign = if e < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", e.abs())
}

fn nonfinite(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// The number style shared by all elements, as PyTorch's `_Formatter`.
struct Formatter {
    int_mode: bool,
    sci_mode: bool,
    width: usize,
}

impl Formatter {
    fn new(values: &[f64]) -> Formatter {
        let mut f = Formatter {
            int_mode: true,
            sci_mode: false,
            width: 1,
        };
        let nz: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v != 0.0)
            .collect();
        if nz.is_empty() {
            return f;
        }
        let min = nz.iter().fold(f64::INFINITY, |a, v| a.min(v.abs()));
        let max = nz.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        f.int_mode = nz.iter().all(|v| *v == v.ceil());
        let widths: Box<dyn Fn(f64) -> usize> = if f.int_mode {
            if max / min > 1000.0 || max > 1e8 {
                f.sci_mode = true;
                Box::new(|v| sci(v).len())
            } else {
                Box::new(|v| format!("{v:.0}").len() + 1)
            }
        } else if max / min > 1000.0 || max > 1e8 || min < 1e-4 {
            f.sci_mode = true;
            Box::new(|v| sci(v).len())
        } else {
            Box::new(|v| format!("{v:.PRECISION$}").len())
        };
        f.width = nz.iter().map(|&v| widths(v)).max().unwrap_or(1);
        f
    }

    fn format(&self, v: f64) -> String {
        let s = if self.sci_mode {
            sci(v)
        } else if !v.is_finite() {
            nonfinite(v)
        } else if self.int_mode {
            format!("{v:.0}.")
        } else {
            format!("{v:.PRECISION$}")
        };
        format!("{s:>w$}", w = self.width)
    }
}

/// The values that decide the format: all of them, or the edges when summarized.
fn summarized_values(a: &ArrayViewD<'_, f64>, summarize: bool, out: &mut Vec<f64>) {
    if a.ndim() == 0 {
        out.extend(a.iter().copied());
        return;
    }
    let n = a.shape()[0];
    let idx: Vec<usize> = if summarize && n > 2 * EDGEITEMS {
        (0..EDGEITEMS).chain(n - EDGEITEMS..n).collect()
    } else {
        (0..n).collect()
    };
    for i in idx {
        // Depth is the number of axes, not the number of elements.
        summarized_values(&a.index_axis(Axis(0), i), summarize, out);
    }
}

fn vector_str(a: &ArrayViewD<'_, f64>, indent: usize, summarize: bool, f: &Formatter) -> String {
    let element_length = f.width + 2;
    let per_line = ((LINEWIDTH.saturating_sub(indent)) / element_length).max(1);
    let vals: Vec<f64> = a.iter().copied().collect();
    let n = vals.len();
    let data: Vec<String> = if summarize && n > 2 * EDGEITEMS {
        vals[..EDGEITEMS]
            .iter()
            .map(|&v| f.format(v))
            .chain(std::iter::once(" ...".to_string()))
            .chain(vals[n - EDGEITEMS..].iter().map(|&v| f.format(v)))
            .collect()
    } else {
        vals.iter().map(|&v| f.format(v)).collect()
    };
    let lines: Vec<String> = data.chunks(per_line).map(|c| c.join(", ")).collect();
    format!(
        "[{}]",
        lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
    )
}

fn tensor_str(a: &ArrayViewD<'_, f64>, indent: usize, summarize: bool, f: &Formatter) -> String {
    let dim = a.ndim();
    if dim == 0 {
        return f.format(a.iter().copied().next().unwrap_or(f64::NAN));
    }
    if dim == 1 {
        return vector_str(a, indent, summarize, f);
    }
    let n = a.shape()[0];
    // Recursion depth is the number of axes, not the number of elements.
    let sub = |i: usize| tensor_str(&a.index_axis(Axis(0), i), indent + 1, summarize, f);
    let slices: Vec<String> = if summarize && n > 2 * EDGEITEMS {
        (0..EDGEITEMS)
            .map(sub)
            .chain(std::iter::once("...".to_string()))
            .chain((n - EDGEITEMS..n).map(sub))
            .collect()
    } else {
        (0..n).map(sub).collect()
    };
    let sep = format!(",{}{}", "\n".repeat(dim - 1), " ".repeat(indent + 1));
    format!("[{}]", slices.join(&sep))
}

impl fmt::Display for Tensor {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = "tensor(";
        let indent = prefix.len();
        let mut suffixes = Vec::new();
        let body = if self.numel() == 0 {
            if self.shape() != [0] {
                suffixes.push(
                    format!("size={:?}", self.shape())
                        .replace('[', "(")
                        .replace(']', ")"),
                );
            }
            "[]".to_string()
        } else {
            self.0.data().with_view(|a| {
                let summarize = a.len() > THRESHOLD;
                let mut vals = Vec::new();
                summarized_values(&a, summarize, &mut vals);
                let f = Formatter::new(&vals);
                tensor_str(&a, indent, summarize, &f)
            })
        };
        // PyTorch names a dtype other than the default one (ours is f64).
        if self.dtype() != super::DType::F64 {
            suffixes.push(format!("dtype={}", self.dtype().torch_name()));
        }
        if let Some(name) = self.grad_fn() {
            suffixes.push(format!("grad_fn=<{name}>"));
        } else if self.is_requires_grad() {
            suffixes.push("requires_grad=True".into());
        }
        let mut s = format!("{prefix}{body}");
        let mut last_line_len = match s.rfind('\n') {
            Some(p) => s.len() - p + 1,
            None => s.len() + 2,
        };
        for suffix in suffixes {
            if last_line_len + suffix.len() + 2 > LINEWIDTH {
                s.push_str(&format!(",\n{}{suffix}", " ".repeat(indent)));
                last_line_len = indent + suffix.len();
            } else {
                s.push_str(&format!(", {suffix}"));
                last_line_len += suffix.len() + 2;
            }
        }
        s.push(')');
        out.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor;

    #[test]
    fn pytorch_number_styles() {
        assert_eq!(Tensor::scalar(14.0).to_string(), "tensor(14.)");
        assert_eq!(Tensor::scalar(3.5).to_string(), "tensor(3.5000)");
        assert_eq!(tensor![-2.0206e-14].to_string(), "tensor([-2.0206e-14])");
        assert_eq!(
            tensor![1.0, 10.0, 100.0].to_string(),
            "tensor([  1.,  10., 100.])"
        );
        assert_eq!(tensor![0.0, 0.0].to_string(), "tensor([0., 0.])");
        assert_eq!(
            tensor![1.5, f64::NAN].to_string(),
            "tensor([1.5000,    nan])"
        );
        assert_eq!(
            tensor![1e9, 1.0].to_string(),
            "tensor([1.0000e+09, 1.0000e+00])"
        );
        assert_eq!(
            tensor![[1.0, 2.0], [3.0, 40.0]].to_string(),
            "tensor([[ 1.,  2.],\n        [ 3., 40.]])"
        );
        assert_eq!(
            Tensor::zeros(&[2, 1, 1]).to_string(),
            "tensor([[[0.]],\n\n        [[0.]]])"
        );
        assert_eq!(Tensor::zeros(&[0]).to_string(), "tensor([])");
    }

    #[test]
    fn long_vectors_wrap_and_summarize() {
        let x = Tensor::arange(0.0, 30.0, 1.0).unwrap();
        let s = x.to_string();
        // Width 3 → element length 5 → (80 − 7) / 5 = 14 per line.
        let first = s.lines().next().unwrap();
        assert_eq!(first.matches(',').count(), 14, "{s}");
        let big = Tensor::arange(1000.0, 3000.0, 1.0).unwrap();
        assert_eq!(
            big.to_string(),
            "tensor([1000., 1001., 1002.,  ..., 2997., 2998., 2999.])"
        );
        // Only the printed edges decide the style: 1999 / 1 > 1000 is scientific.
        let s = Tensor::arange(0.0, 2000.0, 1.0).unwrap().to_string();
        assert!(s.starts_with("tensor([0.0000e+00, 1.0000e+00,"), "{s}");
    }
}
