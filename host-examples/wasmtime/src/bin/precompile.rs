//! Build step: compiles `dist/tracker_publish.wasm` ahead of time for this
//! wasmtime, so that `tracker-publish` starts without compiling.
//!
//! Usage: `precompile IN.wasm OUT.cwasm`

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        anyhow::bail!("usage: precompile IN.wasm OUT.cwasm");
    };
    let wasm = std::fs::read(input).map_err(|e| anyhow::anyhow!("{input}: {e}"))?;
    let engine = tracker_publish_host::engine()?;
    let cwasm = engine.precompile_component(&wasm)?;
    std::fs::write(output, cwasm).map_err(|e| anyhow::anyhow!("{output}: {e}"))?;
    Ok(())
}
