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
enum SourceCmd {
    /// Add a provider.
    Add {
        name: String,
        /// cso, individual, open-source, other-body or other.
        #[arg(long, default_value = "other")]
        kind: String,
        #[arg(long)]
        contact: Option<String>,
        /// Use conditions, e.g. share-with-courts identity-confidential.
        #[arg(long, num_args = 1..)]
        conditions: Vec<String>,
    },
    /// Change a provider's kind, contact or conditions.
    Set {
        name: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        contact: Option<String>,
        /// Replaces the provider's conditions (give none to clear: --conditions).
        #[arg(long, num_args = 0..)]
        conditions: Option<Vec<String>>,
    },
    /// List providers with their conditions and item counts.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ViewCmd {
    /// Save a filter expression under a name (replacing one of that name); recorded.
    Save { name: String, expr: String },
    /// List saved views.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete a saved view; recorded.
    Delete { name: String },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Make LOGIN a member of the case.
    Add {
        login: String,
        /// reviewer (tags), lead (also reviews, assigns, exports) or admin (also people,
        /// sources, taxonomy).
        #[arg(long)]
        role: String,
    },
    /// The case's people, their roles and whether they are active.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a member's role.
    Set {
        login: String,
        #[arg(long)]
        role: String,
    },
    /// Refuse a member from now on (their history stays).
    Disable { login: String },
    /// Let a disabled member in again.
    Enable { login: String },
}

#[derive(Subcommand)]
enum ReviewCmd {
    /// Send this percentage of triaged items (chosen by a hash of their id: reproducible) to
    /// the leads' review queue, besides every escalation.
    Sample { percent: u8 },
    /// Confirm the decision on an item in your review queue.
    Confirm { item: String },
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
        /// Leave image fingerprints (which decode every image) to `triage dups`: faster on a
        /// photo-heavy intake, but similar images are not grouped until then.
        #[arg(long)]
        no_fingerprints: bool,
        /// Compute image fingerprints at ingest (the default; kept for old scripts).
        #[arg(long, hide = true)]
        fingerprints: bool,
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
    /// Show the audit log of the case, or of one item.
    Log {
        /// Reference (T-000123) or SHA-256 prefix; the whole case when absent.
        item: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write the head of the audit chain as a short text to keep elsewhere.
    Seal {
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sign the seal with this SSH private key (SSHSIG, namespace triage-seal); the
        /// signature is written beside the seal as OUT.sig.
        #[arg(long, value_name = "KEYFILE", requires = "out")]
        sign: Option<PathBuf>,
    },
    /// Check every original and the whole audit chain; exit 0 only when everything holds.
    Verify {
        /// Check sizes and the chain only (no re-hashing).
        #[arg(long)]
        quick: bool,
        #[arg(long)]
        json: bool,
        /// A seal written by `triage seal`: prove the log up to it is unchanged.
        #[arg(long)]
        against: Option<PathBuf>,
        /// Also check the seal's signature (SEAL.sig) against this allowed-signers file
        /// (ssh-keygen's format).
        #[arg(long, value_name = "FILE", requires = "against")]
        allowed_signers: Option<PathBuf>,
    },
    /// Manage providers and their use conditions.
    Source {
        #[command(subcommand)]
        action: SourceCmd,
    },
    /// The case's people and roles (admins).
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
    /// Assign the untriaged items a filter selects to a reviewer, as a named batch (leads).
    Assign {
        #[arg(long)]
        filter: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        batch: Option<String>,
    },
    /// Second-level review (leads).
    Review {
        #[command(subcommand)]
        action: ReviewCmd,
    },
    /// Per reviewer: items triaged, per hour, overturn rate (leads).
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Export items as a BagIt bag (RFC 8493) for disclosure.
    Export {
        /// Which items (filter language, as in `list --filter`).
        #[arg(long)]
        filter: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        purpose: Option<String>,
        /// The recipient is a court or prosecutor (allows `share-with-courts` items).
        #[arg(long)]
        court: bool,
        /// Export items whose conditions forbid it, for this recorded reason.
        #[arg(long)]
        override_reason: Option<String>,
        /// The bag's manifests, comma-separated: md5, sha1, sha256, sha512 (SHA-256 is
        /// always written).
        #[arg(long, default_value = "sha256")]
        algorithms: String,
    },
    /// Import a BagIt bag (RFC 8493 or 0.97, from triage or any other BagIt tool),
    /// validating every manifest first; a bag with any problem is refused whole.
    Import {
        bag: PathBuf,
        #[arg(long)]
        source: String,
    },
    /// Items received more than once, and images showing the same picture (re-encoded,
    /// resized, cropped or rotated copies); fingerprints missing images first.
    Dups {
        /// Print `{"groups":[{"kind":"exact"|"similar","refs":[...]}]}`.
        #[arg(long)]
        json: bool,
        /// pHash distance (of 63 bits) within which fingerprints alone make two images
        /// similar (default 2); pairs in a wider band are checked on their thumbnails.
        #[arg(long)]
        threshold: Option<u32>,
    },
    /// Open the review console.
    Open {
        /// Colour depth: mono, 16, 256 or true (NO_COLOR forces mono).
        #[arg(long)]
        colors: Option<String>,
        /// How images are previewed (`i`): halfblocks (default, works everywhere), sixel or
        /// kitty (pictures, when your terminal shows them; never probed), or off. Also
        /// `TRIAGE_IMAGES`.
        #[arg(long)]
        images: Option<String>,
        /// Bytes one preview may cost on the wire (default 16384, or TRIAGE_PREVIEW_BUDGET).
        #[arg(long)]
        preview_budget: Option<usize>,
        /// Gate every image until revealed, grayscale and blurred first (or TRIAGE_GATE_ALL=1).
        #[arg(long)]
        gate_all: bool,
        /// Previews in grayscale.
        #[arg(long)]
        grayscale: bool,
    },
    /// Saved views: named filters, listed beside the built-in views in the console (`w`).
    View {
        #[command(subcommand)]
        action: ViewCmd,
    },
    /// Rebuild the search index (full text and GPS positions) from the items (leads).
    Reindex,
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
    // A parser worker (see triage::worker) before anything else: it takes no arguments.
    if triage::worker::is_worker() {
        return ExitCode::from(triage::worker::serve());
    }
    triage::worker::isolate_with(std::path::PathBuf::from("/proc/self/exe"));
    let args = Args::parse();
    let result = match args.command {
        Some(Command::Init { dir }) => cli::init::run(&dir),
        Some(Command::Ingest {
            source,
            json,
            no_fingerprints,
            fingerprints: _,
            paths,
        }) => cli::ingest::run(args.case, &source, json, !no_fingerprints, paths),
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
        Some(Command::Log { item, json }) => cli::log::run(args.case, item.as_deref(), json),
        Some(Command::Seal { out, sign }) => cli::seal::run(args.case, out, sign),
        Some(Command::Verify {
            quick,
            json,
            against,
            allowed_signers,
        }) => cli::verify::run(args.case, quick, json, against, allowed_signers),
        Some(Command::Source { action }) => match action {
            SourceCmd::Add {
                name,
                kind,
                contact,
                conditions,
            } => cli::source::add(args.case, &name, &kind, contact.as_deref(), conditions),
            SourceCmd::Set {
                name,
                kind,
                contact,
                conditions,
            } => cli::source::set(
                args.case,
                &name,
                kind.as_deref(),
                contact.as_deref(),
                conditions,
            ),
            SourceCmd::List { json } => cli::source::list(args.case, json),
        },
        Some(Command::Export {
            filter,
            out,
            purpose,
            court,
            override_reason,
            algorithms,
        }) => cli::export::run(
            args.case,
            &filter,
            &out,
            purpose.as_deref(),
            court,
            override_reason.as_deref(),
            &algorithms,
        ),
        Some(Command::User { action }) => match action {
            UserCmd::Add { login, role } => cli::user::add(args.case, &login, &role),
            UserCmd::List { json } => cli::user::list(args.case, json),
            UserCmd::Set { login, role } => cli::user::set(args.case, &login, &role),
            UserCmd::Disable { login } => cli::user::disable(args.case, &login),
            UserCmd::Enable { login } => cli::user::enable(args.case, &login),
        },
        Some(Command::Assign { filter, to, batch }) => {
            cli::assign::run(args.case, &filter, &to, batch.as_deref())
        }
        Some(Command::Review { action }) => match action {
            ReviewCmd::Sample { percent } => cli::review::sample(args.case, percent),
            ReviewCmd::Confirm { item } => cli::review::confirm(args.case, &item),
        },
        Some(Command::Stats { json }) => cli::stats::run(args.case, json),
        Some(Command::Import { bag, source }) => cli::import::run(args.case, &bag, &source),
        Some(Command::Dups { json, threshold }) => cli::dups::run(args.case, json, threshold),
        Some(Command::Open {
            colors,
            images,
            preview_budget,
            gate_all,
            grayscale,
        }) => cli::open::run(
            args.case,
            colors.as_deref(),
            cli::open::ImageOptions {
                mode: images,
                budget: preview_budget,
                gate_all,
                grayscale,
            },
        ),
        Some(Command::Demo {
            dir,
            material_only,
            no_open,
        }) => cli::demo::run(dir, material_only, no_open),
        Some(Command::View { action }) => match action {
            ViewCmd::Save { name, expr } => cli::view::save(args.case, &name, &expr),
            ViewCmd::List { json } => cli::view::list(args.case, json),
            ViewCmd::Delete { name } => cli::view::delete(args.case, &name),
        },
        Some(Command::Reindex) => cli::reindex::run(args.case),
        None => match args.case {
            Some(_) => cli::open::run(args.case, None, Default::default()),
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
            // Errors name files and quote filters: evidence text, so sanitized like stdout.
            let lines = triage::text::sanitize_multiline(&format!("{e:#}"));
            eprintln!(
                "triage: {}",
                lines
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            ExitCode::from(1)
        }
    }
}
