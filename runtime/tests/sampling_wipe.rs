//! Secret randomness leaves nothing behind in freed memory: the CSPRNG's state is overwritten
//! when it is dropped (its key replays every value it drew, the secret key included), and the
//! list of positions that a sparse secret is drawn with (its support) is wiped before it is
//! freed.
//!
//! A recording global allocator copies the bytes of every freed block of one watched size,
//! so the test sees exactly what the freed memory still held. The watched test runs alone in
//! this binary (one `#[test]`), so no other thread frees blocks of that size meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use fhec_runtime::sampling::SecureRng;

/// The largest block the allocator can record.
const RECORD_MAX: usize = 1 << 16;

/// Copies freed blocks of size `WATCHED` (0: none) into `RECORD`, counting them in `FREED`.
struct Recorder;

static WATCHED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

struct Record(UnsafeCell<[u8; RECORD_MAX]>);
// SAFETY: written only inside `dealloc` of a watched size and read by the single test thread
// after watching stopped (see the module doc).
unsafe impl Sync for Record {}
static RECORD: Record = Record(UnsafeCell::new([0; RECORD_MAX]));

unsafe impl GlobalAlloc for Recorder {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let size = layout.size();
        if size != 0 && size <= RECORD_MAX && size == WATCHED.load(Ordering::SeqCst) {
            // SAFETY: `ptr` holds `size` readable bytes until freed below; the record is
            // large enough.
            unsafe { std::ptr::copy_nonoverlapping(ptr, RECORD.0.get().cast::<u8>(), size) };
            FREED.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Recorder = Recorder;

/// Runs `free` while watching blocks of `size` bytes; returns how many were freed and the
/// bytes of the last one.
fn freed_while(size: usize, free: impl FnOnce()) -> (usize, Vec<u8>) {
    FREED.store(0, Ordering::SeqCst);
    WATCHED.store(size, Ordering::SeqCst);
    free();
    WATCHED.store(0, Ordering::SeqCst);
    let count = FREED.load(Ordering::SeqCst);
    // SAFETY: nothing writes the record any more (watching stopped).
    let bytes = unsafe { (&(*RECORD.0.get()))[..size].to_vec() };
    (count, bytes)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn secret_randomness_is_wiped_before_it_is_freed() {
    const PATTERN: [u8; 32] = [0xa5; 32];

    // The recorder sees what a freed block held when nothing wipes it.
    let (count, bytes) = freed_while(std::mem::size_of::<[u8; 64]>(), || {
        drop(std::hint::black_box(Box::new([0xa5u8; 64])))
    });
    assert_eq!(count, 1);
    assert!(contains(&bytes, &PATTERN));

    // The generator's key (the seed) is gone from its freed state.
    let mut rng = Box::new(SecureRng::insecure_from_fixed_seed(PATTERN));
    assert!(rng.is_deterministic());
    let _ = rng.next_u64();
    let (count, bytes) = freed_while(std::mem::size_of::<SecureRng>(), || drop(rng));
    assert_eq!(count, 1);
    assert!(
        !contains(&bytes, &PATTERN[..16]),
        "the ChaCha key survived in freed memory"
    );

    // The positions a sparse secret was drawn at are wiped: the only freed block of their
    // size (N words) is all zeros.
    let degree = 1 << 12;
    let mut secret = vec![0i64; degree];
    let mut rng = SecureRng::insecure_from_fixed_seed([7; 32]);
    let (count, bytes) = freed_while(degree * std::mem::size_of::<usize>(), || {
        rng.ternary_with_weight(&mut secret, 64).unwrap()
    });
    assert_eq!(count, 1, "one list of positions");
    assert!(
        bytes.iter().all(|&b| b == 0),
        "the support of the sparse secret survived in freed memory"
    );
    assert_eq!(secret.iter().filter(|&&c| c != 0).count(), 64);
}
