//! The linking rule: which resource of the graph an id text names. The builder links parents,
//! `dependsOn` and references with it; policies follow `details.resourceId` and `follow` hops
//! with it, so an existence check reaches exactly what the graph's edges reach.
//!
//! - Ids compare case-insensitively, types and names alike ([`normalize_id`]).
//! - What is known of an id decides how far it reaches ([`IdText`]): a fully known id names the
//!   same resource in every deployment; an id with placeholders (`{subscriptionId}`, a parameter
//!   `{vnetName}`, `{uniqueString(…)}`) only within its own deployment ([`deployment_of`]); an id
//!   with a part not known at all (`{?}`) names no resource in particular and links to nothing.
//!   An `existing` declaration stands for a resource deployed elsewhere: between two resources
//!   that are each `existing` or fully known, an id whose only placeholders are the deployment's
//!   scope (`{subscriptionId}`, `{resourceGroupName}`, `{managementGroupId}`: what
//!   `DeploymentContext` fills) links across deployments too. Another placeholder does not: two
//!   templates' `{vnetName}` are two parameters, not one network.
//! - Of several resources with the id, a declaration wins over an `existing` one, and an
//!   `existing` one stands for the declaration another deployment makes of it. Several
//!   declarations with one id (a module deployed twice with the same names) are one resource in
//!   Azure: the first in graph order stands for it, so the choice is never ambiguous.
//! - A resource outside the deployment (another deployment's, with placeholders in its id, or
//!   none at all) is not linked: the id stays unresolved and an existence check that needs it is
//!   not evaluated.

use super::{normalize_id, Resource, ResourceIdx};
use crate::source::FileId;
use rustc_hash::FxHashMap;

/// What is known of an id text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdText {
    /// No placeholder: the id names one resource in Azure.
    Known,
    /// Only the placeholders of the deployment's scope (`{subscriptionId}`,
    /// `{resourceGroupName}`, `{managementGroupId}`): the same text names the same resource in
    /// every deployment to that scope.
    Scoped,
    /// Other placeholders (a parameter, `{uniqueString(…)}`): the same text in another deployment
    /// may name another resource.
    Placeholders,
    /// A part not known at all (`{?}`): two such texts are never the same resource.
    Unknown,
}

impl IdText {
    /// Classifies `id`.
    pub fn of(id: &str) -> IdText {
        // One pass over the `{`s (found by `memchr`): ids are classified for every lookup of
        // every graph, and most have a few placeholders or none.
        let bytes = id.as_bytes();
        let mut any = false;
        let mut scoped = true;
        for at in memchr::memchr_iter(b'{', bytes) {
            any = true;
            let rest = bytes.get(at..).unwrap_or_default();
            if rest.starts_with(b"{?}") {
                return IdText::Unknown;
            }
            // Every placeholder is one of the scope's (`{uniqueString(/subscriptions/
            // {subscriptionId}…)}` is not: it opens with another).
            scoped = scoped
                && SCOPE.iter().any(|p| {
                    rest.get(..p.len())
                        .is_some_and(|t| t.eq_ignore_ascii_case(p.as_bytes()))
                });
        }
        if !any {
            IdText::Known
        } else if scoped {
            IdText::Scoped
        } else {
            IdText::Placeholders
        }
    }

    /// Whether the text names the same resource in other deployments (fully known, or only the
    /// deployment's scope unknown).
    fn crosses(self) -> bool {
        matches!(self, IdText::Known | IdText::Scoped)
    }
}

/// The placeholders of the deployment's scope (as [`normalize_id`] writes them).
const SCOPE: [&str; 3] = [
    "{subscriptionid}",
    "{resourcegroupname}",
    "{managementgroupid}",
];

/// The deployment a resource belongs to, named by the file it starts from: the outermost module
/// call's file (or the parameter file it is deployed with), else the resource's own file.
pub fn deployment_of(r: &Resource) -> FileId {
    r.module_chain.first().map_or(r.file, |s| s.file)
}

/// Whether `a` and `b` are created by the same deployment.
pub fn same_deployment(a: &Resource, b: &Resource) -> bool {
    deployment_of(a) == deployment_of(b)
}

/// What a lookup's answer depends on outside the index ([`IdIndex::reach`]): resources of
/// other deployments with the same id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// A declaration (not `existing`) of the id elsewhere could be the answer.
    pub declared: bool,
    /// An `existing` declaration of the id elsewhere could be the answer.
    pub existing: bool,
}

/// What the rule needs of one resource.
#[derive(Debug, Clone)]
struct Entry {
    id: String,
    deployment: FileId,
    /// Its id links across deployments: fully known, or an `existing` declaration (which names
    /// a resource deployed elsewhere).
    global: bool,
    existing: bool,
}

/// The graph's resources by id, for the linking rule. Built once per graph (or per policy
/// evaluation), then read in parallel.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    /// FxHash: ids are the graph's own, looked up for every parent, reference and policy hop.
    by_id: FxHashMap<String, Vec<ResourceIdx>>,
    entries: Vec<Entry>,
}

impl IdIndex {
    /// Indexes `resources`.
    pub fn new(resources: &[Resource]) -> IdIndex {
        use rayon::prelude::*;
        let entries: Vec<Entry> = resources
            .par_iter()
            .map(|r| Entry {
                id: normalize_id(&r.id),
                deployment: deployment_of(r),
                global: r.existing || IdText::of(&r.id) == IdText::Known,
                existing: r.existing,
            })
            .collect();
        let mut by_id: FxHashMap<String, Vec<ResourceIdx>> =
            FxHashMap::with_capacity_and_hasher(entries.len(), Default::default());
        for (i, e) in entries.iter().enumerate() {
            match by_id.get_mut(&e.id) {
                Some(v) => v.push(i),
                None => {
                    by_id.insert(e.id.clone(), vec![i]);
                }
            }
        }
        IdIndex { by_id, entries }
    }

    fn is_existing(&self, i: ResourceIdx) -> bool {
        self.entries.get(i).is_none_or(|e| e.existing)
    }

    fn global(&self, i: ResourceIdx) -> bool {
        self.entries.get(i).is_some_and(|e| e.global)
    }

    fn deployment(&self, i: ResourceIdx) -> Option<FileId> {
        self.entries.get(i).map(|e| e.deployment)
    }

    /// The resource that resource `from` names with the id text `id` (a property of `from`, or
    /// `from`'s parent's id), if the rule links it to one.
    pub fn find(&self, from: ResourceIdx, id: &str) -> Option<ResourceIdx> {
        let text = IdText::of(id);
        if text == IdText::Unknown {
            return None;
        }
        let wanted = normalize_id(id);
        let candidates = self.by_id.get(&wanted)?;
        let deployment = self.deployment(from)?;
        let mut found: Vec<ResourceIdx> = candidates
            .iter()
            .copied()
            .filter(|c| self.usable(from, *c, text))
            .collect();
        // Declarations first; of the `existing` ones, those of `from`'s own deployment.
        found.sort_by_key(|c| {
            let existing = self.is_existing(*c);
            (
                existing,
                existing && self.deployment(*c) != Some(deployment),
            )
        });
        match found.first().copied() {
            Some(c) if self.is_existing(c) => Some(self.declared_elsewhere(c).unwrap_or(c)),
            // `from` names itself: as an `existing` declaration it stands for the one elsewhere.
            None if self.is_existing(from)
                && self.entries.get(from).is_some_and(|e| e.id == wanted) =>
            {
                self.declared_elsewhere(from)
            }
            other => other,
        }
    }

    /// Whether `from` may name `c` with an id text of kind `text` (the same id): any resource
    /// for a fully known id, one of its own deployment, or between two global resources one of
    /// another deployment when the text only leaves the deployment's scope open.
    fn usable(&self, from: ResourceIdx, c: ResourceIdx, text: IdText) -> bool {
        c != from
            && (text == IdText::Known
                || self.deployment(c) == self.deployment(from)
                || (text == IdText::Scoped && self.global(c) && self.global(from)))
    }

    /// What [`IdIndex::find`]`(from, id)` could answer differently if the index also held the
    /// resources of other deployments (none of this index's): a bulk audit analyses deployment
    /// groups apart and joins those whose answers depend on each other (`engine::stream`).
    pub fn reach(&self, from: ResourceIdx, id: &str) -> Reach {
        let nothing = Reach::default();
        let text = IdText::of(id);
        let Some(deployment) = self.deployment(from) else {
            return nothing;
        };
        if text == IdText::Unknown {
            return nothing;
        }
        let known = text == IdText::Known;
        let wanted = normalize_id(id);
        let found: Vec<ResourceIdx> = self
            .by_id
            .get(&wanted)
            .into_iter()
            .flatten()
            .copied()
            .filter(|c| self.usable(from, *c, text))
            .collect();
        if found.iter().any(|c| !self.is_existing(*c)) {
            // A declaration here wins, unless one elsewhere comes first (a fully known id).
            return Reach {
                declared: known,
                existing: false,
            };
        }
        let own_existing = found
            .iter()
            .any(|c| self.deployment(*c) == Some(deployment));
        let names_itself =
            self.is_existing(from) && self.entries.get(from).is_some_and(|e| e.id == wanted);
        // Another deployment's `existing` declaration is a candidate, and none of `from`'s own
        // deployment comes before it.
        let existing = (known || (text == IdText::Scoped && self.global(from))) && !own_existing;
        Reach {
            // A declaration elsewhere wins (a fully known id), or is what the `existing`
            // candidate (here or elsewhere, or `from` itself) stands for.
            declared: text.crosses() && (known || existing || !found.is_empty() || names_itself),
            existing,
        }
    }

    /// The declaration, in another deployment, of the resource the `existing` declaration
    /// `existing` names (same id, placeholders included).
    fn declared_elsewhere(&self, existing: ResourceIdx) -> Option<ResourceIdx> {
        let entry = self.entries.get(existing)?;
        // An id with a part not known at all names no resource in particular, and one with a
        // placeholder beyond the deployment's scope may name another resource elsewhere (see
        // `IdText`).
        if !IdText::of(&entry.id).crosses() {
            return None;
        }
        self.by_id
            .get(&entry.id)?
            .iter()
            .copied()
            .find(|c| !self.is_existing(*c) && self.deployment(*c) != Some(entry.deployment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;
    use crate::value::Value;

    fn resource(id: &str, file: u32, existing: bool) -> Resource {
        let span = Span::new(FileId(file), 0, 1);
        let body = Value::object(Vec::new());
        Resource {
            existing,
            ..Resource::declared(id, "Microsoft.Network/virtualNetworks", "v", span, body)
        }
    }

    const KNOWN: &str =
        "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v";
    const SCOPED: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/virtualNetworks/v";
    const PARAMETER: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/virtualNetworks/{vnetName}";

    #[test]
    fn an_id_text_is_known_has_placeholders_or_is_unknown() {
        assert_eq!(IdText::of(KNOWN), IdText::Known);
        assert_eq!(IdText::of(SCOPED), IdText::Scoped);
        assert_eq!(IdText::of(&SCOPED.to_lowercase()), IdText::Scoped);
        assert_eq!(IdText::of(PARAMETER), IdText::Placeholders);
        assert_eq!(
            IdText::of("/providers/Microsoft.Management/managementGroups/{managementGroupId}"),
            IdText::Scoped
        );
        assert_eq!(
            IdText::of(&format!("{SCOPED}{{uniqueString(x)}}")),
            IdText::Placeholders
        );
        assert_eq!(
            IdText::of(&format!("{KNOWN}/subnets/{{?}}")),
            IdText::Unknown
        );
    }

    #[test]
    fn ids_compare_case_insensitively_and_a_resource_does_not_name_itself() {
        let index = IdIndex::new(&[resource(KNOWN, 0, false), resource("/x", 0, false)]);
        assert_eq!(index.find(1, &KNOWN.to_uppercase()), Some(0));
        assert_eq!(index.find(1, &format!("{KNOWN}/")), Some(0));
        assert_eq!(index.find(0, KNOWN), None);
    }

    #[test]
    fn placeholders_link_only_within_a_deployment() {
        let index = IdIndex::new(&[
            resource(SCOPED, 0, false),
            resource("/a", 0, false),
            resource("/b", 1, false),
        ]);
        assert_eq!(index.find(1, SCOPED), Some(0));
        assert_eq!(index.find(2, SCOPED), None, "another deployment");
        // A fully known id names its resource from any deployment.
        let index = IdIndex::new(&[resource(KNOWN, 0, false), resource("/b", 1, false)]);
        assert_eq!(index.find(1, KNOWN), Some(0));
    }

    #[test]
    fn an_unknown_part_links_to_nothing() {
        let id = format!("{KNOWN}/subnets/{{?}}");
        let index = IdIndex::new(&[resource(&id, 0, false), resource("/a", 0, false)]);
        assert_eq!(index.find(1, &id), None);
    }

    #[test]
    fn a_declaration_wins_and_an_existing_one_stands_for_the_declaration_elsewhere() {
        let index = IdIndex::new(&[
            resource(SCOPED, 0, true),
            resource(SCOPED, 0, false),
            resource("/a", 0, false),
        ]);
        assert_eq!(index.find(2, SCOPED), Some(1));
        // The existing declaration in deployment 0 names what deployment 1 declares.
        let index = IdIndex::new(&[
            resource(SCOPED, 0, true),
            resource("/a", 0, false),
            resource(SCOPED, 1, false),
        ]);
        assert_eq!(index.find(1, SCOPED), Some(2));
    }

    #[test]
    fn an_existing_declaration_with_an_unknown_part_stands_for_nothing_elsewhere() {
        let unknown = format!("{KNOWN}/subnets/{{?}}");
        let index = IdIndex::new(&[
            resource(&unknown, 0, true),
            resource(&unknown, 1, false),
            resource(SCOPED, 1, false),
        ]);
        assert_eq!(
            index.find(0, &unknown),
            None,
            "an id with {{?}} names nothing"
        );
        assert_eq!(index.declared_elsewhere(0), None);
        // Looking up another id never answers with the declaration of `from` itself.
        assert_eq!(index.find(0, SCOPED), None);
        let index = IdIndex::new(&[resource(SCOPED, 0, true), resource(SCOPED, 1, false)]);
        assert_eq!(index.find(0, SCOPED), Some(1));
        assert_eq!(index.find(0, "/elsewhere"), None);
    }

    #[test]
    fn of_existing_candidates_the_one_of_froms_own_deployment_wins() {
        // Two `existing` declarations of one id, the other deployment's first in graph order;
        // `from` (existing, so it sees both) names its own deployment's.
        let index = IdIndex::new(&[
            resource(SCOPED, 1, true),
            resource(SCOPED, 0, true),
            resource("/a", 0, true),
        ]);
        assert_eq!(index.find(2, SCOPED), Some(1));
        assert_eq!(index.find(0, "/elsewhere"), None);
        // A declaration still comes first, wherever it is in graph order.
        let index = IdIndex::new(&[
            resource(SCOPED, 0, true),
            resource(KNOWN, 1, false),
            resource(KNOWN, 0, true),
            resource("/a", 0, false),
        ]);
        assert_eq!(index.find(3, KNOWN), Some(1));
    }

    #[test]
    fn reach_says_what_of_other_deployments_could_change_an_answer() {
        let nothing = Reach::default();
        let declared = Reach {
            declared: true,
            existing: false,
        };
        let both = Reach {
            declared: true,
            existing: true,
        };
        // A declaration of the deployment answers an id with placeholders alone.
        let index = IdIndex::new(&[resource(SCOPED, 0, false), resource("/a", 0, false)]);
        assert_eq!(index.reach(1, SCOPED), nothing);
        // Nothing here, and another deployment's resources are out of reach (`from`'s own id has
        // placeholders: it links across deployments only to fully known ids).
        let index = IdIndex::new(&[resource("/a/{name}", 0, false)]);
        assert_eq!(index.reach(0, SCOPED), nothing);
        assert_eq!(index.reach(0, &format!("{KNOWN}/subnets/{{?}}")), nothing);
        // An `existing` one stands for the declaration elsewhere, if there is one.
        let index = IdIndex::new(&[resource(SCOPED, 0, true), resource("/a", 0, false)]);
        assert_eq!(index.reach(1, SCOPED), declared);
        // Between `existing` declarations another deployment's is a candidate too, unless the
        // deployment has its own.
        let index = IdIndex::new(&[resource("/a", 0, true)]);
        assert_eq!(index.reach(0, SCOPED), both);
        let index = IdIndex::new(&[resource(SCOPED, 0, true), resource("/a", 0, true)]);
        assert_eq!(index.reach(1, SCOPED), declared);
        // A fully known id: a declaration elsewhere may come first in graph order.
        let index = IdIndex::new(&[resource(KNOWN, 0, false), resource("/a", 0, false)]);
        assert_eq!(index.reach(1, KNOWN), declared);
        let index = IdIndex::new(&[resource("/a", 0, false)]);
        assert_eq!(index.reach(0, KNOWN), both);
    }

    #[test]
    fn only_the_deployments_scope_links_existing_declarations_across_deployments() {
        // `{vnetName}` in two deployments is two parameters: the `existing` declaration does not
        // stand for the other deployment's network, nor does another `existing` one answer.
        let index = IdIndex::new(&[
            resource(PARAMETER, 0, true),
            resource("/a", 0, true),
            resource(PARAMETER, 1, false),
            resource(PARAMETER, 2, true),
        ]);
        assert_eq!(index.find(1, PARAMETER), Some(0));
        assert_eq!(index.declared_elsewhere(0), None);
        assert_eq!(index.reach(1, PARAMETER), Reach::default());
        let index = IdIndex::new(&[resource("/a", 0, true), resource(PARAMETER, 2, true)]);
        assert_eq!(index.find(0, PARAMETER), None);
        assert_eq!(index.reach(0, PARAMETER), Reach::default());
        // The same shapes with only the scope open link as before.
        let scoped = |r: &str| r.replace("{vnetName}", "v");
        let index = IdIndex::new(&[
            resource(&scoped(PARAMETER), 0, true),
            resource("/a", 0, true),
            resource(&scoped(PARAMETER), 1, false),
        ]);
        assert_eq!(index.find(1, SCOPED), Some(2));
    }
}
