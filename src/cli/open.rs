use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::console::{self, theme::Theme};

/// How the console shows images.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// halfblocks (default) or off.
    pub mode: Option<String>,
    /// Bytes one preview may cost (default 16 KB).
    pub budget: Option<usize>,
    /// Gate every image until revealed (grayscale and blurred first).
    pub gate_all: bool,
    pub grayscale: bool,
}

pub fn run(case: Option<PathBuf>, colors: Option<&str>, images: ImageOptions) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    console_on(case, colors, images)
}

/// Run the console on a case already opened (by `run`, or by `triage demo` on the case it made).
pub fn console_on(
    case: crate::store::Case,
    colors: Option<&str>,
    images: ImageOptions,
) -> Result<ExitCode> {
    if !super::is_terminal(0) || !super::is_terminal(1) {
        return Err(anyhow!(
            "the console needs a terminal; for scripts use `triage list`, `show` and `tag`"
        ));
    }
    let config = crate::config::load()?;
    let (colors, images) = with_config(colors, images, &config);
    let colors = colors.as_deref();
    let tax = super::taxonomy(&case)?;
    let theme = Theme::choose(colors).map_err(anyhow::Error::msg)?;
    let (keymap, keymap_problems) = console::load_keymap(config.keymap.clone());
    let reviewer = crate::identity::login_name()?;
    let preview = preview_options(&theme, colors, &images)?;
    console::run(
        case,
        tax,
        reviewer,
        console::Options {
            theme,
            keymap,
            keymap_problems,
            preview,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Flags first; the configuration only fills what no flag gave. Environment variables sit
/// between the two: they are read where a flag is missing, before the configuration.
fn with_config(
    colors: Option<&str>,
    images: ImageOptions,
    config: &crate::config::Config,
) -> (Option<String>, ImageOptions) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let colors = colors.map(str::to_string).or_else(|| {
        // NO_COLOR is the user's say for this session: it beats a configured depth.
        if env("NO_COLOR").is_some() {
            None
        } else {
            config.colors.clone()
        }
    });
    let images = ImageOptions {
        mode: images
            .mode
            .or_else(|| env("TRIAGE_IMAGES"))
            .or_else(|| config.images.clone()),
        budget: images
            .budget
            .or_else(|| env("TRIAGE_PREVIEW_BUDGET").and_then(|v| v.parse().ok()))
            .or(config.preview_budget),
        gate_all: images.gate_all || config.gate_all.unwrap_or(false),
        grayscale: images.grayscale || config.grayscale.unwrap_or(false),
    };
    (colors, images)
}

fn preview_options(
    theme: &Theme,
    colors: Option<&str>,
    images: &ImageOptions,
) -> Result<console::preview::Preview> {
    use crate::preview::graphics::Protocol;
    use crate::preview::Depth;
    let mode = images
        .mode
        .clone()
        .or_else(|| {
            std::env::var("TRIAGE_IMAGES")
                .ok()
                .filter(|m| !m.is_empty())
        })
        .unwrap_or_else(|| "halfblocks".into());
    let (enabled, protocol) = match mode.as_str() {
        "halfblocks" => (true, None),
        "off" => (false, None),
        "sixel" => (true, Some(Protocol::Sixel)),
        // tmux passes kitty's sequences on only when wrapped and allowed (allow-passthrough);
        // sent as they are they would be lost or garbled.
        "kitty" if std::env::var_os("TMUX").is_some() => {
            return Err(anyhow!(
                "--images kitty: kitty graphics do not pass through tmux; use halfblocks or sixel (tmux 3.4+)"
            ))
        }
        "kitty" => (true, Some(Protocol::Kitty)),
        other => {
            return Err(anyhow!(
                "--images {other}: expected halfblocks, sixel, kitty or off"
            ))
        }
    };
    // The terminal is never probed (over SSH a probe costs a round trip and can misfire):
    // the depth comes from --colors, else from what the environment declares.
    let depth = match (theme.depth, colors) {
        (Depth::Mono, _) => Depth::Mono,
        (_, Some("true" | "truecolor" | "24bit")) => Depth::True,
        (_, Some("256")) => Depth::Ansi256,
        (_, Some("16")) => Depth::Ansi16,
        _ => {
            let colorterm = std::env::var("COLORTERM").unwrap_or_default();
            let term = std::env::var("TERM").unwrap_or_default();
            if colorterm.contains("truecolor") || colorterm.contains("24bit") {
                Depth::True
            } else if term.contains("256color") {
                Depth::Ansi256
            } else {
                Depth::Ansi16
            }
        }
    };
    let budget = images
        .budget
        .or_else(|| {
            std::env::var("TRIAGE_PREVIEW_BUDGET")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(16 * 1024);
    let gate_all = images.gate_all || std::env::var_os("TRIAGE_GATE_ALL").is_some_and(|v| v == "1");
    let mut preview =
        console::preview::Preview::new(depth, budget, gate_all, images.grayscale, enabled);
    preview.protocol = protocol;
    if protocol.is_some() {
        // The kernel's idea of the window (TIOCGWINSZ), not a query to the terminal: nothing is
        // sent, so nothing can misfire over SSH. Zero when the terminal does not say.
        if let Ok(ws) = ratatui::crossterm::terminal::window_size() {
            if ws.columns > 0 && ws.rows > 0 && ws.width > 0 && ws.height > 0 {
                preview.cell_px = (ws.width / ws.columns, ws.height / ws.rows);
            }
        }
    }
    Ok(preview)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_configuration_which_fills_the_rest() {
        let config = crate::config::Config {
            colors: Some("256".into()),
            images: Some("off".into()),
            preview_budget: Some(100),
            gate_all: Some(true),
            ..Default::default()
        };
        let flags = ImageOptions {
            mode: Some("sixel".into()),
            ..Default::default()
        };
        let (colors, images) = with_config(Some("mono"), flags, &config);
        assert_eq!(colors.as_deref(), Some("mono"));
        assert_eq!(images.mode.as_deref(), Some("sixel"));
        // What no flag (and, in the test's environment, no variable) gave comes from the file.
        if std::env::var_os("TRIAGE_PREVIEW_BUDGET").is_none() {
            assert_eq!(images.budget, Some(100));
        }
        assert!(images.gate_all);
    }
}
