//! Metadata extracted at ingest, one typed structure stored as JSON: filled by ingest's
//! extractors, kept and read by the store.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exif: Option<Exif>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf: Option<PdfInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoInfo>,
    /// A chat export's log (WhatsApp, Signal, Telegram): its attachments and their messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_log: Option<ChatLog>,
    /// A file received beside a chat log: the message that carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<ChatMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ChatLog {
    /// `WhatsApp`, `Signal` or `Telegram`.
    pub app: String,
    pub messages: u64,
    pub participants: Vec<String>,
    pub attachments: Vec<ChatAttachment>,
}

/// A file a chat log names, with the message that carried it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ChatAttachment {
    /// As the log names it, relative to the log's folder.
    pub file: String,
    pub sender: String,
    /// As the log gives it (ISO 8601, no zone: the exporting phone's local time).
    pub sent_at: Option<String>,
    pub text: String,
}

/// On a file received beside a chat log: the message that carried it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ChatMessage {
    pub app: String,
    /// The log's reference.
    pub log: String,
    pub sender: String,
    pub sent_at: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageInfo {
    pub format: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Exif {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    /// DateTimeOriginal as `YYYY-MM-DDTHH:MM:SS`, camera local time (with offset when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// DateTime (last changed) in the same form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<Gps>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Gps {
    /// Decimal degrees, negative south.
    pub lat: f64,
    /// Decimal degrees, negative west.
    pub lon: f64,
    /// Metres, negative below sea level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PdfInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// The text of the first pages (pdftotext), capped; raw: sanitise before display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// True when the first pages have no text layer (a scan): there is nothing to read or find.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scanned: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EmailInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Each attachment's name, type and size (`attachments` keeps the names alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachment_details: Vec<Attachment>,
    /// The body as plain text (HTML converted), capped; raw: sanitise before display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Attachment {
    pub name: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub size: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TextInfo {
    pub encoding: String,
    #[serde(default)]
    pub bom: bool,
    pub lines: u64,
    /// The first part of the text, decoded to UTF-8 (raw: sanitise before display).
    pub excerpt: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VideoInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// The container as ffprobe names it (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `avi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<String>,
    /// Degrees the picture is to be turned clockwise for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<Gps>,
    /// `ffprobe`, or `built-in` (MP4/MOV only) when ffprobe is not installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_by: Option<String>,
}

impl Metadata {
    /// The best "when did this happen" for sorting and display.
    pub fn captured_at(&self) -> Option<String> {
        self.exif
            .as_ref()
            .and_then(|e| e.captured_at.clone())
            .or_else(|| self.video.as_ref().and_then(|v| v.created_at.clone()))
            .or_else(|| self.email.as_ref().and_then(|m| m.date.clone()))
            .or_else(|| self.pdf.as_ref().and_then(|p| p.created.clone()))
    }
}
