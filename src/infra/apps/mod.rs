//! The applications inside the pods (issue 6). So far: the quorum model (`quorum.rs`),
//! tested on its own; the engine does not run it yet (the primary–replica model, the
//! clients and their SLIs come next).

pub mod quorum;
