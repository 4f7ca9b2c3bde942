//! triage: a keyboard-driven console for triaging evidence intake.

pub mod bag;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod demo;
pub mod filter;
pub mod identity;
pub mod ingest;
pub mod preview;
pub mod similar;
pub mod store;
pub mod taxonomy;
pub mod text;
pub mod worker;
