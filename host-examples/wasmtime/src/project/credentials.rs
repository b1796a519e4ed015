//! `~/.spec-kitty/credentials` (TOML): the provider's table as the CLI reads
//! it, with its values made strings as Python would use them.

use std::path::Path;

use crate::error::{Error, ErrorKind};

/// Credential keys the routing reads with `is None` (an integer 0 is "0").
const ROUTING_KEYS: [&str; 2] = ["project_key", "team_id"];
/// Keys the token and the store scope read with Python's `or` (0 is empty).
const OR_KEYS: [&str; 7] = [
    "access_token",
    "token",
    "server_url",
    "base_url",
    "username",
    "email",
    "team_slug",
];

/// The table `[tracker.providers.<provider>]`, `provider` as the config
/// holds it (stripped, case kept). A missing file or table is no credentials.
pub fn read_credentials(path: &Path, provider: &str) -> Result<Vec<(String, String)>, Error> {
    let shown = path.display();
    let bad = |what: String| Error::new(ErrorKind::InvalidCredentials, format!("{shown}: {what}"));
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(bad(format!("unreadable: {e}"))),
    };
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        // The message only: the parser's own rendering quotes the line, which
        // may hold a secret.
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        bad(match line {
            Some(l) => format!("not TOML (line {l}): {}", e.message()),
            None => format!("not TOML: {}", e.message()),
        })
    })?;
    let table = doc
        .get("tracker")
        .and_then(|t| t.as_table())
        .and_then(|t| t.get("providers"))
        .and_then(|p| p.as_table())
        .and_then(|p| p.get(provider))
        .and_then(|t| t.as_table());
    let Some(table) = table else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, value) in table {
        let used = ROUTING_KEYS.contains(&key.as_str()) || OR_KEYS.contains(&key.as_str());
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(0) if OR_KEYS.contains(&key.as_str()) => String::new(),
            toml::Value::Integer(i) if used => i.to_string(),
            other if used => {
                return Err(bad(format!(
                    "[tracker.providers.{provider}] {key}: {} (the CLI would send its Python repr; use a string)",
                    other.type_str()
                )));
            }
            _ => continue,
        };
        out.push((key.clone(), text));
    }
    Ok(out)
}
