//! tanh in lanes for the forward engine's primal: `jacfwd`'s own run of the
//! function computes a large tanh with [`tanh_lanes`] (straight-line f64
//! arithmetic, AVX2 where present) instead of a libm call per value.
//!
//! `tanh |u| = −m/(2 + m)` with `m = expm1(−2|u|)` ([`expm1_parts`];
//! `m` and `2 + m` each rounded once from its exact parts),
//! the sign copied from `u`: no cancellation at tiny |u| (m ≈ −2|u| is
//! computed as an expm1, not as `e − 1`), exactly 1 from |u| ≈ 19 on (m
//! rounds to −1), ±0 kept, ±∞ to ±1, NaN to NaN. Within 3 ulp of libm's
//! tanh on 1.2·10⁶ points (tested; the worst near |u| = 0.52, where the
//! quotient's two roundings and m's meet just under t = ½).
//!
//! Only where no one sees the difference: the tape's (reverse mode's) tanh
//! stays libm's. [`LanePrimal`] switches the lanes on for one `jacfwd` call
//! whose result carries no graph, at that call's own nesting depth (a
//! transform nested inside it records with libm's tanh); its primal output
//! is dropped, and its Jacobian equals reverse mode's to 1e-14.

use std::cell::Cell;

use super::sech2::{reduce_ln2, LANE_LIMIT};

thread_local! {
    /// The transform depth whose tanh runs in lanes (0: none).
    static LANE_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// While alive, a tensor tanh run at transform depth `depth` is computed by
/// [`tanh_lanes`]; the previous setting comes back when it is dropped.
pub(crate) struct LanePrimal {
    previous: usize,
}

impl LanePrimal {
    /// Lanes for the tanh of the transform call at `depth` (≥ 1).
    pub(crate) fn at(depth: usize) -> LanePrimal {
        LanePrimal {
            previous: LANE_DEPTH.with(|d| d.replace(depth)),
        }
    }
}

impl Drop for LanePrimal {
    fn drop(&mut self) {
        LANE_DEPTH.with(|d| d.set(self.previous));
    }
}

/// Whether a tensor tanh computed now takes [`tanh_lanes`].
pub(crate) fn lane_primal() -> bool {
    let d = LANE_DEPTH.with(Cell::get);
    d != 0 && d == crate::functional::depth()
}

/// `eᵛ − 1 = 2ⁿ(eʳ − 1) + (2ⁿ − 1)` for `v` in [−2·[`LANE_LIMIT`], 0] as the
/// pair `(2ⁿ, eʳ − 1)`, without a branch: `v = n ln 2 + r` with |r| ≤ ln 2 / 2
/// (as `exp_nonpositive`), `eʳ − 1 = r + r²·q(r)` with `q` the Taylor
/// polynomial of `(eʳ − 1 − r)/r²` to degree 13 (the remainder is below
/// 3·10⁻¹⁹ of the result). Both terms of the sum are exact, so `eᵛ − 1` and
/// `eᵛ + 1` each take one rounding; at n = 0 (|v| < ln 2 / 2) `eᵛ − 1` is
/// `r + r²q`, accurate at tiny `v` where `eᵛ − 1` would cancel.
#[inline(always)]
fn expm1_parts(v: f64) -> (f64, f64) {
    let (r, scale) = reduce_ln2(v);
    // 1/j! for j = 15 down to 2.
    const C: [f64; 14] = [
        1.0 / 1_307_674_368_000.0,
        1.0 / 87_178_291_200.0,
        1.0 / 6_227_020_800.0,
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ];
    let mut q = C[0];
    for &c in &C[1..] {
        q = q * r + c;
    }
    let em = r + (r * r) * q;
    (scale, em)
}

/// `out[i] = tanh(u[i])` within a few ulp of libm's (the two slices have
/// one length): with AVX2's four-wide vectors where the processor has them
/// (no fused multiply-adds, so the same bits), else with the baseline's
/// two-wide ones.
pub(crate) fn tanh_lanes(u: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked on the line above).
        return unsafe { tanh_lanes_avx2(u, out) };
    }
    tanh_lanes_body(u, out);
}

/// [`tanh_lanes_body`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn tanh_lanes_avx2(u: &[f64], out: &mut [f64]) {
    tanh_lanes_body(u, out);
}

/// The loop of [`tanh_lanes`]: no call and no branch, so it vectorises.
/// |u| above [`LANE_LIMIT`] (∞ included) is taken as the limit, where the
/// result is already 1; NaN is passed through.
#[inline(always)]
fn tanh_lanes_body(u: &[f64], out: &mut [f64]) {
    for (o, &u) in out.iter_mut().zip(u) {
        // min of NaN and the limit is the limit: finite arithmetic, the NaN
        // put back below.
        let (scale, em) = expm1_parts(-2.0 * u.abs().min(LANE_LIMIT));
        // m = e^{−2|u|} − 1 and 2 + m, each rounded once from exact parts.
        let se = scale * em;
        let t = (-(se + (scale - 1.0)) / (se + (scale + 1.0))).copysign(u);
        *o = if u.is_nan() { u } else { t };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `eᵛ − 1` from [`expm1_parts`].
    fn expm1_nonpositive(v: f64) -> f64 {
        let (scale, em) = expm1_parts(v);
        scale * em + (scale - 1.0)
    }

    /// The largest distance, in ulp, of [`tanh_lanes`] from libm's tanh
    /// that the tests allow.
    const TANH_ULPS: u64 = 3;

    /// The distance in ulp of two values of one sign (finite or not).
    fn ulps(a: f64, b: f64) -> u64 {
        assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} vs {b}");
        a.to_bits().abs_diff(b.to_bits())
    }

    /// 1.2·10⁶ points: a dense sweep of [−25, 25], |u| from 10⁻³⁰⁸ to 10³⁰⁸
    /// on a log scale (both signs), the edges of the reduction's n
    /// (where −2|u| is a half-integer multiple of ln 2), and the specials.
    fn sample() -> Vec<f64> {
        let n = 1_000_000;
        let mut u: Vec<f64> = (0..=n)
            .map(|i| -25.0 + 50.0 * i as f64 / n as f64)
            .collect();
        let logs = 100_000;
        for i in 0..=logs {
            let v = 10f64.powf(-308.0 + 616.0 * i as f64 / logs as f64);
            u.extend([v, -v]);
        }
        for j in 0..1010 {
            let v = (j as f64 + 0.5) * std::f64::consts::LN_2 / 2.0;
            u.extend([v, v.next_up(), v.next_down(), -v]);
        }
        u.extend([
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1e-16,
            0.549_306_144_334_054_8,
            18.0,
            19.1,
            22.0,
            LANE_LIMIT,
            LANE_LIMIT.next_up(),
            -1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]);
        u
    }

    #[test]
    fn lane_tanh_is_within_three_ulp_of_libm() {
        let u = sample();
        assert!(u.len() > 1_000_000);
        let mut got = vec![f64::NAN; u.len()];
        tanh_lanes(&u, &mut got);
        // The dispatched copy (AVX2 here) and the baseline's agree bit for bit.
        let mut baseline = vec![f64::NAN; u.len()];
        tanh_lanes_body(&u, &mut baseline);
        assert!(got
            .iter()
            .zip(&baseline)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        let mut worst = (0, 0.0);
        for (&u, &g) in u.iter().zip(&got) {
            let d = ulps(g, u.tanh());
            assert!(d <= TANH_ULPS, "tanh({u:e}): {g:e} vs libm {:e}", u.tanh());
            if d > worst.0 {
                worst = (d, u);
            }
        }
        // Tiny arguments: tanh u = u to the last bit (no cancellation).
        for u in [1e-300, -3e-200, 1e-20, 5e-324, f64::MIN_POSITIVE] {
            let mut t = [0.0];
            tanh_lanes(&[u], &mut t);
            assert_eq!(t[0], u);
        }
        assert!(worst.0 <= TANH_ULPS, "worst {worst:?}");
    }

    #[test]
    fn lane_tanh_keeps_the_special_values() {
        let u = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            -40.0,
            f64::NAN,
        ];
        let mut t = [9.0; 7];
        tanh_lanes(&u, &mut t);
        assert_eq!(t[0].to_bits(), 0.0f64.to_bits());
        assert_eq!(t[1].to_bits(), (-0.0f64).to_bits());
        assert_eq!(t[2..6], [1.0, -1.0, 1.0, -1.0]);
        assert!(t[6].is_nan());
    }

    #[test]
    fn the_lane_expm1_is_exact_near_zero_and_close_elsewhere() {
        for v in [-1e-300, -1e-17, -5e-324, -0.0, 0.0] {
            assert_eq!(expm1_nonpositive(v), v);
        }
        let n = 200_000;
        for i in 0..=n {
            let v = -700.0 * (i as f64 / n as f64).powi(3);
            let (a, b) = (expm1_nonpositive(v), v.exp_m1());
            assert!(
                (a - b).abs() <= 2.0 * f64::EPSILON * b.abs(),
                "expm1({v}): {a} vs {b}"
            );
        }
    }

    #[test]
    fn lanes_apply_only_at_their_own_depth() {
        assert!(!lane_primal());
        {
            let _lanes = LanePrimal::at(1);
            // No transform is running (depth 0): the lanes are for depth 1.
            assert!(!lane_primal());
        }
        let _zero = LanePrimal::at(crate::functional::depth());
        assert!(!lane_primal());
    }
}
