//! Build step: compiles `dist/tracker_publish_full.wasm` ahead of time for
//! this wasmtime, so that `tracker-publish` starts without compiling, and
//! records the component's SHA-256 beside it (`OUT.cwasm.sha256`): build.rs
//! embeds the precompiled form only for the component it was made from.
//!
//! Usage: `precompile IN.wasm OUT.cwasm`

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

include!("../stamp.rs");

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        anyhow::bail!("usage: precompile IN.wasm OUT.cwasm");
    };
    let wasm = std::fs::read(input).map_err(|e| anyhow::anyhow!("{input}: {e}"))?;
    let engine = tracker_publish_host::engine()?;
    let cwasm = engine.precompile_component(&wasm)?;
    let stamp = precompile_stamp(Path::new(output));
    // The old stamp goes first: a failure below leaves no stale pairing.
    match std::fs::remove_file(&stamp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            anyhow::bail!("{}: {e}", stamp.display())
        }
        _ => {}
    }
    std::fs::write(output, cwasm).map_err(|e| anyhow::anyhow!("{output}: {e}"))?;
    std::fs::write(&stamp, component_hash(&wasm))
        .map_err(|e| anyhow::anyhow!("{}: {e}", stamp.display()))?;
    Ok(())
}
