//! Points: `--at x=1,y=2.5,z=-3`. A value is a constant expression of the
//! expression grammar: `x=pi/2`, `y=2*pi`, `z=sqrt(2)`, `w=1/2`, `v=atan2(1, 2)`.

use std::collections::{BTreeMap, HashMap};

use crate::error::{quote, CliError, CliResult};

/// One `name=value` of a point, with where its name stands in the `--at` text.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// 1-based column of the name inside the `--at` text.
    pub column: usize,
}

/// A point: every variable's value, reported in alphabetical order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Point {
    bindings: Vec<Binding>,
    /// Name → position in `bindings` (a point of 10⁴ variables is looked
    /// up by every evaluation: indexed, not searched).
    index: HashMap<String, usize>,
}

impl Point {
    /// Parses one or more `--at` texts (`x=1,y=2.5`); a name given twice is an error.
    pub fn parse_all(texts: &[String]) -> CliResult<Point> {
        let mut point = Point::default();
        for text in texts {
            for b in parse_one(text)? {
                if point.get(&b.name).is_some() {
                    return Err(CliError::new(format!(
                        "--at gives '{}' twice (column {})",
                        b.name, b.column
                    )));
                }
                point.push(b);
            }
        }
        Ok(point)
    }

    /// A point from names and values (used by the tour and `check`).
    pub fn from_pairs(pairs: &[(&str, f64)]) -> Point {
        let mut point = Point::default();
        for (n, v) in pairs {
            point.set(n, *v);
        }
        point
    }

    /// Adds a binding (its name not yet bound).
    fn push(&mut self, b: Binding) {
        self.index.insert(b.name.clone(), self.bindings.len());
        self.bindings.push(b);
    }

    /// The value of `name`, if the point gives one.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.index.get(name).map(|&i| self.bindings[i].value)
    }

    /// Sets (or adds) the value of `name`.
    pub fn set(&mut self, name: &str, value: f64) {
        match self.index.get(name) {
            Some(&i) => self.bindings[i].value = value,
            None => self.push(Binding {
                name: name.to_string(),
                value,
                column: 0,
            }),
        }
    }

    /// Name → value, alphabetical.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        self.bindings
            .iter()
            .map(|b| (b.name.clone(), b.value))
            .collect()
    }

    /// Checks that the point names exactly `variables`: a missing one is
    /// reported with `missing_column(name)` (its column in the expression),
    /// an extra one with its column in `--at`.
    pub fn check_covers(
        &self,
        variables: &[String],
        missing_column: impl Fn(&str) -> Option<usize>,
    ) -> CliResult<()> {
        for v in variables {
            if self.get(v).is_none() {
                let wher = match missing_column(v) {
                    Some(c) => format!(" (used at column {c} of the expression)"),
                    None => String::new(),
                };
                return Err(CliError::new(format!(
                    "--at gives no value for variable '{v}'{wher}"
                )));
            }
        }
        let known: std::collections::HashSet<&str> = variables.iter().map(String::as_str).collect();
        for b in &self.bindings {
            if !known.contains(b.name.as_str()) {
                let known = if variables.is_empty() {
                    "the expression has no variables".to_string()
                } else {
                    format!("the expression's variables are {}", variables.join(", "))
                };
                return Err(CliError::new(format!(
                    "--at names '{}' at column {}, which is not a variable of the expression ({known})",
                    b.name, b.column
                )));
            }
        }
        Ok(())
    }
}

/// Whether `name` is a valid variable name: the expression grammar's names
/// (an ASCII letter or `_`, then ASCII letters, digits or `_`).
pub use chainrule::symbolic::is_name;

/// A point's value: a number ([`parse_number`]) or a constant expression
/// of the expression grammar (`pi/2`, `2*π`, `sqrt(2)`, `1/2`). The error
/// says what is wrong (a variable in the value, a malformed expression).
pub fn parse_value(text: &str) -> Result<f64, String> {
    if let Some(v) = parse_number(text) {
        return Ok(v);
    }
    let syntax = chainrule::symbolic::parse_syntax(text).map_err(|e| e.to_string())?;
    if let Some(name) = syntax.variables().first() {
        return Err(format!(
            "'{name}' is a variable; a value is a number or a constant expression such as pi/2 or sqrt(2)"
        ));
    }
    syntax.eval::<f64>(|_| None).map_err(|e| e.to_string())
}

/// Splits `text` at the commas outside parentheses and bars (`x=atan2(1, 2),y=1`).
fn split_items(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth <= 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

/// Parses a number as written in a point: anything Rust reads as an f64
/// (`-3`, `2.5`, `1e-3`, `.5`, `inf`), and the constants `pi` and `e`
/// with an optional sign.
pub fn parse_number(text: &str) -> Option<f64> {
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    match body {
        "pi" => return Some(sign * std::f64::consts::PI),
        "e" => return Some(sign * std::f64::consts::E),
        _ => {}
    }
    // Rust accepts "infinity" and "NaN" spelled any way; accept only inf/nan.
    let lower = body.to_ascii_lowercase();
    if lower.starts_with("infinity")
        || lower.contains("nan")
        || body.starts_with('+')
        || body.starts_with('-')
    {
        return None;
    }
    body.parse::<f64>().ok().map(|v| sign * v)
}

fn parse_one(text: &str) -> CliResult<Vec<Binding>> {
    let mut out = Vec::new();
    if text.trim().is_empty() {
        return Err(CliError::new(
            "--at is empty: expected name=value[,name=value...]",
        ));
    }
    let mut start = 0usize; // byte offset of the current item
    for item in split_items(text) {
        let col = |byte: usize| text[..byte].chars().count() + 1;
        let lead = item.len() - item.trim_start().len();
        let trimmed = item.trim();
        let item_col = col(start + lead);
        if trimmed.is_empty() {
            return Err(CliError::new(format!(
                "--at has an empty entry at column {item_col}: expected name=value"
            )));
        }
        let Some(eq) = trimmed.find('=') else {
            return Err(CliError::new(format!(
                "--at entry {} at column {item_col} has no '=': expected name=value",
                quote(trimmed)
            )));
        };
        let name = trimmed[..eq].trim();
        let value = trimmed[eq + 1..].trim();
        if !is_name(name) {
            let what = if name.is_empty() {
                "an empty name".to_string()
            } else {
                format!("{} is not a variable name", quote(name))
            };
            return Err(CliError::new(format!(
                "--at has {what} at column {item_col}"
            )));
        }
        let value_byte = start
            + lead
            + eq
            + 1
            + (trimmed[eq + 1..].len() - trimmed[eq + 1..].trim_start().len());
        let v = parse_value(value);
        let Ok(v) = v else {
            let shown = if value.is_empty() {
                "an empty value".to_string()
            } else {
                format!(
                    "{} is not a number ({})",
                    quote(value),
                    v.err().unwrap_or_default()
                )
            };
            return Err(CliError::new(format!(
                "--at value of '{name}': {shown} (column {})",
                col(value_byte)
            )));
        };
        out.push(Binding {
            name: name.to_string(),
            value: v,
            column: item_col,
        });
        start += item.len() + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> CliResult<Point> {
        Point::parse_all(&[s.to_string()])
    }

    #[test]
    fn parses_names_and_numbers() {
        let p = parse("x=1,y=2.5,z=-3").unwrap();
        assert_eq!(p.get("x"), Some(1.0));
        assert_eq!(p.get("y"), Some(2.5));
        assert_eq!(p.get("z"), Some(-3.0));
        let p = parse(" theta = .5 , w_2=1e-3,a=-pi").unwrap();
        assert_eq!(p.get("theta"), Some(0.5));
        assert_eq!(p.get("w_2"), Some(0.001));
        assert_eq!(p.get("a"), Some(-std::f64::consts::PI));
        let keys: Vec<_> = p.to_map().into_keys().collect();
        assert_eq!(keys, ["a", "theta", "w_2"]);
    }

    #[test]
    fn errors_name_what_and_where() {
        let e = parse("x=1,y=abc").unwrap_err();
        assert!(e.message().contains("'abc' is not a number"), "{e}");
        assert!(e.message().contains("column 7"), "{e}");
        let e = parse("x=1,,y=2").unwrap_err();
        assert!(e.message().contains("empty entry at column 5"), "{e}");
        let e = parse("x=1,y").unwrap_err();
        assert!(e.message().contains("'y' at column 5 has no '='"), "{e}");
        let e = parse("1x=2").unwrap_err();
        assert!(
            e.message()
                .contains("'1x' is not a variable name at column 1"),
            "{e}"
        );
        let e = parse("x=1,x=2").unwrap_err();
        assert!(e.message().contains("'x' twice (column 5)"), "{e}");
        let e = parse("x=").unwrap_err();
        assert!(e.message().contains("empty value (column 3)"), "{e}");
        assert!(parse("").is_err());
        // A value is a constant expression of the grammar, where --1 is 1.
        assert_eq!(parse("x=--1").unwrap().get("x"), Some(1.0));
        assert!(parse("x=infinity").is_err());
        assert_eq!(parse("x=inf").unwrap().get("x"), Some(f64::INFINITY));
        let e = parse("x=2*y").unwrap_err();
        assert!(e.message().contains("'y' is a variable"), "{e}");
    }

    #[test]
    fn values_are_constant_expressions() {
        use std::f64::consts::PI;
        let p = parse("a=pi/2,b=2*pi,c=sqrt(2),d=1/2,e=atan2(1, 1),f=-π,g=2^-1,h=√4").unwrap();
        assert_eq!(p.get("a"), Some(PI / 2.0));
        assert_eq!(p.get("b"), Some(2.0 * PI));
        assert_eq!(p.get("c"), Some(2f64.sqrt()));
        assert_eq!(p.get("d"), Some(0.5));
        assert_eq!(p.get("e"), Some(PI / 4.0));
        assert_eq!(p.get("f"), Some(-PI));
        assert_eq!(p.get("g"), Some(0.5));
        assert_eq!(p.get("h"), Some(2.0));
    }

    #[test]
    fn coverage_reports_missing_and_extra() {
        let p = parse("x=1,w=2").unwrap();
        let vars = vec!["x".to_string(), "y".to_string()];
        let e = p.check_covers(&vars, |_| Some(5)).unwrap_err();
        assert!(e.message().contains("no value for variable 'y'"), "{e}");
        assert!(e.message().contains("column 5"), "{e}");
        let p = parse("x=1,y=2,w=3").unwrap();
        let e = p.check_covers(&vars, |_| None).unwrap_err();
        assert!(e.message().contains("'w' at column 9"), "{e}");
        assert!(parse("y=2,x=1")
            .unwrap()
            .check_covers(&vars, |_| None)
            .is_ok());
    }
}
