//! The payload schema (contract section 4), for verify-snapshot: exactly
//! the payload's fields, in contract order. The value rules are
//! `crate::verify`'s.

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn snapshot_payload(&mut self) -> Result<SnapshotPayload<'a>> {
        const NAMES: [&str; 11] = [
            "provider",
            "workspace",
            "external_resource_type",
            "external_resource_id",
            "doctrine_mode",
            "doctrine_field_owners",
            "project_uuid",
            "project_slug",
            "issues",
            "mappings",
            "checkpoint",
        ];
        let mut out = SnapshotPayload::default();
        let mut seen = 0;
        self.object("an object (the snapshot payload)", |r, key| {
            match key.as_ref() {
                "provider" => put!(r, seen, 1 << 0, r.put_string(&mut out.provider)),
                "workspace" => put!(r, seen, 1 << 1, r.put_string(&mut out.workspace)),
                "external_resource_type" => put!(
                    r,
                    seen,
                    1 << 2,
                    r.put_opt_string(&mut out.external_resource_type)
                ),
                "external_resource_id" => put!(
                    r,
                    seen,
                    1 << 3,
                    r.put_opt_string(&mut out.external_resource_id)
                ),
                "doctrine_mode" => put!(r, seen, 1 << 4, r.put_string(&mut out.doctrine_mode)),
                "doctrine_field_owners" => {
                    set!(r, seen, 1 << 5, out.doctrine_field_owners, r.string_map()?)
                }
                "project_uuid" => put!(r, seen, 1 << 6, r.put_opt_string(&mut out.project_uuid)),
                "project_slug" => put!(r, seen, 1 << 7, r.put_opt_string(&mut out.project_slug)),
                "issues" => set!(r, seen, 1 << 8, out.issues, r.issue_list()?),
                "mappings" => set!(r, seen, 1 << 9, out.mappings, r.mapping_list()?),
                "checkpoint" => {
                    // A client always writes the object, nulls inside when
                    // there is no checkpoint row.
                    r.once(&mut seen, 1 << 10, &NAMES)?;
                    r.ws();
                    if r.peek() != Some(b'{') {
                        return Err(r.expected("an object (the checkpoint)"));
                    }
                    out.checkpoint = r.checkpoint()?;
                }
                _ => return Err(r.unknown()),
            }
            Ok(())
        })?;
        self.require(seen, &NAMES)?;
        Ok(out)
    }
}
