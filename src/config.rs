//! Defaults from configuration files: `/etc/triage/config.toml` for the site, then
//! `$XDG_CONFIG_HOME/triage/config.toml` (`~/.config/triage/config.toml`) for the user, each
//! key of the user's file replacing the site's. Environment variables and command-line flags
//! win over both; a file that does not exist is not an error, one that does not parse is.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

pub const SITE: &str = "/etc/triage/config.toml";

#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Colour depth: mono, 16, 256 or true (`--colors`).
    pub colors: Option<String>,
    /// halfblocks, sixel, kitty or off (`--images`, TRIAGE_IMAGES).
    pub images: Option<String>,
    /// Bytes one preview may cost (`--preview-budget`, TRIAGE_PREVIEW_BUDGET).
    pub preview_budget: Option<usize>,
    /// Gate every image until revealed (`--gate-all`).
    pub gate_all: Option<bool>,
    /// Previews in grayscale (`--grayscale`).
    pub grayscale: Option<bool>,
    /// The keymap file (TRIAGE_KEYMAP; default `~/.config/triage/keymap.toml`).
    pub keymap: Option<PathBuf>,
}

impl Config {
    /// Each key set in `over` replaces this one's.
    fn overlay(self, over: Config) -> Config {
        Config {
            colors: over.colors.or(self.colors),
            images: over.images.or(self.images),
            preview_budget: over.preview_budget.or(self.preview_budget),
            gate_all: over.gate_all.or(self.gate_all),
            grayscale: over.grayscale.or(self.grayscale),
            keymap: over.keymap.or(self.keymap),
        }
    }
}

/// The user's file (XDG, as `dirs` finds it).
pub fn user_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("triage").join("config.toml"))
}

/// The files in the order they apply, with whether each exists.
pub fn files() -> Vec<(PathBuf, bool)> {
    std::iter::once(PathBuf::from(SITE))
        .chain(user_path())
        .map(|p| {
            let exists = p.is_file();
            (p, exists)
        })
        .collect()
}

/// The site's defaults with the user's over them.
pub fn load() -> Result<Config> {
    let mut config = Config::default();
    for (path, exists) in files() {
        if exists {
            config = config.overlay(read(&path)?);
        }
    }
    Ok(config)
}

fn read(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_keys_replace_the_sites_and_unknown_keys_are_refused() {
        let site: Config =
            toml::from_str("images = \"off\"\npreview_budget = 100").unwrap_or_default();
        let user: Config = toml::from_str("preview_budget = 200").unwrap_or_default();
        let c = site.overlay(user);
        assert_eq!(
            (c.images.as_deref(), c.preview_budget),
            (Some("off"), Some(200))
        );
        assert!(toml::from_str::<Config>("budget = 1").is_err());
    }
}
