//! triage: a keyboard-driven console for triaging evidence intake.

mod bag;
pub mod cli;
pub mod clock;
mod config;
pub mod console;
pub mod demo;
mod disclosure;
pub mod filter;
mod hashing;
pub mod identity;
pub mod ingest;
mod model;
pub mod preview;
mod similar;
// The one module that speaks SQL (clippy.toml keeps rusqlite out of the others).
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
pub mod store;
pub mod taxonomy;
pub mod text;
pub mod worker;
