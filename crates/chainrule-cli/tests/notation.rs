//! The notation corpus (`tests/corpus/notation.txt`): every case is run
//! through the library parser and through the `chainrule` binary, which
//! must accept exactly the same expressions, with the same values, and
//! refuse the others with a message that says what to write instead.

use std::process::Command;

use chainrule::symbolic::parse_syntax;

enum Expect {
    Accept {
        point: Vec<(String, String)>,
        value: f64,
    },
    Refuse {
        hint: String,
    },
}

struct Case {
    line: usize,
    expr: String,
    expect: Expect,
}

fn corpus() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/notation.txt");
    let text = std::fs::read_to_string(path).expect("read the corpus");
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(" | ").collect();
        let expect = match fields[..] {
            ["accept", _, point, value] => Expect::Accept {
                point: if point == "-" {
                    Vec::new()
                } else {
                    point
                        .split(',')
                        .map(|kv| {
                            let (k, v) = kv.split_once('=').expect("name=value");
                            (k.to_string(), v.to_string())
                        })
                        .collect()
                },
                value: value.parse().expect("a number"),
            },
            ["refuse", _, hint] => Expect::Refuse {
                hint: hint.to_string(),
            },
            _ => panic!("line {}: malformed case {line:?}", i + 1),
        };
        cases.push(Case {
            line: i + 1,
            expr: fields[1].to_string(),
            expect,
        });
    }
    cases
}

/// A constant expression's value, by the library.
fn constant(text: &str) -> f64 {
    parse_syntax(text)
        .and_then(|s| s.eval::<f64>(|_| None))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

fn cli(expr: &str, point: &str) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chainrule"));
    cmd.args(["grad", "--json"]);
    if !point.is_empty() {
        cmd.args(["--at", point]);
    }
    let out = cmd.args(["--", expr]).output().expect("run chainrule");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_library_and_the_command_line_read_the_same_language() {
    let cases = corpus();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let lib = parse_syntax(&c.expr);
        let fail = |what: String| format!("line {}: {:?}: {what}", c.line, c.expr);
        match &c.expect {
            Expect::Accept { point, value } => {
                let env: Vec<(String, f64)> = point
                    .iter()
                    .map(|(k, v)| (k.clone(), constant(v)))
                    .collect();
                match &lib {
                    Ok(s) => {
                        let got = s
                            .eval::<f64>(|n| env.iter().find(|(k, _)| k == n).map(|kv| kv.1))
                            .unwrap();
                        if !close(got, *value) {
                            failures.push(fail(format!("library gives {got}, expected {value}")));
                        }
                    }
                    Err(e) => failures.push(fail(format!("library refuses: {e}"))),
                }
                let at: Vec<String> = point.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let (code, stdout, stderr) = cli(&c.expr, &at.join(","));
                if code != 0 {
                    failures.push(fail(format!("the CLI refuses (exit {code}): {stderr}")));
                    continue;
                }
                let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
                let got = json["value"].as_f64().unwrap_or(f64::NAN);
                if !close(got, *value) {
                    failures.push(fail(format!("the CLI gives {got}, expected {value}")));
                }
            }
            Expect::Refuse { hint } => {
                match &lib {
                    Ok(_) => failures.push(fail("library accepts".into())),
                    Err(e) if !e.to_string().contains(hint.as_str()) => {
                        failures.push(fail(format!("library says {e:?}, not {hint:?}")))
                    }
                    Err(_) => {}
                }
                let (code, stdout, stderr) = cli(&c.expr, "x=1");
                if code != 2 || !stdout.is_empty() {
                    failures.push(fail(format!("the CLI exits {code} with {stdout:?}")));
                } else if !stderr.contains(hint.as_str()) || stderr.lines().count() != 1 {
                    failures.push(fail(format!("the CLI says {stderr:?}, not {hint:?}")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
