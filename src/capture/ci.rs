//! CI detection from each provider's documented variables.

use std::collections::BTreeMap;

/// What a CI run says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CiRun {
    pub provider: &'static str,
    pub run_id: Option<String>,
    pub run_url: Option<String>,
    pub actor: Option<String>,
    pub workflow: Option<String>,
    /// The deployment environment the CI job names, if it does.
    pub environment: Option<String>,
    /// The variable `environment` is read from (`CI_ENVIRONMENT_NAME`), for
    /// an error about its value.
    pub environment_variable: &'static str,
    /// The branch CI checked out (CI often leaves HEAD detached).
    pub branch: Option<String>,
}

impl CiRun {
    /// As the record's `ci` map (credentials never appear in these variables).
    pub fn to_map(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::new();
        m.insert("provider", self.provider.to_string());
        for (k, v) in [
            ("run_id", &self.run_id),
            ("run_url", &self.run_url),
            ("actor", &self.actor),
            ("workflow", &self.workflow),
        ] {
            if let Some(v) = v {
                m.insert(k, v.clone());
            }
        }
        m
    }
}

/// Detects the CI provider from variables read through `var`.
pub fn detect(var: &dyn Fn(&str) -> Option<String>) -> Option<CiRun> {
    let v = |name: &str| var(name).filter(|s| !s.trim().is_empty());
    let truthy = |name: &str| v(name).is_some_and(|s| s.eq_ignore_ascii_case("true") || s == "1");
    if truthy("GITHUB_ACTIONS") {
        let run_url = match (
            v("GITHUB_SERVER_URL"),
            v("GITHUB_REPOSITORY"),
            v("GITHUB_RUN_ID"),
        ) {
            (Some(server), Some(repo), Some(id)) => Some(format!(
                "{}/{repo}/actions/runs/{id}",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        return Some(CiRun {
            provider: "github-actions",
            run_id: v("GITHUB_RUN_ID"),
            run_url,
            actor: v("GITHUB_ACTOR"),
            workflow: v("GITHUB_WORKFLOW"),
            environment: None,
            environment_variable: "",
            branch: v("GITHUB_HEAD_REF").or_else(|| v("GITHUB_REF_NAME")),
        });
    }
    if truthy("GITLAB_CI") {
        return Some(CiRun {
            provider: "gitlab-ci",
            run_id: v("CI_PIPELINE_ID").or_else(|| v("CI_JOB_ID")),
            run_url: v("CI_PIPELINE_URL").or_else(|| v("CI_JOB_URL")),
            actor: v("GITLAB_USER_LOGIN"),
            workflow: v("CI_JOB_NAME"),
            environment: v("CI_ENVIRONMENT_NAME"),
            environment_variable: "CI_ENVIRONMENT_NAME",
            branch: v("CI_COMMIT_BRANCH").or_else(|| v("CI_COMMIT_REF_NAME")),
        });
    }
    if truthy("CIRCLECI") {
        return Some(CiRun {
            provider: "circleci",
            run_id: v("CIRCLE_BUILD_NUM").or_else(|| v("CIRCLE_WORKFLOW_ID")),
            run_url: v("CIRCLE_BUILD_URL"),
            actor: v("CIRCLE_USERNAME"),
            workflow: v("CIRCLE_JOB"),
            environment: None,
            environment_variable: "",
            branch: v("CIRCLE_BRANCH"),
        });
    }
    if truthy("BUILDKITE") {
        return Some(CiRun {
            provider: "buildkite",
            run_id: v("BUILDKITE_BUILD_NUMBER").or_else(|| v("BUILDKITE_BUILD_ID")),
            run_url: v("BUILDKITE_BUILD_URL"),
            actor: v("BUILDKITE_BUILD_CREATOR").or_else(|| v("BUILDKITE_BUILD_AUTHOR")),
            workflow: v("BUILDKITE_PIPELINE_SLUG"),
            environment: None,
            environment_variable: "",
            branch: v("BUILDKITE_BRANCH"),
        });
    }
    if truthy("TF_BUILD") {
        let run_url = match (
            v("SYSTEM_COLLECTIONURI"),
            v("SYSTEM_TEAMPROJECT"),
            v("BUILD_BUILDID"),
        ) {
            (Some(base), Some(project), Some(id)) => Some(format!(
                "{}/{project}/_build/results?buildId={id}",
                base.trim_end_matches('/')
            )),
            _ => None,
        };
        return Some(CiRun {
            provider: "azure-pipelines",
            run_id: v("BUILD_BUILDID"),
            run_url,
            actor: v("BUILD_REQUESTEDFOREMAIL").or_else(|| v("BUILD_REQUESTEDFOR")),
            workflow: v("BUILD_DEFINITIONNAME"),
            environment: v("ENVIRONMENT_NAME"),
            environment_variable: "ENVIRONMENT_NAME",
            branch: v("BUILD_SOURCEBRANCHNAME"),
        });
    }
    if v("JENKINS_URL").is_some() || v("JENKINS_HOME").is_some() {
        return Some(CiRun {
            provider: "jenkins",
            run_id: v("BUILD_NUMBER").or_else(|| v("BUILD_ID")),
            run_url: v("BUILD_URL"),
            actor: v("BUILD_USER_ID"),
            workflow: v("JOB_NAME"),
            environment: None,
            environment_variable: "",
            branch: v("BRANCH_NAME")
                .or_else(|| v("GIT_BRANCH").map(|b| b.trim_start_matches("origin/").to_string())),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Option<CiRun> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        detect(&|k| map.get(k).cloned())
    }

    #[test]
    fn providers() {
        let gh = from(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_ACTOR", "al"),
        ])
        .expect("github");
        assert_eq!(
            gh.run_url.as_deref(),
            Some("https://github.com/o/r/actions/runs/42")
        );
        assert_eq!(
            from(&[("GITLAB_CI", "true"), ("CI_ENVIRONMENT_NAME", "staging")])
                .expect("gitlab")
                .environment
                .as_deref(),
            Some("staging")
        );
        assert_eq!(
            from(&[("JENKINS_URL", "http://j/")])
                .expect("jenkins")
                .provider,
            "jenkins"
        );
        assert_eq!(
            from(&[("TF_BUILD", "True")]).expect("azure").provider,
            "azure-pipelines"
        );
        assert_eq!(
            from(&[("CIRCLECI", "true")]).expect("circle").provider,
            "circleci"
        );
        assert_eq!(
            from(&[("BUILDKITE", "true")]).expect("bk").provider,
            "buildkite"
        );
        assert!(from(&[]).is_none());
    }
}
