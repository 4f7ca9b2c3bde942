//! Colours: 16 named colours on the terminal's own background by default; `NO_COLOR` or
//! `--colors mono` leaves only bold, dim and reverse video (selection stays visible).

use ratatui::style::{Color, Modifier, Style};

/// The colour depth of the screen: one enum for text and for pictures.
pub use crate::preview::Depth;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub depth: Depth,
}

impl Theme {
    /// From `--colors`, then `NO_COLOR` (any value), else 16 colours.
    pub fn choose(flag: Option<&str>) -> Result<Theme, String> {
        let depth = match flag {
            Some("mono") => Depth::Mono,
            Some("16") => Depth::Ansi16,
            Some("256") => Depth::Ansi256,
            Some("true") | Some("truecolor") | Some("24bit") => Depth::True,
            Some(other) => return Err(format!("--colors {other}: expected mono, 16, 256 or true")),
            None if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => Depth::Mono,
            None => Depth::Ansi16,
        };
        Ok(Theme { depth })
    }

    pub fn mono() -> Theme {
        Theme { depth: Depth::Mono }
    }

    fn fg(&self, named: Color, rich: (u8, u8, u8), idx: u8) -> Style {
        match self.depth {
            Depth::Mono => Style::default(),
            Depth::Ansi16 => Style::default().fg(named),
            Depth::Ansi256 => Style::default().fg(Color::Indexed(idx)),
            Depth::True => Style::default().fg(Color::Rgb(rich.0, rich.1, rich.2)),
        }
    }

    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    pub fn label(&self) -> Style {
        match self.depth {
            Depth::Mono => Style::default().add_modifier(Modifier::DIM),
            _ => self.fg(Color::Cyan, (95, 175, 215), 74),
        }
    }
    pub fn heading(&self) -> Style {
        self.fg(Color::Yellow, (215, 175, 95), 179)
            .add_modifier(Modifier::BOLD)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Red, (215, 95, 95), 167)
            .add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green, (135, 175, 95), 107)
    }
    pub fn flag(&self) -> Style {
        self.fg(Color::Magenta, (175, 135, 215), 140)
    }
    pub fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }
    pub fn status_bar(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}
