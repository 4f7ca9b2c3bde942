//! The details pane: everything known about the selected item. Labels stay in fixed places so
//! that moving to the next item rewrites only the values that differ.

use super::text::{line, paragraph, span, styled};
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Block;
use ratatui::Frame;

use crate::console::state::{Pane, State};
use crate::console::theme::Theme;
use crate::ingest::meta::Metadata;
use crate::store::items::Detail;
use crate::text::{bidi, sanitize, sanitize_multiline, width};

const LABEL: usize = 9;
/// A value takes one line (cut with `…`; `triage show` has it all): a stable layout means
/// that moving to the next item rewrites only the values, not every line below a longer one.
const VALUE_LINES: usize = 1;
/// Notes may take a few lines.
const NOTE_LINES: usize = 3;
/// Lines of stored text (a statement, a PDF's first pages, an e-mail body) laid out: read in
/// full by scrolling the pane; the cap keeps a frame's work bounded.
const READ_LINES: usize = 2000;

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let style = if state.focus == Pane::Details {
        theme.title()
    } else {
        theme.dim()
    };
    let title = match &state.detail {
        Some(d) => width::truncate(
            &format!(
                " {} {} ",
                crate::store::reference(d.row.id),
                bidi::visual(&sanitize(&d.row.name))
            ),
            area.width.saturating_sub(4) as usize,
        ),
        None => " details ".into(),
    };
    let block = Block::bordered().title(styled(title, style));
    let inner = block.inner(area);
    let lines = match &state.detail {
        Some(d) => lines(state, d, theme, inner.width as usize),
        None => vec![line(" no item selected", theme.dim())],
    };
    // Held here too: the pane may have grown (a resize, the preview closed) since the scroll.
    let scroll = state.detail_scroll.min(past_fit(lines.len(), inner.height));
    f.render_widget(paragraph(lines).block(block).scroll((scroll, 0)), area);
}

/// The furthest the details pane scrolls in this terminal: its last line at the bottom of
/// the pane, never past it into blank space.
pub fn last_scroll(state: &State) -> u16 {
    let Some(d) = &state.detail else { return 0 };
    let a = super::areas(Rect::new(0, 0, state.width, state.height));
    let area = if state.preview.open {
        super::split_preview(a.details).1
    } else {
        a.details
    };
    let inner = Block::bordered().inner(area);
    let n = lines(state, d, &Theme::mono(), inner.width as usize).len();
    past_fit(n, inner.height)
}

fn past_fit(lines: usize, height: u16) -> u16 {
    u16::try_from(lines.saturating_sub(usize::from(height))).unwrap_or(u16::MAX)
}

struct Out<'t> {
    lines: Vec<Line<'static>>,
    w: usize,
    theme: &'t Theme,
}

impl Out<'_> {
    fn heading(&mut self, text: &str) {
        self.lines
            .push(line(width::truncate(text, self.w), self.theme.heading()));
    }

    /// `label value`, the value sanitised, cut to one line, right-to-left text in visual order
    /// and right-aligned.
    fn field(&mut self, label: &str, value: &str, style: Style) {
        self.field_lines(label, value, style, VALUE_LINES);
    }

    /// A path, cut at the front: its end (folder and file name) says the most.
    fn path(&mut self, label: &str, value: &str) {
        let clean = sanitize(value);
        let avail = self.w.saturating_sub(LABEL).max(1);
        let shown = if width::width(&clean) <= avail {
            clean.into_string()
        } else {
            let tail: String = clean.chars().rev().collect();
            let cut: String = width::truncate(&tail, avail).chars().skip(1).collect();
            format!("…{}", cut.chars().rev().collect::<String>())
        };
        self.field(label, &shown, Style::default());
    }

    fn field_lines(&mut self, label: &str, value: &str, style: Style, max_lines: usize) {
        let clean = sanitize(value);
        let avail = self.w.saturating_sub(LABEL).max(1);
        let rtl = bidi::is_rtl_paragraph(&clean);
        let mut parts = width::wrap(&clean, avail);
        if parts.len() > max_lines {
            parts.truncate(max_lines);
            if let Some(last) = parts.last_mut() {
                *last = width::truncate(&format!("{last}…"), avail);
                if !last.ends_with('…') {
                    last.push('…');
                }
            }
        }
        for (i, part) in parts.into_iter().enumerate() {
            let shown = if rtl {
                let v = bidi::visual(&part);
                format!("{}{v}", " ".repeat(avail.saturating_sub(width::width(&v))))
            } else {
                bidi::visual(&part)
            };
            // A continuation line's blank label carries no style: no colour codes to send.
            let label_span = if i == 0 {
                styled(
                    format!("{} ", width::fit(label, LABEL - 1)),
                    self.theme.label(),
                )
            } else {
                span(" ".repeat(LABEL))
            };
            self.lines
                .push(Line::from(vec![label_span, styled(shown, style)]));
        }
    }

    fn plain(&mut self, label: &str, value: &str) {
        self.field(label, value, Style::default());
    }

    /// Several lines of evidence text (an excerpt), each sanitised; RTL lines right-aligned.
    fn block_text(&mut self, text: &str, max_lines: usize) {
        let mut n = 0;
        for clean in sanitize_multiline(text) {
            for part in width::wrap(&clean, self.w.saturating_sub(2).max(1)) {
                if n >= max_lines {
                    self.lines.push(line("  …", self.theme.dim()));
                    return;
                }
                let (v, rtl) = bidi::visual_with_direction(&part);
                let line = line(format!("  {v}"), Style::default());
                self.lines.push(if rtl {
                    line.alignment(Alignment::Right)
                } else {
                    line
                });
                n += 1;
            }
        }
    }
}

fn lines(state: &State, d: &Detail, theme: &Theme, w: usize) -> Vec<Line<'static>> {
    let mut o = Out {
        lines: Vec::new(),
        w,
        theme,
    };
    let r = &d.row;
    // A flagged item says so on its first line, before anything else is read.
    let flags = flag_labels(state, d);
    if !flags.is_empty() {
        o.field("FLAGS", &flags.join(", "), theme.flag());
    }
    let status = match &d.status_by {
        Some(by) => format!(
            "{} by {by} {}",
            r.status,
            d.status_at.as_deref().map(short_time).unwrap_or_default()
        ),
        None => r.status.clone(),
    };
    o.plain("status", &status);
    // The hash on two fixed lines: it changes with every item, nothing else should move.
    o.plain("sha256", r.sha256.get(..32).unwrap_or(&r.sha256));
    o.plain("", r.sha256.get(32..).unwrap_or(""));
    o.plain(
        "size",
        &format!("{} ({} bytes)", human_size(r.size), r.size),
    );
    o.plain("type", &r.mime);
    incidents(&mut o, d);
    if let Some(m) = &d.ext_mismatch {
        o.field("MISMATCH", m, theme.warn());
    }
    if !d.conditions.is_empty() {
        o.field("use", &d.conditions.join(", "), theme.warn());
    }
    if let Some(m) = d.parent() {
        o.plain("member", &format!("{} (P: its family)", m.reference()));
        o.path("inside", &String::from_utf8_lossy(&m.inner_path));
    }
    if d.children > 0 {
        o.plain("holds", &format!("{} members (F: list them)", d.children));
    }
    o.heading(&format!("Received ({})", d.provenance.len()));
    for p in &d.provenance {
        o.plain(
            "from",
            &format!(
                "{} · {} by {}",
                p.source,
                short_time(&p.received_at),
                p.received_by
            ),
        );
        o.path("path", &String::from_utf8_lossy(&p.path));
    }
    for b in &d.bags {
        // Labels and values are the bag maker's text: both go through the sanitising field.
        o.heading(&format!("Bag-info (batch {})", b.batch));
        for (k, v) in &b.fields {
            o.plain("", &format!("{k}: {v}"));
        }
    }
    metadata(&mut o, &d.metadata);
    tags(&mut o, state, d);
    if !d.notes.is_empty() {
        o.heading("Notes");
        for n in &d.notes {
            o.field_lines(
                &n.author,
                &format!("{} {}", short_time(&n.at), n.body),
                Style::default(),
                NOTE_LINES,
            );
        }
    }
    o.lines
}

fn metadata(o: &mut Out, m: &Metadata) {
    if let Some(i) = &m.image {
        o.heading("Image");
        o.plain("pixels", &format!("{}×{} {}", i.width, i.height, i.format));
    }
    if let Some(e) = &m.exif {
        let camera = [e.make.as_deref(), e.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !camera.is_empty() {
            o.plain("camera", &camera);
        }
        if let Some(t) = &e.captured_at {
            o.plain("taken", t);
        }
        if let Some(g) = &e.gps {
            let alt = g.alt.map(|a| format!("  alt {a} m")).unwrap_or_default();
            o.plain("gps", &format!("{:.6}, {:.6}{alt}", g.lat, g.lon));
        }
        if let Some(s) = &e.software {
            o.plain("software", s);
        }
        if let Some(t) = &e.modified_at {
            o.plain("modified", t);
        }
        if let Some(or) = e.orientation.filter(|o| *o != 1) {
            o.plain("rotate", &format!("EXIF orientation {or}"));
        }
    }
    if let Some(p) = &m.pdf {
        o.heading("PDF");
        let fields = [
            ("title", &p.title),
            ("author", &p.author),
            ("created", &p.created),
            ("modified", &p.modified),
            ("creator", &p.creator),
            ("producer", &p.producer),
        ];
        if let Some(n) = p.pages {
            o.plain("pages", &n.to_string());
        }
        for (label, v) in fields {
            if let Some(v) = v {
                o.plain(label, v);
            }
        }
        if p.scanned {
            o.field("text", "none: a scan without a text layer", o.theme.warn());
        }
        if let Some(t) = &p.text {
            o.heading(&format!(
                "Text of the first {} pages",
                crate::ingest::meta::PDF_TEXT_PAGES
            ));
            o.block_text(t, READ_LINES);
        }
    }
    if let Some(e) = &m.email {
        o.heading("E-mail");
        if let Some(v) = &e.from {
            o.plain("from", v);
        }
        if !e.to.is_empty() {
            o.plain("to", &e.to.join(", "));
        }
        if let Some(v) = &e.date {
            o.plain("date", v);
        }
        if let Some(v) = &e.subject {
            o.plain("subject", v);
        }
        if let Some(v) = &e.message_id {
            o.plain("msg-id", v);
        }
        if !e.attachment_details.is_empty() {
            for a in &e.attachment_details {
                o.plain(
                    "attached",
                    &format!("{}  {}  {}", a.name, a.mime, human_size(a.size)),
                );
            }
        } else if !e.attachments.is_empty() {
            o.plain("attached", &e.attachments.join(", "));
        }
        if let Some(b) = &e.body {
            o.heading("Body");
            o.block_text(b, READ_LINES);
        }
    }
    if let Some(c) = &m.chat {
        o.heading(&format!("Sent in a {} chat", crate::text::sanitize(&c.app)));
        o.plain("log", &c.log);
        o.plain("from", &c.sender);
        if let Some(t) = &c.sent_at {
            o.plain("sent", t);
        }
        if !c.text.is_empty() {
            o.block_text(&c.text, READ_LINES);
        }
    }
    if let Some(c) = &m.chat_log {
        o.heading(&format!("{} chat", crate::text::sanitize(&c.app)));
        o.plain("messages", &c.messages.to_string());
        o.plain("people", &c.participants.join(", "));
        o.plain("files", &c.attachments.len().to_string());
    }
    if let Some(v) = &m.video {
        o.heading("Video");
        if let (Some(w), Some(h)) = (v.width, v.height) {
            o.plain("frame", &format!("{w}×{h}"));
        }
        if let Some(d) = v.duration_s {
            o.plain("duration", &format!("{d:.1} s"));
        }
        if let Some(c) = &v.created_at {
            o.plain("created", c);
        }
        let codecs = [v.video_codec.as_deref(), v.audio_codec.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" + ");
        if !codecs.is_empty() {
            o.plain("codecs", &codecs);
        }
        if let Some(g) = &v.gps {
            let alt = g.alt.map(|a| format!("  alt {a} m")).unwrap_or_default();
            o.plain("gps", &format!("{:.6}, {:.6}{alt}", g.lat, g.lon));
        }
        let camera = [v.make.as_deref(), v.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !camera.is_empty() {
            o.plain("camera", &camera);
        }
        if let Some(r) = v.rotation {
            o.plain("rotate", &format!("{r}° clockwise"));
        }
        if let Some(c) = &v.container {
            o.plain("container", c);
        }
    }
    if let Some(t) = &m.text {
        o.heading(&format!(
            "Text ({}{}, {} lines)",
            t.encoding,
            if t.bom { ", BOM" } else { "" },
            t.lines
        ));
        o.block_text(&t.excerpt, READ_LINES);
    }
    for w in &m.warnings {
        o.field("warning", w, o.theme.warn());
    }
}

/// The English labels of the item's flags, in the order they were set.
pub fn flag_labels(state: &State, d: &Detail) -> Vec<String> {
    d.tags
        .iter()
        .filter(|t| t.kind == "flag")
        .map(|t| {
            state
                .taxonomy
                .get(&t.term)
                .map(|x| x.en.clone())
                .unwrap_or_else(|| t.term.clone())
        })
        .collect()
}

/// The incidents it documents, and those suggested for it (the first is linked by `L`).
fn incidents(o: &mut Out, d: &Detail) {
    use crate::store::incidents::{reference, Reason};
    for l in &d.incidents {
        let c = &l.corroboration;
        o.plain("incident", &format!("{} {}", reference(l.id), l.title));
        // How well it stands: the corroboration the incident view gives, in one line.
        o.field(
            "",
            &format!(
                "{} items {} sources {} captures",
                c.items, c.providers, c.captures
            ),
            o.theme.dim(),
        );
    }
    for (n, (s, title)) in d.suggested.iter().take(3).enumerate() {
        let why = match s.reason {
            Reason::TimeAndPlace => "taken there and then".to_string(),
            Reason::Similar { of } => format!("similar to {}", crate::store::reference(of)),
        };
        let key = if n == 0 { "; L links" } else { "" };
        o.field(
            "suggest",
            &format!("{} {title} ({why}{key})", reference(s.incident)),
            o.theme.dim(),
        );
    }
}

fn tags(o: &mut Out, state: &State, d: &Detail) {
    o.heading("Tags");
    if d.tags.is_empty() && d.claims.is_empty() {
        o.lines.push(line("  none yet", o.theme.dim()));
        return;
    }
    let label_of = |term_id: &str| {
        let term = state.taxonomy.get(term_id);
        let label = term.map(|x| x.en.as_str()).unwrap_or(term_id);
        let reference = term
            .and_then(|x| x.legal_ref.as_deref())
            .map(|r| format!(" · {r}"))
            .unwrap_or_default();
        format!("{label}{reference}")
    };
    for t in &d.tags {
        let style = if t.kind == "flag" {
            o.theme.flag()
        } else {
            Style::default()
        };
        // A tag another case sent is shown as that case's decision, not the importer's.
        let who = match d.claims.iter().find(|c| c.term == t.term) {
            Some(c) => claim_text(c),
            None => format!("{} {}", t.set_by, short_time(&t.set_at)),
        };
        o.field(&t.kind, &format!("{} — {who}", label_of(&t.term)), style);
    }
    // Claims whose tag is not (or no longer) set here.
    for c in &d.claims {
        if d.tags.iter().any(|t| t.term == c.term) {
            continue;
        }
        o.field(
            &c.kind,
            &format!("{} — {} (not set here)", label_of(&c.term), claim_text(c)),
            o.theme.dim(),
        );
    }
}

/// "by amal in case X on 2026-11-27 22:45, imported".
fn claim_text(c: &crate::store::items::ImportedClaim) -> String {
    let or = |s: &str| {
        if s.is_empty() {
            "?".to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "by {} in case {} on {}, imported",
        or(&c.claimed_by),
        or(&c.sending_case),
        or(&short_time(&c.claimed_at))
    )
}

/// `2026-11-27T22:45:05.123456Z` → `2026-11-27 22:45`.
fn short_time(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(h)) => format!("{d} {h}"),
        _ => t.to_string(),
    }
}

fn human_size(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}
