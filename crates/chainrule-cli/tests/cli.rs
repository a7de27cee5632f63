//! Runs the built `chainrule` binary on the case files under `tests/cases/`
//! (one file per command). A case gives the arguments, the exit code, and
//! what stdout, stderr, the JSON object and written files must hold.
//!
//! Every case also checks the contract's invariants: on exit 2 nothing on
//! stdout and exactly one line on stderr starting with `error: `; with
//! `--json`, stdout is exactly one JSON object.
//!
//! Expected JSON fields are keyed by dotted paths (`gradient.x`,
//! `hessian.0.1`). A number matches within the case's relative tolerance
//! (`tol`, default 1e-12; `atol` for values that should be 0); a string,
//! bool or array must match exactly (arrays elementwise, numbers within
//! tolerance); an inline table states a looser rule: `{ approx = v, tol = t }`,
//! `{ max = v }`, `{ min = v }`, `{ contains = "text" }`, `{ not = v }`,
//! `{ len = n }`, `{ null = true }`.

use std::path::PathBuf;
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct CaseFile {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    args: Vec<String>,
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    tol: Option<f64>,
    #[serde(default)]
    atol: Option<f64>,
    #[serde(default)]
    json: Option<toml::Table>,
    /// The object's top-level keys, exactly (in any order).
    #[serde(default)]
    keys: Option<Vec<String>>,
    /// Top-level keys that must not be present.
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stdout_lacks: Vec<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    /// The file written by the command ({tmp} in args is a fresh directory).
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    file_contains: Vec<String>,
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chainrule"))
}

fn tmp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-cli-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs the binary; returns (exit code, stdout, stderr).
pub fn run(args: &[String]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run chainrule");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A JSON value as text, cut short for failure messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 300 {
        format!("{}...", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

fn num_close(actual: f64, expected: f64, tol: f64, atol: f64) -> bool {
    actual == expected
        || (actual - expected).abs() <= tol * actual.abs().max(expected.abs())
        || (actual - expected).abs() <= atol
}

/// Compares one JSON value with its expectation; Err says how it differs.
fn matches(actual: &Value, expected: &toml::Value, tol: f64, atol: f64) -> Result<(), String> {
    use toml::Value as T;
    let fail = || Err(format!("got {}, expected {expected}", short(actual)));
    match expected {
        T::Integer(_) | T::Float(_) => {
            let e = match expected {
                T::Integer(i) => *i as f64,
                T::Float(f) => *f,
                _ => unreachable!(),
            };
            match actual.as_f64() {
                // A JSON number, never the strings of inf and nan.
                Some(a) if actual.is_number() && num_close(a, e, tol, atol) => Ok(()),
                _ => fail(),
            }
        }
        T::String(s) => match actual.as_str() {
            Some(a) if a == s => Ok(()),
            _ => fail(),
        },
        T::Boolean(b) => match actual.as_bool() {
            Some(a) if a == *b => Ok(()),
            _ => fail(),
        },
        T::Array(items) => match actual.as_array() {
            Some(a) if a.len() == items.len() => {
                for (i, (av, ev)) in a.iter().zip(items).enumerate() {
                    matches(av, ev, tol, atol).map_err(|e| format!("[{i}]: {e}"))?;
                }
                Ok(())
            }
            _ => fail(),
        },
        T::Table(rule) => {
            let t = rule
                .get("tol")
                .and_then(toml::Value::as_float)
                .unwrap_or(tol);
            let at = rule
                .get("atol")
                .and_then(toml::Value::as_float)
                .unwrap_or(atol);
            let f = |k: &str| {
                rule.get(k)
                    .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
            };
            if let Some(want) = rule.get("null").and_then(toml::Value::as_bool) {
                return if actual.is_null() == want {
                    Ok(())
                } else {
                    Err(format!("got {}, expected null: {want}", short(actual)))
                };
            }
            if let Some(e) = rule.get("approx") {
                return matches(actual, e, t, at);
            }
            if let Some(m) = f("max") {
                return match actual.as_f64() {
                    Some(a) if a <= m => Ok(()),
                    _ => Err(format!("got {actual}, expected at most {m}")),
                };
            }
            if let Some(m) = f("min") {
                // A number at least m, or an array with at least m items.
                let got = actual
                    .as_f64()
                    .or(actual.as_array().map(|a| a.len() as f64));
                return match got {
                    Some(a) if a >= m => Ok(()),
                    _ => Err(format!("got {}, expected at least {m}", short(actual))),
                };
            }
            if let Some(s) = rule.get("contains").and_then(toml::Value::as_str) {
                return match actual.as_str() {
                    Some(a) if a.contains(s) => Ok(()),
                    _ => Err(format!("got {actual}, expected a string containing {s:?}")),
                };
            }
            if let Some(n) = rule.get("not") {
                return match matches(actual, n, t, at) {
                    Ok(()) => Err(format!("got {actual}, expected anything but {n}")),
                    Err(_) => Ok(()),
                };
            }
            if let Some(n) = rule.get("len").and_then(toml::Value::as_integer) {
                let len = actual
                    .as_array()
                    .map(Vec::len)
                    .or_else(|| actual.as_object().map(|o| o.len()));
                return match len {
                    Some(l) if l as i64 == n => Ok(()),
                    _ => Err(format!("got {actual}, expected length {n}")),
                };
            }
            Err(format!("unknown rule {expected}"))
        }
        other => Err(format!("unsupported expectation {other}")),
    }
}

/// Runs one case; returns every way it failed.
fn check_case(case: &Case, dir: &std::path::Path) -> Vec<String> {
    let mut errs = Vec::new();
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| a.replace("{tmp}", &dir.to_string_lossy()))
        .collect();
    let (code, stdout, stderr) = run(&args);
    if code != case.exit {
        errs.push(format!(
            "exit code {code}, expected {} (stderr: {stderr:?})",
            case.exit
        ));
    }
    if code == 2 {
        if !stdout.is_empty() {
            errs.push(format!("exit 2 but stdout is not empty: {stdout:?}"));
        }
        let lines: Vec<&str> = stderr.lines().collect();
        if lines.len() != 1 || !lines[0].starts_with("error: ") {
            errs.push(format!(
                "stderr must be one line starting with 'error: ', got {stderr:?}"
            ));
        }
        if stderr.contains("panicked") || stderr.contains("internal error") {
            errs.push(format!("a panic: {stderr:?}"));
        }
    } else if !stderr.is_empty() {
        errs.push(format!("unexpected stderr: {stderr:?}"));
    }
    let wants_json = args.iter().any(|a| a == "--json") && code != 2;
    if wants_json {
        let trimmed = stdout.trim_end_matches('\n');
        if trimmed.contains('\n') {
            errs.push("--json output is more than one line".to_string());
        }
        match serde_json::from_str::<Value>(trimmed) {
            Ok(v) if v.is_object() => {
                if let Some(keys) = &case.keys {
                    let mut got: Vec<&String> = v
                        .as_object()
                        .map(|o| o.keys().collect())
                        .unwrap_or_default();
                    let mut want: Vec<&String> = keys.iter().collect();
                    got.sort();
                    want.sort();
                    if got != want {
                        errs.push(format!("keys {got:?}, expected {want:?}"));
                    }
                }
                for k in &case.absent {
                    if v.get(k).is_some() {
                        errs.push(format!("key {k:?} should be absent"));
                    }
                }
                let tol = case.tol.unwrap_or(1e-12);
                let atol = case.atol.unwrap_or(0.0);
                for (path, expected) in case.json.iter().flatten() {
                    match lookup(&v, path) {
                        None => errs.push(format!("{path}: missing")),
                        Some(actual) => {
                            if let Err(e) = matches(actual, expected, tol, atol) {
                                errs.push(format!("{path}: {e}"));
                            }
                        }
                    }
                }
            }
            Ok(_) => errs.push("--json output is not an object".to_string()),
            Err(e) => errs.push(format!("--json output is not JSON ({e}): {stdout:?}")),
        }
    } else if case.json.is_some() {
        errs.push("the case expects JSON but the command does not print it".to_string());
    }
    for s in &case.stdout_contains {
        if !stdout.contains(s.as_str()) {
            errs.push(format!("stdout lacks {s:?}"));
        }
    }
    for s in &case.stdout_lacks {
        if stdout.contains(s.as_str()) {
            errs.push(format!("stdout has {s:?}"));
        }
    }
    for s in &case.stderr_contains {
        if !stderr.contains(s.as_str()) {
            errs.push(format!("stderr {stderr:?} lacks {s:?}"));
        }
    }
    if let Some(f) = &case.file {
        let path = f.replace("{tmp}", &dir.to_string_lossy());
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for s in &case.file_contains {
                    if !text.contains(s.as_str()) {
                        errs.push(format!("{path} lacks {s:?}"));
                    }
                }
            }
            Err(e) => errs.push(format!("{path}: {e}")),
        }
    }
    errs
}

fn run_file(name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("case file");
    let file: CaseFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let dir = tmp_dir(name.trim_end_matches(".toml"));
    let mut failures = Vec::new();
    for case in &file.case {
        let errs = check_case(case, &dir);
        if !errs.is_empty() {
            failures.push(format!(
                "{} ({:?}):\n    {}",
                case.name,
                case.args,
                errs.join("\n    ")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} of {} cases in {name} failed:\n{}",
        failures.len(),
        file.case.len(),
        failures.join("\n")
    );
}

#[test]
fn grad_cases() {
    run_file("grad.toml");
}

#[test]
fn hessian_cases() {
    run_file("hessian.toml");
}

/// `hessian --sparse` on 1,500 variables, over the dense limit of 1,000:
/// Σ (x_i − x_{i+1})² + x_i⁴ has a tridiagonal Hessian, 2 + 12x_i² (+ 2 for
/// inner variables) on the diagonal and −2 beside it.
#[test]
fn sparse_hessian_of_many_variables() {
    let n = 1500;
    let name = |i: usize| format!("v{i:04}");
    let expr: Vec<String> = (0..n)
        .map(|i| {
            if i + 1 < n {
                format!("({} - {})^2 + {}^4", name(i), name(i + 1), name(i))
            } else {
                format!("{}^4", name(i))
            }
        })
        .collect();
    let at: Vec<String> = (0..n)
        .map(|i| format!("{}={}", name(i), (i % 7) as f64 * 0.25))
        .collect();
    let mut args: Vec<String> = vec![
        "hessian".into(),
        expr.join(" + "),
        "--at".into(),
        at.join(","),
    ];
    let (code, _, err) = run(&args);
    assert_eq!(code, 2, "dense: over --max-vars");
    assert!(err.contains("--max-vars"), "{err}");
    args.extend(["--sparse".into(), "--json".into()]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("one JSON object");
    let h = &v["hessian_sparse"];
    assert_eq!(h["nnz"], 3 * n - 2);
    assert_eq!(
        h["colors"], 3,
        "a path needs three colours: no two-coloured path on four vertices"
    );
    let entries = h["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3 * n - 2);
    for e in entries {
        let (r, c) = (e[0].as_str().unwrap(), e[1].as_str().unwrap());
        let i: usize = r[1..].parse().unwrap();
        let j: usize = c[1..].parse().unwrap();
        let x = (i % 7) as f64 * 0.25;
        let expected = if i == j {
            let inner = if i > 0 && i + 1 < n { 4.0 } else { 2.0 };
            12.0 * x * x + inner
        } else {
            assert_eq!(i.abs_diff(j), 1);
            -2.0
        };
        assert_eq!(e[2].as_f64().unwrap(), expected, "{r}, {c}");
    }
}

#[test]
fn diff_cases() {
    run_file("diff.toml");
}

#[test]
fn taylor_cases() {
    run_file("taylor.toml");
}

#[test]
fn check_cases() {
    run_file("check.toml");
}

#[test]
fn explain_cases() {
    run_file("explain.toml");
}

#[test]
fn graph_cases() {
    run_file("graph.toml");
}

#[test]
fn tour_cases() {
    run_file("tour.toml");
}

#[test]
fn matrix_cases() {
    run_file("matrix.toml");
}

#[test]
fn error_cases() {
    run_file("errors.toml");
}

#[test]
fn strong_zero_cases() {
    run_file("strong_zeros.toml");
}

#[test]
fn help_for_every_command() {
    for sub in [
        "grad", "hessian", "diff", "taylor", "check", "explain", "graph", "matrix", "tour",
    ] {
        let (code, out, err) = run(&[sub.to_string(), "--help".to_string()]);
        assert_eq!(code, 0, "{sub} --help: {err}");
        assert!(
            out.contains("Example"),
            "{sub} --help has no example:\n{out}"
        );
        assert!(
            out.contains(&format!("chainrule {sub}")),
            "{sub} --help example does not use the command"
        );
    }
    let (code, out, _) = run(&["--help".to_string()]);
    assert_eq!(code, 0);
    assert!(out.contains("tour") && out.contains("grad"));
}

/// A 100,000-character flat sum parses and differentiates.
#[test]
fn hundred_thousand_character_input() {
    let expr = format!("{}x", "x+".repeat(49_999));
    assert_eq!(expr.len(), 99_999);
    let (code, out, err) = run(&[
        "grad".into(),
        expr,
        "--at".into(),
        "x=1".into(),
        "--json".into(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["value"], 50_000.0);
    assert_eq!(v["gradient"]["x"], 50_000.0);
    assert_eq!(v["symbolic"]["x"], "50000");
    // The same size of input for every other command.
    let expr = format!("{}x", "x*".repeat(2)) + &"+x".repeat(49_990);
    let dir = tmp_dir("long");
    let svg = dir.join("long.svg").to_string_lossy().into_owned();
    let runs: Vec<Vec<String>> = vec![
        vec![
            "hessian".into(),
            expr.clone(),
            "--at".into(),
            "x=1".into(),
            "--json".into(),
        ],
        vec![
            "explain".into(),
            expr.clone(),
            "--at".into(),
            "x=1".into(),
            "--json".into(),
        ],
        vec!["explain".into(), expr.clone(), "--at".into(), "x=1".into()],
        vec!["diff".into(), expr.clone(), "--json".into()],
        vec![
            "taylor".into(),
            expr.clone(),
            "--at".into(),
            "x=1".into(),
            "--order".into(),
            "3".into(),
            "--json".into(),
        ],
        vec![
            "check".into(),
            expr.clone(),
            "--analytic".into(),
            "3*x^2 + 49990".into(),
            "--at".into(),
            "x=1".into(),
            "--json".into(),
        ],
        vec![
            "graph".into(),
            expr.clone(),
            "--at".into(),
            "x=1".into(),
            "-o".into(),
            svg.clone(),
        ],
    ];
    for args in runs {
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{}: {err}", args[0]);
        if args.iter().any(|a| a == "--json") {
            let v: Value = serde_json::from_str(out.trim()).unwrap();
            // f = x^3 + 49990 x: f(1) = 49991, f'(1) = 49993.
            match args[0].as_str() {
                "hessian" => {
                    assert_eq!(v["gradient"]["x"], 49_993.0);
                    assert_eq!(v["hessian"][0][0], 6.0);
                }
                "explain" => assert_eq!(v["gradient"]["x"], 49_993.0),
                "taylor" => {
                    let d: Vec<f64> = v["derivatives"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_f64().unwrap())
                        .collect();
                    assert_eq!(d, [49_991.0, 49_993.0, 6.0, 6.0]);
                }
                "check" => assert_eq!(v["agree"], true),
                _ => {}
            }
        }
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("</svg>"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Deep nesting is refused with exit 2 and one line, never a crash.
#[test]
fn ten_thousand_nested_parentheses() {
    let deep = [
        format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}x{}", "sin(".repeat(10_000), ")".repeat(10_000)),
        format!("{}x", "-".repeat(10_000)),
        format!("x{}", "^x".repeat(10_000)),
        format!("{}x", "(".repeat(10_000)),
    ];
    for expr in deep {
        for cmd in ["grad", "explain", "hessian"] {
            let (code, out, err) = run(&[
                cmd.into(),
                "--at".into(),
                "x=1".into(),
                "--".into(),
                expr.clone(),
            ]);
            assert_eq!(code, 2, "{cmd} {}...: {err}", &expr[..20]);
            assert!(out.is_empty());
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.starts_with("error: "), "{err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    // Just under the limit is fine.
    let ok = format!("{}x{}", "(".repeat(500), ")".repeat(500));
    let (code, _, err) = run(&["grad".into(), ok, "--at".into(), "x=1".into()]);
    assert_eq!(code, 0, "{err}");
}

/// Arbitrary junk never panics: every input gives exit 0, 1 or 2, and
/// exit 2 comes with one line.
#[test]
fn junk_never_panics() {
    let junk = [
        "",
        " ",
        "(",
        ")",
        "()",
        "x(",
        "x)",
        "+",
        "*",
        "^",
        "x^",
        "x**",
        "1e",
        "1e+",
        "..5",
        "1.2.3",
        "x y",
        "2x",
        "x2(",
        "sin",
        "sin()",
        "sin(,)",
        "pow(x)",
        "pow(x,,y)",
        "log(x,2,3)",
        "é",
        "x²",
        "\u{200b}x",
        "\\",
        "$x",
        "x=1",
        "--",
        "-",
        "--x",
        "e^e^e",
        "pi(x)",
        "x,y",
        "9999999999999999999999999999999999999",
        "1e999*x",
        "atan2(1)",
        "max()",
        "relu(x, x)",
    ];
    for expr in junk {
        for cmd in ["grad", "diff", "explain", "hessian"] {
            let mut args = vec![cmd.to_string(), "--json".into()];
            if cmd != "diff" {
                args.push("--at".into());
                args.push("x=1".into());
            }
            args.push("--".into());
            args.push(expr.into());
            let (code, out, err) = run(&args);
            assert!(matches!(code, 0 | 2), "{cmd} {expr:?}: exit {code}, {err}");
            if code == 2 {
                assert!(out.is_empty(), "{cmd} {expr:?}");
                assert_eq!(err.lines().count(), 1, "{cmd} {expr:?}: {err}");
            } else {
                serde_json::from_str::<Value>(out.trim())
                    .unwrap_or_else(|e| panic!("{cmd} {expr:?}: {e}"));
            }
        }
    }
}

#[test]
fn matrix_junk_never_panics() {
    let exprs = [
        "",
        "'",
        "x'''",
        "A*",
        "tr()",
        "tr(A, B)",
        "inv(x)",
        "A.*",
        "x.^",
        "ones()",
        "zeros(1, 2, 3)",
        "ones(n)'*x",
        "I",
        "x*y",
        "A*x*y",
        "det(x)",
        "diag(1)",
        "(A + B)'*",
        ".*",
        "x.",
        "1e999*x'*x",
        "x'*x + A",
        "sum(A*x)^x",
        "norm2(A)",
        "c*x",
        "x./0",
    ];
    let ats = [
        None,
        Some(r#"{"x": "a"}"#),
        Some("[1]"),
        Some(r#"{"x": [[1], [2, 3]]}"#),
        Some(r#"{"x": []}"#),
        Some(r#"{"x": [1, null]}"#),
        Some(r#"{"x": 1e999}"#),
        Some(r#"{"x": [1, 2], "A": [[1, 2], [3, 4]]}"#),
    ];
    for expr in exprs {
        for at in ats {
            let mut args = vec!["matrix".to_string(), "--json".into()];
            if let Some(at) = at {
                args.push("--at".into());
                args.push(at.into());
            }
            args.push("--".into());
            args.push(expr.into());
            let (code, out, err) = run(&args);
            assert!(matches!(code, 0..=2), "{expr:?} {at:?}: exit {code}, {err}");
            if code == 2 {
                assert!(out.is_empty(), "{expr:?} {at:?}");
                assert_eq!(err.lines().count(), 1, "{expr:?} {at:?}: {err}");
            } else {
                serde_json::from_str::<Value>(out.trim())
                    .unwrap_or_else(|e| panic!("{expr:?} {at:?}: {e}"));
            }
        }
    }
}

/// `hessian --sparse` of a Hessian that is in fact dense, (x1 + … + x3000)²
/// (9·10⁶ nonzeros): refused with the `--max-vars` budget line while the
/// pattern is still being detected, not after minutes of colouring (it ran
/// past 60 s before the detection learnt the limit).
#[test]
fn sparse_hessian_of_a_dense_function_stops_at_the_budget() {
    let n = 3000;
    let sum: Vec<String> = (1..=n).map(|i| format!("x{i}")).collect();
    let at: Vec<String> = (1..=n).map(|i| format!("x{i}=0.1")).collect();
    let args: Vec<String> = vec![
        "hessian".into(),
        format!("({})^2", sum.join(" + ")),
        "--at".into(),
        at.join(","),
        "--sparse".into(),
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 2, "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("exceeds the limit of 1000000 (--max-vars 1000, squared)"),
        "{err}"
    );
}

#[path = "../../chainrule/tests/common/sinc.rs"]
mod sinc;
use sinc::sinc_closed;

/// Issue 17: `diff` and `hessian` of sinc at 0 gave NaN (the formula
/// (cos x − sinc x)/x is 0/0 there). Every command now gives the limits
/// sinc′(0) = 0, sinc″(0) = −1/3, and the closed forms near 0 and at 1.3;
/// the printed derivative uses only names the grammar reads back.
#[test]
fn sinc_at_zero_in_every_command() {
    let json = |args: &[&str]| -> Value {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str(out.trim()).expect("one JSON object")
    };
    let num = |v: &Value, path: &str| lookup(v, path).and_then(Value::as_f64).unwrap();
    for x in ["0", "1e-9", "1.3"] {
        let at = format!("x={x}");
        let want = sinc_closed(x.parse().unwrap());
        let close = |got: f64, k: usize, what: &str| {
            assert!(
                (got - want[k]).abs() <= 1e-13 * want[k].abs().max(1e-3),
                "{what} at {x}: {got}, closed form {}",
                want[k]
            );
        };
        for k in 1..=4 {
            let order = k.to_string();
            let d = json(&["diff", "sinc(x)", "--order", &order, "--at", &at, "--json"]);
            close(num(&d, "value"), k, &format!("diff --order {k}"));
            // The printed formula parses and evaluates to the same value.
            let formula = lookup(&d, "derivative").and_then(Value::as_str).unwrap();
            if k == 1 {
                assert_eq!(formula, "-spherical_jn(1, x)");
            }
            let again = json(&["grad", &format!("0*x + {formula}"), "--at", &at, "--json"]);
            close(num(&again, "value"), k, &format!("the formula {formula}"));
        }
        let h = json(&["hessian", "sinc(x)", "--at", &at, "--json"]);
        close(num(&h, "gradient.x"), 1, "hessian's gradient");
        close(num(&h, "hessian.0.0"), 2, "hessian");
        let g = json(&["grad", "sinc(x)", "--at", &at, "--json"]);
        close(num(&g, "gradient.x"), 1, "grad");
        assert_eq!(lookup(&g, "check.ok"), Some(&Value::Bool(true)));
        let t = json(&["taylor", "sinc(x)", "--at", &at, "--order", "4", "--json"]);
        for k in 0..=4 {
            close(num(&t, &format!("derivatives.{k}")), k, "taylor");
        }
    }
    // The order of spherical_jn is a whole number, and it takes two arguments.
    for (bad, says) in [
        (
            "spherical_jn(1.5, x)",
            "not '1.5': write spherical_jn(2, x)",
        ),
        ("spherical_jn(x)", "'spherical_jn' takes 2 arguments, got 1"),
    ] {
        let (code, _, err) = run(&["diff".into(), bad.into()]);
        assert_eq!(code, 2, "{bad}");
        assert!(
            err.contains(says) && err.lines().count() == 1,
            "{bad}: {err}"
        );
    }
}
