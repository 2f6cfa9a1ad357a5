//! What was read from the database, kept in memory while what it was read
//! from stays put: a map that empties itself when the revisions it was
//! filled at ([`FigureRevisions`]: values and reports, catalog, access,
//! registry) change, whichever process changed them.
//!
//! Whoever fills it reads the revisions *before* reading the data: a write
//! in between makes what is kept newer than its revisions say, never
//! older, and the next use, seeing other revisions, starts over.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use crate::catalog::FigureRevisions;

/// Answers by key, kept at one set of revisions, at most `most` units of
/// size (numbers, figures) in all: past it, the memory starts over.
pub struct Kept<K, V> {
    inner: Mutex<Inner<K, V>>,
    most: usize,
}

struct Inner<K, V> {
    revisions: Option<FigureRevisions>,
    /// Each answer with its size.
    answers: HashMap<K, (V, usize)>,
    size: usize,
}

impl<K: Eq + Hash, V: Clone> Kept<K, V> {
    /// An empty memory holding at most `most` units of size.
    pub fn new(most: usize) -> Self {
        Kept { inner: Mutex::new(Inner { revisions: None, answers: HashMap::new(), size: 0 }), most }
    }

    /// The answer kept for `key` at `revisions`. Other revisions than those
    /// kept mean the data changed (or, for a caller that read them just
    /// before a change, will have): what is kept is dropped.
    pub fn get<Q: Eq + Hash + ?Sized>(&self, revisions: FigureRevisions, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let mut inner = self.inner.lock().expect("not poisoned");
        if inner.revisions != Some(revisions) {
            *inner = Inner { revisions: Some(revisions), answers: HashMap::new(), size: 0 };
            return None;
        }
        inner.answers.get(key).map(|(answer, _)| answer.clone())
    }

    /// Keeps `answer` (of `size` units) read at `revisions`, unless the
    /// data changed meanwhile. An answer kept before under the same key is
    /// replaced.
    pub fn put(&self, revisions: FigureRevisions, key: K, answer: V, size: usize) {
        let mut inner = self.inner.lock().expect("not poisoned");
        if inner.revisions != Some(revisions) {
            return;
        }
        if let Some((_, replaced)) = inner.answers.remove(&key) {
            inner.size -= replaced;
        }
        // An answer larger than all that may be kept is not kept: the
        // numbers of a national month (a million) would stay in memory
        // beside the next month's, throughout a long export.
        if size > self.most {
            return;
        }
        if inner.size + size > self.most {
            inner.answers.clear();
            inner.size = 0;
        }
        inner.size += size;
        inner.answers.insert(key, (answer, size));
    }
}

impl<K, V> std::fmt::Debug for Kept<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = self.inner.lock().map(|i| i.size).unwrap_or_default();
        f.debug_struct("Kept").field("size", &size).field("most", &self.most).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revisions(values: i64) -> FigureRevisions {
        FigureRevisions::from([values, 0, 0, 0])
    }

    #[test]
    fn an_answer_larger_than_the_bound_is_not_kept_and_the_others_stay() {
        let kept = Kept::new(10);
        assert_eq!(kept.get(revisions(1), &"a"), None);
        kept.put(revisions(1), "a", 7u32, 4);
        kept.put(revisions(1), "b", 8u32, 11);
        assert_eq!(kept.get(revisions(1), &"b"), None);
        assert_eq!(kept.get(revisions(1), &"a"), Some(7));
    }

    #[test]
    fn an_answer_is_kept_until_the_data_changes() {
        let kept = Kept::new(10);
        assert_eq!(kept.get(revisions(1), &"a"), None);
        kept.put(revisions(1), "a", 7u32, 1);
        assert_eq!(kept.get(revisions(1), &"a"), Some(7));
        // Values written: dropped, and not kept again from a reading that
        // began before.
        assert_eq!(kept.get(revisions(2), &"a"), None);
        kept.put(revisions(1), "a", 7u32, 1);
        assert_eq!(kept.get(revisions(2), &"a"), None);
    }

    #[test]
    fn memory_starts_over_past_its_bound() {
        let kept = Kept::new(10);
        kept.get(revisions(1), &"a");
        kept.put(revisions(1), "a", 1u32, 10);
        kept.put(revisions(1), "b", 2u32, 1);
        assert_eq!(kept.get(revisions(1), &"a"), None);
        assert_eq!(kept.get(revisions(1), &"b"), Some(2));
    }

    #[test]
    fn an_answer_replaced_gives_back_its_size() {
        let kept = Kept::new(10);
        kept.get(revisions(1), &"a");
        kept.put(revisions(1), "a", 1u32, 6);
        kept.put(revisions(1), "b", 2u32, 3);
        // Were "a"'s first size still counted, 6 + 3 + 6 would start over.
        kept.put(revisions(1), "a", 3u32, 6);
        assert_eq!((kept.get(revisions(1), &"a"), kept.get(revisions(1), &"b")), (Some(3), Some(2)));
    }
}
