//! W9 for instruction counts (callgrind), not timing: `w9_count IMPL N REPS`
//! builds what IMPL (`manual` or `sparse`) needs for n = N, then computes the
//! Hessian REPS times. The difference of two counts (REPS = 11 and 1)
//! divided by 10 is the count of one Hessian. With `W9_SHOW` set, the
//! prepared plan (pattern, colouring, program) is printed to stderr first.

use std::hint::black_box;

use chainrule::sparse::SparseHessian;
use chainrule_bench::w9::{closed_form, diagonal_total, rosenbrock, w9_x};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: w9_count manual|sparse N REPS";
    let (which, n, reps) = match args.as_slice() {
        [w, n, r] => (
            w.clone(),
            n.parse::<usize>().expect(usage),
            r.parse::<usize>().expect(usage),
        ),
        _ => panic!("{usage}"),
    };
    let x = w9_x(n);
    let mut check = 0.0;
    match which.as_str() {
        "manual" => {
            for _ in 0..reps {
                let (main, off) = closed_form(black_box(&x));
                check = diagonal_total(&main, &off);
            }
        }
        "sparse" => {
            let mut plan = SparseHessian::new(n, rosenbrock).expect("traced");
            eprintln!(
                "nnz {}, colours {}, program instructions {}",
                plan.pattern().nnz(),
                plan.coloring().n_colors(),
                plan.program_len()
            );
            if std::env::var_os("W9_SHOW").is_some() {
                eprintln!("{plan:#?}");
            }
            for _ in 0..reps {
                let h = plan.eval(black_box(&x)).expect("n inputs");
                check = h.values().iter().sum();
            }
        }
        _ => panic!("{usage}"),
    }
    println!("{check}");
}
