//! One version, one place: `[workspace.package] version` in Cargo.toml. Every
//! other artifact that states a version must state that one: the crates
//! (which inherit it), the npm package (and its lockfile), the Python
//! package, the WIT package and the components' registry metadata.
//!
//! The repository URL likewise: `[workspace.package] repository`, which the
//! crates inherit and the components' `source` metadata takes (through
//! tools/componentize); the npm and Python manifests and the README must
//! state the same URL.

use std::path::{Path, PathBuf};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first `key = "..."` line inside `[section]` of a TOML file.
fn toml_string(text: &str, section: &str, key: &str) -> Option<String> {
    let start = text.find(&format!("\n[{section}]\n"))?;
    let body = &text[start + section.len() + 3..];
    let body = &body[..body.find("\n[").unwrap_or(body.len())];
    let prefix = format!("{key} = \"");
    body.lines().find_map(|l| {
        l.strip_prefix(prefix.as_str())?
            .strip_suffix('"')
            .map(str::to_string)
    })
}

/// The first `version = "..."` line inside `[section]` of a TOML file.
fn toml_version(text: &str, section: &str) -> Option<String> {
    toml_string(text, section, "version")
}

/// The crates of the workspace, by manifest.
const CRATES: [&str; 3] = [
    "Cargo.toml",
    "host-examples/wasmtime/Cargo.toml",
    "tools/componentize/Cargo.toml",
];

/// The `[package]` table of a crate's manifest.
fn package_table(manifest: &str) -> String {
    let text = read(&root().join(manifest));
    let package = &text[text
        .find("[package]")
        .unwrap_or_else(|| panic!("{manifest}: no [package]"))..];
    package[..package[1..].find("\n[").map_or(package.len(), |i| i + 1)].to_string()
}

#[test]
fn the_workspace_states_the_version() {
    let cargo = read(&root().join("Cargo.toml"));
    assert_eq!(
        toml_version(&cargo, "workspace.package").as_deref(),
        Some(VERSION)
    );
}

#[test]
fn every_crate_inherits_it() {
    for manifest in CRATES {
        assert!(
            package_table(manifest).contains("\nversion.workspace = true"),
            "{manifest}: [package] must say version.workspace = true"
        );
    }
}

#[test]
fn the_npm_package_and_its_lockfile_agree() {
    let dir = root().join("host-examples/node");
    let package: serde_json::Value =
        serde_json::from_str(&read(&dir.join("package.json"))).unwrap();
    assert_eq!(
        package["version"], VERSION,
        "host-examples/node/package.json"
    );
    let lock: serde_json::Value =
        serde_json::from_str(&read(&dir.join("package-lock.json"))).unwrap();
    assert_eq!(
        lock["version"], VERSION,
        "host-examples/node/package-lock.json"
    );
    assert_eq!(
        lock["packages"][""]["version"], VERSION,
        "host-examples/node/package-lock.json packages[\"\"]"
    );
}

#[test]
fn the_python_package_agrees() {
    let text = read(&root().join("host-examples/python/pyproject.toml"));
    assert_eq!(
        toml_version(&text, "project").as_deref(),
        Some(VERSION),
        "host-examples/python/pyproject.toml [project] version"
    );
}

#[test]
fn the_wit_package_agrees() {
    let wit = read(&root().join("wit/tracker.wit"));
    let package = format!("package spec-kitty:tracker@{VERSION};");
    assert!(
        wit.lines().any(|l| l == package),
        "wit/tracker.wit must declare `{package}`"
    );
}

/// A custom section of registry metadata (`version`, `source`, ...) of a
/// component's outer level: the component binary is a preamble, then sections
/// of (id, LEB128 size, payload); a custom section (id 0) starts with its
/// LEB128-prefixed name.
fn metadata_field(wasm: &[u8], field: &str) -> Option<String> {
    fn leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let b = *bytes.get(*at)?;
            *at += 1;
            value |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
            shift += 7;
        }
    }
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at)?;
        let end = at.checked_add(size)?;
        if id == 0 {
            let mut p = at;
            let len = leb(wasm, &mut p)?;
            if wasm.get(p..p + len)? == field.as_bytes() {
                return String::from_utf8(wasm.get(p + len..end)?.to_vec()).ok();
            }
        }
        at = end;
    }
    None
}

#[test]
fn the_built_components_agree() {
    for name in ["tracker_publish.wasm", "tracker_publish_full.wasm"] {
        let path = root().join("dist").join(name);
        let Ok(wasm) = std::fs::read(&path) else {
            // `make build` makes them; `make test` builds first, so there they are checked.
            eprintln!("{} is not built: skipped", path.display());
            continue;
        };
        assert_eq!(
            metadata_field(&wasm, "version").as_deref(),
            Some(VERSION),
            "{}: the registry metadata's version",
            path.display()
        );
    }
}

#[test]
fn the_workspace_states_the_repository() {
    let cargo = read(&root().join("Cargo.toml"));
    assert_eq!(
        toml_string(&cargo, "workspace.package", "repository").as_deref(),
        Some(REPOSITORY)
    );
    assert!(
        REPOSITORY.starts_with("https://github.com/"),
        "{REPOSITORY}"
    );
}

#[test]
fn every_crate_inherits_the_repository() {
    for manifest in CRATES {
        let package = package_table(manifest);
        assert!(
            package.contains("\nrepository.workspace = true"),
            "{manifest}: [package] must say repository.workspace = true"
        );
        assert!(
            !package.contains("\nrepository = "),
            "{manifest}: [package] states its own repository"
        );
    }
}

/// npm's form of a git repository URL.
fn npm_repository() -> String {
    format!("git+{REPOSITORY}.git")
}

#[test]
fn the_npm_package_states_the_repository() {
    let package: serde_json::Value =
        serde_json::from_str(&read(&root().join("host-examples/node/package.json"))).unwrap();
    assert_eq!(
        package["repository"]["url"],
        npm_repository(),
        "host-examples/node/package.json repository.url"
    );
    assert_eq!(package["repository"]["type"], "git");
    // The manifest `make node` writes for the tarball, when built.
    let built = root().join("dist/node/package.json");
    if let Ok(text) = std::fs::read_to_string(&built) {
        let built_package: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            built_package["repository"]["url"],
            npm_repository(),
            "{}",
            built.display()
        );
    }
}

#[test]
fn the_python_package_states_the_repository() {
    let text = read(&root().join("host-examples/python/pyproject.toml"));
    assert_eq!(
        toml_string(&text, "project.urls", "Repository").as_deref(),
        Some(REPOSITORY),
        "host-examples/python/pyproject.toml [project.urls] Repository"
    );
}

#[test]
fn the_readme_states_the_repository() {
    let readme = read(&root().join("README.md"));
    assert!(
        readme.contains(&format!("<{REPOSITORY}>")),
        "README.md must name the canonical repository <{REPOSITORY}>"
    );
}

#[test]
fn no_manifest_names_another_repository() {
    // Every GitHub URL of spec-kitty in the manifests is the repository's.
    for manifest in CRATES.iter().copied().chain([
        "host-examples/node/package.json",
        "host-examples/python/pyproject.toml",
    ]) {
        let text = read(&root().join(manifest));
        for (at, _) in text.match_indices("https://github.com/") {
            let url: String = text[at..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '\n'))
                .collect();
            let url = url.strip_suffix(".git").unwrap_or(&url);
            assert_eq!(url, REPOSITORY, "{manifest}: {url}");
        }
    }
}

#[test]
fn the_built_components_state_the_repository() {
    for name in ["tracker_publish.wasm", "tracker_publish_full.wasm"] {
        let path = root().join("dist").join(name);
        let Ok(wasm) = std::fs::read(&path) else {
            eprintln!("{} is not built: skipped", path.display());
            continue;
        };
        assert_eq!(
            metadata_field(&wasm, "source").as_deref(),
            Some(REPOSITORY),
            "{}: the registry metadata's source",
            path.display()
        );
    }
}
