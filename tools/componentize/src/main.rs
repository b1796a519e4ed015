//! `componentize`: the three `wasm-tools` steps the build needs, from the
//! crates that CLI is made of, so a fresh machine does not build the whole
//! CLI (`cargo install wasm-tools`) before its first component.
//!
//! - `new MODULE -o OUT --name NAME --description TEXT`: the guest module as a
//!   component (`wasm-tools component new`), with registry metadata added
//!   (`wasm-tools metadata add`): name, version, description, licenses and
//!   source, the last three from the workspace's `Cargo.toml`;
//! - `wit DIR -o OUT`: the WIT package in binary form (`wasm-tools component
//!   wit --wasm`), ready for `wkg publish`;
//! - `show FILE`: the metadata, as JSON (what `wasm-tools metadata show` shows),
//!   plus, for a component, its imports and exports by name.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use wasm_metadata::{
    AddMetadata, AddMetadataField, Description, Licenses, Payload, Source, Version,
};
use wit_component::{ComponentEncoder, DecodedWasm};
use wit_parser::{Resolve, WorldItem, WorldKey};

/// The release's version, license and source: the workspace's, so they cannot disagree.
const VERSION: &str = env!("CARGO_PKG_VERSION");
const LICENSE: &str = env!("CARGO_PKG_LICENSE");
const SOURCE: &str = env!("CARGO_PKG_REPOSITORY");

const USAGE: &str = "usage:
  componentize new MODULE -o OUT --name NAME --description TEXT
  componentize wit DIR -o OUT
  componentize show FILE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("componentize: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The value after each `--flag`, and the positional arguments.
struct Args {
    positional: Vec<String>,
    flags: Vec<(String, String)>,
}

impl Args {
    fn parse(args: &[String]) -> Result<Args> {
        let mut out = Args {
            positional: Vec::new(),
            flags: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a.starts_with('-') {
                let value = it
                    .next()
                    .with_context(|| format!("{a} needs a value\n{USAGE}"))?;
                out.flags.push((a.clone(), value.clone()));
            } else {
                out.positional.push(a.clone());
            }
        }
        Ok(out)
    }

    fn flag(&self, names: &[&str]) -> Result<&str> {
        self.flags
            .iter()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
            .with_context(|| format!("{} is required\n{USAGE}", names[0]))
    }

    fn one_path(&self) -> Result<PathBuf> {
        match self.positional.as_slice() {
            [p] => Ok(PathBuf::from(p)),
            _ => bail!("expected one input path\n{USAGE}"),
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        bail!("{USAGE}")
    };
    let a = Args::parse(rest)?;
    match command.as_str() {
        "new" => {
            let module = read(&a.one_path()?)?;
            let component =
                new_component(&module, a.flag(&["--name"])?, a.flag(&["--description"])?)?;
            write(Path::new(a.flag(&["-o", "--output"])?), &component)?;
            // The summary the build prints: size and imports (zero, by design).
            let imports = show(&component)?["imports"].as_array().map_or(0, Vec::len);
            println!("{} bytes, {imports} imports", component.len());
            Ok(())
        }
        "wit" => {
            let dir = a.one_path()?;
            let mut resolve = Resolve::default();
            let (package, _) = resolve
                .push_path(&dir)
                .with_context(|| format!("reading the WIT in {}", dir.display()))?;
            let bytes =
                wit_component::encode(&resolve, package).context("encoding the WIT package")?;
            wasmparser::Validator::new()
                .validate_all(&bytes)
                .context("validating the WIT package")?;
            write(Path::new(a.flag(&["-o", "--output"])?), &bytes)
        }
        "show" => {
            let bytes = read(&a.one_path()?)?;
            println!("{}", serde_json::to_string_pretty(&show(&bytes)?)?);
            Ok(())
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// `wasm-tools component new` then `wasm-tools metadata add`.
fn new_component(module: &[u8], name: &str, description: &str) -> Result<Vec<u8>> {
    let component = ComponentEncoder::default()
        .validate(true)
        .module(module)
        .context("reading the guest module's component type")?
        .encode()
        .context("encoding the component")?;
    let component = without_component_names(&component).context("reading the component")?;
    let mut add = AddMetadata::default();
    add.name = AddMetadataField::Set(name.to_string());
    add.version = AddMetadataField::Set(Version::new(VERSION));
    add.description = AddMetadataField::Set(Description::new(description.to_string()));
    add.licenses = AddMetadataField::Set(Licenses::new(LICENSE).context("the workspace license")?);
    add.source = AddMetadataField::Set(Source::new(SOURCE).context("the workspace repository")?);
    let out = add.to_wasm(&component).context("adding the metadata")?;
    wasmparser::Validator::new()
        .validate_all(&out)
        .context("validating the component")?;
    Ok(out)
}

/// `component` without its top-level `component-name` custom section: the
/// debug names of the shim's instances and types, which no host reads, and
/// 1.2 KB of the lean component's 128 KiB budget (the core module's own name
/// section is stripped by the `guest` profile for the same reason).
fn without_component_names(component: &[u8]) -> Result<Vec<u8>> {
    fn leb(b: &[u8], at: &mut usize) -> Result<usize> {
        let (mut v, mut shift) = (0usize, 0);
        loop {
            let byte = *b.get(*at).context("a truncated section")?;
            *at += 1;
            v |= usize::from(byte & 0x7F) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
            shift += 7;
            anyhow::ensure!(shift < 35, "a section size over 32 bits");
        }
    }
    anyhow::ensure!(component.len() >= 8, "not a component");
    let mut out = component[..8].to_vec();
    let mut at = 8;
    while at < component.len() {
        let start = at;
        let id = component[at];
        at += 1;
        let size = leb(component, &mut at)?;
        let body = at;
        let end = body.checked_add(size).filter(|&e| e <= component.len());
        let end = end.context("a section past the end")?;
        let is_names = id == 0 && {
            let mut n = body;
            let len = leb(component, &mut n)?;
            component.get(n..n + len) == Some(&b"component-name"[..])
        };
        if !is_names {
            out.extend_from_slice(&component[start..end]);
        }
        at = end;
    }
    Ok(out)
}

/// The metadata (`wasm-tools metadata show`), and a component's world.
fn show(bytes: &[u8]) -> Result<serde_json::Value> {
    let payload = Payload::from_binary(bytes).context("reading the metadata")?;
    let mut out = serde_json::json!({ "metadata": payload });
    if wasmparser::Parser::is_component(bytes) {
        let (imports, exports) =
            match wit_component::decode(bytes).context("decoding the component")? {
                DecodedWasm::Component(resolve, world) => {
                    let w = &resolve.worlds[world];
                    let names =
                        |items: &mut dyn Iterator<Item = (&WorldKey, &WorldItem)>| -> Vec<String> {
                            items.map(|(k, _)| resolve.name_world_key(k)).collect()
                        };
                    (names(&mut w.imports.iter()), names(&mut w.exports.iter()))
                }
                DecodedWasm::WitPackage(resolve, package) => {
                    let p = &resolve.packages[package];
                    out["package"] = serde_json::Value::String(p.name.to_string());
                    out["interfaces"] = serde_json::json!(p.interfaces.keys().collect::<Vec<_>>());
                    out["worlds"] = serde_json::json!(p.worlds.keys().collect::<Vec<_>>());
                    (Vec::new(), Vec::new())
                }
            };
        out["imports"] = serde_json::json!(imports);
        out["exports"] = serde_json::json!(exports);
    }
    Ok(out)
}
