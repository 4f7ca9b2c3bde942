//! Types shared by the store and the modules that fill or read it (ingest, similar, the
//! console), kept here so that the store depends on none of them. A leaf: it uses nothing of
//! ours.

pub(crate) mod fingerprint;
pub(crate) mod metadata;
pub(crate) mod preview;
