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

use crate::macros::avx2_twin;
use std::cell::Cell;

use super::sech2::{horner, reduce_ln2, INV_FACTORIALS, LANE_LIMIT};

thread_local! {
    /// The transform depth whose tanh runs in lanes (0: none).
    static LANE_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// While alive (until [`LanePrimal::primal_done`]), a tensor tanh run at
/// transform depth `depth` is computed by [`tanh_sech2_lanes`], its
/// partials kept for the tangent pass ([`super::kept`]); the previous
/// setting comes back, and those partials are dropped, when it is dropped.
pub(crate) struct LanePrimal {
    previous: usize,
    depth: usize,
    on: bool,
}

impl LanePrimal {
    /// Lanes for the tanh of the transform call at `depth` (≥ 1).
    pub(crate) fn at(depth: usize) -> LanePrimal {
        LanePrimal {
            previous: LANE_DEPTH.with(|d| d.replace(depth)),
            depth,
            on: true,
        }
    }

    /// The primal is done: tanh is libm's again, the kept partials stay
    /// until `self` is dropped (after the tangent pass).
    pub(crate) fn primal_done(&mut self) {
        if std::mem::replace(&mut self.on, false) {
            LANE_DEPTH.with(|d| d.set(self.previous));
        }
    }
}

impl Drop for LanePrimal {
    fn drop(&mut self) {
        self.primal_done();
        super::kept::forget(self.depth);
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
    // (eʳ − 1 − r)/r² = Σ r^(j−2)/j! for j = 15 down to 2: the table's first 14.
    let q = horner(&INV_FACTORIALS[..14], r);
    let em = r + (r * r) * q;
    (scale, em)
}

avx2_twin! {
    /// `out[i] = tanh(u[i])` within a few ulp of libm's (the two slices have
    /// one length): with AVX2's four-wide vectors where the processor has them
    /// (no fused multiply-adds, so the same bits), else with the baseline's
    /// two-wide ones.
    pub(crate) fn tanh_lanes(u: &[f64], out: &mut [f64]) = tanh_lanes_body;
}

/// The loop of [`tanh_lanes`]: no call and no branch, so it vectorises.
#[inline(always)]
fn tanh_lanes_body(u: &[f64], out: &mut [f64]) {
    for (o, &u) in out.iter_mut().zip(u) {
        *o = tanh_parts(u).0;
    }
}

/// `tanh u` (as [`tanh_lanes`]) with the parts its partial is made of:
/// `(t, 1 + m, 2 + m)`, `m = expm1(−2|u|)`. |u| above [`LANE_LIMIT`] (∞
/// included) is taken as the limit, where `t` is already ±1; a NaN `u` is
/// passed through as `t` (its parts are those of the limit).
#[inline(always)]
fn tanh_parts(u: f64) -> (f64, f64, f64) {
    // min of NaN and the limit is the limit: finite arithmetic, the NaN
    // put back below.
    let (scale, em) = expm1_parts(-2.0 * u.abs().min(LANE_LIMIT));
    // m = e^{−2|u|} − 1, 1 + m and 2 + m, each rounded once from exact parts.
    let se = scale * em;
    let two_m = se + (scale + 1.0);
    let t = (-(se + (scale - 1.0)) / two_m).copysign(u);
    (if u.is_nan() { u } else { t }, se + scale, two_m)
}

avx2_twin! {
    /// `out[i] = tanh(u[i])`, the bits of [`tanh_lanes`], and `sech2[i] =
    /// cosh(u[i])⁻²` from the same exponential (the three slices have one
    /// length): `1 − t² = 4(1 + m)/(2 + m)²` with `m = expm1(−2|u|)`, so
    /// `1 + m = e^{−2|u|}` (rounded once from exact parts, no cancellation at
    /// any |u|) and `2 + m` the quotient's own denominator: four more
    /// operations a value where the tangent pass took a second exponential.
    /// Within a few ulp of the compiled programs' `sech2_given_tanh` (tested);
    /// |u| above [`LANE_LIMIT`] and NaN, where `e^{−2|u|}` leaves the normal
    /// range or is undefined, take that reference (0 for ±∞, NaN for NaN).
    pub(crate) fn tanh_sech2_lanes(u: &[f64], out: &mut [f64], sech2: &mut [f64]) = tanh_sech2_lanes_body;
}

/// The loops of [`tanh_sech2_lanes`]: the first has no call and no branch
/// (it vectorises) and notes whether any value was out of the lanes'
/// range; only then does a second pass redo those by the reference.
#[inline(always)]
fn tanh_sech2_lanes_body(u: &[f64], out: &mut [f64], sech2: &mut [f64]) {
    let n = u.len();
    let (out, sech2) = (&mut out[..n], &mut sech2[..n]);
    let mut outside = false;
    for ((o, s), &u) in out.iter_mut().zip(sech2.iter_mut()).zip(u) {
        let (t, one_m, two_m) = tanh_parts(u);
        *o = t;
        *s = 4.0 * one_m / (two_m * two_m);
        outside |= u.is_nan() | (u.abs() > LANE_LIMIT);
    }
    if outside {
        for ((s, &t), &u) in sech2.iter_mut().zip(out.iter()).zip(u) {
            if u.is_nan() || u.abs() > LANE_LIMIT {
                *s = crate::compiled::sech2_given_tanh(u, t);
            }
        }
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

    /// The largest distance, in ulp, of [`tanh_sech2_lanes`]' partial from
    /// the compiled programs' `sech2_given_tanh` (with libm's tanh) that the
    /// tests allow.
    const SECH2_ULPS: u64 = 8;

    #[test]
    fn the_fused_partial_is_within_a_few_ulp_of_the_reference() {
        let u = sample();
        let (mut t, mut s) = (vec![f64::NAN; u.len()], vec![f64::NAN; u.len()]);
        tanh_sech2_lanes(&u, &mut t, &mut s);
        // The value is the lane tanh's, bit for bit.
        let mut plain = vec![f64::NAN; u.len()];
        tanh_lanes(&u, &mut plain);
        let same = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        };
        assert!(same(&t, &plain));
        // The dispatched copy (AVX2 here) and the baseline's agree bit for bit.
        let (mut t0, mut s0) = (vec![f64::NAN; u.len()], vec![f64::NAN; u.len()]);
        tanh_sech2_lanes_body(&u, &mut t0, &mut s0);
        assert!(same(&t, &t0) && same(&s, &s0));
        let mut worst = (0, 0.0);
        for (&u, &g) in u.iter().zip(&s) {
            let want = crate::compiled::sech2_given_tanh(u, u.tanh());
            if u.is_nan() || u.abs() > LANE_LIMIT {
                // Out of the lanes' range: the reference itself.
                assert!(same(&[g], &[want]), "u = {u:e}: {g:e} vs {want:e}");
                continue;
            }
            let d = g.to_bits().abs_diff(want.to_bits());
            assert!(d <= SECH2_ULPS, "u = {u:e}: {g:e} vs {want:e}");
            if d > worst.0 {
                worst = (d, u);
            }
            // And the rules table's cosh(u)⁻² where that is a normal number.
            let table = u.cosh().powi(-2);
            if table >= f64::MIN_POSITIVE {
                assert!(
                    (g - table).abs() <= 1e-14 * table,
                    "u = {u:e}: {g:e} vs {table:e}"
                );
            }
        }
        assert!(worst.0 <= SECH2_ULPS, "worst {worst:?}");
    }

    #[test]
    fn the_fused_partial_keeps_the_special_values() {
        // ±0 give 1; large |u| underflow to subnormals and then 0, as the
        // reference does; ±∞ give 0, NaN stays NaN (the value too).
        let u = [
            0.0,
            -0.0,
            1e-300,
            LANE_LIMIT,
            -360.0,
            372.0,
            400.0,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let (mut t, mut s) = ([9.0; 11], [9.0; 11]);
        tanh_sech2_lanes(&u, &mut t, &mut s);
        assert_eq!(s[..3], [1.0, 1.0, 1.0]);
        assert!(s[3] >= f64::MIN_POSITIVE, "{:e}", s[3]);
        assert!(s[4] > 0.0 && s[4] < f64::MIN_POSITIVE, "{:e}", s[4]);
        assert_eq!(s[6..10], [0.0; 4]);
        assert!(s[10].is_nan() && t[10].is_nan());
        for (&u, &g) in u.iter().zip(&s).take(10).skip(3) {
            let want = crate::compiled::sech2_given_tanh(u, u.tanh());
            assert!(g.to_bits().abs_diff(want.to_bits()) <= SECH2_ULPS, "{u}");
        }
        // NaN in the middle of a run leaves its neighbours alone.
        let u = [0.5, f64::NAN, -0.5, 2.0];
        let (mut t, mut s) = ([0.0; 4], [0.0; 4]);
        tanh_sech2_lanes(&u, &mut t, &mut s);
        assert!(s[1].is_nan());
        for i in [0, 2, 3] {
            assert!((s[i] - u[i].cosh().powi(-2)).abs() <= 1e-15);
        }
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
