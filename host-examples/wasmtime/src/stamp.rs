// The pairing of a precompiled component with its component (build.rs and
// bin/precompile.rs): `<cwasm>.sha256` holds the lower-case hex SHA-256 of the
// component the `.cwasm` was compiled from.

/// Where the stamp of a precompiled component lives.
pub fn precompile_stamp(cwasm: &Path) -> PathBuf {
    let mut name = cwasm.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// The component's SHA-256, as the stamp records it.
pub fn component_hash(wasm: &[u8]) -> String {
    hex::encode(Sha256::digest(wasm))
}
