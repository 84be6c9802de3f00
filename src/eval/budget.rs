//! Work and memory budgets of evaluation, counted in work units (one per evaluation step) and in
//! bytes of values built or copied — never in time, so results don't depend on machine load.
//!
//! Each resource or module declaration (a *construct*) has its own budget, so a heavy loop can't
//! starve an unrelated resource; a deployment (a template and every module it deploys) has a
//! larger one; and the whole run caps what it keeps (resources, module instances, bytes of
//! resource bodies). Whatever a limit cuts becomes an unknown value naming the limit, and a
//! `evaluation-limit` warning at the construct.

use crate::value::{Kind, Value};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// The limits; [`BudgetLimits::default`] is what the CLI and the language server use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Work units one construct may use.
    pub construct_work: u64,
    /// Bytes of values one construct may build or copy.
    pub construct_bytes: u64,
    /// Work units one deployment may use.
    pub deployment_work: u64,
    /// Bytes of values one deployment may build or copy.
    pub deployment_bytes: u64,
    /// Resources the whole run keeps.
    pub run_resources: usize,
    /// Module instances the whole run deploys.
    pub run_module_instances: usize,
    /// Bytes of resource bodies the whole run keeps.
    pub run_bytes: u64,
}

impl Default for BudgetLimits {
    fn default() -> BudgetLimits {
        BudgetLimits {
            construct_work: 2_000_000,
            construct_bytes: 64 << 20,
            deployment_work: 50_000_000,
            deployment_bytes: 512 << 20,
            run_resources: 250_000,
            run_module_instances: 20_000,
            run_bytes: 1 << 30,
        }
    }
}

/// What the whole run has used, shared by the deployments evaluated in parallel.
#[derive(Debug, Default)]
pub struct RunBudget {
    resources: AtomicUsize,
    module_instances: AtomicUsize,
    bytes: AtomicU64,
    /// The run's budget when this is one part's share of it (a deployment group of a streamed
    /// bulk audit): the limits are the run's, this counts what the part took.
    run: Option<Arc<RunBudget>>,
}

impl RunBudget {
    /// A part of the run `run`: takes from it, and counts what it took.
    pub fn within(run: Arc<RunBudget>) -> RunBudget {
        RunBudget {
            run: Some(run),
            ..RunBudget::default()
        }
    }

    /// Gives what this part took back to the run (its results are dropped: the part is analysed
    /// again).
    pub fn give_back(&self) {
        if let Some(run) = &self.run {
            let take = |a: &AtomicUsize, n: &AtomicUsize| {
                a.fetch_sub(n.swap(0, Ordering::Relaxed), Ordering::Relaxed)
            };
            take(&run.resources, &self.resources);
            take(&run.module_instances, &self.module_instances);
            run.bytes
                .fetch_sub(self.bytes.swap(0, Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    /// Takes one resource of `bytes`; false (nothing taken) past the run's limits.
    pub fn take_resource(&self, bytes: u64, limits: &BudgetLimits) -> Result<(), String> {
        if let Some(run) = &self.run {
            run.take_resource(bytes, limits)?;
            self.resources.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
            return Ok(());
        }
        let n = self.resources.fetch_add(1, Ordering::Relaxed);
        if n >= limits.run_resources {
            self.resources.fetch_sub(1, Ordering::Relaxed);
            return Err(format!(
                "the run's resource limit ({} resources)",
                limits.run_resources
            ));
        }
        let b = self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if b.saturating_add(bytes) > limits.run_bytes {
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.resources.fetch_sub(1, Ordering::Relaxed);
            return Err(format!(
                "the run's memory limit ({} MiB of resource values)",
                limits.run_bytes >> 20
            ));
        }
        Ok(())
    }

    /// Takes one module instance; false past the run's limit.
    pub fn take_module_instance(&self, limits: &BudgetLimits) -> Result<(), String> {
        if let Some(run) = &self.run {
            run.take_module_instance(limits)?;
            self.module_instances.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let n = self.module_instances.fetch_add(1, Ordering::Relaxed);
        if n >= limits.run_module_instances {
            self.module_instances.fetch_sub(1, Ordering::Relaxed);
            return Err(format!(
                "the run's module instance limit ({} instances)",
                limits.run_module_instances
            ));
        }
        Ok(())
    }
}

/// What one deployment has used; shared by the evaluators of its template and modules (one
/// thread).
#[derive(Debug, Default)]
pub struct Budget {
    pub limits: BudgetLimits,
    work: Cell<u64>,
    bytes: Cell<u64>,
    /// The run this deployment belongs to.
    pub run: Arc<RunBudget>,
}

impl Budget {
    pub fn new(limits: BudgetLimits, run: Arc<RunBudget>) -> Budget {
        Budget {
            limits,
            work: Cell::new(0),
            bytes: Cell::new(0),
            run,
        }
    }

    /// Adds `work` units and `bytes`; the deployment limit passed, if one is.
    pub(super) fn spend(&self, work: u64, bytes: u64) -> Option<String> {
        let w = self.work.get().saturating_add(work);
        let b = self.bytes.get().saturating_add(bytes);
        self.work.set(w);
        self.bytes.set(b);
        if w > self.limits.deployment_work {
            return Some(format!(
                "the deployment's work limit ({} units)",
                thousands(self.limits.deployment_work)
            ));
        }
        if b > self.limits.deployment_bytes {
            return Some(format!(
                "the deployment's memory limit ({} MiB of values)",
                self.limits.deployment_bytes >> 20
            ));
        }
        None
    }

    /// Work units and bytes used so far.
    #[cfg(test)]
    pub(super) fn used(&self) -> (u64, u64) {
        (self.work.get(), self.bytes.get())
    }

    /// Whether spending `work` units and `bytes` more stays within the deployment's limits.
    pub(super) fn fits(&self, work: u64, bytes: u64) -> bool {
        self.work.get().saturating_add(work) <= self.limits.deployment_work
            && self.bytes.get().saturating_add(bytes) <= self.limits.deployment_bytes
    }
}

/// What the construct under evaluation has used.
#[derive(Debug, Default)]
pub(super) struct Construct {
    pub work: Cell<u64>,
    pub bytes: Cell<u64>,
}

impl Construct {
    /// Adds `work` and `bytes`; the construct limit passed, if one is.
    pub fn spend(&self, work: u64, bytes: u64, limits: &BudgetLimits) -> Option<String> {
        let w = self.work.get().saturating_add(work);
        let b = self.bytes.get().saturating_add(bytes);
        self.work.set(w);
        self.bytes.set(b);
        if w > limits.construct_work {
            return Some(format!(
                "the per-resource work limit ({} units)",
                thousands(limits.construct_work)
            ));
        }
        if b > limits.construct_bytes {
            return Some(format!(
                "the per-resource memory limit ({} MiB of values)",
                limits.construct_bytes >> 20
            ));
        }
        None
    }

    /// Whether spending `work` units and `bytes` more stays within the construct's limits.
    pub fn fits(&self, work: u64, bytes: u64, limits: &BudgetLimits) -> bool {
        self.work.get().saturating_add(work) <= limits.construct_work
            && self.bytes.get().saturating_add(bytes) <= limits.construct_bytes
    }

    pub fn reset(&self) {
        self.work.set(0);
        self.bytes.set(0);
    }
}

/// `2000000` → `2,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The bytes `v` takes, roughly (each value, its text, its keys): what copying it costs.
pub fn weight(v: &Value) -> u64 {
    const VALUE: u64 = std::mem::size_of::<Value>() as u64;
    const STRING: u64 = std::mem::size_of::<String>() as u64;
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(VALUE);
        match &v.kind {
            Kind::String(s) => total = total.saturating_add(s.len() as u64),
            Kind::Array(items) => stack.extend(items.iter()),
            Kind::Object(props) => {
                for (k, x) in props {
                    total = total.saturating_add(STRING + k.len() as u64);
                    stack.push(x);
                }
            }
            Kind::Unknown(_) => total = total.saturating_add(2 * STRING),
            Kind::Null | Kind::Bool(_) | Kind::Int(_) | Kind::Float(_) => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_takes_from_the_run_and_gives_back() {
        let limits = BudgetLimits {
            run_resources: 2,
            ..BudgetLimits::default()
        };
        let run = Arc::new(RunBudget::default());
        let a = RunBudget::within(run.clone());
        let b = RunBudget::within(run.clone());
        assert!(a.take_resource(10, &limits).is_ok());
        assert!(b.take_resource(10, &limits).is_ok());
        // The run's limit binds both parts.
        assert!(a.take_resource(10, &limits).is_err());
        a.give_back();
        assert!(b.take_resource(10, &limits).is_ok());
        assert!(b.take_resource(10, &limits).is_err());
    }

    #[test]
    fn weight_grows_with_the_value() {
        let small = Value::array(vec![Value::int(1)]);
        let big = Value::array(vec![Value::string("x".repeat(1000)); 10]);
        assert!(weight(&big) > 10_000);
        assert!(weight(&small) < 200);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(2_000_000), "2,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn the_run_caps_resources() {
        let limits = BudgetLimits {
            run_resources: 2,
            ..BudgetLimits::default()
        };
        let run = RunBudget::default();
        assert!(run.take_resource(10, &limits).is_ok());
        assert!(run.take_resource(10, &limits).is_ok());
        assert!(run.take_resource(10, &limits).is_err());
    }
}
