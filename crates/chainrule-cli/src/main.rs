//! The `chainrule` command line (contract: ../shared/CLI.md).
//!
//! Every command prints a human-readable report, or exactly one JSON object
//! with `--json`. Bad input (a malformed expression, a point that does not
//! fit it, an unknown flag) exits with code 2 and one line on stderr naming
//! what and where; nothing is printed on stdout then, and no input makes the
//! binary panic or crash.

mod args;
mod budget;
mod cmd;
mod draw;
mod engine;
mod error;
mod fd;
#[cfg(test)]
mod fuzz;
mod grammar;
mod json;
mod outcome;
mod point;
mod table;
mod tour;
mod wengert;

use std::io::Write;

use crate::args::{Command, Parsed};
use crate::error::{one_line, CliError, CliResult};
use crate::outcome::Outcome;

/// Stack size of the thread that does the work: generous, as a last line of
/// defence (deep inputs are refused by the parser's nesting limit anyway).
const STACK_BYTES: usize = 256 << 20;

fn main() {
    // Last line of defence: a panic still ends in one line on stderr and exit 2.
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let wher = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error: {}{wher}", one_line(&payload));
        std::process::exit(2);
    }));
    let mut args = Vec::new();
    for (i, a) in std::env::args_os().skip(1).enumerate() {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(_) => {
                eprintln!("error: argument {} is not valid UTF-8", i + 1);
                std::process::exit(2);
            }
        }
    }
    let worker = std::thread::Builder::new()
        .name("chainrule".into())
        .stack_size(STACK_BYTES)
        .spawn(move || run(args));
    let result = match worker {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| Err(CliError::new("internal error"))),
        Err(_) => run_here(),
    };
    match result {
        Ok(outcome) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`chainrule tour | head`) is not an error worth a panic.
            let _ = stdout.write_all(outcome.stdout.as_bytes());
            let _ = stdout.flush();
            std::process::exit(outcome.code);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}

fn run_here() -> CliResult<Outcome> {
    Err(CliError::new("could not start the worker thread"))
}

/// Parses the arguments and runs the command.
fn run(args: Vec<String>) -> CliResult<Outcome> {
    match args::parse(args)? {
        Parsed::Print(text) => Ok(Outcome::ok(text)),
        Parsed::Run(command) => dispatch(command),
    }
}

fn dispatch(command: Command) -> CliResult<Outcome> {
    match command {
        Command::Grad(a) => cmd::grad::run(&a),
        Command::Hessian(a) => cmd::hessian::run(&a),
        Command::Diff(a) => cmd::diff::run(&a),
        Command::Taylor(a) => cmd::taylor::run(&a),
        Command::Check(a) => cmd::check::run(&a),
        Command::Explain(a) => cmd::explain::run(&a),
        Command::Graph(a) => cmd::graph::run(&a),
        Command::Matrix(a) => cmd::matrix::run(&a),
        Command::Tour(a) => tour::run(a.json),
        Command::Expressions => Ok(Outcome::ok(grammar::text())),
    }
}
