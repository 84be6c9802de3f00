//! Where the audited deployment goes, as far as it is known.

/// Where the audited deployment goes: `--subscription-id`, `--resource-group`, `--location` on the
/// command line, `analyzers.azaudit.deployment.{subscriptionId,resourceGroup,location}` in
/// `bicepconfig.json`. What is set makes `subscription()`, `resourceGroup()` and friends
/// evaluate; what isn't stays known only at deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentContext {
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub location: Option<String>,
    /// A management group id or a chain `alz/landingzones/corp`.
    pub management_group: Option<String>,
}

impl DeploymentContext {
    /// `other`'s settings replace these where `other` sets them.
    pub fn merge(&mut self, other: &DeploymentContext) {
        let pick = |mine: &mut Option<String>, theirs: &Option<String>| {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        };
        pick(&mut self.subscription_id, &other.subscription_id);
        pick(&mut self.resource_group, &other.resource_group);
        pick(&mut self.location, &other.location);
        pick(&mut self.management_group, &other.management_group);
    }

    /// What `resourceGroup()` answers in a policy: `id`, `name` and `location`, the parts not set
    /// as the placeholders the templates' own values carry (so they compare equal).
    pub fn resource_group_value(&self) -> crate::value::Value {
        use super::{RESOURCE_GROUP_PLACEHOLDER, SUBSCRIPTION_PLACEHOLDER};
        use crate::value::Value;
        let text =
            |known: Option<&String>, placeholder: &str, f: &dyn Fn(&str) -> String| match known {
                Some(k) => Value::string(f(k)),
                None => Value::symbolic(f(placeholder)),
            };
        let id = format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription_id
                .as_deref()
                .unwrap_or(SUBSCRIPTION_PLACEHOLDER),
            self.resource_group
                .as_deref()
                .unwrap_or(RESOURCE_GROUP_PLACEHOLDER)
        );
        let id = if id.contains('{') {
            Value::symbolic(id)
        } else {
            Value::string(id)
        };
        Value::object(vec![
            ("id".into(), id),
            (
                "name".into(),
                text(
                    self.resource_group.as_ref(),
                    RESOURCE_GROUP_PLACEHOLDER,
                    &|s| s.to_string(),
                ),
            ),
            (
                "location".into(),
                text(self.location.as_ref(), "{resourceGroup().location}", &|s| {
                    s.to_string()
                }),
            ),
        ])
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == DeploymentContext::default()
    }
}
