//! W8 for instruction counts (callgrind), not timing: `w8_count IMPL M REPS`
//! builds W8's data for m = M and computes the Jacobian REPS times with IMPL
//! (`manual`: the closed form; `forward`: `functional::jacfwd`). The
//! difference of two counts (REPS = 11 and 1) divided by 10 is the count of
//! one Jacobian.

use std::hint::black_box;

use chainrule::functional::jacfwd;
use chainrule::{Real, Tensor};
use chainrule_bench::w8::{jacobian_closed_form, w8_data};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: w8_count manual|forward M REPS";
    let (which, m, reps) = match args.as_slice() {
        [w, m, r] => (
            w.clone(),
            m.parse::<usize>().expect(usage),
            r.parse::<usize>().expect(usage),
        ),
        _ => panic!("{usage}"),
    };
    let (x, w, b) = w8_data(m);
    let mut check = 0.0;
    match which.as_str() {
        "manual" => {
            for _ in 0..reps {
                check = jacobian_closed_form(black_box(&x), black_box(&w), black_box(&b)).sum();
            }
        }
        "forward" => {
            let [x, w, b] = [x.into_dyn(), w.into_dyn(), b.into_dyn()].map(Tensor::from_ndarray);
            let f = |x: &Tensor| (w.matmul(x) + &b).tanh();
            for _ in 0..reps {
                check = jacfwd(f)(black_box(&x)).sum().item();
            }
        }
        _ => panic!("{usage}"),
    }
    println!("{check}");
}
