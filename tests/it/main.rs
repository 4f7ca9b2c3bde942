//! Every integration test in one binary: one link instead of thirty, and the demo case built
//! once for all of them (`common::demo_case`). `tests/preview_isolation.rs` stays a binary of
//! its own because it points the process-wide parser isolation at a stand-in worker.

mod common;
mod pty;

mod bag_intake;
mod bmff_vs_ffprobe;
mod chats;
mod cli_edge;
mod concurrency;
mod console_e2e;
mod console_lanes;
mod console_render;
mod console_update;
mod custody_bag;
mod custody_replay;
mod custody_verify;
mod demo_dir;
mod dups;
mod every_command;
mod families;
mod families_console;
mod garage;
mod hardening;
mod hostile;
mod incidents;
mod ingest;
mod inside;
mod json_shapes;
mod overview;
mod photos;
mod preview;
mod screens;
mod seal_sign;
mod search;
mod search_console;
mod search_e2e;
mod ssh_e2e;
mod team;
mod terminal_output;
mod wellbeing;
