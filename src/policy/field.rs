//! A policy rule's field (`name`, `type`, `tags.x`, an alias): resolved once, when the policy
//! loads, to where it lives in the resource's ARM-shaped body.

use super::aliases::{split_path, AliasTable, Seg};

/// A field resolved to where it lives in the resource.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    pub text: String,
    pub kind: FieldKind,
}

/// What a field reads.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// `name`: the last segment of the resource's name.
    Name,
    /// `fullName`: the whole name (`vnet/subnet`).
    FullName,
    /// Any other path in the ARM-shaped body (`type`, `location`, `tags.x`, alias paths).
    Path(Vec<Seg>),
    /// An alias whose path depends on the resource type (`Microsoft.Compute/imageId`): the path
    /// for each lowercase type, and the one to use for other types.
    ByType(Vec<(String, Vec<Seg>)>, Vec<Seg>),
}

impl FieldPath {
    /// Resolves a field's text: built-in fields, aliases, or a path in the body.
    pub fn resolve(text: &str, aliases: &AliasTable) -> FieldPath {
        let lower = text.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "name" => FieldKind::Name,
            "fullname" => FieldKind::FullName,
            _ => {
                let path = if lower.starts_with("$.") {
                    text.get(2..).unwrap_or("").to_string()
                } else {
                    aliases.resolve(text).unwrap_or_else(|| text.to_string())
                };
                match aliases.per_type(text) {
                    Some(by_type) if !lower.starts_with("$.") => FieldKind::ByType(
                        by_type
                            .iter()
                            .map(|(t, p)| (t.clone(), split_path(p)))
                            .collect(),
                        split_path(&path),
                    ),
                    _ => FieldKind::Path(split_path(&path)),
                }
            }
        };
        FieldPath {
            text: text.to_string(),
            kind,
        }
    }

    /// The path segments, for a field that is a path.
    pub fn segs(&self) -> Option<&[Seg]> {
        match &self.kind {
            FieldKind::Path(p) | FieldKind::ByType(_, p) => Some(p),
            _ => None,
        }
    }
}
