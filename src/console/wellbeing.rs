//! What the console knows of the reviewer's exposure to graphic material: today's figures as
//! the case last said (counted on the writer), and how many graphic items in a row they have
//! seen in this session (a non-graphic item breaks the row).

use crate::store::items::Detail;
use crate::store::wellbeing::{Rule, Today, GRAPHIC};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wellbeing {
    pub today: Option<Today>,
    /// Graphic items seen one after another.
    pub in_a_row: u64,
    /// The last graphic item counted in the row (seeing it again is not another).
    pub last: Option<i64>,
    /// The graphic item last arrived at while the daily limit stood (asked about once).
    pub asked_for: Option<i64>,
}

impl Wellbeing {
    /// The daily limit is reached and the reviewer has not chosen to go on today.
    pub fn daily_reached(&self) -> bool {
        self.today
            .as_ref()
            .is_some_and(|t| t.per_day.is_some_and(|n| t.items >= n) && !t.went_on_today)
    }

    pub fn pause_due(&self) -> bool {
        self.today
            .as_ref()
            .and_then(|t| t.in_a_row)
            .is_some_and(|n| self.in_a_row >= n)
    }

    /// What the question at a limit says, plainly.
    pub fn question(&self, rule: Rule) -> String {
        let t = self.today.clone().unwrap_or_default();
        match rule {
            Rule::PerDay => format!(
                "You have seen {} graphic items today; the limit is {}.",
                t.items,
                t.per_day.unwrap_or(0)
            ),
            Rule::InARow => format!(
                "{} graphic items in a row: time for a pause.",
                self.in_a_row
            ),
        }
    }
}

/// Is the item flagged graphic (as its loaded detail says)?
pub fn is_graphic(d: &Detail) -> bool {
    d.tags.iter().any(|t| t.term == GRAPHIC)
}
