//! The registry: one [`Entry`] per implementation, workload and size, built
//! lazily (the data is made only when the entry runs), timed by
//! [`timing::measure`] and printed as [`Line`]s.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use crate::line::{four_digits, join_notes, Line};
use crate::timing::{self, Plan};

/// How the binary was asked to measure.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mode {
    /// `--quick`: 3 repetitions of at least 0.02 s (checking that everything runs).
    pub quick: bool,
    /// `--smoke`: 1 repetition of 1 call and smaller sizes where a call is slow
    /// (keeps the binary from rotting; not a measurement).
    pub smoke: bool,
}

impl Mode {
    /// Repetitions and their shortest duration for this mode.
    pub fn plan(&self) -> Plan {
        match (self.smoke, self.quick) {
            (true, _) => Plan {
                reps: 1,
                target: 0.0,
            },
            (false, true) => Plan {
                reps: 3,
                target: 0.02,
            },
            (false, false) => Plan {
                reps: 7,
                target: 0.2,
            },
        }
    }

    /// The size to run: `real`, or `smoke` in smoke mode, with a note when they differ.
    pub fn size(&self, real: usize, smoke: usize, name: &str) -> (usize, String) {
        if self.smoke && smoke != real {
            (
                smoke,
                format!("smoke: {name}={smoke} instead of {name}={real}"),
            )
        } else {
            (real, String::new())
        }
    }
}

/// A call ready to be timed: its data is built and captured.
pub struct Prepared {
    /// One call of the workload; returns the check.
    pub call: Box<dyn FnMut() -> f64>,
    /// Runs untimed before the warm-up and before each repetition (restores state).
    pub setup: Option<Box<dyn FnMut()>>,
    /// Most calls per repetition (default: 1 with a setup, else as many as fill the target).
    pub max_inner: Option<u64>,
    /// Seconds per call × `scale` = the line's value (1e9 / (4K) for W1's ns/op, 1/20 for s/iter).
    pub scale: f64,
    /// For [`Entry::compiled`]: the compilation's own time, when the
    /// preparation also builds data that is not part of compiling.
    pub compile_seconds: Option<f64>,
}

impl Prepared {
    /// A call timed as it is, in seconds per call.
    pub fn new(call: impl FnMut() -> f64 + 'static) -> Self {
        Prepared {
            call: Box::new(call),
            setup: None,
            max_inner: None,
            scale: 1.0,
            compile_seconds: None,
        }
    }

    /// With an untimed `setup` before each repetition.
    pub fn setup(mut self, setup: impl FnMut() + 'static) -> Self {
        self.setup = Some(Box::new(setup));
        self
    }

    /// With at most `calls` calls per repetition.
    pub fn max_inner(mut self, calls: u64) -> Self {
        self.max_inner = Some(calls);
        self
    }

    /// With the line's value = seconds per call × `factor`.
    pub fn scale(mut self, factor: f64) -> Self {
        self.scale = factor;
        self
    }

    /// With the `s/compile` line reporting `seconds` (measured by the
    /// preparation around its compile step) instead of the whole preparation.
    pub fn compile_seconds(mut self, seconds: f64) -> Self {
        self.compile_seconds = Some(seconds);
        self
    }
}

type Prepare = Box<dyn FnOnce() -> Result<Prepared, String>>;
/// A count: (count, check, a note measured with the count).
type Count = Box<dyn FnOnce() -> Result<(f64, f64, String), String>>;

enum Kind {
    Timed(Prepare),
    Compiled(Prepare),
    Count(Count),
    Skipped,
}

/// One implementation of one workload at one size: one line (two for a compiled one).
pub struct Entry {
    /// `W1` … `W7`.
    pub workload: &'static str,
    /// `chainrule-manual`, `chainrule-eager`, ….
    pub implementation: &'static str,
    /// The size label, as peers.py prints it.
    pub size: String,
    /// The unit of the line.
    pub unit: &'static str,
    /// What is timed; deviations (smoke sizes).
    pub note: String,
    kind: Kind,
}

impl Entry {
    /// A line timing the call that `prepare` builds (data building is not timed).
    pub fn timed(
        workload: &'static str,
        implementation: &'static str,
        size: impl Into<String>,
        unit: &'static str,
        note: impl Into<String>,
        prepare: impl FnOnce() -> Prepared + 'static,
    ) -> Self {
        Self::try_timed(workload, implementation, size, unit, note, || Ok(prepare()))
    }

    /// As [`Entry::timed`], for a `prepare` that may fail (the line then says why).
    pub fn try_timed(
        workload: &'static str,
        implementation: &'static str,
        size: impl Into<String>,
        unit: &'static str,
        note: impl Into<String>,
        prepare: impl FnOnce() -> Result<Prepared, String> + 'static,
    ) -> Self {
        Entry {
            workload,
            implementation,
            size: size.into(),
            unit,
            note: note.into(),
            kind: Kind::Timed(Box::new(prepare)),
        }
    }

    /// A compiled implementation: `compile` is timed once and printed as an
    /// `s/compile` line, then the function it returns is timed as usual.
    pub fn compiled(
        workload: &'static str,
        implementation: &'static str,
        size: impl Into<String>,
        unit: &'static str,
        note: impl Into<String>,
        compile: impl FnOnce() -> Result<Prepared, String> + 'static,
    ) -> Self {
        Entry {
            workload,
            implementation,
            size: size.into(),
            unit,
            note: note.into(),
            kind: Kind::Compiled(Box::new(compile)),
        }
    }

    /// A line that reports a count (unit `ops`): `count()` returns (count, check).
    pub fn count(
        workload: &'static str,
        implementation: &'static str,
        size: impl Into<String>,
        note: impl Into<String>,
        count: impl FnOnce() -> Result<(f64, f64), String> + 'static,
    ) -> Self {
        Self::count_noted(workload, implementation, size, note, || {
            count().map(|(n, check)| (n, check, String::new()))
        })
    }

    /// As [`Entry::count`], for a `count()` that also returns a note found while
    /// counting (other measures of the same thing), appended to `note`.
    pub fn count_noted(
        workload: &'static str,
        implementation: &'static str,
        size: impl Into<String>,
        note: impl Into<String>,
        count: impl FnOnce() -> Result<(f64, f64, String), String> + 'static,
    ) -> Self {
        Entry {
            workload,
            implementation,
            size: size.into(),
            unit: "ops",
            note: note.into(),
            kind: Kind::Count(Box::new(count)),
        }
    }

    /// A line that is not measured (`null` seconds and check), `note` saying
    /// why (`skipped: memory: …`, as WORKLOADS.md words it).
    pub fn skipped(
        workload: &'static str,
        implementation: &'static str,
        size: impl Into<String>,
        unit: &'static str,
        note: impl Into<String>,
    ) -> Self {
        Entry {
            workload,
            implementation,
            size: size.into(),
            unit,
            note: note.into(),
            kind: Kind::Skipped,
        }
    }

    /// Build the data, measure, and return the line(s). A failure or a panic
    /// of the implementation is reported in the line's note, with null values.
    pub fn run(self, mode: &Mode) -> Vec<Line> {
        let Entry {
            workload,
            implementation,
            size,
            unit,
            note,
            kind,
        } = self;
        let line = |unit: &str, seconds: Option<f64>, check: Option<f64>, why: &str| Line {
            workload: workload.to_string(),
            implementation: implementation.to_string(),
            size: size.clone(),
            unit: unit.to_string(),
            seconds,
            check,
            note: join_notes(&[&note, why]),
        };
        let plan = mode.plan();
        let outcome = catch_unwind(AssertUnwindSafe(|| match kind {
            Kind::Skipped => Ok(vec![line(unit, None, None, "")]),
            Kind::Count(count) => {
                count().map(|(n, check, found)| vec![line(unit, Some(n), Some(check), &found)])
            }
            Kind::Timed(prepare) => {
                let m = time(prepare()?, plan);
                Ok(vec![line(
                    unit,
                    Some(m.seconds),
                    Some(m.check),
                    &m.note.unwrap_or_default(),
                )])
            }
            Kind::Compiled(compile) => {
                let start = Instant::now();
                let prepared = compile();
                let mut compile_s = four_digits(start.elapsed().as_secs_f64());
                let m = match prepared {
                    Ok(prepared) => {
                        if let Some(s) = prepared.compile_seconds {
                            compile_s = four_digits(s);
                        }
                        time(prepared, plan)
                    }
                    Err(e) => {
                        return Ok(vec![
                            line("s/compile", None, None, &format!("failed: {e}")),
                            line(unit, None, None, "not measured: no compiled function"),
                        ])
                    }
                };
                Ok(vec![
                    line(
                        "s/compile",
                        Some(compile_s),
                        Some(m.check),
                        "one compilation, not a median",
                    ),
                    line(
                        unit,
                        Some(m.seconds),
                        Some(m.check),
                        &m.note.unwrap_or_default(),
                    ),
                ])
            }
        }));
        let failure = match outcome {
            Ok(Ok(lines)) => return lines,
            Ok(Err(e)) => format!("failed: {e}"),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("failed: panic: {message}")
            }
        };
        vec![line(unit, None, None, &failure)]
    }
}

/// Measure a prepared call; the value is already scaled and rounded to 4 digits.
fn time(mut prepared: Prepared, plan: Plan) -> timing::Measured {
    let mut setup = prepared.setup.take();
    let mut m = timing::measure(
        plan,
        prepared.call.as_mut(),
        setup.as_mut().map(|s| s.as_mut() as &mut dyn FnMut()),
        prepared.max_inner,
    );
    m.seconds = four_digits(m.seconds * prepared.scale);
    m
}

/// Every implementation of every workload, in workload order.
pub fn entries(mode: &Mode) -> Vec<Entry> {
    [
        crate::w1::entries(mode),
        crate::w2::entries(mode),
        crate::w3::entries(mode),
        crate::w4::entries(mode),
        crate::w5::entries(mode),
        crate::w6::entries(mode),
        crate::w7::entries(mode),
        crate::w8::entries(mode),
        crate::w9::entries(mode),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Compare each line's check with the first check of its workload and size
/// (1e-6 relative, 1e-5 for `f32`), as peers.py does; one warning per disagreement.
#[derive(Debug, Default)]
pub struct Checks {
    first: Vec<(String, String, String, f64)>,
}

impl Checks {
    /// Record `line`; a warning if its check disagrees with the first of its group.
    pub fn add(&mut self, line: &Line) -> Option<String> {
        let value = line.check.filter(|v| !v.is_nan())?;
        let found = self
            .first
            .iter()
            .find(|(w, s, _, _)| *w == line.workload && *s == line.size);
        let Some((_, _, who, reference)) = found else {
            let who = format!("{} ({})", line.implementation, line.unit);
            self.first
                .push((line.workload.clone(), line.size.clone(), who, value));
            return None;
        };
        let rtol = if line.size == "f32" { 1e-5 } else { 1e-6 };
        let scale = reference.abs().max(value.abs()).max(1e-300);
        ((value - reference).abs() > rtol * scale).then(|| {
            format!(
                "warning: check disagreement in {} {}: {} ({}) gives {value:?}, {who} gives {reference:?}",
                line.workload, line.size, line.implementation, line.unit
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smoke() -> Mode {
        Mode {
            quick: false,
            smoke: true,
        }
    }

    #[test]
    fn timed_entry_gives_one_scaled_line() {
        let entry = Entry::timed("W9", "chainrule-test", "n=1", "ns/op", "a note", || {
            Prepared::new(|| 2.5).scale(1e9)
        });
        let lines = entry.run(&smoke());
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].check, Some(2.5));
        assert_eq!(lines[0].unit, "ns/op");
        assert_eq!(lines[0].note.as_deref(), Some("a note"));
        assert!(lines[0].seconds.unwrap() >= 0.0);
    }

    #[test]
    fn compiled_entry_gives_a_compile_line_first() {
        let entry = Entry::compiled("W9", "chainrule-test", "k=4", "s/eval", "", || {
            Ok(Prepared::new(|| 1.0))
        });
        let lines = entry.run(&smoke());
        let units: Vec<&str> = lines.iter().map(|l| l.unit.as_str()).collect();
        assert_eq!(units, ["s/compile", "s/eval"]);
        assert_eq!(lines[0].check, Some(1.0));
    }

    #[test]
    fn a_compile_step_can_time_itself() {
        let entry = Entry::compiled("W9", "t", "n=1", "s/iter", "", || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            Ok(Prepared::new(|| 1.0).compile_seconds(0.5))
        });
        assert_eq!(entry.run(&smoke())[0].seconds, Some(0.5));
    }

    #[test]
    fn a_failed_compilation_gives_two_null_lines() {
        let entry = Entry::compiled("W9", "t", "k=4", "s/eval", "", || Err("no jit".into()));
        let lines = entry.run(&smoke());
        assert_eq!(lines.len(), 2);
        assert!(lines
            .iter()
            .all(|l| l.seconds.is_none() && l.check.is_none()));
        assert_eq!(lines[0].note.as_deref(), Some("failed: no jit"));
    }

    #[test]
    fn counts_are_reported_as_they_are() {
        let entry = Entry::count("W6", "t", "m=50", "", || Ok((1422.0, 0.25)));
        let line = &entry.run(&smoke())[0];
        assert_eq!(
            (line.unit.as_str(), line.seconds, line.check),
            ("ops", Some(1422.0), Some(0.25))
        );
    }

    #[test]
    fn counts_carry_the_note_found_with_them() {
        let entry = Entry::count_noted("W6", "t", "m=50", "fixed", || {
            Ok((3.0, 0.5, "also 4 as trees".into()))
        });
        let line = &entry.run(&smoke())[0];
        assert_eq!(line.note.as_deref(), Some("fixed; also 4 as trees"));
    }

    #[test]
    fn failures_and_panics_become_null_lines() {
        let failing = Entry::try_timed("W9", "t", "n=1", "s/eval", "", || Err("no".into()));
        let line = &failing.run(&smoke())[0];
        assert_eq!((line.seconds, line.check), (None, None));
        assert_eq!(line.note.as_deref(), Some("failed: no"));
        let panicking = Entry::timed("W9", "t", "n=1", "s/eval", "", || {
            Prepared::new(|| panic!("boom"))
        });
        let line = &panicking.run(&smoke())[0];
        assert_eq!(line.seconds, None);
        assert_eq!(line.note.as_deref(), Some("failed: panic: boom"));
    }

    #[test]
    fn checks_disagree_beyond_tolerance() {
        let line = |size: &str, check: f64| Line {
            workload: "W2".into(),
            implementation: "x".into(),
            size: size.into(),
            unit: "s/iter".into(),
            seconds: None,
            check: Some(check),
            note: None,
        };
        let mut checks = Checks::default();
        assert!(checks.add(&line("n=4", 2.0)).is_none());
        assert!(checks.add(&line("n=4", 2.0 * (1.0 + 5e-7))).is_none());
        assert!(checks.add(&line("n=4", 2.0 * (1.0 + 2e-6))).is_some());
        assert!(checks.add(&line("f32", 1.0)).is_none());
        assert!(checks.add(&line("f32", 1.0 + 5e-6)).is_none());
    }

    #[test]
    fn smoke_sizes_say_so() {
        assert_eq!(smoke().size(1024, 128, "n").0, 128);
        assert_eq!(
            smoke().size(1024, 128, "n").1,
            "smoke: n=128 instead of n=1024"
        );
        assert_eq!(Mode::default().size(1024, 128, "n"), (1024, String::new()));
    }
}
