//! `chainrule tour`: every exercise of the seeds (files 000 to 004), in
//! order, each computed four ways where the seed allows: the analytic
//! derivative as the seed states it, chainrule's reverse-mode autodiff, its
//! symbolic formula, and central finite differences, and whether they agree.
//!
//! The exercises are written out in Rust here (the binary must work on a
//! fresh clone, without the seed files).

mod linreg;
mod matrix;
mod scalar;
mod series;

use crate::error::CliResult;
use crate::json::{num_text, Json};
use crate::table::{Align, Table};
use crate::wengert::short;
use crate::Outcome;

/// One comparison the tour makes: what, whether it agreed, by how much.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was compared.
    pub what: String,
    /// Whether the two sides agreed within tolerance.
    pub ok: bool,
    /// The relative error of the comparison.
    pub rel_err: f64,
    /// Whether one side is a number the seed printed (often PyTorch's
    /// float32), rather than two of chainrule's f64 engines.
    pub printed: bool,
}

impl Check {
    /// A comparison of two numbers with a relative tolerance `rtol`, where
    /// magnitudes below `atol / rtol` count as that floor (so values that
    /// should be 0 agree to `atol`): the error is
    /// |a − b| / max(|a|, |b|, atol / rtol), and they agree when it is at
    /// most `rtol`. NaN against NaN agrees (both undefined).
    pub fn numbers(what: impl Into<String>, a: f64, b: f64, rtol: f64, atol: f64) -> Check {
        let rel_err = if a == b || (a.is_nan() && b.is_nan()) {
            0.0
        } else if !a.is_finite() || !b.is_finite() {
            f64::INFINITY
        } else {
            let floor = if rtol > 0.0 { atol / rtol } else { 0.0 };
            (a - b).abs() / a.abs().max(b.abs()).max(floor)
        };
        Check {
            what: what.into(),
            ok: rel_err <= rtol,
            rel_err,
            printed: false,
        }
    }
}

/// One exercise of the tour: its heading, its report and its checks.
#[derive(Debug, Clone)]
pub struct Section {
    /// The seed file's number, `000` to `004`.
    pub seed: &'static str,
    /// The exercise's name in the seed (`Question 1`, `Problem 4`, ...).
    pub id: String,
    /// A one-line title.
    pub title: String,
    /// The report's body, each line indented.
    pub text: String,
    /// The comparisons made.
    pub checks: Vec<Check>,
    /// The numbers, for `tour --json`.
    pub json: Json,
}

impl Section {
    fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// Runs every exercise and reports; exit 0 when every check agrees, 1
/// otherwise (naming the ones that did not).
pub fn run(json: bool) -> CliResult<Outcome> {
    let start = std::time::Instant::now();
    let mut sections = scalar::sections()?;
    sections.push(series::cosine_section());
    sections.push(linreg::section());
    sections.push(series::tanh_fourth()?);
    sections.extend(matrix::sections());
    Ok(report(&sections, start.elapsed(), json))
}

/// The tour's report: exit 0 when every check agrees, 1 otherwise, naming
/// the exercises that did not.
fn report(sections: &[Section], elapsed: std::time::Duration, json: bool) -> Outcome {
    let failed: Vec<&Section> = sections.iter().filter(|s| !s.ok()).collect();
    let nchecks: usize = sections.iter().map(|s| s.checks.len()).sum();
    let code = if failed.is_empty() { 0 } else { 1 };
    if json {
        let arr = sections
            .iter()
            .map(|s| {
                Json::object()
                    .with("seed", s.seed)
                    .with("id", s.id.as_str())
                    .with("title", s.title.as_str())
                    .with("ok", s.ok())
                    .with(
                        "checks",
                        Json::Arr(
                            s.checks
                                .iter()
                                .map(|c| {
                                    Json::object()
                                        .with("what", c.what.as_str())
                                        .with("ok", c.ok)
                                        .with("rel_err", c.rel_err)
                                        .with("printed", c.printed)
                                })
                                .collect(),
                        ),
                    )
                    .with("results", s.json.clone())
            })
            .collect();
        let out = Json::object()
            .with("exercises", Json::Arr(arr))
            .with("checks", nchecks)
            .with(
                "failed",
                Json::Arr(
                    failed
                        .iter()
                        .map(|s| Json::from(format!("seed {} {}", s.seed, s.id)))
                        .collect(),
                ),
            )
            .with("ok", failed.is_empty())
            .with("seconds", elapsed.as_secs_f64());
        return Outcome {
            stdout: out.to_text() + "\n",
            code,
        };
    }
    let mut s = String::new();
    s.push_str("chainrule tour: the seed exercises, each derivative computed independently by\n");
    s.push_str(
        "  analytic   the derivative as the seed states it (transcribed, evaluated in f64)\n",
    );
    s.push_str("  autodiff   chainrule's reverse mode (Tensor + backward)\n");
    s.push_str("  formula    chainrule's symbolic derivative, simplified\n");
    s.push_str("  finite     central differences with Richardson extrapolation\n\n");
    let mut seed = "";
    for sec in sections {
        if sec.seed != seed {
            seed = sec.seed;
            s.push_str(&format!("═══ seed {} ═══\n\n", sec.seed));
        }
        let mark = if sec.ok() { "agree" } else { "DISAGREE" };
        s.push_str(&format!("── {}: {}\n", sec.id, sec.title));
        s.push_str(&sec.text);
        let worst = |printed: bool| {
            sec.checks
                .iter()
                .filter(|c| c.printed == printed)
                .map(|c| c.rel_err)
                .fold(0.0, f64::max)
        };
        let seed_part = if !sec.checks.iter().any(|c| c.printed) {
            String::new()
        } else if worst(true) == 0.0 {
            "; the seed's printed numbers exactly".to_string()
        } else {
            format!("; the seed's printed numbers within {}", short(worst(true)))
        };
        s.push_str(&format!(
            "   → {mark} ({} check{}, largest relative difference {}{seed_part})\n",
            sec.checks.len(),
            if sec.checks.len() == 1 { "" } else { "s" },
            short(worst(false))
        ));
        for c in sec.checks.iter().filter(|c| !c.ok) {
            s.push_str(&format!(
                "     ✗ {} (relative difference {})\n",
                c.what,
                num_text(c.rel_err)
            ));
        }
        s.push('\n');
    }
    let mut t = Table::new(&[Align::Left, Align::Right]);
    t.row(["exercises".to_string(), sections.len().to_string()]);
    t.row(["checks".to_string(), nchecks.to_string()]);
    t.row(["disagreements".to_string(), failed.len().to_string()]);
    t.row([
        "time".to_string(),
        format!("{:.3} s", elapsed.as_secs_f64()),
    ]);
    s.push_str("Summary\n");
    s.push_str(&t.render());
    if failed.is_empty() {
        s.push_str("Every check agrees. (The seed's hand-written gradient in 004 Q2 is n times too large;\nthe tour found it with the gradient check above and trained with the corrected one too.)\n");
    } else {
        s.push_str("Disagreements:\n");
        for f in &failed {
            s.push_str(&format!("  seed {} {}: {}\n", f.seed, f.id, f.title));
        }
    }
    Outcome {
        stdout: crate::table::fit(&s),
        code,
    }
}

/// A matrix (rows of numbers) as aligned text, each line indented.
pub fn fmt_matrix(rows: &[Vec<f64>], indent: usize) -> String {
    let mut t = Table::new(&vec![Align::Right; rows.first().map_or(0, Vec::len)]);
    for r in rows {
        t.row(r.iter().map(|&v| short(v)));
    }
    let pad = " ".repeat(indent.saturating_sub(2));
    t.render().lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// JSON for a matrix.
pub fn matrix_json(rows: &[Vec<f64>]) -> Json {
    Json::Arr(rows.iter().map(|r| Json::from(r.clone())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: &str, ok: bool) -> Section {
        Section {
            seed: "004",
            id: id.to_string(),
            title: "a title".to_string(),
            text: String::new(),
            checks: vec![Check::numbers(
                "x vs y",
                1.0,
                if ok { 1.0 } else { 2.0 },
                1e-12,
                0.0,
            )],
            json: Json::Null,
        }
    }

    #[test]
    fn every_line_fits_in_100_columns() {
        let out = run(false).expect("the tour runs");
        let wide: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.chars().count() > crate::table::WIDTH)
            .collect();
        assert!(
            wide.is_empty(),
            "{} lines wider than 100:\n{}",
            wide.len(),
            wide.join("\n")
        );
        assert!(out.stdout.contains("Every check agrees"));
    }

    #[test]
    fn a_disagreement_exits_1_and_is_named() {
        let secs = [section("Exercise 1", true), section("Exercise 9", false)];
        let out = report(&secs, std::time::Duration::ZERO, false);
        assert_eq!(out.code, 1);
        assert!(out.stdout.contains("DISAGREE"));
        assert!(out.stdout.contains("seed 004 Exercise 9: a title"));
        assert!(!out.stdout.contains("Every check agrees"));
        let out = report(&secs, std::time::Duration::ZERO, true);
        assert_eq!(out.code, 1);
        assert!(out.stdout.contains(r#""failed":["seed 004 Exercise 9"]"#));
        assert!(out.stdout.contains(r#""ok":false"#));
    }

    #[test]
    fn all_agreeing_exits_0() {
        let out = report(
            &[section("Exercise 1", true)],
            std::time::Duration::ZERO,
            false,
        );
        assert_eq!(out.code, 0);
        assert!(out.stdout.contains("Every check agrees"));
    }

    #[test]
    fn check_tolerances() {
        assert!(Check::numbers("", 1.0, 1.0 + 1e-13, 1e-12, 0.0).ok);
        assert!(!Check::numbers("", 1.0, 1.0 + 1e-11, 1e-12, 0.0).ok);
        // Values that should be 0 agree to atol.
        assert!(Check::numbers("", 0.0, -1.2e-16, 1e-12, 1e-15).ok);
        assert!(!Check::numbers("", 0.0, 1e-10, 1e-12, 1e-15).ok);
        assert!(Check::numbers("", f64::NAN, f64::NAN, 1e-12, 0.0).ok);
        assert!(!Check::numbers("", 1.0, f64::NAN, 1e-12, 0.0).ok);
    }
}
