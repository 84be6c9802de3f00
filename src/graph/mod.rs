//! The resource graph: every resource a deployment would create, its evaluated body, its source
//! ranges, and the links between resources.

pub mod builder;
pub mod deployments;
pub mod links;
pub mod names;
pub mod project;

use crate::diagnostic::{Diagnostic, ResourceRef};
pub use crate::model::normalize_id;
use crate::source::{FileId, Span};
use crate::value::{Reason, Value};

/// Index of a resource in [`ResourceGraph::resources`].
pub type ResourceIdx = usize;

/// Where a graph resource came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A `resource` declaration (or one element of its loop).
    Declared,
    /// A subnet declared inline in a virtual network's `properties.subnets`; `vnet` is its network.
    InlineSubnet { vnet: ResourceIdx, index: usize },
}

/// Whether the deployment creates the resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Deployed {
    Yes,
    /// Its condition could not be evaluated.
    Maybe(Reason),
}

/// One resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Resource id as ARM would build it, with `{subscriptionId}` / `{resourceGroupName}`
    /// placeholders where the deployment's scope is not known. Compared case-insensitively.
    pub id: String,
    pub type_name: String,
    pub api_version: Option<String>,
    /// Full name (`vnet-hub/snet-apim`); unknown segments rendered as `{reason}`.
    pub name: String,
    pub symbol: Option<String>,
    pub file: FileId,
    /// The whole declaration (for an inline subnet: its object inside the VNet).
    pub span: Span,
    /// The declaration's head (`resource apim 'Microsoft.ApiManagement/service@…'` / `"type"`).
    pub head_span: Span,
    pub existing: bool,
    /// The resource in ARM shape: `name`, `type`, `apiVersion`, `location`, `sku`, `kind`, `tags`,
    /// `identity`, `properties`, `zones` …, each value with the span that set it.
    pub body: Value,
    pub parent: Option<ResourceIdx>,
    pub origin: Origin,
    pub deployed: Deployed,
    /// Policies suppressed for the whole resource, with the directive's span.
    pub suppress: Vec<(String, Span)>,
    /// Module calls that lead to this resource, outermost first (the `module` declarations).
    pub module_chain: Vec<Span>,
}

impl Resource {
    /// A resource a template declares and deploys, in the file of `span`, with nothing else set:
    /// no API version, symbol, parent, suppressions or module chain; its head is its whole span.
    /// Other fields are set with struct update syntax (`Resource { existing: true, ..declared }`).
    pub fn declared(id: &str, type_name: &str, name: &str, span: Span, body: Value) -> Resource {
        Resource {
            id: id.to_string(),
            type_name: type_name.to_string(),
            api_version: None,
            name: name.to_string(),
            symbol: None,
            file: span.file,
            span,
            head_span: span,
            existing: false,
            body,
            parent: None,
            origin: Origin::Declared,
            deployed: Deployed::Yes,
            suppress: Vec::new(),
            module_chain: Vec::new(),
        }
    }

    /// `location` when known.
    pub fn location(&self) -> Option<&str> {
        self.body.get("location").and_then(Value::as_str)
    }
    /// The resource as diagnostics name it.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef {
            type_name: self.type_name.clone(),
            name: self.name.clone(),
            symbol: self.symbol.clone(),
        }
    }
}

/// How two resources are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EdgeKind {
    Parent,
    Reference,
    DependsOn,
}

/// A link from one resource to another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    pub from: ResourceIdx,
    pub to: ResourceIdx,
    pub kind: EdgeKind,
    /// Property path of a reference (`properties.virtualNetworkConfiguration.subnetResourceId`);
    /// empty for parent and dependsOn edges.
    pub path: String,
    pub span: Option<Span>,
}

/// A property that holds a resource id matching nothing in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Unresolved {
    pub from: ResourceIdx,
    pub path: String,
    /// The id as far as it is known.
    pub value: String,
    pub reason: String,
    pub span: Option<Span>,
}

/// Every resource of the audited deployments and the links between them.
#[derive(Debug, Default, Clone)]
pub struct ResourceGraph {
    pub resources: Vec<Resource>,
    pub edges: Vec<Edge>,
    pub unresolved: Vec<Unresolved>,
    /// Syntax and evaluation diagnostics found while building the graph.
    pub diagnostics: Vec<Diagnostic>,
    /// Module calls that were not evaluated (a registry module not restored, a module too deep …):
    /// what they would deploy is unknown.
    pub opaque_modules: Vec<OpaqueModule>,
}

/// A module call that was not evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct OpaqueModule {
    /// The file the deployment that calls it starts from (its outermost caller).
    pub root: FileId,
    /// The module declaration's source.
    pub span: Span,
    pub reference: String,
    pub why: String,
}

impl ResourceGraph {
    /// Edges leaving `from`.
    pub fn edges_from(&self, from: ResourceIdx) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.from == from)
    }

    /// Edges arriving at `to`.
    pub fn edges_to(&self, to: ResourceIdx) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.to == to)
    }

    /// Children (by parent edge) of `idx`.
    pub fn children(&self, idx: ResourceIdx) -> impl Iterator<Item = ResourceIdx> + '_ {
        self.resources
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.parent == Some(idx))
            .map(|(i, _)| i)
    }
}
