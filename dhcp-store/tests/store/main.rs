//! The store's integration tests, in one test binary: crash safety under
//! SIGKILL (`crash`) and behaviour on a full disk (`disk_full`).

mod common;
mod crash;
mod disk_full;
