//! The binary end to end in smoke mode: every workload prints valid lines
//! whose checks match the closed forms worked out here.

use std::process::Command;

fn run(args: &[&str]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule-bench"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn smoke_runs_every_workload_with_agreeing_checks() {
    let (stdout, stderr, ok) = run(&["--workload", "all", "--smoke"]);
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("disagreement"), "{stderr}");
    // Notes stay ASCII: Python's json.dumps would escape anything else.
    assert!(stdout.is_ascii());
    let lines = lines(&stdout);
    for w in ["W1", "W2", "W3", "W4", "W5", "W6", "W7"] {
        assert!(lines.iter().any(|l| l["workload"] == w), "no line for {w}");
    }
    // The tape runs every workload it has an entry for; its checks are
    // compared with chainrule-manual's above (no "disagreement").
    for w in ["W1", "W2", "W3", "W4", "W7"] {
        let eager = lines
            .iter()
            .filter(|l| l["workload"] == w && l["impl"] == "chainrule-eager")
            .count();
        assert!(eager > 0, "no chainrule-eager line for {w}");
    }
    for l in &lines {
        assert!(l["seconds"].as_f64().is_some_and(|s| s >= 0.0), "{l}");
        assert!(l["check"].as_f64().is_some_and(f64::is_finite), "{l}");
        for key in ["workload", "impl", "size", "unit"] {
            assert!(l[key].is_string(), "{l}");
        }
    }
    let check = |w: &str, size: &str| {
        lines
            .iter()
            .find(|l| l["workload"] == w && l["size"] == size)
            .and_then(|l| l["check"].as_f64())
            .unwrap_or_else(|| panic!("no {w} {size}"))
    };
    // W2 n = 4: w_20 = 2 − 2·0.85^20 (the contraction w − 2 ↦ 0.85(w − 2)).
    assert!((check("W2", "n=4") - (2.0 - 2.0 * 0.85f64.powi(20))).abs() < 1e-12);
    // W5 k = 4: the seed's fourth derivative of tanh at 0.5.
    assert!((check("W5", "k=4") - 3.9522195637245825).abs() < 1e-13);
    // W6: ∂f/∂x_1 = e^0.1/1.04·(0.2 cos 0.02 + sin 0.02).
    let d1 = 0.1f64.exp() / 1.04 * (0.2 * 0.02f64.cos() + 0.02f64.sin());
    assert!((check("W6", "m=50") - d1).abs() < 1e-14);
    // Every implementation of a size, not only the first: chainrule's
    // autodiff lines against the same closed forms.
    let all = |w: &str, size: &str| -> Vec<(String, f64)> {
        lines
            .iter()
            .filter(|l| l["workload"] == w && l["size"] == size && l["unit"] != "ops")
            .map(|l| {
                (
                    l["impl"].to_string(),
                    l["check"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect()
    };
    let w2 = 2.0 - 2.0 * 0.85f64.powi(20);
    for (who, v) in all("W2", "n=4") {
        assert!((v - w2).abs() < 1e-12, "W2 n=4 {who}: {v}");
    }
    for (who, v) in all("W5", "k=4") {
        assert!((v - 3.9522195637245825).abs() < 1e-12, "W5 k=4 {who}: {v}");
    }
    for (who, v) in all("W6", "m=50") {
        assert!((v - d1).abs() < 1e-14, "W6 {who}: {v}");
    }
    // W1: dh/dw of the compiled program and of the hand-written sweep.
    let w1 = all("W1", "K=25000");
    assert!(w1.len() >= 3, "{w1:?}");
    for (who, v) in &w1 {
        assert!((v - w1[0].1).abs() < 1e-12 * w1[0].1, "W1 {who}: {v}");
    }
    for needed in [
        ("W1", "chainrule-compiled"),
        ("W2", "chainrule-compiled"),
        ("W5", "chainrule-taylor"),
        ("W5", "chainrule-eager"),
        ("W5", "chainrule-symbolic"),
        ("W6", "chainrule-symbolic"),
        ("W6", "chainrule-compiled"),
        ("W4", "chainrule-matrix"),
        ("W9", "chainrule-sparse"),
        ("W9", "chainrule-manual"),
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l["workload"] == needed.0 && l["impl"] == needed.1),
            "no {needed:?} line"
        );
    }
    // W6: the formulas have at most SymPy's and SymEngine's 1,422 nodes.
    let ops = lines
        .iter()
        .find(|l| l["workload"] == "W6" && l["unit"] == "ops")
        .and_then(|l| l["seconds"].as_f64())
        .expect("a W6 ops line");
    assert!((1.0..=1422.0).contains(&ops), "{ops}");
    // W3: a first loss near ln 10 in both precisions.
    assert!((check("W3", "f64") - 10f64.ln()).abs() < 0.1);
    assert!((check("W3", "f32") - check("W3", "f64")).abs() < 1e-5);
}

#[test]
fn list_and_filters() {
    let (stdout, _, ok) = run(&["--list", "--workload", "W5", "--impl", "chainrule-manual"]);
    assert!(ok);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 6, "{stdout}");
    assert!(rows.contains(&"W5\tchainrule-manual\tk=16\ts/eval"));
    let (_, stderr, ok) = run(&["--workload", "W5", "--impl", "torch"]);
    assert!(
        !ok && stderr.contains("no implementation torch"),
        "{stderr}"
    );
    let (_, stderr, ok) = run(&["--workload", "W10"]);
    assert!(!ok && stderr.contains("no workload W10"), "{stderr}");
}
