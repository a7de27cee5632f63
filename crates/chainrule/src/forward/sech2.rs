//! tanh's partial `cosh(u)⁻²` for a block of rows in lanes: the forward
//! engine's tangent of tanh without a libm call per value.
//!
//! The scalar reference is [`sech2_given_tanh`] (the compiled programs'):
//! `(1 − t)(1 + t)` from the output `t = tanh u` where that does not cancel
//! (|t| ≤ ½), else `4e/(1 + e)²` with `e = exp(−2|u|)`. [`sech2_lanes`]
//! computes the same formulas with the exponential of [`exp_nonpositive`]
//! (straight-line f64 arithmetic, so a loop over values vectorises) and
//! takes the scalar reference for the few values it does not cover (|u| >
//! [`LANE_LIMIT`], NaN). The |t| ≤ ½ branch is the reference bit for bit;
//! elsewhere the exponential is within 1 ulp of libm's (tested on a dense
//! sweep), which keeps the partial within a few ulp of the reference's.

use crate::compiled::sech2_given_tanh;
use crate::macros::avx2_twin;

/// The largest |u| the lanes take: `exp(−2|u|)` is then at least e⁻⁷⁰⁰, a
/// normal number, so the scaling by 2ⁿ below is exact.
pub(crate) const LANE_LIMIT: f64 = 350.0;

/// 1.5·2⁵²: adding it rounds a value below 2⁵¹ in magnitude to an integer,
/// held in the low bits of the sum.
pub(super) const SHIFT: f64 = 6_755_399_441_055_744.0;
/// log₂ e.
pub(super) const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 in two parts (fdlibm's ln2HI = 6.93147180369123816490e-1 and ln2LO =
/// 1.90821492927058770002e-10, by their bits): the high part has 32
/// significant bits, so `n · LN2_HI` is exact for |n| < 2²¹.
pub(super) const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// ln 2 − [`LN2_HI`].
pub(super) const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// `e^v` for `v` in [−2·[`LANE_LIMIT`], 0] (no NaN, no infinity), without a
/// branch: `v = n ln 2 + r` with |r| ≤ ln 2 / 2, `e^r` by its Taylor
/// polynomial of degree 13 (the remainder is below 4·10⁻¹⁸, under a
/// twentieth of an ulp), times `2ⁿ` built from its bits (exact: the result
/// is normal on this range).
#[inline(always)]
pub(crate) fn exp_nonpositive(v: f64) -> f64 {
    let (r, scale) = reduce_ln2(v);
    // e^r = Σ r^j/j! for j = 13 down to 0: the table's last 14 entries.
    let p = horner(&INV_FACTORIALS[2..], r);
    p * scale
}

/// 1/j! for j = 15 down to 0: the Taylor coefficients both lane
/// exponentials take their polynomials from (`exp_nonpositive` the last 14,
/// `tanh.rs`'s expm1 the first 14).
pub(super) const INV_FACTORIALS: [f64; 16] = [
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
    1.0,
    1.0,
];

/// The polynomial with coefficients `c` (highest degree first) at `r`, by
/// Horner's rule: straight-line multiplies and adds, no fused multiply-add,
/// so the lanes and the scalar path give the same bits.
#[inline(always)]
pub(super) fn horner(c: &[f64], r: f64) -> f64 {
    let mut p = c[0];
    for &k in &c[1..] {
        p = p * r + k;
    }
    p
}

/// The argument reduction both lane exponentials share (this one and
/// `tanh.rs`'s expm1): `v = n ln 2 + r` with |r| ≤ ln 2 / 2, returned as
/// `(r, 2ⁿ)`, `2ⁿ` built from its bits (exact for the `v` they take).
#[inline(always)]
pub(super) fn reduce_ln2(v: f64) -> (f64, f64) {
    let k = v * LOG2E + SHIFT;
    let n = k - SHIFT;
    let r = (v - n * LN2_HI) - n * LN2_LO;
    // The low bits of k hold n; 2ⁿ's exponent field is n + 1023.
    let scale = f64::from_bits(k.to_bits().wrapping_sub(SHIFT.to_bits()).wrapping_add(1023) << 52);
    (r, scale)
}

avx2_twin! {
    /// `out[i] = cosh(u[i])⁻²` given `t[i] = tanh(u[i])`, as
    /// [`sech2_given_tanh`] computes it, for one block of rows (the three
    /// slices have one length): with AVX2's four-wide vectors where the
    /// processor has them (no fused multiply-adds, so the same bits), else
    /// with the baseline's two-wide ones.
    pub(crate) fn sech2_lanes(u: &[f64], t: &[f64], out: &mut [f64]) = sech2_lanes_body;
}

/// The loops of [`sech2_lanes`]. The first has no call and no branch (both
/// formulas computed, one kept), so it vectorises; a value outside the
/// lanes' range (|u| > [`LANE_LIMIT`] or NaN) is then redone by the scalar
/// reference.
#[inline(always)]
fn sech2_lanes_body(u: &[f64], t: &[f64], out: &mut [f64]) {
    for ((o, &u), &t) in out.iter_mut().zip(u).zip(t) {
        let inside = (1.0 - t) * (1.0 + t);
        // min keeps an out-of-range lane's arithmetic finite; it is redone below.
        let e = exp_nonpositive(-2.0 * u.abs().min(LANE_LIMIT));
        let s = 1.0 + e;
        let outside = 4.0 * e / (s * s);
        *o = if t.abs() <= 0.5 { inside } else { outside };
    }
    for ((o, &u), &t) in out.iter_mut().zip(u).zip(t) {
        if u.is_nan() || u.abs() > LANE_LIMIT {
            *o = sech2_given_tanh(u, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest distance, in ulp, of [`exp_nonpositive`] from libm's
    /// `exp` on [−2·[`LANE_LIMIT`], 0] that the tests allow.
    const EXP_ULPS: u64 = 1;

    /// The distance in ulp of two finite values of one sign.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn the_lane_exponential_is_within_one_ulp_of_libm() {
        // A dense sweep of [−700, 0], both ends, and the points where the
        // reduction's n changes (half-integer multiples of ln 2).
        let mut worst = 0;
        let n = 2_000_000;
        let sweep = (0..=n).map(|i| -700.0 * i as f64 / n as f64);
        let edges = (0..1010).flat_map(|j| {
            let v = -(j as f64 + 0.5) * std::f64::consts::LN_2;
            [v, v.next_up(), v.next_down()]
        });
        for v in sweep.chain(edges).filter(|v| *v >= -700.0 && *v <= 0.0) {
            let (a, b) = (exp_nonpositive(v), v.exp());
            worst = worst.max(ulps(a, b));
            assert!(ulps(a, b) <= EXP_ULPS, "exp({v}): {a} vs libm {b}");
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        // Tiny arguments: e^v rounds to 1 or its neighbour below.
        assert!(ulps(exp_nonpositive(-1e-300), 1.0) <= 1);
        assert!(worst <= EXP_ULPS);
    }

    #[test]
    fn lane_partials_match_the_scalar_reference() {
        // Ordinary values on both sides of |t| = ½, the special values and
        // the edges of the lanes' range.
        let mut u: Vec<f64> = (0..20_001).map(|i| (i as f64 - 10_000.0) * 1e-3).collect();
        u.extend([
            0.0,
            -0.0,
            0.549_306_144_334_054_8, // atanh ½
            -0.549_306_144_334_054_8,
            20.0,
            -40.0,
            LANE_LIMIT,
            -LANE_LIMIT,
            LANE_LIMIT.next_up(),
            360.0,
            -373.0,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        let t: Vec<f64> = u.iter().map(|v| v.tanh()).collect();
        let mut got = vec![f64::NAN; u.len()];
        sech2_lanes(&u, &t, &mut got);
        // The dispatched copy (AVX2 here) and the baseline's agree bit for bit.
        let mut baseline = vec![f64::NAN; u.len()];
        sech2_lanes_body(&u, &t, &mut baseline);
        assert!(got
            .iter()
            .zip(&baseline)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())));
        for ((&u, &t), &g) in u.iter().zip(&t).zip(&got) {
            let want = sech2_given_tanh(u, t);
            if t.abs() <= 0.5 || u.is_nan() || u.abs() > LANE_LIMIT {
                // The same formula: the same bits (NaN stays NaN).
                assert!(
                    g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
                    "u = {u}: {g} vs {want}"
                );
            } else {
                // One exponential within 1 ulp: 4e/(1 + e)² within 4.
                assert!(ulps(g, want) <= 4, "u = {u}: {g} vs {want}");
                // And against the rules table's cosh(u)⁻².
                let table = u.cosh().powi(-2);
                assert!(
                    (g - table).abs() <= 1e-14 * table,
                    "u = {u}: {g} vs {table}"
                );
            }
        }
        // Exact values: 1 at ±0, 0 at ±∞, NaN at NaN.
        let specials = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let ts = specials.map(f64::tanh);
        let mut s = [9.0; 5];
        sech2_lanes(&specials, &ts, &mut s);
        assert_eq!(s[..4], [1.0, 1.0, 0.0, 0.0]);
        assert!(s[4].is_nan());
    }
}
