//! How the pictures and the explanation write numbers.

/// The shortest text that reads back as the same `f64` (`0.1`, `3`,
/// `1e-30`), `inf`, `-inf` and `nan` for the non-finite values, and `0` for
/// both zeros (the sign of zero means nothing to a reader).
///
/// ```
/// use chainrule::graph::num_text;
/// assert_eq!(num_text(3.0), "3");
/// assert_eq!(num_text(0.1), "0.1");
/// assert_eq!(num_text(-0.0), "0");
/// assert_eq!(num_text(f64::NEG_INFINITY), "-inf");
/// ```
pub fn num_text(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if x == 0.0 {
        "0".to_string()
    } else {
        // Debug is the shortest text that reads back as the same f64, and
        // switches to exponent form for very large and very small values.
        let s = format!("{x:?}");
        match s.strip_suffix(".0") {
            Some(int) => int.to_string(),
            None => s,
        }
    }
}

/// A number with at most 6 significant digits, for the chain-rule products
/// and the pictures (never longer than [`num_text`]).
///
/// ```
/// use chainrule::graph::short;
/// assert_eq!(short(0.1049935854035065), "0.104994");
/// assert_eq!(short(-2.0205821812141855e-14), "-2.02058e-14");
/// ```
pub fn short(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return num_text(x);
    }
    let full = num_text(x);
    let abs = x.abs();
    let text = if (1e-4..1e6).contains(&abs) {
        let decimals = (5 - abs.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{x:.5e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{e}")
            }
            None => s,
        }
    };
    if text.len() >= full.len() {
        full
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.1049935854035065), "0.104994");
        assert_eq!(short(-0.7758034428122263), "-0.775803");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(-2.0205821812141855e-14), "-2.02058e-14");
        assert_eq!(short(326.0), "326");
        assert_eq!(short(f64::INFINITY), "inf");
        assert_eq!(short(f64::NAN), "nan");
    }

    #[test]
    fn round_trip_text() {
        for x in [0.1, 1.0 / 3.0, 1e-300, 6.02e23, -2.5] {
            assert_eq!(num_text(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(num_text(1e21), "1e21");
    }
}
