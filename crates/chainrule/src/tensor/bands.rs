//! Work cut into bands, one per thread: the calling thread takes the first
//! band and rayon's pool the others (a large matrix product's bands of the
//! output, an optimiser update's bands of a large parameter).

/// Runs `work` on every band, the first on the calling thread and the
/// others on rayon's pool (`in_place_scope`), and returns when all are done.
///
/// A pool thread that was asleep wakes while the caller works on its own
/// band. The caller then waits in the scope's blocking wait: spinning
/// there (tried, up to 200 µs) kept a pool thread off the caller's CPU
/// when the other CPU was busy, and made W3's step a third slower under
/// load.
pub(crate) fn run<B: Send>(bands: Vec<B>, work: impl Fn(B) + Sync) {
    let mut bands = bands.into_iter();
    let Some(first) = bands.next() else {
        return;
    };
    let work = &work;
    rayon::in_place_scope(|s| {
        for band in bands {
            s.spawn(move |_| work(band));
        }
        work(first);
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
