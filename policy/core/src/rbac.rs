//! Kubernetes RBAC as far as the rules need it: does a ServiceAccount hold
//! a verb on a resource of an API group, through the Roles, ClusterRoles
//! and their bindings among the inputs? Only what the inputs show is
//! judged; a binding to a role that is not among them, or an aggregated
//! ClusterRole, counts as a grant (the rules must not report what they
//! cannot see).

use serde_json::Value;

use crate::objects::Object;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn is_rbac(object: &Object, kinds: &[&str]) -> bool {
    kinds.contains(&object.kind.as_str()) && object.group() == RBAC_GROUP
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// The RBAC objects of a lint run.
pub struct Rbac<'a> {
    roles: Vec<&'a Object>,
    bindings: Vec<&'a Object>,
}

impl<'a> Rbac<'a> {
    /// `None` when no role among the inputs has a rule on `group` (or on
    /// every group): nothing to judge, since a chart's unrelated Role says
    /// nothing about this grant.
    pub fn new(objects: &'a [Object], group: &str) -> Option<Self> {
        let roles: Vec<&Object> = objects.iter().filter(|o| is_rbac(o, &["Role", "ClusterRole"])).collect();
        let bindings: Vec<&Object> = objects.iter().filter(|o| is_rbac(o, &["RoleBinding", "ClusterRoleBinding"])).collect();
        let mentions_group = roles.iter().any(|r| {
            r.doc.value.get("rules").and_then(Value::as_array).into_iter().flatten().any(|rule| strings(rule.get("apiGroups")).any(|g| g == "*" || g == group))
        });
        mentions_group.then_some(Rbac { roles, bindings })
    }

    /// True when ServiceAccount `namespace/name` may `verb` the resource
    /// `resource` (compared without letter case: client IDs) of `group`.
    pub fn allows(&self, namespace: &str, name: &str, verb: &str, group: &str, resource: &str) -> bool {
        self.bindings.iter().any(|binding| {
            let binding_namespace = binding.namespace.as_str();
            let cluster_wide = binding.kind == "ClusterRoleBinding";
            // A RoleBinding grants only in its own namespace.
            if !cluster_wide && binding_namespace != namespace {
                return false;
            }
            let subjects = binding.doc.value.get("subjects").and_then(Value::as_array).into_iter().flatten();
            let names_it = subjects.into_iter().any(|s| {
                let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
                match field("kind") {
                    "ServiceAccount" => {
                        let subject_namespace = if field("namespace").is_empty() && !cluster_wide { binding_namespace } else { field("namespace") };
                        field("name") == name && subject_namespace == namespace
                    }
                    "Group" => field("name") == "system:serviceaccounts" || field("name") == format!("system:serviceaccounts:{namespace}"),
                    _ => false,
                }
            });
            names_it && self.role_allows(binding, verb, group, resource)
        })
    }

    fn role_allows(&self, binding: &Object, verb: &str, group: &str, resource: &str) -> bool {
        let role_ref = binding.doc.value.get("roleRef");
        let field = |k: &str| role_ref.and_then(|r| r.get(k)).and_then(Value::as_str).unwrap_or("");
        let (kind, role_name) = (field("kind"), field("name"));
        // The API server refuses a ClusterRoleBinding to a Role.
        if binding.kind == "ClusterRoleBinding" && kind != "ClusterRole" {
            return false;
        }
        // The same role can be in the inputs twice (a base and an overlay):
        // any of them granting counts, whatever order the files came in.
        let mut roles = self.roles.iter().filter(|r| r.kind == kind && r.name == role_name && (kind == "ClusterRole" || r.namespace == binding.namespace)).peekable();
        if roles.peek().is_none() {
            return true;
        }
        roles.any(|role| {
            role.doc.value.get("aggregationRule").is_some()
                || role.doc.value.get("rules").and_then(Value::as_array).into_iter().flatten().any(|rule| {
                    // Verbs and API groups are exact; the resource is a
                    // client ID, a GUID in either letter case.
                    let has = |key: &str, want: &str, fold: bool| strings(rule.get(key)).any(|v| v == "*" || v == want || (fold && v.eq_ignore_ascii_case(want)));
                    // A rule limited to named objects grants nothing on
                    // the resource as a whole.
                    let named_only = strings(rule.get("resourceNames")).next().is_some();
                    !named_only && has("verbs", verb, false) && has("apiGroups", group, false) && has("resources", resource, true)
                })
        })
    }
}
