//! The process's memory allocator: mimalloc instead of the system's (glibc) malloc.
//!
//! A run allocates and frees small blocks at a high rate (object copies on every API
//! write, keys, event payloads); with glibc's malloc, `malloc`/`free` were about 30 % of
//! all instructions of the attach storm. Declared in the library so that the binary, the
//! benches and the tests all use it. Which allocator runs changes no output: nothing in
//! the library orders or hashes by address.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
