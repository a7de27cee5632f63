//! `chainrule-bench`: time chainrule's implementations of the workloads of
//! bench/WORKLOADS.md and print one JSON line per measurement, as peers.py does.
//!
//!     chainrule-bench [--workload W1|…|W9|all] [--quick] [--smoke] [--impl A,B]
//!                     [--threads N] [--list]

use std::io::Write;
use std::process::ExitCode;

use chainrule_bench::registry::Checks;
use chainrule_bench::{entries, Mode};

const USAGE: &str = "usage: chainrule-bench [--workload W1|W2|W3|W4|W5|W6|W7|W8|W9|all] [--quick] \
[--smoke] [--impl A,B] [--threads N] [--list]

  --workload W   the workload to run (default: all)
  --quick        3 repetitions of at least 0.02 s instead of 7 of at least 0.2 s
  --smoke        1 repetition of 1 call and smaller sizes where slow: checks that it runs
  --impl A,B     only these implementations (default: all)
  --threads N    gemm threads (sets CHAINRULE_NUM_THREADS; default: the machine's cores)
  --list         print the registry (workload, impl, size, unit) and exit";

struct Options {
    workload: String,
    mode: Mode,
    impls: Option<Vec<String>>,
    threads: Option<usize>,
    list: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        workload: "all".into(),
        mode: Mode::default(),
        impls: None,
        threads: None,
        list: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--workload" => options.workload = value("--workload")?,
            "--impl" => {
                let list = value("--impl")?;
                options.impls = Some(list.split(',').map(str::to_string).collect());
            }
            "--threads" => {
                let n = value("--threads")?;
                let n = n
                    .parse()
                    .map_err(|_| format!("--threads: not a count: {n}"))?;
                options.threads = Some(n);
            }
            "--quick" => options.mode.quick = true,
            "--smoke" => options.mode.smoke = true,
            "--list" => options.list = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let known = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "all"];
    if !known.contains(&options.workload.as_str()) {
        return Err(format!("no workload {}", options.workload));
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("chainrule-bench: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Before the first gemm: chainrule reads it once.
    if let Some(threads) = options.threads {
        std::env::set_var("CHAINRULE_NUM_THREADS", threads.max(1).to_string());
    }
    let all = entries(&options.mode);
    let selected: Vec<_> = all
        .into_iter()
        .filter(|e| options.workload == "all" || e.workload == options.workload)
        .collect();
    let selected: Vec<_> = match &options.impls {
        None => selected,
        Some(impls) => {
            let unknown: Vec<&String> = impls
                .iter()
                .filter(|name| !selected.iter().any(|e| e.implementation == **name))
                .collect();
            if !unknown.is_empty() {
                let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
                eprintln!(
                    "chainrule-bench: no implementation {} in {}",
                    names.join(", "),
                    options.workload
                );
                return ExitCode::from(2);
            }
            selected
                .into_iter()
                .filter(|e| impls.iter().any(|name| name == e.implementation))
                .collect()
        }
    };
    let mut out = std::io::stdout().lock();
    if options.list {
        for e in &selected {
            // A closed pipe (| head) ends the listing quietly.
            let row = format!(
                "{}\t{}\t{}\t{}",
                e.workload, e.implementation, e.size, e.unit
            );
            if writeln!(out, "{row}").is_err() {
                return ExitCode::SUCCESS;
            }
        }
        return ExitCode::SUCCESS;
    }
    let mut checks = Checks::default();
    let mut disagreements = 0;
    for entry in selected {
        for line in entry.run(&options.mode) {
            if writeln!(out, "{}", line.to_json())
                .and_then(|_| out.flush())
                .is_err()
            {
                return ExitCode::SUCCESS;
            }
            if let Some(warning) = checks.add(&line) {
                eprintln!("{warning}");
                disagreements += 1;
            }
        }
    }
    if disagreements > 0 {
        eprintln!("warning: {disagreements} check disagreement(s)");
    }
    ExitCode::SUCCESS
}
