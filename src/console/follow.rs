//! The console follows the case: the writer worker looks about twice a second, between its
//! tasks, whether anyone else committed (new intake, another reviewer's decision, claim or
//! note) and, when so, wakes the console, which refreshes what it shows. Looking is one
//! pragma on the writer's own connection, whose `data_version` our own writes do not move;
//! nothing is sent to the terminal unless the screen changed.

use std::time::Duration;

use crate::store::watch::data_version;
use crate::store::Case;

/// How often the case is looked at.
pub const EVERY: Duration = Duration::from_millis(500);

pub struct Watch {
    seen: i64,
}

impl Watch {
    /// None when the case cannot be looked at (then it is not followed).
    pub fn new(case: &Case) -> Option<Watch> {
        data_version(case).ok().map(|seen| Watch { seen })
    }

    /// Has someone else committed since the last look?
    pub fn moved(&mut self, case: &Case) -> crate::store::DbResult<bool> {
        let now = data_version(case)?;
        Ok(std::mem::replace(&mut self.seen, now) != now)
    }
}
