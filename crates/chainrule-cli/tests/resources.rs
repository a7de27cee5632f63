//! Issue 16's resource test: each pathological input finishes within 10 s
//! of CPU time and 1 GB of address space (enforced by `ulimit -t` and
//! `ulimit -v` on the binary), or exits 2 with one line naming the limit it
//! hit and the flag that raises it.

use std::process::Command;

/// Runs the binary under the limits; (exit code, stdout, stderr). A process
/// killed by a limit has no exit code: -1.
fn run_limited(args: &[String]) -> (i32, String, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && ulimit -t 10 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .output()
        .expect("sh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Finishes (exit 0), or exits 2 with one line that names `flag`.
fn finishes_or_budget(a: Vec<String>, flag: &str) -> (i32, String, String) {
    let (code, out, err) = run_limited(&a);
    let shown = format!("{:?}", &a[..a.len().min(3)]);
    match code {
        0 => assert!(!out.is_empty(), "{shown}"),
        2 => {
            assert_eq!(err.lines().count(), 1, "{shown}: {err}");
            assert!(err.contains(flag), "{shown}: {err}");
            assert!(out.is_empty(), "{shown}");
        }
        _ => panic!("{shown}: exit {code} (killed by a limit?) {err}"),
    }
    (code, out, err)
}

fn sum_of(n: usize) -> (String, String) {
    let expr = (0..n)
        .map(|i| format!("x{i}"))
        .collect::<Vec<_>>()
        .join("+");
    let at = (0..n)
        .map(|i| format!("x{i}=1"))
        .collect::<Vec<_>>()
        .join(",");
    (expr, at)
}

#[test]
fn diff_of_x_to_the_x_at_order_14() {
    finishes_or_budget(args(&["diff", "x^x", "--order", "14"]), "--max-nodes");
    finishes_or_budget(
        args(&["diff", "x^x", "--order", "14", "--json"]),
        "--max-nodes",
    );
    // A small budget is hit, and says so.
    let (code, _, err) = run_limited(&args(&["diff", "x^x", "--order", "6", "--max-nodes", "50"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-nodes"), "{err}");
}

#[test]
fn diff_of_a_thousand_nested_sines_at_order_2() {
    let deep = format!("{}x{}", "sin(".repeat(999), ")".repeat(999));
    finishes_or_budget(args(&["diff", &deep, "--order", "2"]), "--max-nodes");
    finishes_or_budget(
        args(&["diff", &deep, "--order", "2", "--at", "x=0.5"]),
        "--max-nodes",
    );
}

#[test]
fn grad_of_a_sum_of_2000_variables_is_fast() {
    let (expr, at) = sum_of(2000);
    let (code, out, _) =
        finishes_or_budget(args(&["grad", &expr, "--at", &at, "--json"]), "--budget");
    assert_eq!(code, 0);
    assert!(
        out.contains("\"ok\":true") || out.contains("\"ok\": true"),
        "{:.300}",
        out
    );
}

#[test]
fn ten_thousand_variables() {
    let (expr, at) = sum_of(10_000);
    let (code, _, err) = finishes_or_budget(args(&["hessian", &expr, "--at", &at]), "--max-vars");
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = finishes_or_budget(args(&["grad", &expr, "--at", &at]), "--budget");
    assert_eq!(code, 2, "{err}");
    // Raised budgets are honoured (the check of a sum is cheap per node).
    finishes_or_budget(
        args(&[
            "check",
            &expr,
            "--wrt",
            "x0",
            "--analytic",
            "1",
            "--at",
            &at,
        ]),
        "--",
    );
}

#[test]
fn control_characters_in_a_point_are_escaped() {
    let (code, out, err) = run_limited(&args(&["grad", "x", "--at", "x=1\r\u{1b}[31mFAKE OK"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(!err.trim_end().chars().any(char::is_control), "{err:?}");
    assert!(err.contains("\\r") && err.contains("\\x1b"), "{err:?}");
    let long = "y".repeat(300);
    let (code, _, err) = run_limited(&args(&["grad", &format!("x + {long}("), "--at", "x=1"]));
    assert_eq!(code, 2);
    assert!(err.contains("at column"), "{err}");
}
