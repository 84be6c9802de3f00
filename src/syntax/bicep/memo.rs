//! Parses of Bicep statements kept between analyses (the language server's): a top-level statement
//! whose text is unchanged since the last analysis is not parsed again, only moved to where it is
//! now. A statement's tree depends on nothing but its own bytes (each is parsed alone, as an
//! included range; see `parse_statements`), so a kept tree is the tree a fresh parse would give.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use tree_sitter::{InputEdit, Point, Tree};

/// Statement parses by content, kept until an analysis round no longer uses them.
#[derive(Default)]
pub struct Memo {
    state: Mutex<State>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self
            .state
            .lock()
            .map(|s| s.entries.values().map(Vec::len).sum::<usize>())
            .unwrap_or(0);
        f.debug_struct("Memo").field("statements", &kept).finish()
    }
}

#[derive(Default)]
struct State {
    /// The current round (see [`Memo::sweep`]).
    round: u64,
    /// By hash of the statement's text.
    entries: HashMap<u64, Vec<Entry>>,
}

struct Entry {
    text: Box<[u8]>,
    start_byte: usize,
    start_point: Point,
    tree: Tree,
    /// The parser work the statement took (progress reports), counted again when it is reused so
    /// that the work limit decides as for a fresh parse.
    work: u64,
    /// The last round that used it.
    used: u64,
}

/// A kept parse, moved to its new place.
pub(super) struct Reused {
    pub tree: Tree,
    pub work: u64,
}

fn hash(text: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl Memo {
    /// An empty memo.
    pub fn new() -> Memo {
        Memo::default()
    }

    /// Forgets the parses the round now ending did not use, and starts a new round. The language
    /// server calls it after each analysis: what is kept is what the open deployments are made of.
    pub fn sweep(&self) {
        if let Ok(mut s) = self.state.lock() {
            let round = s.round;
            s.entries.retain(|_, list| {
                list.retain(|e| e.used == round);
                !list.is_empty()
            });
            s.round += 1;
        }
    }

    /// The statements kept.
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .map(|s| s.entries.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kept tree of a statement with exactly `text`, starting at the same column, moved to
    /// start at `start_byte` / `start_point`.
    pub(super) fn get(&self, text: &[u8], start_byte: usize, start_point: Point) -> Option<Reused> {
        let (mut tree, old_byte, old_point, work) = {
            let mut s = self.state.lock().ok()?;
            let round = s.round;
            let e = s
                .entries
                .get_mut(&hash(text))?
                .iter_mut()
                .find(|e| &*e.text == text && e.start_point.column == start_point.column)?;
            e.used = round;
            (e.tree.clone(), e.start_byte, e.start_point, e.work)
        };
        if old_byte != start_byte || old_point != start_point {
            // What comes before the statement changed length: everything in it moves.
            tree.edit(&InputEdit {
                start_byte: 0,
                old_end_byte: old_byte,
                new_end_byte: start_byte,
                start_position: Point::new(0, 0),
                old_end_position: old_point,
                new_end_position: start_point,
            });
        }
        Some(Reused { tree, work })
    }

    /// Keeps the fresh parse of a statement.
    pub(super) fn put(
        &self,
        text: &[u8],
        start_byte: usize,
        start_point: Point,
        tree: &Tree,
        work: u64,
    ) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let round = s.round;
        let list = s.entries.entry(hash(text)).or_default();
        if let Some(e) = list
            .iter_mut()
            .find(|e| &*e.text == text && e.start_point.column == start_point.column)
        {
            e.used = round;
            return;
        }
        list.push(Entry {
            text: text.into(),
            start_byte,
            start_point,
            tree: tree.clone(),
            work,
            used: round,
        });
    }
}
