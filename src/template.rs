//! minijinja templates: built-in ones embedded from `templates/`, each
//! overridden by a file of the same name in `deployments/templates/`.

use minijinja::Environment;
use serde::Serialize;
use std::path::Path;

use crate::config::TEMPLATES_DIR;
use crate::error::{Error, Result};

/// Built-in templates: (name, text).
pub const BUILT_IN: &[(&str, &str)] = &[(
    "checklist.md.j2",
    include_str!("../templates/checklist.md.j2"),
)];

/// The text of a template: the repository's override, else the built-in one.
pub fn source(root: Option<&Path>, name: &str) -> Result<(String, String)> {
    if let Some(root) = root {
        let path = root.join(TEMPLATES_DIR).join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok((format!("{TEMPLATES_DIR}/{name}"), text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let text = BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| Error::user(format!("no template named {name}")))?;
    Ok((format!("built-in {name}"), text))
}

/// Renders template `name` with `context`; errors name the template and line.
pub fn render(root: Option<&Path>, name: &str, context: impl Serialize) -> Result<String> {
    let (shown, text) = source(root, name)?;
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    env.add_template_owned(shown.clone(), text)
        .map_err(|e| Error::template_syntax(&shown, e))?;
    let template = env
        .get_template(&shown)
        .map_err(|e| Error::template_syntax(&shown, e))?;
    template
        .render(context)
        .map_err(|e| Error::template_render(&shown, e))
}
