use std::process::ExitCode;

use clap::Parser;

use triage::cli;
use triage::cli::args::{
    Args, Command, IncidentCmd, ReviewCmd, SettingsCmd, SourceCmd, UserCmd, ViewCmd,
};

fn main() -> ExitCode {
    // A parser worker (see triage::worker) before anything else: it takes no arguments.
    if triage::worker::is_worker() {
        return ExitCode::from(triage::worker::serve());
    }
    triage::worker::isolate_with(std::path::PathBuf::from("/proc/self/exe"));
    let args = Args::parse();
    let result = match args.command {
        Some(Command::Init {
            dir,
            objects,
            endpoint,
            region,
            credentials,
        }) => cli::init::run(
            &dir,
            objects.as_deref(),
            endpoint.as_deref(),
            region.as_deref(),
            credentials,
        ),
        Some(Command::Info { json }) => cli::info::run(args.case, json),
        Some(Command::Ingest {
            source,
            json,
            no_fingerprints,
            fingerprints: _,
            max_members,
            max_expanded,
            max_depth,
            max_ratio,
            paths,
        }) => cli::ingest::run(
            args.case,
            &source,
            json,
            !no_fingerprints,
            triage::ingest::family::Limits {
                members: max_members,
                bytes: max_expanded,
                depth: max_depth,
                ratio: max_ratio,
            },
            paths,
        ),
        Some(Command::List { json, filter }) => cli::list::run(args.case, json, filter.as_deref()),
        Some(Command::Show { item, json }) => cli::show::run(args.case, &item, json),
        Some(Command::Tag {
            item,
            add,
            remove,
            status,
            reason,
        }) => cli::tag::run(args.case, &item, add, remove, status, reason),
        Some(Command::Incident { action }) => match action {
            IncidentCmd::Add { title, fields } => cli::incident::add(args.case, title, fields),
            IncidentCmd::Set {
                incident,
                title,
                fields,
            } => cli::incident::set(args.case, &incident, title, fields),
            IncidentCmd::List { json } => cli::incident::list(args.case, json),
            IncidentCmd::Show { incident, json } => cli::incident::show(args.case, &incident, json),
            IncidentCmd::Claims { json } => cli::incident::claims(args.case, json),
            IncidentCmd::Merge { claim, into, new } => {
                cli::incident::merge(args.case, claim, into.as_deref(), new)
            }
        },
        Some(Command::Link {
            item,
            incident,
            remove,
        }) => cli::incident::link(args.case, &item, &incident, !remove),
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
            incident,
            out,
            purpose,
            court,
            override_reason,
            algorithms,
            with_family,
            json,
        }) => cli::export::run(
            args.case,
            cli::export::Request {
                filter: filter.as_deref(),
                incident: incident.as_deref(),
                out: &out,
                purpose: purpose.as_deref(),
                court,
                override_reason: override_reason.as_deref(),
                algorithms: &algorithms,
                with_family,
                json,
            },
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
        Some(Command::Stats {
            json,
            wellbeing: false,
            ..
        }) => cli::stats::run(args.case, json),
        Some(Command::Stats {
            json,
            wellbeing: true,
            reviewer,
        }) => cli::wellbeing::stats(args.case, json, reviewer.as_deref()),
        Some(Command::Settings { action }) => match action {
            None => cli::wellbeing::list(args.case, false),
            Some(SettingsCmd::List { json }) => cli::wellbeing::list(args.case, json),
            Some(SettingsCmd::Set {
                key,
                value,
                reviewer,
            }) => cli::wellbeing::set(args.case, &key, &value, reviewer.as_deref()),
        },
        Some(Command::Import { bag, source, json }) => {
            cli::import::run(args.case, &bag, &source, json)
        }
        Some(Command::Doctor { json }) => cli::doctor::run(args.case, json),
        Some(Command::Completions { shell }) => cli::manual::completions(shell),
        Some(Command::Man { dir }) => cli::manual::man(dir),
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
            let lines: Vec<&str> = lines.iter().map(|l| l.as_str()).collect();
            cli::out::err_line(&format!("triage: {}", lines.join("\n")));
            ExitCode::from(1)
        }
    }
}
