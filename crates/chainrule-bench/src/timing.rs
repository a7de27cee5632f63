//! Timing exactly as peers.py's `measure`: one warm-up call; if it is shorter
//! than the target, a calibration call fixes how many calls fill one
//! repetition; then the median of the per-call times of the repetitions.

use std::hint::black_box;
use std::time::Instant;

/// The longest a line's repetitions should take together, in seconds (peers.py's LIMIT_S).
pub const LIMIT_S: f64 = 60.0;

/// How long and how often to measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Timed repetitions (7, or 3 with `--quick`, 1 with `--smoke`).
    pub reps: usize,
    /// Shortest duration of one repetition in seconds (0.2, 0.02, 0 with `--smoke`).
    pub target: f64,
}

/// The result of [`measure`].
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// Median seconds per call.
    pub seconds: f64,
    /// What the warm-up call returned (the check).
    pub check: f64,
    /// Set when fewer repetitions were made than planned.
    pub note: Option<String>,
}

fn once(call: &mut dyn FnMut() -> f64, setup: &mut Option<&mut dyn FnMut()>) -> (f64, f64) {
    if let Some(setup) = setup {
        setup();
    }
    let start = Instant::now();
    let result = black_box(call());
    (start.elapsed().as_secs_f64(), result)
}

/// Median seconds per call of `call` (its return value is the check).
///
/// `setup` runs, untimed, before the warm-up and before each repetition; a
/// repetition makes up to `max_inner` calls (default: 1 with a setup, else as
/// many as fill `plan.target`), as in peers.py.
pub fn measure(
    plan: Plan,
    call: &mut dyn FnMut() -> f64,
    mut setup: Option<&mut dyn FnMut()>,
    max_inner: Option<u64>,
) -> Measured {
    let max_inner = max_inner.unwrap_or(if setup.is_some() { 1 } else { u64::MAX });
    let (warm, check) = once(call, &mut setup);
    let mut inner = 1u64;
    if max_inner > 1 && warm < plan.target {
        let (calibrate, _) = once(call, &mut setup);
        let wanted = (plan.target / calibrate.max(1e-9)).ceil().max(1.0);
        inner = max_inner.min(wanted as u64);
    }
    let mut reps = plan.reps.max(1);
    let mut note = None;
    if inner == 1 && warm * reps as f64 > LIMIT_S {
        reps = ((LIMIT_S / warm).floor() as usize).max(1);
        note = Some(format!(
            "{reps} repetition{} only (one takes {warm:.3} s)",
            if reps > 1 { "s" } else { "" }
        ));
    }
    let mut samples = Vec::with_capacity(reps);
    for _ in 0..reps {
        if let Some(setup) = &mut setup {
            setup();
        }
        let start = Instant::now();
        for _ in 0..inner {
            black_box(call());
        }
        samples.push(start.elapsed().as_secs_f64() / inner as f64);
    }
    Measured {
        seconds: median(&mut samples),
        check,
        note,
    }
}

/// The median (the mean of the two middle values for an even count), as
/// Python's `statistics.median`; NaN for no values.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn counts_calls_and_setups() {
        // Smoke plan: warm-up + one repetition of one call; setup before each.
        let mut calls = 0;
        let mut setups = 0;
        let mut call = || {
            calls += 1;
            42.0
        };
        let mut setup = || setups += 1;
        let plan = Plan {
            reps: 1,
            target: 0.0,
        };
        let m = measure(plan, &mut call, Some(&mut setup), None);
        assert_eq!(m.check, 42.0);
        assert!(m.seconds >= 0.0 && m.note.is_none());
        assert_eq!((calls, setups), (2, 2));
    }

    #[test]
    fn fills_a_repetition_up_to_max_inner() {
        // A tiny call against a 10 ms target: 1 warm-up + 1 calibration + 3 × 5 calls.
        let mut calls = 0u64;
        let mut call = || {
            calls += 1;
            1.0
        };
        let plan = Plan {
            reps: 3,
            target: 0.01,
        };
        measure(plan, &mut call, None, Some(5));
        assert_eq!(calls, 2 + 3 * 5);
    }
}
