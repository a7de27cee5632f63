//! A small JSON writer: keys keep their insertion order, numbers are written
//! in shortest round-trip form, and inf/nan become the strings "inf", "-inf",
//! "nan" (the contract of ../shared/CLI.md).

use std::collections::BTreeMap;
use std::fmt::Write;

/// A JSON value whose objects keep the order in which keys were added.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number; non-finite values are written as strings.
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, in insertion order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// An empty object.
    pub fn object() -> Self {
        Json::Obj(Vec::new())
    }

    /// Adds a key to an object (builder style).
    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.push(key, value);
        self
    }

    /// Adds a key to an object.
    pub fn push(&mut self, key: &str, value: impl Into<Json>) {
        if let Json::Obj(entries) = self {
            entries.push((key.to_string(), value.into()));
        }
    }

    /// An object from a name → number map (alphabetical, as BTreeMap is).
    pub fn num_map(map: &BTreeMap<String, f64>) -> Self {
        Json::Obj(
            map.iter()
                .map(|(k, v)| (k.clone(), Json::Num(*v)))
                .collect(),
        )
    }

    /// Writes compact JSON text.
    pub fn write(&self, out: &mut String) {
        // An explicit stack keeps deep values off the call stack.
        enum Step<'a> {
            Value(&'a Json),
            Text(&'static str),
            Key(&'a str),
        }
        let mut stack = vec![Step::Value(self)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Text(t) => out.push_str(t),
                Step::Key(k) => {
                    write_str(out, k);
                    out.push(':');
                }
                Step::Value(v) => match v {
                    Json::Null => out.push_str("null"),
                    Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                    Json::Num(x) => write_num(out, *x),
                    Json::Str(s) => write_str(out, s),
                    Json::Arr(items) => {
                        out.push('[');
                        stack.push(Step::Text("]"));
                        for (i, item) in items.iter().enumerate().rev() {
                            stack.push(Step::Value(item));
                            if i > 0 {
                                stack.push(Step::Text(","));
                            }
                        }
                    }
                    Json::Obj(entries) => {
                        out.push('{');
                        stack.push(Step::Text("}"));
                        for (i, (k, item)) in entries.iter().enumerate().rev() {
                            stack.push(Step::Value(item));
                            stack.push(Step::Key(k));
                            if i > 0 {
                                stack.push(Step::Text(","));
                            }
                        }
                    }
                },
            }
        }
    }

    /// The compact JSON text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

impl From<f64> for Json {
    fn from(x: f64) -> Self {
        Json::Num(x)
    }
}
impl From<usize> for Json {
    fn from(x: usize) -> Self {
        Json::Num(x as f64)
    }
}
impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}
impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::Str(s.to_string())
    }
}
impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::Str(s)
    }
}
impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(v: Vec<T>) -> Self {
        Json::Arr(v.into_iter().map(Into::into).collect())
    }
}

/// A number in shortest round-trip form, `1` rather than `1.0`; inf and nan
/// as "inf", "-inf", "nan": the library's, which the pictures and the
/// explanation use too.
pub use chainrule::graph::num_text;

fn write_num(out: &mut String, x: f64) {
    if x.is_finite() {
        out.push_str(&num_text(x));
    } else {
        write_str(out, &num_text(x));
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_in_shortest_form() {
        assert_eq!(num_text(1.0), "1");
        assert_eq!(num_text(-3.0), "-3");
        assert_eq!(num_text(-0.0), "0");
        assert_eq!(num_text(2.5), "2.5");
        assert_eq!(num_text(0.1), "0.1");
        assert_eq!(num_text(1e-300), "1e-300");
        assert_eq!(num_text(-2.0205821812141855e-14), "-2.0205821812141855e-14");
        assert_eq!(num_text(1e21), "1e21");
        for x in [0.1 + 0.2, 1.0 / 3.0, 6.02214076e23, 5e-324, f64::MAX] {
            assert_eq!(num_text(x).parse::<f64>().unwrap(), x);
        }
    }

    #[test]
    fn non_finite_values_are_strings() {
        let j = Json::object()
            .with("a", f64::INFINITY)
            .with("b", f64::NEG_INFINITY)
            .with("c", f64::NAN);
        assert_eq!(j.to_text(), r#"{"a":"inf","b":"-inf","c":"nan"}"#);
    }

    #[test]
    fn nesting_order_and_escapes() {
        let j = Json::object()
            .with("z", vec![1.0, 2.0])
            .with("a", Json::object().with("q\"\n", true))
            .with("e", Json::Arr(vec![]))
            .with("n", Json::Null);
        assert_eq!(
            j.to_text(),
            r#"{"z":[1,2],"a":{"q\"\n":true},"e":[],"n":null}"#
        );
    }

    #[test]
    fn deep_values_do_not_recurse() {
        let mut j = Json::Num(1.0);
        for _ in 0..100_000 {
            j = Json::Arr(vec![j]);
        }
        let text = j.to_text();
        assert_eq!(text.len(), 200_001);
        // Dropping a deep value recursively would overflow: unwrap it by hand.
        let mut cur = j;
        while let Json::Arr(mut v) = cur {
            cur = v.pop().unwrap_or(Json::Null);
        }
    }
}
