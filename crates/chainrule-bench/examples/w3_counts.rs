//! W3's eager training step, counted: heap allocations and bytes allocated
//! per step (a counting global allocator), and a fixed number of steps for
//! instruction counts under callgrind (load-independent, unlike timings):
//!
//!     target/release/examples/w3_counts f64 10
//!     CHAINRULE_NUM_THREADS=1 valgrind --tool=callgrind target/release/examples/w3_counts f32 10
//!
//! Per step on branch kern (2026-12-06, CHAINRULE_NUM_THREADS=1), before →
//! after the fused cross-entropy, bias-in-gemm, in-place SGD and relu
//! backward: f64 35.73M → 34.02M instructions (the gemm crate's 32.56M
//! unchanged; the rest 3.17M → 1.46M), 188 → 106 allocations; f32 18.80M →
//! 17.56M (gemm 16.39M; the rest 2.41M → 1.17M), 219 → 116 allocations.
//! Most bytes allocated per step are the gemm crate's own packing buffers
//! (about 0.9 MB in f64, 0.5 MB in f32, allocated on each large product).
//!
//! Wave 5 (branch gemm3): the two large products and W1's SGD update run
//! in bands, one per thread (the caller's own band among them); with
//! CHAINRULE_NUM_THREADS=1 the counts are unchanged (f64 34.02M, f32
//! 17.56M a step), and the losses are bit-for-bit the same with 1 or 2
//! threads. With 2 threads the gemm crate's packing allocations are per
//! band (x's 786 KiB pack for dW1 becomes two of 396 KiB), and a step
//! makes 6 more small allocations (the three band lists and the pool's
//! jobs): f64 109.3 → 115.5, f32 119.0 → 125.0 with 2 threads. Wall
//! time on the shared machine (load ~2.5 on its 2 CPUs, so noisy; the
//! minimum of 5 runs of 200 steps, twice): f64 1.81 / 1.76 → 1.17 / 1.41 ms
//! a step, f32 1.16 / 1.15 → 0.99 / 1.13 ms.
//!
//! `f64-manual` and `f32-manual` count the hand-written step (`w3::Mlp`)
//! instead, for the tape's overhead over it.
//!
//! A third argument `sizes` lists the allocations of at least 16 KiB.
//! Two warm-up steps run first (the buffer cache fills); the counts cover
//! the `steps` steps after them. Instructions per step: the difference of
//! two callgrind runs with different `steps`, divided by the difference.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use chainrule::DType;
use chainrule_bench::{data, w3};

/// The system allocator, counting allocations and their bytes.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
/// The sizes of allocations of at least 16 KiB (the first 256), for `sizes`.
static LARGE: [AtomicUsize; 256] = [const { AtomicUsize::new(0) }; 256];
static LARGE_N: AtomicUsize = AtomicUsize::new(0);

/// Counts one allocation of `size` bytes.
fn count(size: usize) {
    ALLOCS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size, Relaxed);
    if size >= 16 << 10 {
        let i = LARGE_N.fetch_add(1, Relaxed);
        if let Some(slot) = LARGE.get(i) {
            slot.store(size, Relaxed);
        }
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("f64", String::as_str);
    let dtype = match name.trim_end_matches("-manual") {
        "f64" => DType::F64,
        "f32" => DType::F32,
        other => {
            eprintln!("w3_counts: unknown dtype {other:?} (f64 or f32, optionally -manual)");
            std::process::exit(2);
        }
    };
    let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let d = data::w3_data();
    let mut mlp: Box<dyn FnMut() -> f64> = match (name.ends_with("-manual"), dtype) {
        (false, _) => {
            let mut m = w3::EagerMlp::with_dtype(&d, dtype);
            Box::new(move || m.step())
        }
        (true, DType::F64) => {
            let mut m = w3::Mlp::<f64>::new(&d);
            Box::new(move || m.step())
        }
        (true, _) => {
            let mut m = w3::Mlp::<f32>::new(&d);
            Box::new(move || m.step())
        }
    };
    let first = mlp();
    mlp();
    let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let l0 = LARGE_N.load(Relaxed);
    let mut last = first;
    for _ in 0..steps {
        last = mlp();
    }
    let (a1, b1) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let per = steps.max(1) as f64;
    if args.get(3).map(String::as_str) == Some("sizes") {
        let l1 = LARGE_N.load(Relaxed).min(LARGE.len());
        let sizes: Vec<usize> = LARGE[l0.min(l1)..l1]
            .iter()
            .map(|s| s.load(Relaxed))
            .collect();
        println!("allocations of at least 16 KiB in the counted steps: {sizes:?}");
    }
    println!(
        "first loss {first}, last loss {last}; per step: {:.1} allocations, {:.0} bytes",
        (a1 - a0) as f64 / per,
        (b1 - b0) as f64 / per
    );
}
