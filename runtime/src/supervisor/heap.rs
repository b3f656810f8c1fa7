//! The supervisor's heap keeps what it freed instead of handing it back to the kernel.
//!
//! glibc returns the top of the heap once more than 128 KiB of it is free, and serves
//! blocks of a few hundred KiB with fresh `mmap`s. Both hand pages back that the next
//! input or job asks for again, and every page that comes back is zeroed by the kernel:
//! with 2,000 services starting, clearing pages was a fifth of the engine thread's time
//! and a fifth of the spawner's (`perf record`, leaf `clear_page_erms`). The spawner
//! inherits these settings when it is forked. The cost is memory: at most 64 MiB of
//! freed heap is kept for reuse. With 2,000 services started and stopped twice the peak
//! resident size was the same (132 MB) with or without it, but it stays at that peak
//! where it fell back to 104 MB.

/// Free memory at the top of the heap that is kept rather than returned.
const KEEP_FREE_BYTES: i32 = 64 << 20;
/// Blocks below this size come from the heap, not from an `mmap` of their own (glibc's
/// largest allowed value on 64-bit targets).
const MMAP_FROM_BYTES: i32 = 32 << 20;

/// Applies the settings above to this process's allocator (glibc only; elsewhere, and if
/// glibc refuses a value, the allocator's defaults stay).
pub(crate) fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes the allocator's own locks and changes only its tuning.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP_FREE_BYTES);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_FROM_BYTES);
    }
}
