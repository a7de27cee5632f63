//! Issue 16: memory that a long-running process gets back. Run in a process
//! of its own (an integration test binary), reading VmRSS from
//! /proc/self/status; each test measures growth, so the order they run in
//! does not matter (they run on separate threads, and arenas are per
//! thread).

use chainrule::nn::{Linear, Module};
use chainrule::optim::{Optimizer, Sgd, SgdConfig};
use chainrule::random::SplitMix64;
use chainrule::symbolic::{collect, collect_if_grown, parse, Expr, Formula};
use chainrule::{Error, Real, Tensor};

/// Resident set size in bytes (0 where /proc is not there).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

const MB: usize = 1 << 20;

/// RSS is the process's: the tests that measure it run one at a time.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_hundred_thousand_distinct_second_derivatives_stay_under_50_mb() {
    // Every formula is distinct (k differs), so nothing is shared between
    // iterations: without collection the arena keeps all of them (366 MB
    // for 10⁵ before issue 16).
    let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let start = rss();
    let mut kept: Vec<(Formula, String)> = Vec::new();
    let mut peak = 0;
    for k in 0..100_000u32 {
        let src = format!("x^{k}*sin({k}*x + y) + exp(y*x)/(x + {k})");
        let d2 = parse(&src).unwrap().diff_n("x", 2);
        if k % 10_000 == 0 {
            let text = d2.to_string();
            kept.push((Formula::new(d2), text));
        }
        collect_if_grown();
        if k % 1000 == 0 {
            peak = peak.max(rss());
        }
    }
    let grown = peak.saturating_sub(start);
    eprintln!(
        "10⁵ second derivatives: RSS grew by {:.1} MB",
        grown as f64 / MB as f64
    );
    assert!(grown < 50 * MB, "RSS grew by {} MB", grown / MB);
    // The kept formulas survived every collection unchanged.
    for (f, text) in &kept {
        assert_eq!(&f.to_string(), text);
        assert!(f.expr().is_live());
    }
    // And they still compute: the second derivative of the first one,
    // x^0*sin(0*x + y) + exp(y*x)/x = sin(y) + exp(y*x)/x, at (1, 0):
    // d²/dx² (1/x) = 2/x³ = 2.
    let p = std::collections::HashMap::from([("x".to_string(), 1.0), ("y".to_string(), 0.0)]);
    assert_eq!(kept[0].0.expr().eval(&p).unwrap(), 2.0);
}

#[test]
fn a_handle_kept_past_a_collection_is_refused_not_misread() {
    let kept = parse("z^3 + exp(y)*sin(x)").unwrap();
    let owned = Formula::new(parse("cos(w)").unwrap());
    collect();
    // Fill the new arena so that the stale id is a valid index there.
    for k in 0..200 {
        let _ = Expr::var(&format!("v{k}"));
    }
    assert!(!kept.is_live());
    assert_eq!(kept.to_string(), "<formula of a freed arena>");
    let p = std::collections::HashMap::from([("x".to_string(), 1.0)]);
    assert!(matches!(kept.eval(&p), Err(Error::StaleFormula)));
    assert!(matches!(
        kept.try_diff_n("x", 1, 1000),
        Err(Error::StaleFormula)
    ));
    assert!(matches!(
        chainrule::symbolic::compile(&[kept], &["x"]),
        Err(Error::StaleFormula)
    ));
    // The owned formula followed the collection.
    assert_eq!(owned.to_string(), "cos(w)");
    assert_eq!(owned.expr().diff("w").to_string(), "-sin(w)");
}

#[test]
fn ten_thousand_training_steps_stay_flat() {
    let model = Linear::new(8, 1, &mut SplitMix64::new(16));
    let mut opt = Sgd::new(
        model.parameters(),
        SgdConfig {
            lr: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    let x = Tensor::from_vec(
        (0..64 * 8).map(|i| (i as f64 * 0.37).sin()).collect(),
        &[64, 8],
    )
    .unwrap();
    let y = Tensor::from_vec((0..64).map(|i| (i as f64 * 0.11).cos()).collect(), &[64, 1]).unwrap();
    let mut step = || {
        opt.zero_grad();
        let loss = (model.forward(&x).unwrap() - &y).square().mean();
        loss.backward().unwrap();
        opt.step().unwrap();
        loss.item()
    };
    let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..1000 {
        step();
    }
    let after_warmup = rss();
    let mut last = 0.0;
    for _ in 0..9000 {
        last = step();
    }
    let grown = rss().saturating_sub(after_warmup);
    eprintln!("steps 1,000 to 10,000: RSS grew by {} KB", grown / 1024);
    assert!(last.is_finite());
    assert!(
        grown < 4 * MB,
        "10⁴ training steps grew RSS by {} KB",
        grown / 1024
    );
}

#[test]
fn a_stale_handle_is_an_error_in_every_try_form() {
    use chainrule::{BinaryOp, Error, UnaryOp};
    // Not while another test measures RSS: a panic's report (a backtrace
    // when RUST_BACKTRACE is set) loads symbols, tens of MB.
    let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let kept = Formula::new(parse("x^2*sin(y)").unwrap());
    let stale = parse("x^3 + exp(y)").unwrap();
    let live_before = parse("z").unwrap();
    collect();
    assert!(!stale.is_live() && !live_before.is_live());
    let e = kept.expr();
    assert!(matches!(stale.try_diff("x"), Err(Error::StaleFormula)));
    assert!(matches!(
        stale.try_diff_n("x", 2, 1000),
        Err(Error::StaleFormula)
    ));
    assert!(matches!(
        stale.try_unary(UnaryOp::Sin),
        Err(Error::StaleFormula)
    ));
    assert!(matches!(
        e.try_binary(BinaryOp::Add, &stale),
        Err(Error::StaleFormula)
    ));
    assert!(matches!(
        stale.try_binary(BinaryOp::Mul, &e),
        Err(Error::StaleFormula)
    ));
    // Live handles: the same results as the convenience forms.
    assert_eq!(e.try_diff("x").unwrap().to_string(), "2*x*sin(y)");
    assert_eq!(e.try_binary(BinaryOp::Div, &e).unwrap(), Expr::integer(1));
    // The convenience forms refuse loudly (a panic naming the cause), never
    // by reading another formula.
    let msg = std::panic::catch_unwind(|| stale.diff("x")).expect_err("a stale handle panics");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("arena that is gone"), "{msg}");
    assert!(std::panic::catch_unwind(|| stale + e).is_err());
}
