//! Chat exports: a WhatsApp log (`_chat.txt`, `WhatsApp Chat with X.txt`; the iOS
//! `[21/08/2013, 03:14:07] Name: text` and Android `21/08/2013, 03:14 - Name: text` lines), a
//! Signal Desktop export (signal-export's Markdown, `[2019-05-29, 15:04] Name: text` with
//! attachments as `![name](media/x.jpg)`), a Telegram Desktop export (`result.json`, or
//! `messages.html`). The log
//! is read in the parser worker like any text; what it gives is each attached file's name
//! (relative to the log) with the message that carried it, so that the files received beside
//! the log are linked to their message at ingest.

use serde_json::Value;

use super::{ChatAttachment, ChatLog};

/// Attachments listed at most (a longer log keeps its messages count, not every name).
const MAX_ATTACHMENTS: usize = 20_000;
/// A message's text kept with its attachment, in characters.
const MAX_TEXT: usize = 2_000;
const MAX_PARTICIPANTS: usize = 200;

/// The chat log `text` is, if any.
pub fn read(text: &str) -> Option<ChatLog> {
    let trimmed = text.trim_start_matches(['\u{feff}', '\u{200e}', ' ', '\n', '\r']);
    if trimmed.starts_with('{') {
        return telegram_json(trimmed);
    }
    if trimmed.starts_with('<') {
        return telegram_html(text);
    }
    lines(text)
}

#[derive(Default)]
struct Log {
    app: Option<&'static str>,
    messages: u64,
    participants: Vec<String>,
    attachments: Vec<ChatAttachment>,
    /// The message being read (continuation lines add to its text) and its attachments.
    current: Option<(ChatAttachment, Vec<String>)>,
}

impl Log {
    fn flush(&mut self) {
        let Some((message, files)) = self.current.take() else {
            return;
        };
        for file in files {
            if self.attachments.len() < MAX_ATTACHMENTS {
                self.attachments.push(ChatAttachment {
                    file,
                    ..message.clone()
                });
            }
        }
    }

    fn sender(&mut self, name: &str) {
        if !name.is_empty()
            && self.participants.len() < MAX_PARTICIPANTS
            && !self.participants.iter().any(|p| p == name)
        {
            self.participants.push(name.to_string());
        }
    }

    fn done(mut self, default_app: &'static str) -> Option<ChatLog> {
        self.flush();
        (self.messages > 0).then(|| ChatLog {
            app: self.app.unwrap_or(default_app).to_string(),
            messages: self.messages,
            participants: self.participants,
            attachments: self.attachments,
        })
    }
}

/// A line-per-message log (WhatsApp, Signal). The first line must be a message.
fn lines(text: &str) -> Option<ChatLog> {
    let mut log = Log::default();
    let mut iso_dates = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches(['\u{feff}', '\u{200e}']).trim_end();
        match header(line) {
            Some((when, rest, iso)) => {
                log.flush();
                log.messages += 1;
                iso_dates |= iso;
                // A system line ("Messages are end-to-end encrypted") has no sender.
                let (sender, body) = match rest.split_once(": ") {
                    Some((s, b)) if !s.is_empty() && s.chars().count() <= 80 => (s, b),
                    _ => ("", rest),
                };
                log.sender(sender);
                let mut files = Vec::new();
                let body = attachments_in(body, &mut files, &mut log.app);
                log.current = Some((
                    ChatAttachment {
                        file: String::new(),
                        sender: sender.to_string(),
                        sent_at: when,
                        text: body,
                    },
                    files,
                ));
            }
            None if i == 0 && !line.is_empty() => return None,
            None => {
                // A message's next line, which may be an attachment of its own.
                let mut app = log.app;
                if let Some((m, files)) = log.current.as_mut() {
                    let more = attachments_in(line, files, &mut app);
                    if !more.is_empty() && m.text.chars().count() < MAX_TEXT {
                        if !m.text.is_empty() {
                            m.text.push('\n');
                        }
                        m.text.push_str(&more);
                        m.text = m.text.chars().take(MAX_TEXT).collect();
                    }
                }
                log.app = app;
            }
        }
    }
    let default_app = if iso_dates { "Signal" } else { "WhatsApp" };
    log.done(default_app)
}

/// `[date, time] rest` or `date, time - rest`: the time as ISO 8601 (day first unless the
/// first number cannot be a day… of a month: then month first), the rest, and whether the
/// date was ISO (`2019-05-29`, as Signal exports write it).
fn header(line: &str) -> Option<(Option<String>, &str, bool)> {
    let (stamp, rest) = if let Some(inner) = line.strip_prefix('[') {
        let (stamp, rest) = inner.split_once(']')?;
        (stamp, rest.strip_prefix(' ').unwrap_or(rest))
    } else {
        let (stamp, rest) = line.split_once(" - ")?;
        (stamp, rest)
    };
    if stamp.len() > 40 {
        return None;
    }
    let (date, time) = stamp.split_once(", ").or_else(|| stamp.split_once(' '))?;
    let (y, mo, d, iso) = date_parts(date.trim())?;
    let time = time_of(time.trim())?;
    Some((Some(format!("{y:04}-{mo:02}-{d:02}T{time}")), rest, iso))
}

fn date_parts(date: &str) -> Option<(u32, u32, u32, bool)> {
    let parts: Vec<&str> = date.split(['/', '.', '-']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (a, b, c) = (num(a)?, num(b)?, num(c)?);
    let (y, mo, d, iso) = if a > 999 {
        (a, b, c, true)
    } else {
        let y = if c < 100 { 2000 + c } else { c };
        if a > 12 || b <= 12 {
            (y, b, a, false)
        } else {
            (y, a, b, false)
        }
    };
    ((1..=12).contains(&mo) && (1..=31).contains(&d)).then_some((y, mo, d, iso))
}

/// `03:14`, `03:14:07`, `3:14 PM`, `3:14:07 p.m.` as `HH:MM[:SS]`.
fn time_of(t: &str) -> Option<String> {
    let lower = t.to_ascii_lowercase().replace('.', "");
    let (clock, pm) = if let Some(c) = lower.strip_suffix("pm") {
        (c.trim_end_matches([' ', '\u{202f}']), Some(true))
    } else if let Some(c) = lower.strip_suffix("am") {
        (c.trim_end_matches([' ', '\u{202f}']), Some(false))
    } else {
        (lower.as_str(), None)
    };
    let parts: Vec<u32> = clock
        .split(':')
        .map(|p| {
            (p.len() <= 2 && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let (mut h, m, s) = match parts.as_slice() {
        [h, m] => (*h, *m, None),
        [h, m, s] => (*h, *m, Some(*s)),
        _ => return None,
    };
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    if h > 23 || m > 59 || s.is_some_and(|s| s > 60) {
        return None;
    }
    Some(match s {
        Some(s) => format!("{h:02}:{m:02}:{s:02}"),
        None => format!("{h:02}:{m:02}"),
    })
}

/// Take the attachments named in a message's text out of it: WhatsApp's
/// `<attached: 00000012-PHOTO-….jpg>` (iOS) and `IMG-…-WA0003.jpg (file attached)` (Android),
/// Signal's Markdown `![name](path)` / `[name](path)`. The rest is the message's text.
fn attachments_in(body: &str, files: &mut Vec<String>, app: &mut Option<&'static str>) -> String {
    let body = body.trim_start_matches('\u{200e}');
    if let Some(start) = body.find("<attached: ") {
        if let Some(len) = body[start..].find('>') {
            let name = &body[start + "<attached: ".len()..start + len];
            files.push(name.trim().to_string());
            app.get_or_insert("WhatsApp");
            let rest = format!("{}{}", &body[..start], &body[start + len + 1..]);
            return rest.trim().to_string();
        }
    }
    if let Some(name) = body.strip_suffix(" (file attached)") {
        files.push(name.trim().to_string());
        app.get_or_insert("WhatsApp");
        return String::new();
    }
    // Markdown links: `![alt](path)` or `[alt](path)`, the path relative to the log.
    let mut rest = String::new();
    let mut s = body;
    while let Some(open) = s.find("](") {
        let Some(close) = s[open + 2..].find(')') else {
            break;
        };
        let Some(alt_start) = s[..open].rfind('[') else {
            break;
        };
        let path = &s[open + 2..open + 2 + close];
        let before = s[..alt_start].strip_suffix('!').unwrap_or(&s[..alt_start]);
        rest.push_str(before);
        if path.contains("://") {
            rest.push_str(&s[alt_start..open + 3 + close]);
        } else {
            files.push(path.to_string());
            app.get_or_insert("Signal");
        }
        s = &s[open + 3 + close..];
    }
    rest.push_str(s);
    rest.trim().chars().take(MAX_TEXT).collect()
}

/// Telegram Desktop's machine-readable export: one chat (`messages`) or the whole account
/// (`chats.list[].messages`); each message's `photo` or `file` is a path relative to it.
fn telegram_json(text: &str) -> Option<ChatLog> {
    let v: Value = serde_json::from_str(text).ok()?;
    let mut chats: Vec<&Value> = Vec::new();
    if v.get("messages").is_some_and(Value::is_array) {
        chats.push(&v);
    }
    if let Some(list) = v.pointer("/chats/list").and_then(Value::as_array) {
        chats.extend(list.iter());
    }
    if chats.is_empty() {
        return None;
    }
    let mut log = Log {
        app: Some("Telegram"),
        ..Log::default()
    };
    for chat in chats {
        for m in chat["messages"].as_array().into_iter().flatten() {
            log.messages += 1;
            let sender = m["from"].as_str().or(m["actor"].as_str()).unwrap_or("");
            log.sender(sender);
            let text: String = match &m["text"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .map(|p| match p {
                        Value::String(s) => s.as_str(),
                        o => o["text"].as_str().unwrap_or(""),
                    })
                    .collect(),
                _ => String::new(),
            };
            let sent_at = m["date"].as_str().map(str::to_string);
            for key in ["photo", "file"] {
                let Some(file) = m[key].as_str() else {
                    continue;
                };
                // "(File not included. Change data exporting settings to download.)"
                if file.starts_with('(') || log.attachments.len() >= MAX_ATTACHMENTS {
                    continue;
                }
                log.attachments.push(ChatAttachment {
                    file: file.to_string(),
                    sender: sender.to_string(),
                    sent_at: sent_at.clone(),
                    text: text.chars().take(MAX_TEXT).collect(),
                });
            }
        }
    }
    log.done("Telegram")
}

/// Telegram Desktop's HTML export: `<div class="message default clearfix" id="message5">`
/// blocks, each with its time (`class="pull_right date details" title="21.08.2013 03:30:00
/// UTC+03:00"`), its sender (`from_name`; a `joined` message keeps the one before), its text
/// (`class="text"`) and its files as relative links (`href="photos/…"`).
fn telegram_html(text: &str) -> Option<ChatLog> {
    const START: &str = "<div class=\"message default";
    if !text.contains(START) {
        return None;
    }
    let mut log = Log {
        app: Some("Telegram"),
        ..Log::default()
    };
    let mut sender = String::new();
    for block in text.split(START).skip(1) {
        log.messages += 1;
        if let Some(name) = inner_of(block, "class=\"from_name\"") {
            sender = plain(name);
            let s = sender.clone();
            log.sender(&s);
        }
        let sent_at = attr_after(block, "date details\"", "title").and_then(|t| html_time(&t));
        let body = inner_of(block, "class=\"text\"")
            .map(plain)
            .unwrap_or_default();
        let mut rest = block;
        while let Some(i) = rest.find("href=\"") {
            rest = &rest[i + 6..];
            let Some(end) = rest.find('"') else { break };
            let href = unescape(&rest[..end]);
            if !href.contains("://")
                && !href.starts_with('#')
                && !href.starts_with("mailto:")
                && !href.is_empty()
                && log.attachments.len() < MAX_ATTACHMENTS
            {
                log.attachments.push(ChatAttachment {
                    file: href,
                    sender: sender.clone(),
                    sent_at: sent_at.clone(),
                    text: body.clone(),
                });
            }
        }
    }
    log.done("Telegram")
}

/// What follows the tag holding `marker`, up to the next `</div>`.
fn inner_of<'a>(block: &'a str, marker: &str) -> Option<&'a str> {
    let at = block.find(marker)?;
    let open = block[at..].find('>')? + at + 1;
    let close = block[open..].find("</div>")? + open;
    Some(&block[open..close])
}

/// The value of attribute `name` in the tag holding `marker`.
fn attr_after(block: &str, marker: &str, name: &str) -> Option<String> {
    let at = block.find(marker)?;
    let tag_end = block[at..].find('>')? + at;
    let tag = &block[at..tag_end];
    let key = format!("{name}=\"");
    let v = tag.find(&key)? + key.len();
    let end = tag[v..].find('"')? + v;
    Some(unescape(&tag[v..end]))
}

/// `21.08.2013 03:30:00 UTC+03:00` as `2013-08-21T03:30:00+03:00`.
fn html_time(t: &str) -> Option<String> {
    let mut parts = t.split_whitespace();
    let (date, time) = (parts.next()?, parts.next()?);
    let (y, mo, d, _) = date_parts(date)?;
    let time = time_of(time)?;
    let zone = parts
        .next()
        .and_then(|z| z.strip_prefix("UTC"))
        .filter(|z| !z.is_empty())
        .unwrap_or("");
    Some(format!("{y:04}-{mo:02}-{d:02}T{time}{zone}"))
}

/// Markup to text: tags dropped (`<br>` a new line), entities decoded, spaces trimmed.
fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        if rest[open..].starts_with("<br") {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let text = unescape(&out);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n").chars().take(MAX_TEXT).collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_ios_and_android() {
        let ios = "[21/08/2013, 03:14:07] Abu Omar: the shelling started\n\
                   [21/08/2013, 03:15:10] Abu Omar: \u{200e}<attached: 00000012-PHOTO-2013-08-21-03-14-07.jpg>\n\
                   [21/08/2013, 03:16:00] Rami: seen\n";
        let log = read(ios).expect("a log");
        assert_eq!(log.app, "WhatsApp");
        assert_eq!(log.messages, 3);
        assert_eq!(log.participants, ["Abu Omar", "Rami"]);
        assert_eq!(log.attachments.len(), 1);
        let a = &log.attachments[0];
        assert_eq!(a.file, "00000012-PHOTO-2013-08-21-03-14-07.jpg");
        assert_eq!(a.sender, "Abu Omar");
        assert_eq!(a.sent_at.as_deref(), Some("2013-08-21T03:15:10"));

        let android = "21/08/2013, 03:14 - Messages to this group are now secured\n\
                       21/08/2013, 03:14 - Abu Omar: IMG-20130821-WA0003.jpg (file attached)\n\
                       Douma, the hospital\n\
                       8/21/13, 3:20 PM - Rami: ok\n";
        let log = read(android).expect("a log");
        assert_eq!(log.messages, 3);
        let a = &log.attachments[0];
        assert_eq!(a.file, "IMG-20130821-WA0003.jpg");
        assert_eq!(a.text, "Douma, the hospital");
        assert_eq!(a.sent_at.as_deref(), Some("2013-08-21T03:14"));
        assert!(read("not a chat\n21/08/2013, 03:14 - A: b\n").is_none());
    }

    #[test]
    fn signal_markdown_and_telegram_json() {
        let md = "[2019-05-29, 15:04] Me: How is everyone?\n\
                  [2019-05-29, 15:10] Aya: look ![photo.jpg](./media/2019-05-29-photo.jpg)\n";
        let log = read(md).expect("a log");
        assert_eq!(log.app, "Signal");
        assert_eq!(log.attachments[0].file, "./media/2019-05-29-photo.jpg");
        assert_eq!(log.attachments[0].text, "look");

        let tg = r#"{"name":"Field","type":"private_group","id":1,"messages":[
            {"id":1,"type":"message","date":"2016-03-10T09:10:00","from":"Field Team",
             "photo":"photos/photo_1@10-03-2016_09-10-00.jpg","text":["seen at ",{"type":"bold","text":"noon"}]}]}"#;
        let log = read(tg).expect("a log");
        assert_eq!(log.app, "Telegram");
        let a = &log.attachments[0];
        assert_eq!(a.file, "photos/photo_1@10-03-2016_09-10-00.jpg");
        assert_eq!(a.text, "seen at noon");
        assert_eq!(a.sender, "Field Team");

        let html = r#"<!DOCTYPE html><html><body><div class="history">
 <div class="message service" id="message-1"><div class="body details">21 August 2013</div></div>
 <div class="message default clearfix" id="message5">
  <div class="body">
   <div class="pull_right date details" title="21.08.2013 03:30:00 UTC+03:00">03:30</div>
   <div class="from_name">
Medic
   </div>
   <div class="media_wrap clearfix">
    <a class="photo_wrap clearfix pull_left" href="photos/photo_1@21-08-2013_03-30-00.jpg">
     <img class="photo" src="photos/photo_1@21-08-2013_03-30-00_thumb.jpg"/>
    </a>
   </div>
   <div class="text">
casualties at the clinic &amp; the school<br>see <a href="https://example.org">this</a>
   </div>
  </div>
 </div>
 <div class="message default clearfix joined" id="message6">
  <div class="body">
   <div class="pull_right date details" title="21.08.2013 03:31:00 UTC+03:00">03:31</div>
   <div class="media_wrap clearfix">
    <a class="video_file_wrap clearfix pull_left" href="video_files/clip.mp4"></a>
   </div>
  </div>
 </div>
</div></body></html>"#;
        let log = read(html).expect("a log");
        assert_eq!(log.app, "Telegram");
        assert_eq!(log.messages, 2);
        assert_eq!(log.participants, ["Medic"]);
        assert_eq!(log.attachments.len(), 2);
        let a = &log.attachments[0];
        assert_eq!(a.file, "photos/photo_1@21-08-2013_03-30-00.jpg");
        assert_eq!(a.sent_at.as_deref(), Some("2013-08-21T03:30:00+03:00"));
        assert_eq!(a.text, "casualties at the clinic & the school\nsee this");
        let b = &log.attachments[1];
        assert_eq!(
            (b.file.as_str(), b.sender.as_str()),
            ("video_files/clip.mp4", "Medic")
        );
    }
}
