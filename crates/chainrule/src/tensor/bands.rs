//! Work cut into bands, one per thread: the calling thread takes the first
//! band and rayon's pool the others (a large matrix product's bands of the
//! output, an optimiser update's bands of a large parameter).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long the caller spins for the other bands after its own before it
/// would sleep (a band of W3's products takes about 350 µs in f64).
const SPIN: Duration = Duration::from_micros(200);

/// Runs `work` on every band, the first on the calling thread and the
/// others on rayon's pool (`in_place_scope`), and returns when all are done.
///
/// A pool thread that was asleep wakes while the caller works on its own
/// band; the caller then waits for the others spinning, for up to [`SPIN`],
/// rather than in the scope's blocking wait, which would put it to sleep
/// and cost a second wake-up.
pub(crate) fn run<B: Send>(bands: Vec<B>, work: impl Fn(B) + Sync) {
    let mut bands = bands.into_iter();
    let Some(first) = bands.next() else {
        return;
    };
    let others = bands.len();
    let done = AtomicUsize::new(0);
    let (work, done_ref) = (&work, &done);
    rayon::in_place_scope(|s| {
        for band in bands {
            s.spawn(move |_| {
                work(band);
                done_ref.fetch_add(1, Ordering::Release);
            });
        }
        work(first);
        let start = Instant::now();
        while done.load(Ordering::Acquire) < others && start.elapsed() < SPIN {
            std::hint::spin_loop();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_band_is_worked_once() {
        let mut v = vec![0u64; 1000];
        let bands: Vec<&mut [u64]> = v.chunks_mut(300).collect();
        run(bands, |b| b.iter_mut().for_each(|x| *x += 1));
        assert!(v.iter().all(|&x| x == 1));
        run(Vec::<&mut [u64]>::new(), |_| unreachable!("no band"));
    }
}
