use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use triage::cli;

/// Triage evidence intake from the keyboard: ingest, review, tag, verify.
#[derive(Parser)]
#[command(name = "triage", version, about)]
struct Args {
    /// The case folder (made with `triage init DIR`).
    #[arg(long, env = "TRIAGE_CASE", global = true)]
    case: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new case in DIR.
    Init { dir: PathBuf },
    /// Take in every regular file under the given paths.
    Ingest {
        /// Who sent the material (the provider).
        #[arg(long)]
        source: String,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// One line per item (or JSON lines with --json).
    List {
        #[arg(long)]
        json: bool,
        /// Only items matching this filter expression (same language as `/` in the console).
        #[arg(long)]
        filter: Option<String>,
    },
    /// Everything known about one item.
    Show {
        /// Reference (T-000123) or SHA-256 prefix.
        item: String,
        #[arg(long)]
        json: bool,
    },
    /// Tag an item or change its status (the console's scripting twin).
    Tag {
        item: String,
        #[arg(long, num_args = 1..)]
        add: Vec<String>,
        #[arg(long, num_args = 1..)]
        remove: Vec<String>,
        #[arg(long)]
        status: Option<String>,
        /// Reason (recorded with an escalation).
        #[arg(long)]
        reason: Option<String>,
    },
    /// List the taxonomy's terms (crimes, parties, flags) with their ids.
    Terms {
        #[arg(long)]
        json: bool,
    },
    /// Open the review console.
    Open {
        /// Colour depth: mono, 16, 256 or true (NO_COLOR forces mono).
        #[arg(long)]
        colors: Option<String>,
    },
    /// Build a demo case from built-in sample material and open it.
    Demo {
        /// Where to build it (default: the per-user data folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Only write the sample material into this folder, then stop.
        #[arg(long)]
        material_only: bool,
        /// Build the case but do not open the console; print the list instead.
        #[arg(long)]
        no_open: bool,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Some(Command::Init { dir }) => cli::init::run(&dir),
        Some(Command::Ingest {
            source,
            json,
            paths,
        }) => cli::ingest::run(args.case, &source, json, paths),
        Some(Command::List { json, filter }) => cli::list::run(args.case, json, filter.as_deref()),
        Some(Command::Show { item, json }) => cli::show::run(args.case, &item, json),
        Some(Command::Tag {
            item,
            add,
            remove,
            status,
            reason,
        }) => cli::tag::run(args.case, &item, add, remove, status, reason),
        Some(Command::Terms { json }) => cli::terms::run(args.case, json),
        Some(Command::Open { colors }) => cli::open::run(args.case, colors.as_deref()),
        Some(Command::Demo {
            dir,
            material_only,
            no_open,
        }) => cli::demo::run(dir, material_only, no_open),
        None => match args.case {
            Some(_) => cli::open::run(args.case, None),
            None => {
                use clap::CommandFactory;
                let _ = Args::command().print_help();
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("triage: {e:#}");
            ExitCode::from(1)
        }
    }
}
