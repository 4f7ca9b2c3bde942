//! E-mail (.eml, RFC 5322/MIME) with mail-parser: headers (RFC 2047 subjects come out
//! decoded), the body as plain text (mail-parser converts an HTML-only body), and each
//! attachment's name, type and size.

use mail_parser::{Address, MessageParser, MimeHeaders};

use super::{Attachment, EmailInfo, Metadata};

/// Characters of body kept (the details and the search index); the original holds the rest.
const BODY_CHARS: usize = 64 * 1024;

pub fn extract(bytes: &[u8], m: &mut Metadata) {
    let Some(msg) = MessageParser::default().parse(bytes) else {
        m.warnings.push("e-mail: could not be parsed".into());
        return;
    };
    let attachments = msg
        .attachments()
        .filter_map(|a| a.attachment_name().map(str::to_string))
        .collect();
    let attachment_details = msg
        .attachments()
        .map(|a| Attachment {
            name: a
                .attachment_name()
                .map(str::to_string)
                .unwrap_or_else(|| "(no name)".into()),
            mime: a
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{sub}", c.ctype()),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: a.contents().len() as u64,
        })
        .collect();
    let body = msg
        .body_text(0)
        .map(|b| b.chars().take(BODY_CHARS).collect::<String>())
        .map(|b| b.replace("\r\n", "\n").trim().to_string())
        .filter(|b| !b.is_empty());
    m.email = Some(EmailInfo {
        from: msg.from().and_then(|a| addresses(a).into_iter().next()),
        to: msg.to().map(addresses).unwrap_or_default(),
        date: msg.date().map(|d| d.to_rfc3339()),
        subject: msg.subject().map(str::to_string),
        message_id: msg.message_id().map(str::to_string),
        attachments,
        attachment_details,
        body,
    });
}

fn addresses(a: &Address) -> Vec<String> {
    a.iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (None, Some(e)) => e.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect()
}
