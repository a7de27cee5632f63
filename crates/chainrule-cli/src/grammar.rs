//! `chainrule help expressions`: the grammar of expressions and every
//! function, generated from the library's op table (`UnaryOp::ALL`,
//! `BinaryOp::ALL`) and the parser's aliases, so a new op appears here
//! without an edit.

use chainrule::symbolic::{ALIASES, ANGLES, NOTATION, REWRITTEN};
use chainrule::{BinaryOp, UnaryOp};

/// What a function computes, for the ones whose name does not say it all.
fn meaning(name: &str) -> &'static str {
    match name {
        "log" => "natural logarithm (also ln); log(x, b) is the base-b logarithm",
        "log2" | "log10" => "logarithm in base 2 / 10",
        "sqrt" => "square root",
        "cbrt" => "cube root, defined for negative x too",
        "asin" | "acos" | "atan" => "inverse trigonometric function (also arcsin, arccos, arctan)",
        "asinh" | "acosh" | "atanh" => {
            "inverse hyperbolic function (also arsinh/arcsinh, arcosh/arccosh, artanh/arctanh)"
        }
        "sigmoid" => "the logistic function 1/(1 + exp(-x)) (also logistic, expit)",
        "log1p" => "log(1 + x), exact for small x",
        "expm1" => "exp(x) - 1, exact for small x",
        "erfc" => "1 - erf(x), exact in the right tail",
        "sinc" => "sin(x)/x, 1 at 0 (unnormalised; NumPy's sinc is sin(pi*x)/(pi*x))",
        "spherical_jn" => {
            "spherical_jn(n, x), n = 0, 1, ...: spherical Bessel j_n; sinc' = -spherical_jn(1, x)"
        }
        "hypot" => "sqrt(x^2 + y^2) without overflow",
        "logaddexp" => "log(exp(x) + exp(y)) without overflow",
        "copysign" => "|x| with the sign of y",
        "softplus" => "log(1 + exp(x))",
        "relu" => "max(x, 0); relu'(0) = 0",
        "abs" => "|x|; abs'(0) = 0",
        "erf" => "the error function",
        "sign" => "-1, 0 or 1 by the sign of x; its derivative is 0",
        "step" => {
            "Heaviside step: 1 if x > 0, else 0 (the derivative of relu); its derivative is 0"
        }
        "pow" => "pow(x, y) = x^y",
        "atan2" => "atan2(y, x): the angle of the point (x, y) (also arctan2, atan(y, x))",
        "max" | "min" => "the larger / smaller argument (a tie sends the gradient to the first)",
        _ => "",
    }
}

/// The text of `chainrule help expressions`.
pub fn text() -> String {
    let mut out = String::from(
        "Expressions (the same grammar for every command, for --analytic, and for the library's\n\
         chainrule::symbolic::parse):\n\n\
         \x20 x + y   x - y   x * y   x / y   x ^ y (or x**y)   -x   ( )   f(x)   f(x, y)\n\
         \x20 ^ binds tightest and to the right (2^3^2 = 2^9); -x^2 = -(x^2).\n\
         \x20 Write 2*x, not 2x, and sin(x), not sinx (sinx, cosy, expz1 are refused;\n\
         \x20 other names that begin like a function, as cost or expo, are variables).\n\
         \x20 Numbers: 3  2.5  .5  1e-3.  Constants: pi (or π) and e (Euler's number; E is a variable).\n\
         \x20 Variables: any other name of ASCII letters, digits and _ (x, x1, theta, w_2).\n\
         \x20 Values in --at are constant expressions: --at x=pi/2,y=sqrt(2),z=1/3.\n\n\
         Functions of one argument:\n",
    );
    let mut names: Vec<&str> = UnaryOp::ALL
        .iter()
        .filter_map(|op| op.grammar_name())
        .collect();
    // spherical_jn is listed once (its order is its first argument).
    names.dedup();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(8) + 2;
    for name in names {
        out.push_str(format!("  {:width$}{}", name, meaning(name)).trim_end());
        out.push('\n');
    }
    out.push_str("\nFunctions of two arguments:\n");
    for op in BinaryOp::ALL {
        if BinaryOp::from_name(op.name()).is_some() {
            let call = format!("{}(x, y)", op.name());
            out.push_str(format!("  {call:14}{}", meaning(op.name())).trim_end());
            out.push('\n');
        }
    }
    out.push_str("  log(x, b)     logarithm of x in base b\n");
    out.push_str("\nFunctions read as a formula of the ones above:\n");
    let rewritten = REWRITTEN
        .iter()
        .map(|&(name, n, formula)| (name, n, formula));
    let angles = ANGLES.iter().map(|&(name, formula)| (name, 1, formula));
    for (name, n, formula) in rewritten.chain(angles) {
        let args = ["x", "y", "z"][..n].join(", ");
        out.push_str(&format!("  {:16}= {formula}\n", format!("{name}({args})")));
    }
    out.push_str("\nOther names:\n");
    let mut line = String::from(" ");
    let aliases = ALIASES.iter().copied().chain(
        UnaryOp::ALL
            .iter()
            .filter_map(|op| Some((op.aliases(), op.grammar_name()?)))
            .flat_map(|(aliases, name)| aliases.iter().map(move |a| (*a, name)))
            .filter(|(a, _)| !ALIASES.iter().any(|(b, _)| a == b)),
    );
    for (alias, name) in aliases {
        let item = format!(" {alias} = {name};");
        if line.chars().count() + item.chars().count() > 96 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
            line.push(' ');
        }
        line.push_str(&item);
    }
    line.pop();
    out.push_str(&line);
    out.push_str("\n\nNotation read as the plain grammar:\n");
    for (written, meaning) in NOTATION {
        out.push_str(&format!("  {written:32}{meaning}\n"));
    }
    out.push_str(MATRIX);
    out.push_str(
        "\nAn expression that begins with '-' goes after --: chainrule grad -- \"-x^2\" --at x=1\n",
    );
    out
}

/// The matrix notation of `chainrule matrix` (CLI.md, "Matrix calculus").
const MATRIX: &str = "\nMatrix expressions (chainrule matrix EXPR --wrt NAME):\n\
\x20 Kinds: a name declared in --let has the kind declared there (--let \"c: scalar, x: n,\n\
\x20 A: n x n symmetric, B: 3 x 4\"); otherwise a name that begins with an upper-case letter\n\
\x20 is a matrix and any other name a vector, so declare scalars: --let \"c: scalar\".\n\
\x20 I is the identity matrix (its size taken from where it stands); numbers are scalars.\n\
\x20 A'              transpose (x' is a row vector; A'' = A)\n\
\x20 A*B             matrix product, or scaling when one side is a scalar; u'*v is a scalar\n\
\x20 x .* y   x ./ y   x .^ y     elementwise product, quotient, power (same shapes, or a scalar)\n\
\x20 x / c   c ^ k   division by a scalar, power of a scalar\n\
\x20 tr(M)           trace of a square matrix\n\
\x20 det(M)          determinant of a square matrix\n\
\x20 logdet(M)       log|det M|\n\
\x20 inv(M)          inverse of a square matrix\n\
\x20 diag(v)         the diagonal matrix of a vector; diag(M) the vector of M's diagonal\n\
\x20 sum(v)  sum(M)  the sum of the entries\n\
\x20 norm2(v)        Euclidean norm sqrt(v'*v); norm1(v) the sum of |v_i|\n\
\x20 ones(n)  zeros(n)  zeros(m, n)   vectors and matrices of ones and zeros\n\
\x20 Every function of one argument above applies elementwise (tanh(W*x), 1 - tanh(z).^2).\n\
\x20 Precedence, tightest first (as MATLAB): postfix '; then ^ and .^ (to the right); unary -;\n\
\x20 * / .* ./; + -\n";

#[cfg(test)]
mod tests {
    #[test]
    fn every_function_is_listed() {
        let t = super::text();
        for name in chainrule::symbolic::function_names() {
            assert!(t.contains(name), "{name}");
        }
        assert!(t.lines().all(|l| l.chars().count() <= 100), "{t}");
    }

    #[test]
    fn the_matrix_functions_are_listed() {
        let t = super::text();
        for f in [
            "tr(M)",
            "det(M)",
            "logdet(M)",
            "inv(M)",
            "diag(v)",
            "norm2(v)",
            "norm1(v)",
            "A'",
            "c: scalar",
            ".*",
        ] {
            assert!(t.contains(f), "{f} is missing");
        }
    }
}
