//! One measurement as one JSON line, the format of bench/README.md.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// One line: `{"workload", "impl", "size", "unit", "seconds", "check", "note"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// `W1` … `W7`.
    pub workload: String,
    /// The implementation, `chainrule-…`.
    #[serde(rename = "impl")]
    pub implementation: String,
    /// The size label, the same strings as peers.py (`n=1000000`, `f32`, …).
    pub size: String,
    /// The unit (`ns/op`, `s/iter`, …, `ops` for a count).
    pub unit: String,
    /// Median time per unit (rounded to 4 significant digits as peers.py does),
    /// or a count for `ops`; `None` (null) when not measured.
    pub seconds: Option<f64>,
    /// The number that proves the work was done, full precision; null when not measured.
    pub check: Option<f64>,
    /// What exactly was timed, deviations, failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Line {
    /// The JSON text of the line, without a newline, as Python's `json.dumps`
    /// writes it (`", "` and `": "` separators, floats as Python's `repr`).
    /// Non-finite numbers become null.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonStyle);
        // Serializing a struct of strings and f64s into a Vec cannot fail.
        self.serialize(&mut serializer)
            .expect("a Line always serializes");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }
}

/// serde_json's compact output with Python's `json.dumps` separators and float format.
struct PythonStyle;

impl Formatter for PythonStyle {
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(python_repr(value).as_bytes())
    }
}

/// Python's `repr` of a finite float: the shortest round-trip digits, positional
/// for decimal exponents −4 … 15 (with `.0` when integral), else `d.ddde±XX`.
pub fn python_repr(value: f64) -> String {
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.23e-5", "2e0".
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs())
    }
}

/// `value` rounded to 4 significant digits, as peers.py's `float(f"{value:.4g}")`.
pub fn four_digits(value: f64) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    format!("{value:.3e}").parse().unwrap_or(value)
}

/// Join the non-empty notes with "; " (peers.py's `join`); `None` when all are empty.
pub fn join_notes(notes: &[&str]) -> Option<String> {
    let kept: Vec<&str> = notes.iter().copied().filter(|n| !n.is_empty()).collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_order_and_nulls() {
        let line = Line {
            workload: "W2".into(),
            implementation: "chainrule-manual".into(),
            size: "n=4".into(),
            unit: "s/iter".into(),
            seconds: Some(1.23e-5),
            check: None,
            note: Some("a \"quoted\" note".into()),
        };
        assert_eq!(
            line.to_json(),
            r#"{"workload": "W2", "impl": "chainrule-manual", "size": "n=4", "unit": "s/iter", "seconds": 1.23e-05, "check": null, "note": "a \"quoted\" note"}"#
        );
    }

    #[test]
    fn check_round_trips_and_nan_is_null() {
        let check = 0.1 + 0.2; // 0.30000000000000004, needs all 17 digits
        let mut line = Line {
            workload: "W5".into(),
            implementation: "x".into(),
            size: "k=4".into(),
            unit: "s/eval".into(),
            seconds: Some(f64::NAN),
            check: Some(check),
            note: None,
        };
        let json: serde_json::Value = serde_json::from_str(&line.to_json()).unwrap();
        assert_eq!(json["check"].as_f64(), Some(check));
        assert!(json["seconds"].is_null());
        assert!(json.get("note").is_none());
        line.check = Some(2.0);
        assert!(line.to_json().contains(r#""check": 2.0"#));
    }

    #[test]
    fn floats_as_python_repr() {
        // Each pair: a value and Python 3's repr of it (printed by python3).
        let cases = [
            (1.23e-5, "1.23e-05"),
            (0.1 + 0.2, "0.30000000000000004"),
            (2.0, "2.0"),
            (1e16, "1e+16"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (-7381543786.716656, "-7381543786.716656"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-0.0, "-0.0"),
            (1422.0, "1422.0"),
            (9999999999999998.0, "9999999999999998.0"),
        ];
        for (value, python) in cases {
            assert_eq!(python_repr(value), python, "{value:e}");
        }
    }

    #[test]
    fn four_significant_digits() {
        assert_eq!(four_digits(1.234567e-5), 1.235e-5);
        assert_eq!(four_digits(98765.4), 98770.0);
        assert_eq!(four_digits(0.0), 0.0);
        assert!(four_digits(f64::NAN).is_nan());
    }

    #[test]
    fn notes_are_joined() {
        assert_eq!(join_notes(&["", ""]), None);
        assert_eq!(join_notes(&["a", "", "b"]).as_deref(), Some("a; b"));
    }
}
