//! `chainrule help expressions`: the grammar of expressions and every
//! function, generated from the library's op table (`UnaryOp::NAMED`,
//! `BinaryOp::ALL`) and the parser's aliases, so a new op appears here
//! without an edit.

use chainrule::symbolic::{ALIASES, NOTATION};
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
        "sigmoid" => "the logistic function 1/(1 + exp(-x))",
        "softplus" => "log(1 + exp(x))",
        "relu" => "max(x, 0); relu'(0) = 0",
        "abs" => "|x|; abs'(0) = 0",
        "erf" => "the error function",
        "sign" => "-1, 0 or 1 by the sign of x; its derivative is 0",
        "step" => {
            "Heaviside step: 1 if x > 0, else 0 (the derivative of relu); its derivative is 0"
        }
        "pow" => "pow(x, y) = x^y",
        "atan2" => "atan2(y, x): the angle of the point (x, y) (also arctan2)",
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
         \x20 ^ binds tightest and to the right (2^3^2 = 2^9); -x^2 = -(x^2); write 2*x, not 2x.\n\
         \x20 Numbers: 3  2.5  .5  1e-3.  Constants: pi (or π) and e (Euler's number; E is a variable).\n\
         \x20 Variables: any other name of ASCII letters, digits and _ (x, x1, theta, w_2).\n\
         \x20 Values in --at are constant expressions: --at x=pi/2,y=sqrt(2),z=1/3.\n\n\
         Functions of one argument:\n",
    );
    let named = UnaryOp::ALL
        .into_iter()
        .filter(|op| UnaryOp::from_name(op.name()).is_some());
    let width = named.clone().map(|op| op.name().len()).max().unwrap_or(8) + 2;
    for op in named {
        let name = op.name();
        out.push_str(format!("  {:width$}{}\n", name, meaning(name)).trim_end());
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
    out.push_str("\nOther names:\n ");
    for (alias, name) in ALIASES {
        out.push_str(&format!(" {alias} = {name};"));
    }
    out.pop();
    out.push_str("\n\nNotation read as the plain grammar:\n");
    for (written, meaning) in NOTATION {
        out.push_str(&format!("  {written:32}{meaning}\n"));
    }
    out.push_str(
        "\nAn expression that begins with '-' goes after --: chainrule grad -- \"-x^2\" --at x=1\n",
    );
    out
}

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
}
