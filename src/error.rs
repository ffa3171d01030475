//! The one error type of the library, and the exit codes of SPEC §3.

use std::path::PathBuf;

/// Exit codes of SPEC §3.
pub const EXIT_OK: u8 = 0;
pub const EXIT_USER: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REFUSED: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A user or data error (exit 1), with a hint on what to do next.
    #[error("{message}")]
    User {
        message: String,
        hint: Option<String>,
    },
    /// Refused by a lock or a check (exit 3).
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    /// A usage error found after argument parsing (exit 2).
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] git2::Error),
    #[error("{path}:{line}: invalid YAML frontmatter: {message}")]
    Yaml {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: invalid configuration: {message}")]
    Config { path: PathBuf, message: String },
    #[error("template {name}: syntax error{}: {source}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    TemplateSyntax {
        name: String,
        line: Option<usize>,
        #[source]
        source: minijinja::Error,
    },
    #[error("template {name}: render error{}: {source}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    TemplateRender {
        name: String,
        line: Option<usize>,
        #[source]
        source: minijinja::Error,
    },
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn user(message: impl Into<String>) -> Self {
        Error::User {
            message: message.into(),
            hint: None,
        }
    }

    pub fn user_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::User {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn refused(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn template_syntax(name: &str, source: minijinja::Error) -> Self {
        Error::TemplateSyntax {
            name: name.to_string(),
            line: source.line(),
            source,
        }
    }

    pub fn template_render(name: &str, source: minijinja::Error) -> Self {
        Error::TemplateRender {
            name: name.to_string(),
            line: source.line(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Refused { .. } => EXIT_REFUSED,
            Error::Usage { .. } => EXIT_USAGE,
            _ => EXIT_USER,
        }
    }

    /// What the user can do next, printed as `hint: …` under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::User { hint, .. } | Error::Refused { hint, .. } | Error::Usage { hint, .. } => {
                hint.clone()
            }
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                Some("check the permissions of that path; nothing was written".into())
            }
            Error::Yaml { .. } => Some("fix the frontmatter between the two `---` lines".into()),
            Error::Config { path, .. } => Some(config_hint(path)),
            Error::TemplateSyntax { .. } | Error::TemplateRender { .. } => {
                Some("fix the template, or delete it to use the built-in one".into())
            }
            _ => None,
        }
    }
}

/// What to do about a broken configuration file: only `deployments/ledger.toml`
/// is one `init` writes (once it is out of the way: `init --force` would
/// also rewrite customised templates).
fn config_hint(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let user = crate::config::user_config_path().is_some_and(|u| u == path);
    if user {
        "fix your user config (it applies to every repository), or move it away to use the defaults"
            .into()
    } else if name == "mise.toml" || name == ".mise.toml" {
        "fix the file (mise reads it too), then run `deploy-ledger init --mise` again".into()
    } else if path.ends_with(crate::config::CONFIG_FILE) {
        "fix the file, or move it away and run `deploy-ledger init` to write the default one".into()
    } else {
        "fix the file".into()
    }
}

/// A message of several lines (the toml crate's) as one: lines joined by `; `.
pub fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `s` with newlines and other control characters escaped (`\n`), so that a
/// value echoed in a message keeps it on one line.
pub fn escape_controls(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
