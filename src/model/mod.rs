//! The template model: what a Bicep file, a `.bicepparam` file, an ARM template or an ARM parameter
//! file declares, with every expression kept as an [`Expr`] and every declaration's [`Span`].
//!
//! Lowering (`syntax::bicep`, `syntax::arm`) builds it; the evaluator and the resource graph read it.

use crate::expr::Expr;
use crate::source::{FileId, Span};

/// The language a file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    Bicep,
    BicepParams,
    ArmTemplate,
    ArmParameters,
}

/// `targetScope`, or an ARM template's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetScope {
    #[default]
    ResourceGroup,
    Subscription,
    ManagementGroup,
    Tenant,
}

/// A problem found while reading a file: a syntax error, or a construct that could not be lowered.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub span: Span,
    /// Lowercase, one line: "expected `}`", "unexpected `=`".
    pub message: String,
}

/// `#disable-next-line a b` (Bicep), `#disable-diagnostics`/`#restore-diagnostics`, or an ARM
/// resource's `metadata.azaudit.suppress`.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// The directive's own span (where an unused suppression is reported).
    pub span: Span,
    /// Policy ids; empty means every policy (a `#disable-diagnostics` with no ids is not Bicep's
    /// syntax, but an ARM `suppress: ["*"]` maps here).
    pub codes: Vec<String>,
    /// The byte range whose diagnostics are covered: the next line, a directive-to-restore region,
    /// or a whole resource declaration.
    pub covers: Span,
    /// Only diagnostics that *start* inside `covers` are suppressed (always true here; kept explicit).
    pub starts_inside: bool,
    /// Why: the comment after the ids (`#disable-next-line id // reason`), or ARM's
    /// `metadata.azaudit.justification`.
    pub justification: Option<String>,
}

/// A `param` declaration (Bicep) or an entry of an ARM template's `parameters`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    /// `string`, `int`, `bool`, `object`, `array`, `securestring` … or a user type name.
    pub type_name: Option<String>,
    pub default: Option<Expr>,
    /// `@allowed([...])` / `allowedValues`.
    pub allowed: Option<Vec<Expr>>,
    pub secure: bool,
    pub description: Option<String>,
    /// `param x string?`: a nullable parameter with no default is `null`, not unknown.
    pub nullable: bool,
}

/// A `var` declaration or an ARM `variables` entry (ARM `copy` variables lower to a `For` expr).
#[derive(Debug, Clone, PartialEq)]
pub struct VarDecl {
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub value: Expr,
}

/// A loop over a declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Loop {
    /// Bicep `[for (item, index) in iterable: ...]`, optionally with `if (filter)`.
    ForIn {
        item: Option<String>,
        index: Option<String>,
        iterable: Expr,
        filter: Option<Expr>,
    },
    /// ARM `copy: { name, count }`: `copyIndex()` / `copyIndex('name')` give the index.
    Copy { name: String, count: Expr },
}

/// A `resource` declaration, or an ARM resource (nested ARM child resources are flattened into
/// their own `ResourceDecl` with `parent` set and the full type and name already composed).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDecl {
    /// Bicep symbolic name; the key in ARM `languageVersion: 2.0` resource objects; else `None`.
    pub symbol: Option<String>,
    /// Full type (`Microsoft.Network/virtualNetworks/subnets`), composed for nested children.
    pub type_name: String,
    pub api_version: Option<String>,
    pub existing: bool,
    /// The `name` expression. For ARM nested children, the composed full name
    /// (`concat(parentName, '/', childName)`); for Bicep children, the child's own segment.
    pub name: Option<Expr>,
    /// Index (into `Template::resources`) of the parent declaration: Bicep nested resources and
    /// ARM nested `resources`.
    pub parent_index: Option<usize>,
    /// Bicep `parent: expr`.
    pub parent: Option<Expr>,
    /// `scope: expr`.
    pub scope: Option<Expr>,
    /// The body as an object: `location`, `sku`, `kind`, `tags`, `identity`, `properties`, `zones`,
    /// … everything except `name`, `parent`, `scope`, `dependsOn`, `condition`, `copy`, `type`,
    /// `apiVersion`, `resources`.
    pub body: Expr,
    pub condition: Option<Expr>,
    pub loop_: Option<Loop>,
    /// Bicep `dependsOn` entries (identifiers) and ARM `dependsOn` strings/expressions.
    pub depends_on: Vec<Expr>,
    /// The whole declaration.
    pub span: Span,
    /// What a diagnostic on the declaration itself points at: the `resource sym 'type@v'` head in
    /// Bicep, the `"type"` property in ARM.
    pub head_span: Span,
    /// Policies suppressed for this whole resource (ARM `metadata.azaudit.suppress`, or a
    /// `#disable-next-line` right above a Bicep declaration), with the directive's span.
    pub suppress: Vec<(String, Span)>,
}

/// A Bicep `module` declaration, or an ARM `Microsoft.Resources/deployments` resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleDecl {
    pub symbol: Option<String>,
    /// `'./network.bicep'`, `'br/public:avm/res/...:0.1.0'`, ARM `templateLink.relativePath`; `None`
    /// for an ARM inline `template`.
    pub source: Option<String>,
    pub source_span: Span,
    pub name: Option<Expr>,
    /// `params: { ... }` (Bicep), `parameters: { x: { value: ... } }` unwrapped (ARM).
    pub params: Option<Expr>,
    pub scope: Option<Expr>,
    pub condition: Option<Expr>,
    pub loop_: Option<Loop>,
    pub depends_on: Vec<Expr>,
    /// ARM nested deployment's inline template, lowered.
    pub inline_template: Option<Box<Template>>,
    /// ARM `expressionEvaluationOptions.scope == inner`.
    pub inner_scope: bool,
    /// A Bicep `resource` of type `Microsoft.Resources/deployments` (not a `module`): its symbol
    /// reads as a resource (`d.properties.outputs.x.value`, outputs as ARM gives them).
    pub declared_as_resource: bool,
    pub span: Span,
    pub head_span: Span,
}

/// An `output`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputDecl {
    pub name: String,
    pub span: Span,
    pub value: Expr,
}

/// A user-defined function (`func name(a string) string => body`).
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDecl {
    pub name: String,
    pub params: Vec<String>,
    pub body: Expr,
    pub span: Span,
}

/// A value assigned to a parameter in a `.bicepparam` or ARM parameter file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamAssignment {
    pub name: String,
    pub span: Span,
    /// `None` for an ARM `reference` to a Key Vault secret (unknown by nature).
    pub value: Option<Expr>,
}

/// The `duplicate-key` warnings of `t`.
pub fn duplicate_key_diagnostics(
    t: &Template,
) -> impl Iterator<Item = crate::diagnostic::Diagnostic> + '_ {
    t.duplicate_keys.iter().map(|(span, name)| {
        crate::diagnostic::Diagnostic::new(
            crate::diagnostic::codes::Code::DuplicateKey,
            crate::diagnostic::Severity::Warning,
            *span,
            format!("the key `{name}` appears more than once in this object; the last value is used, as ARM does"),
        )
    })
}

/// Everything one file declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub file: FileId,
    pub language: Language,
    pub target_scope: TargetScope,
    pub params: Vec<ParamDecl>,
    pub vars: Vec<VarDecl>,
    pub resources: Vec<ResourceDecl>,
    pub modules: Vec<ModuleDecl>,
    pub outputs: Vec<OutputDecl>,
    pub functions: Vec<FunctionDecl>,
    /// `.bicepparam` / ARM parameter file: the assignments.
    pub assignments: Vec<ParamAssignment>,
    /// `.bicepparam` `using 'path'` (`None` for `using none`), or ARM parameter file's template link.
    pub using: Option<String>,
    pub syntax_errors: Vec<SyntaxError>,
    /// JSON keys that repeat an earlier key of their object (the last value is used, as in ARM):
    /// the key's span and name, for a `duplicate-key` warning.
    pub duplicate_keys: Vec<(Span, String)>,
    /// Line and region suppressions (resource-wide ones also sit on their `ResourceDecl`).
    pub suppressions: Vec<Suppression>,
}

impl Template {
    /// An empty template of `language` for `file`.
    pub fn empty(file: FileId, language: Language) -> Template {
        Template {
            file,
            language,
            target_scope: TargetScope::default(),
            params: Vec::new(),
            vars: Vec::new(),
            resources: Vec::new(),
            modules: Vec::new(),
            outputs: Vec::new(),
            functions: Vec::new(),
            assignments: Vec::new(),
            using: None,
            syntax_errors: Vec::new(),
            duplicate_keys: Vec::new(),
            suppressions: Vec::new(),
        }
    }

    /// Declares nothing at all (text that is no template reads so, with syntax errors).
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
            && self.vars.is_empty()
            && self.resources.is_empty()
            && self.modules.is_empty()
            && self.outputs.is_empty()
            && self.functions.is_empty()
            && self.assignments.is_empty()
            && self.using.is_none()
    }
}

/// The comparable form of a resource id: lowercase, no trailing slash.
pub fn normalize_id(id: &str) -> String {
    id.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// An ARM `templateLink.id` (a template spec's resource id) is kept as a module source with this
/// prefix: it names a resource in Azure, never a file.
pub const TEMPLATE_SPEC_ID_PREFIX: &str = "template-spec-id:";
