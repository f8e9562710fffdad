//! The process's memory, as the allocator (mimalloc, the daemon's global
//! allocator) holds it.

/// Returns memory the allocator holds freed to the operating system (its
/// freed pages stay mapped otherwise, and count in the RSS). Cheap enough
/// for a one-off after a bulk load; not for the request path.
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointers; it only walks the allocator's
    // own free lists and may be called at any time from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
