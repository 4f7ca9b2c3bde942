//! E-mail (.eml, RFC 5322/MIME) headers with mail-parser; RFC 2047 subjects come out decoded.

use mail_parser::{Address, MessageParser, MimeHeaders};

use super::{EmailInfo, Metadata};

pub fn extract(bytes: &[u8], m: &mut Metadata) {
    let Some(msg) = MessageParser::default().parse(bytes) else {
        m.warnings.push("e-mail: could not be parsed".into());
        return;
    };
    let attachments = msg
        .attachments()
        .filter_map(|a| a.attachment_name().map(str::to_string))
        .collect();
    m.email = Some(EmailInfo {
        from: msg.from().and_then(|a| addresses(a).into_iter().next()),
        to: msg.to().map(addresses).unwrap_or_default(),
        date: msg.date().map(|d| d.to_rfc3339()),
        subject: msg.subject().map(str::to_string),
        message_id: msg.message_id().map(str::to_string),
        attachments,
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
