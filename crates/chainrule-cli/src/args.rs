//! The command line's shape (clap), and the `--` rule for expressions that
//! begin with `-`.

use clap::{Args, Parser, Subcommand};

use crate::error::{one_line, CliError, CliResult};

const EXAMPLES: &str = "\
Examples:
  chainrule tour
  chainrule grad \"x1^2 + 3*x1*x2 + x2^2\" --at x1=2,x2=3
  chainrule hessian \"x^2*y + sin(y)\" --at x=1,y=2 --json
  chainrule diff \"tanh(x)\" --order 4 --latex
  chainrule taylor \"cos(x)\" --at x=0 --order 6
  chainrule check \"x*sin(x)\" --analytic \"sin(x) + x*cos(x)\" --at x=1
  chainrule explain \"1/(1+exp(-x))\" --at x=2
  chainrule graph \"1/(1+exp(-x))\" --at x=2 -o sigmoid.svg
  chainrule matrix \"tr(A*X*B)\" --wrt X
  chainrule grad -- \"-x^2\" --at x=1        (an expression that begins with '-' goes after --)
  chainrule help expressions                (the grammar and every function)";

/// chainrule: derivatives you can check. Reverse-mode autodiff, Taylor mode,
/// symbolic formulas and finite differences, side by side.
#[derive(Debug, Parser)]
#[command(name = "chainrule", version, after_help = EXAMPLES)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Gradient by reverse mode, its simplified formulas, and a finite-difference check.
    #[command(
        after_help = "Example:\n  chainrule grad \"x1^2 + 3*x1*x2 + x2^2\" --at x1=2,x2=3\n  chainrule grad --json -- \"-x^2\" --at x=1\n  chainrule grad \"w*x + b\" --wrt w,b --at w=2,x=3,b=1"
    )]
    Grad(GradArgs),
    /// Value, gradient and full Hessian (reverse over reverse).
    #[command(
        after_help = "Example:\n  chainrule hessian \"x^2*y + sin(y)\" --at x=1,y=2\n  chainrule hessian \"(x1 - x2)^2 + (x2 - x3)^2 + x3^4\" --at x1=1,x2=2,x3=3 --sparse"
    )]
    Hessian(HessianArgs),
    /// The K-th derivative as a simplified formula (text or LaTeX), optionally its value.
    #[command(
        after_help = "Example:\n  chainrule diff \"x^3*sin(x)\" --order 2\n  chainrule diff \"x*y^2\" --wrt y --at x=1,y=3 --latex\n  chainrule diff \"x^2*y^3\" --wrt x,y,y"
    )]
    Diff(DiffArgs),
    /// Derivatives f, f', ..., f^(K) at a point by Taylor mode, and the Taylor coefficients.
    #[command(
        after_help = "Example:\n  chainrule taylor \"cos(x)\" --at x=0 --order 6\n  chainrule taylor \"exp(x*y)\" --wrt x --at x=0,y=2 --order 3"
    )]
    Taylor(TaylorArgs),
    /// Is my hand-derived derivative right? Compares a formula against autodiff
    /// at the point and at random points nearby. Exit 0 if they agree, 1 if not.
    #[command(
        after_help = "Example:\n  chainrule check \"x*sin(x)\" --analytic \"sin(x) + x*cos(x)\" --at x=1\n  chainrule check \"log(x^2)\" --analytic \"1/x\" --at x=2      (exit 1: the formula is off by a factor 2)"
    )]
    Check(CheckArgs),
    /// The computational graph as a Wengert list, the forward values and the reverse sweep.
    #[command(after_help = "Example:\n  chainrule explain \"1/(1+exp(-x))\" --at x=2")]
    Explain(PointArgs),
    /// Draws the computational graph (values, local derivatives, adjoints) as SVG or DOT.
    #[command(
        after_help = "Example:\n  chainrule graph \"1/(1+exp(-x))\" --at x=2 -o sigmoid.svg\n  chainrule graph \"x*y + sin(x)\" --at x=1,y=2 -o graph.dot"
    )]
    Graph(GraphArgs),
    /// The derivative of a matrix expression as a formula in matrix notation
    /// (and its Hessian), checked against reverse-mode autodiff.
    #[command(
        after_help = "Example:\n  chainrule matrix \"tr(A*X*B)\" --wrt X\n  chainrule matrix \"1/2*x'*A*x + b'*x + c\" --wrt x --let \"c: scalar\" --hessian\n  chainrule matrix \"log(1 + exp(a'*x))\" --wrt x --at '{\"a\": [1, 2], \"x\": [0.5, -1]}' --json"
    )]
    Matrix(MatrixArgs),
    /// Walks through every seed exercise: analytic, autodiff, symbolic, finite differences.
    #[command(after_help = "Example:\n  chainrule tour\n  chainrule tour --json")]
    Tour(TourArgs),
    /// The grammar of expressions and every function (also `chainrule help expressions`).
    #[command(after_help = "Example:\n  chainrule expressions\n  chainrule help expressions")]
    Expressions,
}

/// An expression and a point.
#[derive(Debug, Args)]
pub struct PointArgs {
    /// The expression (grammar of CLI.md); put it after `--` if it begins with '-'.
    pub expr: Option<String>,
    /// The point: name=value[,name=value...], one value per variable.
    #[arg(long, value_name = "POINT")]
    pub at: Vec<String>,
    /// Print one JSON object instead of the human-readable report.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `grad`: an expression, a point, the variables and the work budget.
#[derive(Debug, Args)]
pub struct GradArgs {
    /// The expression, the point and --json.
    #[command(flatten)]
    pub point: PointArgs,
    /// The variables of the gradient (x,y); the others are parameters, held at their
    /// values in --at. Default: every variable.
    #[arg(long, value_name = "VARS")]
    pub wrt: Option<String>,
    /// Work budget: expression nodes × variables, for the finite-difference
    /// check and the formulas (default 20,000,000).
    #[arg(long, value_name = "N", default_value_t = crate::budget::DEFAULT_WORK)]
    pub budget: u64,
}

/// Arguments of `hessian`: an expression, a point and the size limits.
#[derive(Debug, Args)]
pub struct HessianArgs {
    /// The expression and the point.
    #[command(flatten)]
    pub point: PointArgs,
    /// Work budget: expression nodes × variables (default 20,000,000).
    #[arg(long, value_name = "N", default_value_t = crate::budget::DEFAULT_WORK)]
    pub budget: u64,
    /// The most variables (the Hessian has their square as entries; default 1,000);
    /// with --sparse, the most nonzeros is its square.
    #[arg(long, value_name = "N", default_value_t = crate::budget::DEFAULT_HESSIAN_VARS)]
    pub max_vars: usize,
    /// Only the nonzeros, for expressions with many variables: the pattern detected
    /// from the expression, a star colouring, one Hessian-vector product per colour.
    #[arg(long)]
    pub sparse: bool,
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The expression; put it after `--` if it begins with '-'.
    pub expr: Option<String>,
    /// The variable to differentiate by (may be left out when there is only one), or a
    /// list for a mixed partial: x,y is d/dy d/dx, x,x,y is d/dy d²/dx².
    #[arg(long, value_name = "VAR")]
    pub wrt: Option<String>,
    /// How many times to differentiate (at most 32; for higher orders at a point use taylor).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub order: u32,
    /// Also evaluate the derivative at this point.
    #[arg(long, value_name = "POINT")]
    pub at: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Print the formula as LaTeX.
    #[arg(long)]
    pub latex: bool,
    /// Print the formula with shared subexpressions pulled out as `where` bindings.
    #[arg(long)]
    pub bindings: bool,
    /// Formula-size budget: the most formula nodes differentiating may build,
    /// and the most nodes a formula printed as one tree may have (default 200,000).
    #[arg(long, value_name = "N", default_value_t = crate::budget::DEFAULT_FORMULA_NODES)]
    pub max_nodes: usize,
}

/// Arguments of `taylor`.
#[derive(Debug, Args)]
pub struct TaylorArgs {
    /// The expression; put it after `--` if it begins with '-'.
    pub expr: Option<String>,
    /// The variable of the series (may be left out when there is only one).
    #[arg(long, value_name = "VAR")]
    pub wrt: Option<String>,
    /// The point; other variables are held at their values here.
    #[arg(long, value_name = "POINT")]
    pub at: Vec<String>,
    /// The highest derivative K.
    #[arg(long, value_name = "K", default_value_t = 4)]
    pub order: u32,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The function; put it after `--` if it begins with '-'.
    pub expr: Option<String>,
    /// The variable the derivative is taken by (may be left out when there is only one).
    #[arg(long, value_name = "VAR")]
    pub wrt: Option<String>,
    /// Your derivative, as a formula in the same grammar.
    #[arg(long, value_name = "FORMULA", allow_hyphen_values = true)]
    pub analytic: Option<String>,
    /// The point to compare at (random points nearby are tried too).
    #[arg(long, value_name = "POINT")]
    pub at: Vec<String>,
    /// How many random points near --at to try besides it (at most 10,000).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub samples: usize,
    /// Seed of the random points (deterministic).
    #[arg(long, value_name = "SEED", default_value_t = 2024)]
    pub seed: u64,
    /// Relative tolerance of the comparison.
    #[arg(long, value_name = "TOL", default_value_t = 1e-8)]
    pub tol: f64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The expression; put it after `--` if it begins with '-'.
    pub expr: Option<String>,
    /// The point whose values, local derivatives and adjoints are drawn.
    #[arg(long, value_name = "POINT")]
    pub at: Vec<String>,
    /// Output file: .svg (drawn in pure Rust) or .dot (Graphviz text).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<String>,
    /// Print one JSON object describing what was written.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// The expression (the matrix grammar of CLI.md); put it after `--` if it begins with '-'.
    pub expr: Option<String>,
    /// The name to differentiate by (may be left out when there is only one).
    #[arg(long, value_name = "NAME")]
    pub wrt: Option<String>,
    /// Declarations: "A: n x n symmetric, x: n, c: scalar".
    #[arg(long = "let", value_name = "DECLS")]
    pub let_: Option<String>,
    /// Also the Hessian (a scalar expression; a scalar or vector --wrt).
    #[arg(long)]
    pub hessian: bool,
    /// Values as one JSON object: {"A": [[1, 2], [3, 4]], "x": [1, -1], "c": 3}.
    #[arg(long, value_name = "JSON")]
    pub at: Option<String>,
    /// Print the formulas as LaTeX.
    #[arg(long)]
    pub latex: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tour`.
#[derive(Debug, Args)]
pub struct TourArgs {
    /// Print one JSON object with every exercise's numbers.
    #[arg(long)]
    pub json: bool,
}

/// What parsing the command line gave: a command, or text to print and exit 0 with.
#[derive(Debug)]
pub enum Parsed {
    /// Run this command.
    Run(Command),
    /// `--help` or `--version`: print this on stdout and exit 0.
    Print(String),
}

/// Parses the arguments (without the program name). An expression that
/// begins with `-` is taken from the token after the first `--`, wherever
/// the `--` stands; the other arguments are parsed as usual.
pub fn parse(args: Vec<String>) -> CliResult<Parsed> {
    let mut args = args;
    if args.len() == 2 && args[0] == "help" && args[1] == "expressions" {
        return Ok(Parsed::Print(crate::grammar::text()));
    }
    let mut dashed: Option<String> = None;
    if let Some(i) = args.iter().position(|a| a == "--") {
        if i + 1 >= args.len() {
            return Err(CliError::new("expected an expression after '--'"));
        }
        dashed = Some(args.remove(i + 1));
        args.remove(i);
    }
    let argv = std::iter::once("chainrule".to_string()).chain(args.iter().cloned());
    let mut cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    Ok(Parsed::Print(e.render().to_string()))
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                | ErrorKind::MissingSubcommand => Err(CliError::new(
                    "no command given; try 'chainrule --help', or 'chainrule tour'",
                )),
                ErrorKind::UnknownArgument => {
                    // `chainrule grad "-x^2"`: clap reads -x as a flag.
                    match args.iter().find(|a| looks_like_expression(a)) {
                        Some(expr) => Err(CliError::new(format!(
                            "{} looks like an expression that begins with '-': put it after --, \
                             as in chainrule {} -- \"{expr}\" ...",
                            crate::error::quote(expr),
                            args.first().map_or("grad", String::as_str)
                        ))),
                        None => match args.iter().find_map(|a| nearest_flag(&args, a)) {
                            Some((typo, flag)) => Err(CliError::new(format!(
                                "unexpected argument '{typo}'; did you mean '--{flag}'?"
                            ))),
                            None => Err(CliError::new(clap_line(&e.render().to_string()))),
                        },
                    }
                }
                _ => Err(CliError::new(clap_line(&e.render().to_string()))),
            };
        }
    };
    if let Some(expr) = dashed {
        let slot = match &mut cli.command {
            Command::Grad(a) => &mut a.point.expr,
            Command::Hessian(a) => &mut a.point.expr,
            Command::Explain(a) => &mut a.expr,
            Command::Diff(a) => &mut a.expr,
            Command::Taylor(a) => &mut a.expr,
            Command::Check(a) => &mut a.expr,
            Command::Graph(a) => &mut a.expr,
            Command::Matrix(a) => &mut a.expr,
            Command::Tour(_) => {
                return Err(CliError::new("'tour' takes no expression"));
            }
            Command::Expressions => {
                return Err(CliError::new("'expressions' takes no expression"));
            }
        };
        if let Some(first) = slot {
            return Err(CliError::new(format!(
                "two expressions given: {} and {} (after --)",
                crate::error::quote(first),
                crate::error::quote(&expr)
            )));
        }
        *slot = Some(expr);
    }
    Ok(Parsed::Run(cli.command))
}

/// For an unknown `--flag` among `args`: the flag and the nearest long flag
/// of the command `args[0]` (a transposition counts as one edit, so that
/// `--ta` finds `--at`, which clap's own suggestion misses).
fn nearest_flag(args: &[String], arg: &str) -> Option<(String, String)> {
    use clap::CommandFactory;
    let typo = arg.strip_prefix("--")?.split('=').next()?;
    let cmd = Cli::command();
    let sub = cmd.find_subcommand(args.first()?)?;
    let flags: Vec<String> = sub
        .get_arguments()
        .filter_map(|a| a.get_long())
        .map(str::to_string)
        .collect();
    if typo.is_empty() || flags.iter().any(|f| f == typo) {
        return None;
    }
    let limit = (typo.chars().count() / 3).max(1);
    flags
        .into_iter()
        .map(|f| (transposing_distance(typo, &f), f))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, f)| (format!("--{typo}"), f))
}

/// Edit distance where swapping two neighbours is one edit (optimal string
/// alignment).
fn transposing_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Whether a command-line argument that clap took for a flag is an
/// expression that begins with '-' (`-x^2`, `-sin(x)`, `-x`): anything
/// after one '-' but the short flags.
fn looks_like_expression(arg: &str) -> bool {
    arg.len() >= 2
        && arg.starts_with('-')
        && !arg.starts_with("--")
        && !["-o", "-h", "-V"].contains(&arg)
}

/// The lines that matter in a clap error: the first, without `error: `, and
/// clap's tips (the nearest command or flag for a typo).
fn clap_line(rendered: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let tips: Vec<&str> = lines.filter(|l| l.starts_with("tip:")).collect();
    if tips.is_empty() {
        one_line(first)
    } else {
        one_line(&format!("{first} ({})", tips.join("; ")))
    }
}

/// The expression of a command, or an error saying it is missing.
pub fn require_expr(expr: &Option<String>) -> CliResult<&str> {
    match expr {
        Some(e) => Ok(e.as_str()),
        None => Err(CliError::new(
            "missing the expression (an expression that begins with '-' goes after --)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> CliResult<Parsed> {
        parse(args.iter().map(|s| s.to_string()).collect())
    }

    fn grad_args(p: CliResult<Parsed>) -> PointArgs {
        match p {
            Ok(Parsed::Run(Command::Grad(a))) => a.point,
            other => panic!("expected grad, got {other:?}"),
        }
    }

    #[test]
    fn dash_dash_before_or_after_options() {
        let a = grad_args(run(&["grad", "--", "-x^2", "--at", "x=1"]));
        assert_eq!(a.expr.as_deref(), Some("-x^2"));
        assert_eq!(a.at, ["x=1"]);
        let a = grad_args(run(&["grad", "--at", "x=1", "--", "-x^2"]));
        assert_eq!(a.expr.as_deref(), Some("-x^2"));
        assert_eq!(a.at, ["x=1"]);
        let a = grad_args(run(&["grad", "--json", "x*y", "--at", "x=1,y=-2"]));
        assert!(a.json);
        assert_eq!(a.expr.as_deref(), Some("x*y"));
    }

    #[test]
    fn errors_are_one_line() {
        let e = run(&["grad", "x", "--bogus"]).unwrap_err();
        assert!(e.message().contains("--bogus"), "{e}");
        assert!(!e.message().contains('\n'));
        assert!(run(&["grad", "x", "--"]).is_err());
        assert!(run(&["grad", "x", "--", "y"]).is_err());
        assert!(run(&[]).is_err());
        let e = run(&["diff", "x", "--order", "abc"]).unwrap_err();
        assert!(e.message().contains("abc"), "{e}");
    }

    #[test]
    fn help_is_printed_not_an_error() {
        for sub in [
            "grad", "hessian", "diff", "taylor", "check", "explain", "graph", "matrix", "tour",
        ] {
            match run(&[sub, "--help"]) {
                Ok(Parsed::Print(text)) => assert!(text.contains("Example"), "{sub}: {text}"),
                other => panic!("{sub}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_leading_minus_and_typos_get_a_suggestion() {
        let e = run(&["grad", "-x^2", "--at", "x=1"]).unwrap_err();
        assert!(e.message().contains("put it after --"), "{e}");
        let e = run(&["grad", "-x", "--at", "x=1"]).unwrap_err();
        assert!(e.message().contains("put it after --"), "{e}");
        let e = run(&["gard", "x", "--at", "x=1"]).unwrap_err();
        assert!(e.message().contains("'grad'"), "{e}");
        let e = run(&["grad", "x", "--ta", "x=1"]).unwrap_err();
        assert!(e.message().contains("'--at'"), "{e}");
        match run(&["help", "expressions"]) {
            Ok(Parsed::Print(t)) => assert!(t.contains("sigmoid"), "{t}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn analytic_may_begin_with_minus() {
        match run(&["check", "cos(x)", "--analytic", "-sin(x)", "--at", "x=1"]) {
            Ok(Parsed::Run(Command::Check(a))) => {
                assert_eq!(a.analytic.as_deref(), Some("-sin(x)"))
            }
            other => panic!("{other:?}"),
        }
    }
}
