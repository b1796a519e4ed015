//! The input schema (contract section 1): the snapshot input and the
//! records it shares with the payload (issue, reference, mapping,
//! checkpoint).

use super::*;

impl<'a> Reader<'a> {
    // ---- the schema ---------------------------------------------------
    //
    // Each record is filled in place; `seen` has one bit per field, in the
    // order in which missing fields are reported.

    pub(super) fn snapshot_input(&mut self) -> Result<SnapshotInput<'a>> {
        const NAMES: [&str; 11] = [
            "server_url",
            "auth_token",
            "provider",
            "workspace",
            "doctrine_field_owners",
            "credentials",
            "project_uuid",
            "project_slug",
            "issues",
            "mappings",
            "checkpoint",
        ];
        // The contract lets the doctrine mode be missing: it is not in NAMES.
        const DOCTRINE_MODE: u32 = 1 << NAMES.len();
        let mut out = SnapshotInput::default();
        let mut seen = 0;
        self.object("an object (the snapshot input)", |r, key| {
            match key.as_ref() {
                "server_url" => put!(r, seen, 1 << 0, r.put_string(&mut out.server_url)),
                "auth_token" => put!(r, seen, 1 << 1, r.put_opt_string(&mut out.auth_token)),
                "provider" => put!(r, seen, 1 << 2, r.put_string(&mut out.provider)),
                "workspace" => put!(r, seen, 1 << 3, r.put_string(&mut out.workspace)),
                "doctrine_field_owners" => {
                    set!(r, seen, 1 << 4, out.doctrine_field_owners, r.string_map()?)
                }
                "credentials" => set!(r, seen, 1 << 5, out.credentials, r.string_map()?),
                "project_uuid" => put!(r, seen, 1 << 6, r.put_opt_string(&mut out.project_uuid)),
                "project_slug" => put!(r, seen, 1 << 7, r.put_opt_string(&mut out.project_slug)),
                "issues" => set!(r, seen, 1 << 8, out.issues, r.issue_list()?),
                "mappings" => set!(r, seen, 1 << 9, out.mappings, r.mapping_list()?),
                "checkpoint" => {
                    let c = if r.null()? {
                        None
                    } else {
                        Some(r.checkpoint()?)
                    };
                    set!(r, seen, 1 << 10, out.checkpoint, c)
                }
                "doctrine_mode" => put!(
                    r,
                    seen,
                    DOCTRINE_MODE,
                    r.put_opt_string(&mut out.doctrine_mode)
                ),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    /// `issues`: the same list in the input form and in a payload.
    pub(super) fn issue_list(&mut self) -> Result<Vec<IssueSnapshot<'a>>> {
        let mut v = Vec::new();
        self.array(limits::MAX_ISSUES, "MAX_ISSUES", |r| {
            v.push(r.issue()?);
            Ok(())
        })?;
        Ok(v)
    }

    /// `mappings`: the same list in the input form and in a payload.
    pub(super) fn mapping_list(&mut self) -> Result<Vec<MappingRow<'a>>> {
        let mut v = Vec::new();
        self.array(limits::MAX_MAPPINGS, "MAX_MAPPINGS", |r| {
            v.push(r.mapping()?);
            Ok(())
        })?;
        Ok(v)
    }

    pub(super) fn issue(&mut self) -> Result<IssueSnapshot<'a>> {
        const NAMES: [&str; 9] = [
            "ref",
            "title",
            "body",
            "status",
            "issue_type",
            "priority",
            "assignees",
            "labels",
            "updated_at",
        ];
        let mut out = IssueSnapshot::default();
        let mut seen = 0;
        self.object("an object (an issue)", |r, key| {
            match key.as_ref() {
                "ref" => set!(r, seen, 1 << 0, out.r#ref, r.issue_ref()?),
                "title" => put!(r, seen, 1 << 1, r.put_text(&mut out.title)),
                "body" => put!(r, seen, 1 << 2, r.put_opt_text(&mut out.body)),
                "status" => put!(r, seen, 1 << 3, r.put_string(&mut out.status)),
                "issue_type" => put!(r, seen, 1 << 4, r.put_string(&mut out.issue_type)),
                "priority" => set!(r, seen, 1 << 5, out.priority, r.opt_i64()?),
                "assignees" => set!(r, seen, 1 << 6, out.assignees, r.string_list()?),
                "labels" => set!(r, seen, 1 << 7, out.labels, r.string_list()?),
                "updated_at" => put!(r, seen, 1 << 8, r.put_opt_string(&mut out.updated_at)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    pub(super) fn issue_ref(&mut self) -> Result<IssueRef<'a>> {
        const NAMES: [&str; 5] = ["system", "workspace", "id", "key", "url"];
        let mut out = IssueRef::default();
        let mut seen = 0;
        self.object("an object (an issue ref)", |r, key| {
            match key.as_ref() {
                "system" => put!(r, seen, 1 << 0, r.put_string(&mut out.system)),
                "workspace" => put!(r, seen, 1 << 1, r.put_string(&mut out.workspace)),
                "id" => put!(r, seen, 1 << 2, r.put_string(&mut out.id)),
                "key" => put!(r, seen, 1 << 3, r.put_opt_string(&mut out.key)),
                "url" => put!(r, seen, 1 << 4, r.put_opt_string(&mut out.url)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    pub(super) fn mapping(&mut self) -> Result<MappingRow<'a>> {
        const NAMES: [&str; 8] = [
            "wp_id",
            "system",
            "workspace",
            "external_id",
            "external_key",
            "external_url",
            "created_at",
            "updated_at",
        ];
        let mut out = MappingRow::default();
        let mut seen = 0;
        self.object("an object (a mapping)", |r, key| {
            match key.as_ref() {
                "wp_id" => put!(r, seen, 1 << 0, r.put_string(&mut out.wp_id)),
                "system" => put!(r, seen, 1 << 1, r.put_string(&mut out.system)),
                "workspace" => put!(r, seen, 1 << 2, r.put_string(&mut out.workspace)),
                "external_id" => put!(r, seen, 1 << 3, r.put_string(&mut out.external_id)),
                "external_key" => put!(r, seen, 1 << 4, r.put_opt_string(&mut out.external_key)),
                "external_url" => put!(r, seen, 1 << 5, r.put_opt_string(&mut out.external_url)),
                "created_at" => put!(r, seen, 1 << 6, r.put_string(&mut out.created_at)),
                "updated_at" => put!(r, seen, 1 << 7, r.put_string(&mut out.updated_at)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }

    pub(super) fn checkpoint(&mut self) -> Result<Checkpoint<'a>> {
        const NAMES: [&str; 2] = ["cursor", "updated_since"];
        let mut out = Checkpoint::default();
        let mut seen = 0;
        self.object("an object or null (the checkpoint)", |r, key| {
            match key.as_ref() {
                "cursor" => put!(r, seen, 1 << 0, r.put_opt_string(&mut out.cursor)),
                "updated_since" => put!(r, seen, 1 << 1, r.put_opt_string(&mut out.updated_since)),
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }
}
