//! Import of the data directory format `serve` wrote before it had a
//! database: `DIR/snapshots/NNNNNNNNNNNN.json`, one record per accepted
//! snapshot. Imported once, in one transaction, on the first start; a
//! malformed record stops the start naming its file, and nothing is
//! imported then.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use tracker_publish::idempotency::content_key;

/// The old format's directory, under the data directory.
pub const LEGACY_DIR: &str = "snapshots";
/// What it is renamed to once imported (kept: nothing is deleted).
pub const IMPORTED_DIR: &str = "snapshots.imported";
const MARK: &str = "legacy_import";

/// One old record, every field checked.
struct Legacy {
    sequence: u64,
    key: String,
    sha: String,
    routing: Vec<String>,
    status: u16,
    response: Value,
    body: String,
}

fn parse(path: &Path) -> anyhow::Result<Legacy> {
    let at = path.display();
    let text = fs::read(path).with_context(|| format!("{at}: cannot read"))?;
    let v: Value = serde_json::from_slice(&text)
        .map_err(|e| anyhow!("{at}: not a stored snapshot (not JSON: {e})"))?;
    let field = |k: &str| {
        v.get(k)
            .ok_or_else(|| anyhow!("{at}: not a stored snapshot (no {k})"))
    };
    let string = |k: &str| -> anyhow::Result<String> {
        field(k)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{at}: {k}: expected a string"))
    };
    let sequence = field("sequence")?
        .as_u64()
        .filter(|n| (1..=i64::MAX as u64).contains(n))
        .ok_or_else(|| anyhow!("{at}: sequence: expected a whole number from 1"))?;
    let key = string("idempotency_key")?;
    if key.is_empty() {
        bail!("{at}: idempotency_key: empty");
    }
    let sha = string("body_sha256")?;
    let routing: Vec<String> = serde_json::from_value(field("routing_key")?.clone())
        .map_err(|_| anyhow!("{at}: routing_key: expected an array of strings"))?;
    let status = field("status")?
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (200..300).contains(s))
        .ok_or_else(|| anyhow!("{at}: status: expected a 2xx status"))?;
    let response = field("response")?.clone();
    if !response.is_object() {
        bail!("{at}: response: expected an object");
    }
    if response.get("sequence").and_then(Value::as_u64) != Some(sequence) {
        bail!("{at}: response.sequence: not the record's sequence {sequence}");
    }
    let body = string("body")?;
    if content_key(body.as_bytes()) != sha {
        bail!("{at}: body_sha256: not the SHA-256 of body");
    }
    Ok(Legacy {
        sequence,
        key,
        sha,
        routing,
        status,
        response,
        body,
    })
}

/// Imports `data/snapshots` into `c` unless done before.
pub fn import(c: &mut Connection, data: &Path) -> anyhow::Result<()> {
    let dir = data.join(LEGACY_DIR);
    if !dir.is_dir() {
        return Ok(());
    }
    let done: Option<String> = c
        .query_row("SELECT value FROM meta WHERE name = ?1", [MARK], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(done) = done {
        eprintln!(
            "serve: warning: {} is there again, but {done} was imported before; ignored",
            dir.display()
        );
        return Ok(());
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .with_context(|| format!("{}: cannot read", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // `.NAME.tmp`: a write the old server never acknowledged.
            name.ends_with(".json") && !name.starts_with('.')
        })
        .collect();
    files.sort();
    let tx = c.transaction()?;
    for path in &files {
        let r = parse(path)?;
        let inserted = tx
            .execute(
                "INSERT INTO snapshots (sequence, idempotency_key, body_sha256, routing_key, status, response, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                params![
                    r.sequence as i64,
                    r.key,
                    r.sha,
                    serde_json::to_string(&r.routing)?,
                    r.status,
                    serde_json::to_string(&r.response)?,
                    r.body.as_bytes()
                ],
            )
            .with_context(|| format!("{}: cannot import", path.display()))?;
        if inserted == 0 {
            bail!(
                "{}: sequence {} or idempotency_key already imported from another file",
                path.display(),
                r.sequence
            );
        }
    }
    super::sqlite::add_count(&tx, files.len())?;
    let what = format!("{} ({} file(s))", dir.display(), files.len());
    tx.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)",
        params![MARK, what],
    )?;
    tx.commit()?;
    let to = data.join(IMPORTED_DIR);
    match fs::rename(&dir, &to) {
        Ok(()) => eprintln!(
            "serve: imported {} snapshot(s) from {}; the files are kept in {}",
            files.len(),
            dir.display(),
            to.display()
        ),
        Err(e) => eprintln!(
            "serve: imported {} snapshot(s) from {}; renaming it to {} failed ({e}), it will be ignored",
            files.len(),
            dir.display(),
            to.display()
        ),
    }
    Ok(())
}
