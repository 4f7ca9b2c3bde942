//! The command line's definition: parsed in main.rs, and the source of the completions and
//! man pages (`triage completions`, `triage man`), so they never drift from it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Triage evidence intake from the keyboard: ingest, review, tag, verify.
#[derive(Parser)]
#[command(name = "triage", version, about)]
pub struct Args {
    /// The case folder (made with `triage init DIR`).
    #[arg(long, env = "TRIAGE_CASE", global = true)]
    pub case: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum SourceCmd {
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
pub enum ViewCmd {
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
pub enum UserCmd {
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
pub enum SettingsCmd {
    /// The case's settings (limits on graphic material, gentler previews), case-wide and per
    /// reviewer.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a setting (leads and admins; recorded): graphic-per-day N|off, pause-after
    /// N|off, flagged-blurred on|off.
    Set {
        key: String,
        value: String,
        /// A limit for this reviewer only, over the case's.
        #[arg(long)]
        reviewer: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReviewCmd {
    /// Send this percentage of triaged items (chosen by a hash of their id: reproducible) to
    /// the leads' review queue, besides every escalation.
    Sample { percent: u8 },
    /// Confirm the decision on an item in your review queue.
    Confirm { item: String },
}

/// An incident's fields as options: those given replace the incident's.
#[derive(clap::Args, Clone, Default)]
pub struct IncidentFields {
    /// A day or a range of days: 2013-08-21 or 2013-08-01..2013-08-31.
    #[arg(long)]
    pub date: Option<String>,
    /// The place's name.
    #[arg(long)]
    pub place: Option<String>,
    /// The place's position, LAT,LON or LAT,LON,METRES (with the radius).
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// How far from the position items may be, in metres.
    #[arg(long)]
    pub radius: Option<f64>,
    #[arg(long)]
    pub description: Option<String>,
    /// Crime term ids (`triage terms`); replaces the incident's (give none to clear).
    #[arg(long, num_args = 0..)]
    pub crimes: Option<Vec<String>>,
    /// Party term ids; replaces the incident's (give none to clear).
    #[arg(long, num_args = 0..)]
    pub parties: Option<Vec<String>>,
    /// open, corroborated or closed.
    #[arg(long)]
    pub status: Option<String>,
}

#[derive(Subcommand)]
pub enum IncidentCmd {
    /// Record a new incident (I-0001, never reused); prints its reference.
    Add {
        title: String,
        #[command(flatten)]
        fields: IncidentFields,
    },
    /// Change an incident's fields; recorded, undone with the console's `u`.
    Set {
        incident: String,
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        fields: IncidentFields,
    },
    /// The case's incidents with how many items each has.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One incident: its record, its items with corroboration, and suggested items.
    Show {
        incident: String,
        #[arg(long)]
        json: bool,
    },
    /// Incidents other cases sent (imports), kept as their claims until merged.
    Claims {
        #[arg(long)]
        json: bool,
    },
    /// Merge an imported incident (its number in `incident claims`) into a local one, or into
    /// a new one made from its record: its items are linked, each link recorded.
    Merge {
        claim: i64,
        /// The local incident (I-0001).
        #[arg(long, required_unless_present = "new", conflicts_with = "new")]
        into: Option<String>,
        /// Create a local incident from the sender's record.
        #[arg(long)]
        new: bool,
    },
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a new case in DIR.
    Init {
        dir: PathBuf,
        /// Keep originals in an S3-compatible bucket (Garage, Ceph RGW) instead of DIR/objects:
        /// s3://BUCKET/PREFIX. Credentials come from TRIAGE_S3_ACCESS_KEY_ID and
        /// TRIAGE_S3_SECRET_ACCESS_KEY (or AWS_*), or the file TRIAGE_S3_CREDENTIALS names
        /// (mode 0640 or stricter); never stored in the case.
        #[arg(long, value_name = "s3://BUCKET/PREFIX", requires = "endpoint")]
        objects: Option<String>,
        /// The store's S3 endpoint, e.g. http://garage.internal:3900.
        #[arg(long, value_name = "URL", requires = "objects")]
        endpoint: Option<String>,
        /// The store's region (Garage's s3_region; `garage` when not given).
        #[arg(long, requires = "objects")]
        region: Option<String>,
        /// A credentials file to name in the case (its path only), instead of the environment.
        #[arg(long, value_name = "FILE", requires = "objects")]
        credentials: Option<PathBuf>,
    },
    /// Where the case is and where its originals live.
    Info {
        #[arg(long)]
        json: bool,
    },
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
        /// Containers (archives, e-mails) are expanded into members; stop a file's family at
        /// this many members (a problem is recorded on the container).
        #[arg(long, default_value_t = 100_000)]
        max_members: u64,
        /// Stop a file's family at this many bytes expanded.
        #[arg(long, default_value_t = 64 << 30)]
        max_expanded: u64,
        /// Do not expand containers nested deeper than this.
        #[arg(long, default_value_t = 5)]
        max_depth: u32,
        /// Stop a container expanding to more than this many times its size (past 16 MiB).
        #[arg(long, default_value_t = 100)]
        max_ratio: u64,
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
    /// Incidents: the events items document.
    Incident {
        #[command(subcommand)]
        action: IncidentCmd,
    },
    /// Link an item to an incident (or unlink it with --remove); recorded.
    Link {
        /// Reference (T-000123) or SHA-256 prefix.
        item: String,
        /// I-0001.
        incident: String,
        #[arg(long)]
        remove: bool,
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
    /// Per reviewer: items triaged, per hour, overturn rate (leads). With --wellbeing: your
    /// own exposure to graphic material today and this week; a lead also sees how often each
    /// person reached a limit, and the team's totals.
    Stats {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        wellbeing: bool,
        /// With --wellbeing: whose figures (yourself, unless you are a lead: then only how
        /// often they reached a limit).
        #[arg(long, requires = "wellbeing")]
        reviewer: Option<String>,
    },
    /// The case's settings: limits on graphic material per day and in a row, and whether
    /// flagged previews start blurred (set by leads; every change recorded).
    Settings {
        #[command(subcommand)]
        action: Option<SettingsCmd>,
    },
    /// Export items as a BagIt bag (RFC 8493) for disclosure.
    Export {
        /// Which items (filter language, as in `list --filter`).
        #[arg(long, required_unless_present = "incident")]
        filter: Option<String>,
        /// The items linked to this incident (I-0001; with --filter, those of them it
        /// selects), and the incident's record in `data/incidents.jsonl`.
        #[arg(long)]
        incident: Option<String>,
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
        /// With each selected item, its whole family: the containers it came in and all their
        /// members (each item's metadata names its parent and inner path).
        #[arg(long)]
        with_family: bool,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Import a BagIt bag (RFC 8493 or 0.97, from triage or any other BagIt tool),
    /// validating every manifest first; a bag with any problem is refused whole.
    Import {
        bag: PathBuf,
        #[arg(long)]
        source: String,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
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
    /// Check what this machine offers triage (SQLite, outside tools, the case folder, sshd);
    /// exit 1 when something needed is missing, with how to fix it.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Print the shell completion script for bash, zsh or fish.
    Completions { shell: clap_complete::Shell },
    /// Write the man pages (triage.1 and one per subcommand) into DIR, or print triage(1).
    Man {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}
