//! Grouping: every pair of fingerprints within reach, on every core, joined transitively.

use crate::model::fingerprint::Fingerprint;

/// Join pairs (indexes below `n`) transitively; each group (of two or more) as its members'
/// indexes, sorted, groups in the order of their first member.
pub fn union_find(n: usize, pairs: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (a, b) in pairs {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..n {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// A pair of fingerprints within reach: indexes (smaller first) and the two distances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Near {
    pub a: u32,
    pub b: u32,
    pub phash: u8,
    pub dhash: u8,
}

#[cfg(test)]
/// Every pair within `phash` and `dhash` distance: all pairs compared, on every core (50,000
/// images are 1.25e9 comparisons, about a second).
pub fn near_pairs(prints: &[Fingerprint], phash: u32, dhash: u32) -> Vec<Near> {
    near_pairs_of(prints, None, phash, dhash)
}

/// The pairs within distance that involve at least one of the images `only` (indexes), or
/// every pair when `None`: a new intake is compared with the case, not the case with itself.
pub fn near_pairs_of(
    prints: &[Fingerprint],
    only: Option<&[usize]>,
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    let p: Vec<u64> = prints.iter().map(|f| f.phash).collect();
    let d: Vec<u64> = prints.iter().map(|f| f.dhash).collect();
    let mut is_row = vec![only.is_none(); p.len()];
    let rows: Vec<usize> = match only {
        None => (0..p.len()).collect(),
        Some(rows) => {
            for &r in rows {
                if let Some(x) = is_row.get_mut(r) {
                    *x = true;
                }
            }
            rows.iter().copied().filter(|&r| r < p.len()).collect()
        }
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 16);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (p, d, rows, is_row) = (&p, &d, &rows, &is_row);
                // Rows dealt round-robin so each thread gets long and short ones.
                let mine: Vec<usize> = rows.iter().copied().skip(t).step_by(threads).collect();
                s.spawn(move || scan(p, d, &mine, is_row, phash, dhash))
            })
            .collect();
        let mut all: Vec<Near> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_unstable();
        all
    })
}

/// Each row in `rows` against every other image; a pair of two rows is taken once (from its
/// first). With every image a row, that is each row against the later ones.
fn scan(
    p: &[u64],
    d: &[u64],
    rows: &[usize],
    is_row: &[bool],
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has the instruction, checked just above.
        return unsafe { scan_popcnt(p, d, rows, is_row, phash, dhash) };
    }
    scan_portable(p, d, rows, is_row, phash, dhash)
}

/// The same loop compiled with the POPCNT instruction (3× faster than without).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn scan_popcnt(
    p: &[u64],
    d: &[u64],
    rows: &[usize],
    is_row: &[bool],
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    scan_portable(p, d, rows, is_row, phash, dhash)
}

#[inline(always)]
fn scan_portable(
    p: &[u64],
    d: &[u64],
    rows: &[usize],
    is_row: &[bool],
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    let mut found = Vec::new();
    for &i in rows {
        let (pi, di) = (p[i], d[i]);
        let mut check = |j: usize, pj: u64| {
            let pd = (pi ^ pj).count_ones();
            if pd <= phash {
                let dd = (di ^ d[j]).count_ones();
                if dd <= dhash {
                    found.push(Near {
                        a: i.min(j) as u32,
                        b: i.max(j) as u32,
                        phash: pd as u8,
                        dhash: dd as u8,
                    });
                }
            }
        };
        // Later images always; earlier ones only when they are not rows themselves.
        for (j, &pj) in p.iter().enumerate().skip(i + 1) {
            check(j, pj);
        }
        for (j, &pj) in p.iter().enumerate().take(i) {
            if !is_row[j] {
                check(j, pj);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_transitive() {
        let f = |p: u64| Fingerprint { dhash: 0, phash: p };
        let prints = [f(0), f(0b111), f(0b111111), f(u64::MAX), f(u64::MAX - 1)];
        let near = near_pairs(&prints, 3, 64);
        let pairs: Vec<(u32, u32)> = near.iter().map(|n| (n.a, n.b)).collect();
        assert_eq!(pairs, vec![(0, 1), (1, 2), (3, 4)]);
        let groups = union_find(5, near.iter().map(|n| (n.a as usize, n.b as usize)));
        assert_eq!(groups, vec![vec![0, 1, 2], vec![3, 4]]);
    }
}
