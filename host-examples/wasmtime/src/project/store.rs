//! The tracker's SQLite store, opened read-only: the rows the CLI reads, as
//! stored. Converting them is the component's job.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use tracker_publish::ErrorKind as Core;

use crate::error::{Error, ErrorKind};

use crate::{Checkpoint, MappingRow, StoredIssueRow};

/// What the store holds for one project.
#[derive(Default)]
pub struct StoreContents {
    /// `tracker_issues` rows of the project's system, `ORDER BY identity`.
    pub rows: Vec<StoredIssueRow>,
    /// Every `tracker_mappings` row, `ORDER BY wp_id, system`.
    pub mappings: Vec<MappingRow>,
    /// The checkpoint row for `<system>:<workspace>`; `updated_since` as stored.
    pub checkpoint: Option<Checkpoint>,
}

/// The columns of the CLI's schema; a store missing one is refused.
const SCHEMA: [(&str, &[&str]); 3] = [
    (
        "tracker_issues",
        &[
            "identity",
            "system",
            "workspace",
            "issue_id",
            "payload",
            "updated_at",
        ],
    ),
    (
        "tracker_checkpoints",
        &["checkpoint_key", "cursor", "updated_since"],
    ),
    (
        "tracker_mappings",
        &[
            "wp_id",
            "system",
            "workspace",
            "external_id",
            "external_key",
            "external_url",
            "created_at",
            "updated_at",
        ],
    ),
];

/// Reads the store at `path` (derived from `scope`, named when it is missing).
pub fn read_store(
    path: &Path,
    scope: &str,
    system: &str,
    checkpoint_key: &str,
) -> Result<StoreContents, Error> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(Error::new(
            ErrorKind::StoreMissing,
            format!(
                "no tracker store at {shown} (scope \"{scope}\"): sync the tracker first \
                 (spec-kitty tracker sync pull), give --store, or pass --allow-empty to publish an empty snapshot"
            ),
        ));
    }
    let store_err = |e: rusqlite::Error| {
        let what = match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                "locked by another process; retry when it is done".to_owned()
            }
            Some(ErrorCode::NotADatabase) => "not a SQLite database".to_owned(),
            Some(ErrorCode::DatabaseCorrupt) => "corrupt".to_owned(),
            _ => e.to_string(),
        };
        Error::new(ErrorKind::InvalidStore, format!("{shown}: {what}"))
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(store_err)?;
    conn.busy_timeout(Duration::from_secs(2))
        .map_err(store_err)?;
    // One read transaction: the three tables from one moment.
    conn.execute_batch("BEGIN").map_err(store_err)?;

    for (table, columns) in SCHEMA {
        let mut stmt = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .map_err(store_err)?;
        let have: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(store_err)?;
        if have.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidStore,
                format!("{shown}: table {table} is missing (not a spec-kitty tracker store?)"),
            ));
        }
        if let Some(c) = columns.iter().find(|c| !have.iter().any(|h| h == *c)) {
            return Err(Error::new(
                ErrorKind::InvalidStore,
                format!("{shown}: column {table}.{c} is missing"),
            ));
        }
    }

    let mut contents = StoreContents::default();
    let mut stmt = conn
        .prepare("SELECT identity, payload FROM tracker_issues WHERE system = ?1 ORDER BY identity")
        .map_err(store_err)?;
    let mut rows = stmt.query([system]).map_err(store_err)?;
    while let Some(row) = rows.next().map_err(store_err)? {
        let identity = match row.get_ref(0).map_err(store_err)? {
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            ValueRef::Integer(i) => i.to_string(),
            _ => String::from("(not text)"),
        };
        let bad = |what: &str| {
            Error::new(
                Core::InvalidStoreRow,
                format!("{shown}: tracker_issues row {identity:?}: payload: {what}"),
            )
        };
        let payload = match row.get_ref(1).map_err(store_err)? {
            ValueRef::Text(t) => {
                String::from_utf8(t.to_vec()).map_err(|_| bad("not valid UTF-8"))?
            }
            ValueRef::Null => return Err(bad("NULL, not JSON text")),
            ValueRef::Blob(_) => return Err(bad("a BLOB, not JSON text")),
            _ => return Err(bad("a number, not a JSON object")),
        };
        contents.rows.push(StoredIssueRow { identity, payload });
    }
    drop(rows);
    drop(stmt);

    let mut stmt = conn
        .prepare(
            "SELECT wp_id, system, workspace, external_id, external_key, external_url, created_at, updated_at \
             FROM tracker_mappings ORDER BY wp_id, system",
        )
        .map_err(store_err)?;
    let mut rows = stmt.query([]).map_err(store_err)?;
    let mut n = 0usize;
    while let Some(row) = rows.next().map_err(store_err)? {
        n += 1;
        // Python's str() of what SQLite returns: text as stored, an integer
        // in decimal; NULL only where the schema allows it.
        let cell = |i: usize, name: &str, nullable: bool| -> Result<Option<String>, Error> {
            let bad = |what: &str| {
                Error::new(
                    ErrorKind::InvalidStore,
                    format!("{shown}: tracker_mappings row {n}: {name}: {what}"),
                )
            };
            match row.get_ref(i).map_err(store_err)? {
                ValueRef::Text(t) => String::from_utf8(t.to_vec())
                    .map(Some)
                    .map_err(|_| bad("not valid UTF-8")),
                ValueRef::Integer(v) => Ok(Some(v.to_string())),
                ValueRef::Null if nullable => Ok(None),
                ValueRef::Null => Err(bad("NULL (the CLI would publish \"None\")")),
                ValueRef::Real(_) => Err(bad("a float (the CLI would publish its Python repr)")),
                ValueRef::Blob(_) => Err(bad("a BLOB (the CLI would publish its Python repr)")),
            }
        };
        let req = |i, name| cell(i, name, false).map(Option::unwrap_or_default);
        contents.mappings.push(MappingRow {
            wp_id: req(0, "wp_id")?,
            system: req(1, "system")?,
            workspace: req(2, "workspace")?,
            external_id: req(3, "external_id")?,
            external_key: cell(4, "external_key", true)?,
            external_url: cell(5, "external_url", true)?,
            created_at: req(6, "created_at")?,
            updated_at: req(7, "updated_at")?,
        });
    }
    drop(rows);
    drop(stmt);

    let mut stmt = conn
        .prepare("SELECT cursor, updated_since FROM tracker_checkpoints WHERE checkpoint_key = ?1")
        .map_err(store_err)?;
    let mut rows = stmt.query([checkpoint_key]).map_err(store_err)?;
    if let Some(row) = rows.next().map_err(store_err)? {
        let bad = |what: &str| {
            Error::new(
                ErrorKind::InvalidStore,
                format!("{shown}: tracker_checkpoints row {checkpoint_key:?}: cursor: {what}"),
            )
        };
        let cursor = match row.get_ref(0).map_err(store_err)? {
            ValueRef::Text(t) => {
                Some(String::from_utf8(t.to_vec()).map_err(|_| bad("not valid UTF-8"))?)
            }
            ValueRef::Integer(v) => Some(v.to_string()),
            ValueRef::Null => None,
            ValueRef::Real(_) => {
                return Err(bad("a float (the CLI would publish its Python repr)"));
            }
            ValueRef::Blob(_) => return Err(bad("a BLOB (the CLI would publish its Python repr)")),
        };
        // Only text can be a timestamp; the CLI reads anything else as none.
        let updated_since = match row.get_ref(1).map_err(store_err)? {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().map(str::to_owned),
            _ => None,
        };
        contents.checkpoint = Some(Checkpoint {
            cursor,
            updated_since,
        });
    }
    Ok(contents)
}
