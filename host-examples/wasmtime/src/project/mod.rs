//! A spec-kitty project on disk, read as the CLI reads it (project-state.md):
//! `.kittify/config.yaml`, the credentials TOML and the tracker's SQLite
//! store. Read-only: nothing here creates or changes a file.
//!
//! Only the I/O and the YAML/TOML/SQLite types live here; every rule of the
//! contract (normalisation, the store scope, the row conversions) is the
//! component's.

mod credentials;
pub mod sample;
mod store;
pub mod yaml;

use std::path::{Path, PathBuf};

use tracker_publish::ErrorKind as Core;
use tracker_publish::normalize::{is_blank, py_strip};

use crate::error::{Error, ErrorKind};

use crate::{Publisher, SnapshotInput, StoredIssueRow};
use yaml::{Node, Scalar};

pub use credentials::read_credentials;
pub use store::{StoreContents, read_store};

/// What a publish needs from a project, before the component runs.
pub struct Project {
    /// The input, `issues` empty and the checkpoint's `updated_since` as stored.
    pub input: SnapshotInput,
    /// The stored issue rows, in `ORDER BY identity`.
    pub rows: Vec<StoredIssueRow>,
    /// The store that was read (or would have been, with `--allow-empty`).
    pub store_path: PathBuf,
}

/// Where to look, from the command line.
pub struct Locations {
    /// `--project`, else found from the current directory.
    pub project: Option<PathBuf>,
    /// `--credentials`, else `$HOME/.spec-kitty/credentials`.
    pub credentials: Option<PathBuf>,
    /// `--store`, else `$HOME/.spec-kitty/trackers/<scope>.db`.
    pub store: Option<PathBuf>,
    /// `--allow-empty`: a missing store is an empty snapshot.
    pub allow_empty: bool,
}

fn err(kind: impl Into<ErrorKind>, message: impl Into<String>) -> Error {
    Error::new(kind, message)
}

fn home() -> Result<PathBuf, Error> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            err(
                ErrorKind::InvalidCredentials,
                "HOME is not set: give --credentials and --store",
            )
        })
}

/// The project directory: `--project`, else `SPECIFY_REPO_ROOT`, else the
/// nearest directory at or above the current one that holds `.kittify/`.
pub fn project_root(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(root) = std::env::var_os("SPECIFY_REPO_ROOT").filter(|r| !r.is_empty()) {
        return Ok(PathBuf::from(root));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| err(Core::NotConfigured, format!("current directory: {e}")))?;
    cwd.ancestors()
        .find(|d| d.join(".kittify").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            err(
                Core::NotConfigured,
                format!(
                    "no .kittify/ in {} or above: run this in a spec-kitty project, or give --project",
                    cwd.display()
                ),
            )
        })
}

/// The tracker part of `.kittify/config.yaml`.
pub struct Config {
    /// `tracker.provider`, stripped, case kept.
    pub provider: String,
    /// `tracker.workspace`, stripped.
    pub workspace: String,
    /// `tracker.doctrine.mode` when it is a string.
    pub doctrine_mode: Option<String>,
    /// `tracker.doctrine.field_owners` as Python's `str()` makes them, in order.
    pub field_owners: Vec<(String, String)>,
    /// `project.uuid`.
    pub project_uuid: Option<String>,
    /// `project.slug`.
    pub project_slug: Option<String>,
}

/// Reads `.kittify/config.yaml` of `root`.
pub fn read_config(root: &Path) -> Result<Config, Error> {
    let path = root.join(".kittify").join("config.yaml");
    let shown = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(err(
                Core::NotConfigured,
                format!("{shown}: missing (run `spec-kitty tracker bind` first)"),
            ));
        }
        Err(e) => return Err(err(ErrorKind::InvalidConfig, format!("{shown}: {e}"))),
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| err(ErrorKind::InvalidConfig, format!("{shown}: not UTF-8")))?;
    let doc =
        yaml::parse(&text).map_err(|e| err(ErrorKind::InvalidConfig, format!("{shown}: {e}")))?;
    let empty = Node::Map(Vec::new());
    let doc = doc.unwrap_or(empty);
    let invalid = |field: &str, what: &str| {
        err(
            ErrorKind::InvalidConfig,
            format!("{shown}: {field}: {what}"),
        )
    };

    // The tracker section; anything but strings that are not blank means
    // the project is not bound to a tracker.
    let tracker = doc.get("tracker");
    let text_field = |name: &str| match tracker.and_then(|t| t.get(name)) {
        Some(Node::Scalar(Scalar::Str(s))) if !is_blank(s) => Ok(py_strip(s).to_owned()),
        other => Err(err(
            Core::NotConfigured,
            format!(
                "{shown}: tracker.{name}: {} (run `spec-kitty tracker bind` first)",
                match other {
                    None => "missing".to_owned(),
                    Some(Node::Scalar(Scalar::Str(_))) => "blank".to_owned(),
                    Some(n) => format!("{}, not a string", n.type_name()),
                }
            ),
        )),
    };
    let provider = text_field("provider")?;
    let workspace = text_field("workspace")?;

    let doctrine = tracker.and_then(|t| t.get("doctrine"));
    let doctrine_mode = match doctrine.and_then(|d| d.get("mode")) {
        Some(Node::Scalar(Scalar::Str(s))) => Some(s.clone()),
        _ => None,
    };
    let mut field_owners: Vec<(String, String)> = Vec::new();
    if let Some(Node::Map(pairs)) = doctrine.and_then(|d| d.get("field_owners")) {
        for (k, v) in pairs {
            let text = |n: &Node, what: &str| match n {
                Node::Scalar(Scalar::Str(s)) => Ok(s.clone()),
                Node::Scalar(Scalar::Int(i)) => Ok(i.clone()),
                Node::Scalar(Scalar::Bool(b)) => Ok(if *b { "True" } else { "False" }.to_owned()),
                other => Err(invalid(
                    "tracker.doctrine.field_owners",
                    &format!(
                        "a {what} is {} (the CLI would publish its Python str(); use a string)",
                        other.type_name()
                    ),
                )),
            };
            let (k, v) = (text(k, "key")?, text(v, "value")?);
            // The CLI drops blank entries before it collects them, so a blank
            // one never replaces an earlier entry of the same key.
            if is_blank(&k) || is_blank(&v) {
                continue;
            }
            // Keys equal after str() (`1` and "1") are one key: the first
            // place, the last value, as a Python dict comprehension keeps them.
            match field_owners.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = v,
                None => field_owners.push((k, v)),
            }
        }
    }

    let project = doc.get("project");
    let identity = |name: &str| match project.and_then(|p| p.get(name)) {
        None | Some(Node::Scalar(Scalar::Null)) => Ok(None),
        Some(Node::Scalar(Scalar::Str(s))) => Ok(Some(s.clone())),
        Some(Node::Scalar(Scalar::Int(i))) => Ok(Some(i.clone())),
        Some(other) => Err(invalid(
            &format!("project.{name}"),
            &format!(
                "{} (the CLI would publish its Python repr; use a string)",
                other.type_name()
            ),
        )),
    };
    Ok(Config {
        provider,
        workspace,
        doctrine_mode,
        field_owners,
        project_uuid: identity("uuid")?,
        project_slug: identity("slug")?,
    })
}

/// Reads everything a publish needs from the project and its stores.
pub fn read_project(
    publisher: &mut Publisher,
    at: &Locations,
    server_url: String,
    auth_token: Option<String>,
) -> anyhow::Result<Result<Project, Error>> {
    let root = match project_root(at.project.as_deref()) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let config = match read_config(&root) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let credentials_path = match &at.credentials {
        Some(p) => p.clone(),
        None => match home() {
            Ok(h) => h.join(".spec-kitty").join("credentials"),
            Err(e) => return Ok(Err(e)),
        },
    };
    let credentials = match read_credentials(&credentials_path, &config.provider) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let scope = publisher.store_scope(&config.provider, &config.workspace, &credentials)?;
    let store_path = match &at.store {
        Some(p) => p.clone(),
        None => match home() {
            Ok(h) => h
                .join(".spec-kitty")
                .join("trackers")
                .join(format!("{}.db", scope.scope)),
            Err(e) => return Ok(Err(e)),
        },
    };
    let system = publisher.normalize_provider(&config.provider)?;
    let checkpoint_key = format!("{system}:{}", config.workspace);
    let contents = if !store_path.exists() && at.allow_empty {
        StoreContents::default()
    } else {
        match read_store(&store_path, &scope.identity, &system, &checkpoint_key) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        }
    };
    Ok(Ok(Project {
        input: SnapshotInput {
            server_url,
            auth_token,
            provider: config.provider,
            workspace: config.workspace,
            doctrine_mode: config.doctrine_mode,
            doctrine_field_owners: config.field_owners,
            credentials,
            project_uuid: config.project_uuid,
            project_slug: config.project_slug,
            issues: Vec::new(),
            mappings: contents.mappings,
            checkpoint: contents.checkpoint,
        },
        rows: contents.rows,
        store_path,
    }))
}
