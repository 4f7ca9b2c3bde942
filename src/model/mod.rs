//! Types shared by the store and the modules that fill or read it (ingest, similar, the
//! console), kept here so that the store depends on none of them. A leaf: it uses nothing of
//! ours.

pub mod fingerprint;
pub mod metadata;
pub mod preview;
