//! A fixed amount of the tape's work per workload, for instruction counts
//! under callgrind (load-independent, unlike timings):
//!
//!     valgrind --tool=callgrind target/release/examples/tape_counts w1 [calls]
//!
//! `w1`: W1's eager chain (K = 25,000 steps per call); `w2`: W2's eager
//! descent at n = 4 (20 iterations per call; a third argument sets n;
//! `w2leaf`: the update as a new leaf, as up to wave 7);
//! `w3f64`, `w3f32`: W3's eager training step (one per call). Prints the
//! check of the last call.

use std::hint::black_box;

use chainrule::{DType, Tensor};
use chainrule_bench::{data, w1, w2, w3};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("w1", String::as_str);
    let calls: usize = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(1);
    let check = match which {
        "w1" => (0..calls).fold(0.0, |_, _| {
            w1::eager(black_box(w1::K), black_box(0.5), black_box(0.9)).1
        }),
        "w2" | "w2leaf" => {
            let n: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(4);
            let xs = data::linspace(1.0, 4.0, n);
            let ys: Vec<f64> = xs.iter().map(|v| 2.0 * v).collect();
            let x = Tensor::from_vec(xs, &[n]).expect("n values");
            let y = Tensor::from_vec(ys, &[n]).expect("n values");
            let descent = if which == "w2" {
                w2::eager
            } else {
                w2::eager_new_leaf
            };
            (0..calls).fold(0.0, |_, _| descent(black_box(&x), black_box(&y)))
        }
        "w3f64" | "w3f32" => {
            let dtype = if which == "w3f64" {
                DType::F64
            } else {
                DType::F32
            };
            let mut mlp = w3::EagerMlp::with_dtype(&data::w3_data(), dtype);
            (0..calls).fold(0.0, |_, _| mlp.step())
        }
        other => {
            eprintln!("tape_counts: unknown workload {other:?} (w1, w2, w2leaf, w3f64, w3f32)");
            std::process::exit(2);
        }
    };
    println!("{check}");
}
