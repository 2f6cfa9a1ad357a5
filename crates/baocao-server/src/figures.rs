//! Composed figures kept in memory. A comparison, an output form or a pivot
//! composes hundreds of figures from the stored values, and leaders open
//! the same ones again and again; composing them each time is what made
//! these pages slow under several clients (BENCHMARKS.md).
//!
//! Each answer is kept with the revisions it was composed at
//! ([`FigureRevisions`]: values and reports, catalog, access, registry).
//! Every use reads those revisions first (one small query) and any change,
//! by any process behind the load balancer, empties the memory: a figure is
//! never older than the data it is made of. The key names the question and,
//! where the answer depends on it, who asks (`Access::figure_asker`);
//! `AppState::figures` is the one way in.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use baocao_store::FigureRevisions;

/// At most this many figures are kept (tens of MiB); past it the memory
/// starts over.
const MOST_FIGURES: usize = 200_000;

#[derive(Default)]
pub(crate) struct Figures(Mutex<Kept>);

#[derive(Default)]
struct Kept {
    revisions: Option<FigureRevisions>,
    answers: HashMap<String, Arc<dyn Any + Send + Sync>>,
    figures: usize,
}

impl Figures {
    /// The answer kept for `key` at `revisions`. Other revisions than those
    /// kept mean the data changed (or, for a request that read them just
    /// before a change, will have): what is kept is dropped.
    pub(crate) fn get<T: Any + Send + Sync>(&self, revisions: FigureRevisions, key: &str) -> Option<Arc<T>> {
        let mut kept = self.0.lock().expect("not poisoned");
        if kept.revisions != Some(revisions) {
            *kept = Kept { revisions: Some(revisions), ..Kept::default() };
            return None;
        }
        kept.answers.get(key).cloned()?.downcast::<T>().ok()
    }

    /// Keeps `answer` (of `figures` figures) composed at `revisions`, unless
    /// the data changed while it was composed.
    pub(crate) fn put<T: Any + Send + Sync>(
        &self,
        revisions: FigureRevisions,
        key: String,
        answer: Arc<T>,
        figures: usize,
    ) {
        let mut kept = self.0.lock().expect("not poisoned");
        if kept.revisions != Some(revisions) {
            return;
        }
        if kept.figures + figures > MOST_FIGURES {
            kept.answers.clear();
            kept.figures = 0;
        }
        kept.figures += figures;
        kept.answers.insert(key, answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revisions(values: i64) -> FigureRevisions {
        FigureRevisions::from([values, 0, 0, 0])
    }

    #[test]
    fn an_answer_is_kept_until_the_data_changes() {
        let figures = Figures::default();
        assert!(figures.get::<u32>(revisions(1), "a").is_none());
        figures.put(revisions(1), "a".into(), Arc::new(7u32), 1);
        assert_eq!(figures.get::<u32>(revisions(1), "a").as_deref(), Some(&7));
        // Values written: dropped, and not kept again from a composition
        // that began before.
        assert!(figures.get::<u32>(revisions(2), "a").is_none());
        figures.put(revisions(1), "a".into(), Arc::new(7u32), 1);
        assert!(figures.get::<u32>(revisions(2), "a").is_none());
    }

    #[test]
    fn memory_starts_over_past_its_bound() {
        let figures = Figures::default();
        figures.get::<u32>(revisions(1), "a");
        figures.put(revisions(1), "a".into(), Arc::new(1u32), MOST_FIGURES);
        figures.put(revisions(1), "b".into(), Arc::new(2u32), 1);
        assert!(figures.get::<u32>(revisions(1), "a").is_none());
        assert_eq!(figures.get::<u32>(revisions(1), "b").as_deref(), Some(&2));
    }
}
