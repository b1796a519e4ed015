//! The snapshot input of contract section 1, typed.
//!
//! Strings are [`Text`] (`Cow<str>`) so that the JSON reader can borrow every
//! string that has no escapes straight from its source: a 10,000-issue
//! snapshot then costs no allocation per string.

use std::borrow::Cow;

/// A string that is borrowed when it can be.
pub type Text<'a> = Cow<'a, str>;

/// An ordered map as a list of pairs (field owners, credentials).
pub type Pairs<'a> = Vec<(Text<'a>, Text<'a>)>;

/// Everything a host supplies (contract section 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotInput<'a> {
    /// The SaaS base URL.
    pub server_url: Text<'a>,
    /// The explicit token; `None` or `""` when not given.
    pub auth_token: Option<Text<'a>>,
    /// `tracker.provider` as written.
    pub provider: Text<'a>,
    /// `tracker.workspace`.
    pub workspace: Text<'a>,
    /// `tracker.doctrine.mode`, may be missing or blank.
    pub doctrine_mode: Option<Text<'a>>,
    /// `tracker.doctrine.field_owners`, in order.
    pub doctrine_field_owners: Pairs<'a>,
    /// The provider's credentials table.
    pub credentials: Pairs<'a>,
    /// `project.uuid`.
    pub project_uuid: Option<Text<'a>>,
    /// `project.slug`.
    pub project_slug: Option<Text<'a>>,
    /// Stored issues, ordered by identity.
    pub issues: Vec<IssueSnapshot<'a>>,
    /// Stored mappings, ordered by `wp_id, system`.
    pub mappings: Vec<MappingRow<'a>>,
    /// The checkpoint row, `None` when there is none.
    pub checkpoint: Option<Checkpoint<'a>>,
}

/// The identity of an issue in its tracker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueRef<'a> {
    /// Tracker system.
    pub system: Text<'a>,
    /// Tracker workspace.
    pub workspace: Text<'a>,
    /// The tracker's id.
    pub id: Text<'a>,
    /// The human key.
    pub key: Option<Text<'a>>,
    /// The web address.
    pub url: Option<Text<'a>>,
}

/// One issue as the payload carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueSnapshot<'a> {
    /// Where the issue lives.
    pub r#ref: IssueRef<'a>,
    /// The title.
    pub title: Text<'a>,
    /// The description.
    pub body: Option<Text<'a>>,
    /// Status value.
    pub status: Text<'a>,
    /// Issue type value.
    pub issue_type: Text<'a>,
    /// Priority.
    pub priority: Option<i64>,
    /// Assignees, in order.
    pub assignees: Vec<Text<'a>>,
    /// Labels, in order.
    pub labels: Vec<Text<'a>>,
    /// Last change, ISO 8601 as Python writes it.
    pub updated_at: Option<Text<'a>>,
}

/// One mapping row, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingRow<'a> {
    /// Work package id.
    pub wp_id: Text<'a>,
    /// Tracker system.
    pub system: Text<'a>,
    /// Tracker workspace.
    pub workspace: Text<'a>,
    /// The tracker's id.
    pub external_id: Text<'a>,
    /// The tracker's key.
    pub external_key: Option<Text<'a>>,
    /// The web address.
    pub external_url: Option<Text<'a>>,
    /// Creation time.
    pub created_at: Text<'a>,
    /// Last change.
    pub updated_at: Text<'a>,
}

/// The checkpoint row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint<'a> {
    /// Paging cursor.
    pub cursor: Option<Text<'a>>,
    /// Lower bound of the last sync.
    pub updated_since: Option<Text<'a>>,
}

/// The value of `key` in a map of pairs; the last one wins, as in a Python dict
/// built from pairs.
pub(crate) fn lookup<'p, K: AsRef<str>, V: AsRef<str>>(
    pairs: &'p [(K, V)],
    key: &str,
) -> Option<&'p str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k.as_ref() == key)
        .map(|(_, v)| v.as_ref())
}

/// The first key that appears twice in `pairs`, if any.
pub(crate) fn first_repeated_key<K: AsRef<str>, V>(pairs: &[(K, V)]) -> Option<&str> {
    let key = |i: usize| pairs.get(i).map_or("", |(k, _)| k.as_ref());
    // Small maps (the usual case) need no allocation.
    if pairs.len() <= 16 {
        return (0..pairs.len())
            .find(|&i| (0..i).any(|j| key(j) == key(i)))
            .map(key);
    }
    // Positions sorted by (key, position), with a bottom-up merge sort
    // (O(n log n), and far smaller in the guest than a B-tree or `sort`):
    // each run of equal keys then starts with the first occurrence, and the
    // earliest second occurrence is the answer.
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    let mut merged = vec![0; pairs.len()];
    let mut width = 1;
    while width < order.len() {
        for (src, dst) in order.chunks(2 * width).zip(merged.chunks_mut(2 * width)) {
            let (left, right) = src.split_at_checked(width).unwrap_or((src, &[]));
            let (mut left, mut right) = (left.iter().peekable(), right.iter().peekable());
            for slot in dst {
                let from_left = match (left.peek(), right.peek()) {
                    (Some(&&l), Some(&&r)) => (key(l), l) < (key(r), r),
                    (l, _) => l.is_some(),
                };
                let next = if from_left { left.next() } else { right.next() };
                *slot = next.copied().unwrap_or_default();
            }
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    order
        .windows(2)
        .filter_map(|w| match *w {
            [first, second] if key(first) == key(second) => Some(second),
            _ => None,
        })
        .min()
        .map(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first key seen twice, the plain way.
    fn reference(pairs: &[(String, ())]) -> Option<&str> {
        let mut seen = std::collections::BTreeSet::new();
        pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }

    #[test]
    fn first_repeated_key_of_maps_small_and_large() {
        let mut x: u64 = 7;
        for len in (0..40).chain([100, 257, 1000]) {
            for alphabet in [3, 50, 2000] {
                let pairs: Vec<(String, ())> = (0..len)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (format!("k{}", (x >> 33) % alphabet), ())
                    })
                    .collect();
                assert_eq!(first_repeated_key(&pairs), reference(&pairs), "{pairs:?}");
            }
        }
        let distinct: Vec<(String, ())> = (0..10_000).map(|i| (format!("k{i}"), ())).collect();
        assert_eq!(first_repeated_key(&distinct), None);
    }
}
