//! Composed figures kept in memory. A comparison, an output form or a pivot
//! composes hundreds of figures from the stored values, and leaders open
//! the same ones again and again; composing them each time is what made
//! these pages slow under several clients (BENCHMARKS.md).
//!
//! Each answer is kept with the revisions it was composed at
//! ([`baocao_store::FigureRevisions`]: values and reports, catalog, access,
//! registry) in a [`Kept`] memory: every use reads those revisions first
//! (one small query) and any change, by any process behind the load
//! balancer, empties it, so a figure is never older than the data it is
//! made of. The key names the question and, where the answer depends on
//! it, who asks (`Access::figure_asker`); `AppState::figures` is the one
//! way in. Below it, the store keeps the numbers compositions read
//! (`baocao_store::compose`), so that a question not asked before about
//! the same months reads nothing again.

use std::any::Any;
use std::sync::Arc;

use baocao_store::FigureRevisions;
use baocao_store::kept::Kept;

/// At most this many figures are kept (tens of MiB); past it the memory
/// starts over.
const MOST_FIGURES: usize = 200_000;

type Answer = Arc<dyn Any + Send + Sync>;

#[derive(Debug)]
pub(crate) struct Figures(Kept<String, Answer>);

impl Default for Figures {
    fn default() -> Self {
        Figures(Kept::new(MOST_FIGURES))
    }
}

impl Figures {
    /// The answer of type `T` kept for `key` at `revisions`.
    pub(crate) fn get<T: Any + Send + Sync>(&self, revisions: FigureRevisions, key: &str) -> Option<Arc<T>> {
        self.0.get(revisions, key)?.downcast::<T>().ok()
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
        self.0.put(revisions, key, answer as Answer, figures);
    }
}
