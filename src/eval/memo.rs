//! Parameter and variable values kept across *epochs* of one [`Evaluator`], with what computing
//! them cost, so that a template's module calls share one evaluator and still count their budgets
//! as if each had a fresh one.
//!
//! Each module call of a template (and then its resources) is an epoch: as in a fresh evaluator,
//! the first read of a parameter or variable in an epoch pays for evaluating it, and a later read
//! pays for copying it. When the value is already known from an earlier epoch, the first read
//! *replays* the recorded cost (its own work and bytes, then the reads it made, each a first read
//! or a copy in this epoch) instead of evaluating again. A value is replayed only when evaluating
//! it again would give the same value and the same diagnostics: it read no module value and no
//! resource, raised no diagnostic and met no limit (*pure*), nor did any value it reads; and only
//! when the replayed cost passes no budget and no nesting limit. Otherwise it is evaluated again.

use super::{Evaluator, Slot, Symbol};
use crate::value::Value;
use rustc_hash::FxHashSet;

/// How a value was read: whole (a copy, paid for), or in place by part (`variables('x')[i]`: the
/// part is paid for by the reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadKind {
    Whole,
    Part,
}

/// One read of a parameter or variable made while evaluating another.
#[derive(Debug, Clone, Copy)]
pub(super) struct Read {
    symbol: Symbol,
    kind: ReadKind,
    /// Evaluation nesting at the read, relative to the reader's start.
    rel: usize,
}

/// What evaluating a parameter or variable cost, apart from the values it read.
#[derive(Debug, Clone, Default)]
pub(super) struct Record {
    work: u64,
    bytes: u64,
    /// Deepest evaluation nesting reached, relative to the start.
    max_rel: usize,
    reads: Vec<Read>,
    pure: bool,
}

/// The last evaluation of a parameter or variable, and the epoch that last read it.
#[derive(Debug, Clone, Default)]
pub(super) struct Memo {
    epoch: u32,
    record: Record,
}

/// An evaluation under way: its reads so far and what they cost.
#[derive(Debug, Default)]
pub(super) struct Frame {
    start: usize,
    read_work: u64,
    read_bytes: u64,
    reads: Vec<Read>,
}

impl Evaluator<'_> {
    /// Starts an epoch: what evaluates as if in a fresh evaluator (a module call, or the
    /// resources). Resources are evaluated again; parameters and variables are replayed.
    pub fn begin_epoch(&mut self) {
        self.epoch.set(self.epoch.get().wrapping_add(1));
        self.resources.get_mut().clear();
        self.instances.get_mut().clear();
        self.identities.get_mut().clear();
        self.weights
            .get_mut()
            .retain(|(s, _), _| !matches!(s, Symbol::Resource(_)));
    }

    /// Marks the evaluations under way impure (they read something an epoch changes, or raised
    /// a diagnostic): they are evaluated again in a later epoch.
    pub(super) fn taint(&self) {
        self.taint.set(self.taint.get().wrapping_add(1));
    }

    /// Whether `s` was read in this epoch (its slot is then done).
    pub(super) fn read_now(&self, s: Symbol) -> bool {
        self.memo
            .borrow()
            .get(&s)
            .is_some_and(|m| m.epoch == self.epoch.get())
    }

    fn spent(&self) -> (u64, u64) {
        (self.construct.work.get(), self.construct.bytes.get())
    }

    /// Reads parameter or variable `s` (`slot` evaluates, replays or copies it), noting the read
    /// and its cost in the evaluation under way.
    pub(super) fn read(&self, s: Symbol, kind: ReadKind, slot: impl FnOnce() -> Value) -> Value {
        let before = self.spent();
        let nesting = self.nesting.get();
        let v = slot();
        let after = self.spent();
        if let Some(f) = self.frames.borrow_mut().last_mut() {
            f.read_work = f.read_work.saturating_add(after.0.saturating_sub(before.0));
            f.read_bytes = f
                .read_bytes
                .saturating_add(after.1.saturating_sub(before.1));
            f.reads.push(Read {
                symbol: s,
                kind,
                rel: nesting.saturating_sub(f.start),
            });
        }
        v
    }

    /// A read of `s` already evaluated in this epoch: an impure value makes its reader impure.
    pub(super) fn note_hit(&self, s: Symbol) {
        let pure = self.memo.borrow().get(&s).is_some_and(|m| m.record.pure);
        if !pure {
            self.taint();
        }
    }

    /// Evaluates `s` with `eval`, recording what it cost.
    pub(super) fn evaluate_recorded(&self, s: Symbol, eval: impl FnOnce() -> Value) -> Value {
        let start = self.nesting.get();
        let saved_peak = self.peak.replace(start);
        let taint = self.taint.get();
        let before = self.spent();
        self.weights.borrow_mut().remove(&weight_key(s));
        self.frames.borrow_mut().push(Frame {
            start,
            ..Frame::default()
        });
        let v = eval();
        let frame = self.frames.borrow_mut().pop().unwrap_or_default();
        let after = self.spent();
        let peak = self.peak.get();
        self.peak.set(peak.max(saved_peak));
        let record = Record {
            work: after
                .0
                .saturating_sub(before.0)
                .saturating_sub(frame.read_work),
            bytes: after
                .1
                .saturating_sub(before.1)
                .saturating_sub(frame.read_bytes),
            max_rel: peak.saturating_sub(start),
            reads: frame.reads,
            pure: self.taint.get() == taint,
        };
        let epoch = self.epoch.get();
        self.memo.borrow_mut().insert(s, Memo { epoch, record });
        v
    }

    /// The value of `s` from an earlier epoch, its cost paid as its evaluation would; `None` when
    /// it must be evaluated again.
    pub(super) fn replay(&self, s: Symbol) -> Option<Value> {
        let mut seen = FxHashSet::default();
        let (mut work, mut bytes) = (0u64, 0u64);
        if !self.replay_cost(s, self.nesting.get(), &mut seen, &mut work, &mut bytes) {
            return None;
        }
        if !self.construct.fits(work, bytes, &self.budget.limits) || !self.budget.fits(work, bytes)
        {
            return None;
        }
        let epoch = self.epoch.get();
        let mut memo = self.memo.borrow_mut();
        for x in &seen {
            if let Some(m) = memo.get_mut(x) {
                m.epoch = epoch;
            }
        }
        drop(memo);
        // Within the limits (checked above): nothing is cut.
        let _ = self.spend(work, bytes);
        self.with_done(s, Value::clone)
    }

    /// Adds what a first read of `s` at nesting `nesting` costs in this epoch to `work` and
    /// `bytes` (`seen`: read earlier in the replay); false when it can't be replayed.
    fn replay_cost(
        &self,
        s: Symbol,
        nesting: usize,
        seen: &mut FxHashSet<Symbol>,
        work: &mut u64,
        bytes: &mut u64,
    ) -> bool {
        let memo = self.memo.borrow();
        let Some(m) = memo.get(&s) else {
            return false;
        };
        let r = &m.record;
        if !r.pure
            || nesting.saturating_add(r.max_rel) > self.limits.depth
            || self.with_done(s, |_| ()).is_none()
        {
            return false;
        }
        seen.insert(s);
        *work = work.saturating_add(r.work);
        *bytes = bytes.saturating_add(r.bytes);
        let epoch = self.epoch.get();
        for read in &r.reads {
            let dep = memo.get(&read.symbol);
            if seen.contains(&read.symbol) || dep.is_some_and(|d| d.epoch == epoch) {
                if !dep.is_some_and(|d| d.record.pure) {
                    return false;
                }
                let key = weight_key(read.symbol);
                let Some(w) = self.with_done(read.symbol, |v| self.weight_of(key, v)) else {
                    return false;
                };
                if read.kind == ReadKind::Whole {
                    *bytes = bytes.saturating_add(w);
                }
            } else if !self.replay_cost(
                read.symbol,
                nesting.saturating_add(read.rel),
                seen,
                work,
                bytes,
            ) {
                return false;
            }
        }
        true
    }

    /// `f` of the evaluated value of parameter or variable `s`.
    fn with_done<R>(&self, s: Symbol, f: impl FnOnce(&Value) -> R) -> Option<R> {
        let slots = match s {
            Symbol::Param(_) => self.params_cache.borrow(),
            Symbol::Var(_) => self.vars.borrow(),
            Symbol::Resource(_) | Symbol::Module(_) => return None,
        };
        let i = weight_key(s).1;
        match slots.get(&i) {
            Some(Slot::Done(v)) => Some(f(v)),
            _ => None,
        }
    }
}

/// The key of `s` in the evaluator's weights.
pub(super) fn weight_key(s: Symbol) -> (Symbol, usize) {
    match s {
        Symbol::Param(i) | Symbol::Var(i) | Symbol::Resource(i) | Symbol::Module(i) => (s, i),
    }
}
