//! Names for the intermediate nodes of a Wengert list that a reader cannot
//! mistake for an input.

use std::collections::HashSet;

/// Names a fresh node never takes: the grammar's constants and the
/// output's `f`.
const RESERVED: [&str; 3] = ["e", "f", "pi"];

/// Prefixes of numbered names (`v1`, `v2`, ...) for lists too long for
/// single letters, tried in order until one clashes with no input.
const PREFIXES: [&str; 6] = ["v", "t", "u", "w", "n", "m"];

/// Fresh names for the `count` intermediate nodes of a list whose inputs are
/// `vars`: single letters `a, b, c, ...` while they suffice, else `v1, v2,
/// ...` for all of them. A letter that is an input (`x`) or that an input
/// starts with (`x` for `x1`, `w` for `w_2`) is skipped, and so is a prefix
/// an input starts with, so that no name looks like an input's.
pub(crate) fn fresh_names(vars: &[&str], count: usize) -> Vec<String> {
    let stems: HashSet<&str> = vars.iter().map(|v| stem(v)).collect();
    let taken: HashSet<&str> = vars.iter().copied().collect();
    let letters: Vec<String> = ('a'..='z')
        .map(String::from)
        .filter(|l| {
            !RESERVED.contains(&l.as_str())
                && !taken.contains(l.as_str())
                && !stems.contains(l.as_str())
        })
        .collect();
    if count <= letters.len() {
        return letters.into_iter().take(count).collect();
    }
    let prefix = PREFIXES
        .iter()
        .find(|p| !stems.contains(*p) && !taken.contains(*p))
        .copied()
        .unwrap_or("node");
    let mut out = Vec::with_capacity(count);
    let mut k = 0usize;
    while out.len() < count {
        k += 1;
        let name = format!("{prefix}{k}");
        if !taken.contains(name.as_str()) {
            out.push(name);
        }
    }
    out
}

/// The name of the output: `f`, unless an input is called `f`; then the
/// first single letter no input uses or starts like.
pub(crate) fn output_name(vars: &[&str]) -> String {
    if !vars.contains(&"f") {
        return "f".to_string();
    }
    let stems: HashSet<&str> = vars.iter().map(|v| stem(v)).collect();
    ["g", "h", "y", "out", "output"]
        .iter()
        .find(|n| !vars.contains(n) && !stems.contains(*n))
        .map_or_else(|| "output".to_string(), |n| n.to_string())
}

/// A name without its trailing digits and `_`: `x` for `x1` and `x_1`,
/// `theta` for `theta`.
fn stem(name: &str) -> &str {
    let s = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let s = s.trim_end_matches('_');
    if s.is_empty() {
        name
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_skip_inputs_constants_and_the_output() {
        assert_eq!(fresh_names(&["a", "c"], 4), ["b", "d", "g", "h"]);
        assert_eq!(fresh_names(&["x"], 3), ["a", "b", "c"]);
    }

    #[test]
    fn no_name_looks_like_an_input() {
        // Inputs x1..x3: x is never an intermediate's name.
        let names = fresh_names(&["x1", "x2", "x3"], 23);
        assert!(!names.contains(&"x".to_string()), "{names:?}");
        assert_eq!(names.len(), 23);
        // More than the letters: numbered, none equal to an input.
        let names = fresh_names(&["x1", "x2", "x3"], 40);
        assert_eq!(names[0], "v1");
        assert_eq!(names[39], "v40");
        let names = fresh_names(&["v1", "v2"], 40);
        assert_eq!(names[0], "t1", "the prefix v is an input's stem");
        let all: HashSet<&String> = names.iter().collect();
        assert_eq!(all.len(), 40);
    }

    #[test]
    fn output_is_f_unless_an_input_is() {
        assert_eq!(output_name(&["x"]), "f");
        assert_eq!(output_name(&["f", "x"]), "g");
        assert_eq!(output_name(&["f", "g", "h"]), "y");
    }

    #[test]
    fn stems() {
        assert_eq!(stem("x1"), "x");
        assert_eq!(stem("w_2"), "w");
        assert_eq!(stem("theta"), "theta");
        assert_eq!(stem("_1"), "_1");
    }
}
