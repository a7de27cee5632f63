//! W2's compiled line for instruction counts (callgrind), not timing:
//! `w2_count N REPS THREADS` compiles the per-sample loss once and runs
//! REPS calls of the 20 descent iterations over n = N samples with at most
//! THREADS threads. The difference of two counts (REPS = 3 and 1) divided
//! by 2·20 is the count of one iteration.

use std::hint::black_box;

use chainrule_bench::data::linspace;
use chainrule_bench::w2::{compile, compiled_descent};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: w2_count N REPS THREADS";
    let (n, reps, threads) = match args.as_slice() {
        [n, r, t] => (
            n.parse::<usize>().expect(usage),
            r.parse::<usize>().expect(usage),
            t.parse::<usize>().expect(usage),
        ),
        _ => panic!("{usage}"),
    };
    let x = linspace(1.0, 4.0, n);
    let y: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    let mut program = compile().expect("the loss traces");
    program.set_threads(threads);
    let mut w = 0.0;
    for _ in 0..reps {
        w = compiled_descent(&mut program, black_box(&x), black_box(&y));
    }
    println!("{w}");
}
