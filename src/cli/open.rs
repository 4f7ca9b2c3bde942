use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::console::{self, theme::Theme};

pub fn run(case: Option<PathBuf>, colors: Option<&str>) -> Result<ExitCode> {
    let case = super::open_case(case)?;
    open_case(case, colors)
}

pub fn open_case(case: crate::store::Case, colors: Option<&str>) -> Result<ExitCode> {
    if !super::is_terminal(0) || !super::is_terminal(1) {
        return Err(anyhow!(
            "the console needs a terminal; for scripts use `triage list`, `show` and `tag`"
        ));
    }
    let tax = super::taxonomy(&case)?;
    let theme = Theme::choose(colors).map_err(anyhow::Error::msg)?;
    let (keymap, keymap_problems) = console::load_keymap();
    let reviewer = crate::identity::login_name();
    console::run(
        case,
        tax,
        reviewer,
        console::Options {
            theme,
            keymap,
            keymap_problems,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
