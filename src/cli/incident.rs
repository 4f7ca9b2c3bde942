//! `triage incident add|set|list|show` and `triage link`: incidents and items' links to them,
//! recorded like every decision (`store::changes`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use super::args::IncidentFields;
use crate::store::changes::{self, Edit};
use crate::store::incidents::{self, Incident, Record, Suggestion};
use crate::store::{items, Case};
use crate::text::sanitize;

pub fn add(case: Option<PathBuf>, title: String, fields: IncidentFields) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let actor = crate::identity::login_name()?;
    let mut record = Record {
        title,
        status: "open".into(),
        ..Record::default()
    };
    fill(&mut record, fields)?;
    let a = changes::apply(
        &mut case,
        &tax,
        &actor,
        &Edit::Incident { id: None, record },
    )?;
    let id = a
        .ops
        .iter()
        .find_map(|op| match op {
            changes::Op::Incident { incident, .. } => Some(*incident),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no incident recorded"))?;
    super::say!("{}", incidents::reference(id));
    Ok(ExitCode::SUCCESS)
}

pub fn set(
    case: Option<PathBuf>,
    incident: &str,
    title: Option<String>,
    fields: IncidentFields,
) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let actor = crate::identity::login_name()?;
    let inc = find(&case, incident)?;
    let mut record = inc.record.clone();
    if let Some(t) = title {
        record.title = t;
    }
    fill(&mut record, fields)?;
    let a = changes::apply(
        &mut case,
        &tax,
        &actor,
        &Edit::Incident {
            id: Some(inc.id),
            record,
        },
    )?;
    super::say!("{}", sanitize(&a.summary));
    Ok(ExitCode::SUCCESS)
}

/// The options given replace the record's fields.
fn fill(r: &mut Record, f: IncidentFields) -> Result<()> {
    if let Some(d) = f.date {
        if d.trim().is_empty() {
            (r.date_from, r.date_to) = (None, None);
        } else {
            let (a, b) = incidents::parse_dates(&d).map_err(|e| anyhow!(e))?;
            (r.date_from, r.date_to) = (Some(a), b);
        }
    }
    if let Some(p) = f.place {
        r.place = p;
    }
    if let Some(at) = f.at {
        if at.trim().is_empty() {
            (r.lat, r.lon, r.radius_m) = (None, None, None);
        } else {
            let (lat, lon, m) = incidents::parse_position(&at).map_err(|e| anyhow!(e))?;
            (r.lat, r.lon) = (Some(lat), Some(lon));
            if m.is_some() {
                r.radius_m = m;
            }
        }
    }
    if let Some(m) = f.radius {
        r.radius_m = Some(m);
    }
    if let Some(d) = f.description {
        r.description = d;
    }
    if let Some(c) = f.crimes {
        r.crimes = c;
    }
    if let Some(p) = f.parties {
        r.parties = p;
    }
    if let Some(s) = f.status {
        r.status = s;
    }
    Ok(())
}

fn find(case: &Case, key: &str) -> Result<Incident> {
    let id = incidents::parse_reference(key)
        .ok_or_else(|| anyhow!("`{key}` is not an incident reference (I-0001)"))?;
    incidents::get(case, id)?.ok_or_else(|| {
        anyhow!(
            "no incident {}; `triage incident list` lists them",
            incidents::reference(id)
        )
    })
}

pub fn link(case: Option<PathBuf>, item: &str, incident: &str, on: bool) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let actor = crate::identity::login_name()?;
    let id = items::find(&case, item).map_err(|e| anyhow!(e))?;
    let inc = find(&case, incident)?;
    let a = changes::apply(
        &mut case,
        &tax,
        &actor,
        &Edit::Link {
            items: vec![id],
            incident: inc.id,
            on,
        },
    )?;
    super::say!("{}", sanitize(&a.summary));
    Ok(ExitCode::SUCCESS)
}

/// The scripting shape of an incident (`incident list --json`).
pub fn json_of(i: &Incident) -> Value {
    let r = &i.record;
    json!({
        "ref": incidents::reference(i.id),
        "title": r.title,
        "date_from": r.date_from,
        "date_to": r.date_to,
        "place": r.place,
        "lat": r.lat,
        "lon": r.lon,
        "radius_m": r.radius_m,
        "description": r.description,
        "crimes": r.crimes,
        "parties": r.parties,
        "status": r.status,
        "created_by": i.created_by,
        "created_at": i.created_at,
        "items": i.items,
    })
}

fn suggestion_json(s: &Suggestion) -> Value {
    let mut v = json!({ "ref": crate::store::reference(s.item) });
    match s.reason {
        incidents::Reason::TimeAndPlace => v["why"] = json!("time_and_place"),
        incidents::Reason::Similar { of } => {
            v["why"] = json!("similar");
            v["of"] = json!(crate::store::reference(of));
        }
    }
    v
}

pub fn list(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    for i in incidents::list(&case)? {
        if json {
            super::out::json(&json_of(&i))?;
        } else {
            super::say!(
                "{}  {:<12} {:>5} items  {:<24} {}  {}",
                incidents::reference(i.id),
                i.record.status,
                i.items,
                incidents::dates_text(&i.record),
                sanitize(&i.record.place),
                sanitize(&i.record.title),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(case: Option<PathBuf>, incident: &str, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let inc = find(&case, incident)?;
    let linked = incidents::items_of(&case, inc.id)?;
    let corroboration = incidents::corroboration(&case, inc.id)?;
    let suggested = incidents::suggested_items(&case, inc.id)?;
    if json {
        let mut v = json_of(&inc);
        v["linked"] = json!(linked
            .iter()
            .map(|&i| crate::store::reference(i))
            .collect::<Vec<_>>());
        v["corroboration"] = json!(corroboration);
        v["suggested"] = json!(suggested.iter().map(suggestion_json).collect::<Vec<_>>());
        super::out::json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let r = &inc.record;
    super::say!("{}  {}", incidents::reference(inc.id), sanitize(&r.title));
    super::say!("status      {}", r.status);
    super::say!("dates       {}", incidents::dates_text(r));
    let pos = match (r.lat, r.lon) {
        (Some(lat), Some(lon)) => format!(
            " ({lat:.5},{lon:.5}{})",
            r.radius_m.map(|m| format!(" ±{m} m")).unwrap_or_default()
        ),
        _ => String::new(),
    };
    super::say!("place       {}{pos}", sanitize(&r.place));
    if !r.crimes.is_empty() {
        super::say!("crimes      {}", r.crimes.join(", "));
    }
    if !r.parties.is_empty() {
        super::say!("parties     {}", r.parties.join(", "));
    }
    if !r.description.is_empty() {
        super::say!("description {}", sanitize(&r.description));
    }
    super::say!(
        "recorded    by {} at {}",
        sanitize(&inc.created_by),
        inc.created_at
    );
    super::say!(
        "items       {} from {} providers, {} independent captures",
        corroboration.items,
        corroboration.providers,
        corroboration.captures
    );
    for id in &linked {
        super::say!("  {}", crate::store::reference(*id));
    }
    if !suggested.is_empty() {
        super::say!(
            "suggested   {} (link with `triage link REF {}`)",
            suggested.len(),
            incidents::reference(inc.id)
        );
        for s in &suggested {
            let why = match s.reason {
                incidents::Reason::TimeAndPlace => "taken there and then".to_string(),
                incidents::Reason::Similar { of } => {
                    format!("similar to {}", crate::store::reference(of))
                }
            };
            super::say!("  {}  {why}", crate::store::reference(s.item));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn claims(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    for c in incidents::imported(&case)? {
        let items: Vec<String> = c
            .items
            .iter()
            .map(|&i| crate::store::reference(i))
            .collect();
        if json {
            super::out::json(&json!({
                "claim": c.id,
                "sending_case": c.sending_case,
                "original_ref": c.original_ref,
                "record": c.record,
                "items": items,
                "imported_by": c.imported_by,
                "imported_at": c.imported_at,
                "merged_into": c.merged_into.map(incidents::reference),
                "merged_by": c.merged_by,
            }))?;
        } else {
            super::say!(
                "#{:<4} {} from case {}  {}  {}  {} items  {}",
                c.id,
                sanitize(&c.original_ref),
                sanitize(&c.sending_case),
                incidents::dates_text(&c.record),
                sanitize(&c.record.title),
                items.len(),
                match c.merged_into {
                    Some(i) => format!("merged into {}", incidents::reference(i)),
                    None => "not merged".into(),
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn merge(case: Option<PathBuf>, claim: i64, into: Option<&str>, new: bool) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let actor = crate::identity::login_name()?;
    let c = incidents::imported_one(&case, claim)?.ok_or_else(|| {
        anyhow!("no imported incident #{claim}; `triage incident claims` lists them")
    })?;
    if let Some(i) = c.merged_into {
        return Err(anyhow!(
            "#{claim} is merged into {} already",
            incidents::reference(i)
        ));
    }
    let target = match (into, new) {
        (Some(key), _) => find(&case, key)?.id,
        (None, true) => {
            // A local incident from the sender's record; its terms must be this case's.
            let a = changes::apply(
                &mut case,
                &tax,
                &actor,
                &Edit::Incident {
                    id: None,
                    record: c.record.clone(),
                },
            )?;
            a.ops
                .iter()
                .find_map(|op| match op {
                    changes::Op::Incident { incident, .. } => Some(*incident),
                    _ => None,
                })
                .ok_or_else(|| anyhow!("no incident recorded"))?
        }
        (None, false) => return Err(anyhow!("give --into I-0001 or --new")),
    };
    if !c.items.is_empty() {
        changes::apply(
            &mut case,
            &tax,
            &actor,
            &Edit::Link {
                items: c.items.clone(),
                incident: target,
                on: true,
            },
        )?;
    }
    incidents::mark_merged(&mut case, &actor, claim, target)?;
    super::say!(
        "#{claim} ({} from case {}) merged into {}: {} items linked",
        sanitize(&c.original_ref),
        sanitize(&c.sending_case),
        incidents::reference(target),
        c.items.len()
    );
    Ok(ExitCode::SUCCESS)
}
