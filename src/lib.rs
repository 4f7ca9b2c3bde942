//! triage: a keyboard-driven console for triaging evidence intake.

pub mod bag;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod demo;
pub mod disclosure;
pub mod filter;
pub mod hashing;
pub mod identity;
pub mod ingest;
pub mod model;
pub mod preview;
pub mod similar;
// The one module that speaks SQL (clippy.toml keeps rusqlite out of the others).
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
pub mod store;
pub mod taxonomy;
pub mod text;
pub mod worker;
