"""The tracker-publish component in wasmtime-py: loading, caching, calling.

Only wasmtime-py's public component API is used (`wasmtime.Engine`,
`wasmtime.component.Component`, `Linker`, `Func.__call__`), so any release in
the range pyproject.toml declares works; nothing here reads a C struct.

One engine, one compiled component, one store and one instance per process,
created on first use and reused, with the function handles looked up once; a
lock serialises calls, because a wasmtime store is not thread-safe. The body
comes back through `build-snapshot-payload-json-text` as a `string`: wasmtime's
C API lifts a `list<u8>` as one value per byte (slow in Python, and it spends
the per-call hostcall fuel at 48 bytes per byte), a `string` in one copy.

The compiled component is cached (`Component.serialize`) in the user's cache
directory, keyed by the wasmtime-py version, the machine and the component's
SHA-256, so later processes deserialize it instead of compiling it. Whenever
the cache cannot be read or written the component is compiled as usual.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime.component import Component, Linker

#: The exported interface of world `tracker-publish`.
INTERFACE = "spec-kitty:tracker/publish@0.1.0"

#: Environment variable naming the component file to load instead of the default.
WASM_ENV = "TRACKER_PUBLISH_WASM"

#: Environment variable naming the compiled-component cache directory; `off` disables the cache.
CACHE_ENV = "TRACKER_PUBLISH_CACHE_DIR"

#: The interface of one string in, one string out per call (world `tracker-publish-full`).
FRAMED_INTERFACE = "spec-kitty:tracker/framed@0.1.0"

#: The exports the package calls, by interface and WIT name.
EXPORTS = {
    INTERFACE: (
        "normalize-provider",
        "resolve-resource-routing",
        "build-snapshot-payload-json",
        "build-snapshot-payload-json-text",
        "decide-retry",
    ),
    # wasmtime-py builds a Python object per WIT type of a signature on every
    # call, so the hot calls go through these (about 6x cheaper there).
    FRAMED_INTERFACE: (
        "resolve-resource-routing-framed",
        "build-snapshot-payload-framed",
    ),
}

#: The component file, in the package and in a checkout's dist/: the full
#: world, the one that exports `framed`.
WASM_NAME = "tracker_publish_full.wasm"

# A cache file is the serialized component followed by the SHA-256 of it:
# a torn or damaged file is never handed to `deserialize`.
_DIGEST = 32


class ComponentFailure(RuntimeError):
    """The component trapped or could not be loaded: a bug or a broken install, never the input's fault."""


def _checkout_wasm() -> Path | None:
    """In a source checkout (src/tracker_publish of host-examples/python), the repository's dist/tracker_publish_full.wasm."""
    here = Path(__file__).resolve().parent
    if here.parent.name != "src" or len(here.parents) < 4:
        return None
    repo = here.parents[3]
    candidate = repo / "dist" / WASM_NAME
    if (repo / "wit" / "tracker.wit").is_file() and candidate.is_file():
        return candidate
    return None


def wasm_path() -> Path | None:
    """Where the component is loaded from; None means the copy inside the package (importlib.resources).

    `TRACKER_PUBLISH_WASM` when set; else, in a source checkout, the
    repository's `dist/tracker_publish_full.wasm` (what `make build` writes); else
    the copy shipped inside this package.
    """
    env = os.environ.get(WASM_ENV)
    if env:
        return Path(env)
    return _checkout_wasm()


def _wasm_bytes() -> tuple[bytes, str]:
    """The component's bytes and where they came from (for messages)."""
    path = wasm_path()
    if path is not None:
        return path.read_bytes(), str(path)
    import importlib.resources

    res = importlib.resources.files(__package__) / WASM_NAME
    return res.read_bytes(), f"the tracker_publish package ({WASM_NAME})"


def wasmtime_version() -> str:
    """The installed wasmtime-py release (part of the cache key).

    Read from the name of its `wasmtime-<version>.dist-info` beside the
    package (importlib.metadata costs tens of milliseconds to import), else
    from importlib.metadata.
    """
    global _WASMTIME_VERSION
    if _WASMTIME_VERSION is None:
        site = os.path.dirname(os.path.dirname(os.path.abspath(wasmtime.__file__)))
        try:
            found = [n[len("wasmtime-") : -len(".dist-info")] for n in os.listdir(site) if n.startswith("wasmtime-") and n.endswith(".dist-info")]
        except OSError:
            found = []
        if len(found) == 1:
            _WASMTIME_VERSION = found[0]
        else:
            import importlib.metadata

            try:
                _WASMTIME_VERSION = importlib.metadata.version("wasmtime")
            except importlib.metadata.PackageNotFoundError:
                _WASMTIME_VERSION = "unknown"
    return _WASMTIME_VERSION


_WASMTIME_VERSION: str | None = None


def cache_dir() -> Path | None:
    """The compiled-component cache: `$TRACKER_PUBLISH_CACHE_DIR`, else the platform's user cache directory; None when off."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return root / "tracker-publish"


def _machine() -> str:
    """`platform.machine()`, without importing `platform` (a few ms at start-up) where `os.uname` has it."""
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform

    return platform.machine()


def cache_file(wasm: bytes) -> Path | None:
    """The cache entry for this component under this wasmtime-py on this machine."""
    d = cache_dir()
    if d is None:
        return None
    key = f"wasmtime-{wasmtime_version()}-{sys.platform}-{_machine()}-{hashlib.sha256(wasm).hexdigest()[:32]}"
    return d / f"{key}.cwasm"


def _trusted(path: Path) -> bool:
    """A cache file only this user could have written (POSIX); elsewhere, any regular file."""
    st = path.stat()
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not (st.st_mode & 0o022)


def _read_cached(engine: wasmtime.Engine, path: Path) -> Component | None:
    try:
        if not _trusted(path):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    blob, digest = data[:-_DIGEST], data[-_DIGEST:]
    if len(data) <= _DIGEST or hashlib.sha256(blob).digest() != digest:
        return None
    try:
        # Refused by wasmtime itself when made by another wasmtime or engine configuration.
        return Component.deserialize(engine, blob)
    except wasmtime.WasmtimeError:
        return None


def _write_cached(component: Component, path: Path) -> None:
    """Atomically (a temporary file renamed into place); any failure leaves no entry."""
    try:
        blob = bytes(component.serialize())
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        import tempfile  # only when writing the cache: not at import time

        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".cwasm", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.write(hashlib.sha256(blob).digest())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, wasmtime.WasmtimeError):
        pass


def load_component(engine: wasmtime.Engine) -> tuple[Component, bool]:
    """The compiled component and whether it came from the cache."""
    try:
        wasm, where = _wasm_bytes()
    except OSError as e:
        raise ComponentFailure(f"cannot load the tracker-publish component from {_where()} (set {WASM_ENV} or run `make build`): {e}") from e
    entry = cache_file(wasm)
    if entry is not None:
        cached = _read_cached(engine, entry)
        if cached is not None:
            return cached, True
    try:
        component = Component(engine, wasm)
    except wasmtime.WasmtimeError as e:
        raise ComponentFailure(f"cannot load the tracker-publish component from {where} (set {WASM_ENV} or run `make build`): {e}") from e
    if entry is not None:
        _write_cached(component, entry)
    return component, False


def _where() -> str:
    path = wasm_path()
    return str(path) if path is not None else f"the tracker_publish package ({WASM_NAME})"


class Instance:
    """The component instantiated once, with its function handles looked up once."""

    def __init__(self, engine: wasmtime.Engine, component: Component) -> None:
        self.store = wasmtime.Store(engine)
        inst = Linker(engine).instantiate(self.store, component)
        self.funcs: dict[str, Any] = {}
        for interface, names in EXPORTS.items():
            iface = component.get_export_index(interface)
            if iface is None:
                raise ComponentFailure(f"the component does not export {interface} (not {WASM_NAME}, or an older one?)")
            for name in names:
                idx = component.get_export_index(name, iface)
                func = inst.get_func(self.store, idx) if idx is not None else None
                if func is None:
                    raise ComponentFailure(f"the component does not export {interface}#{name} (an older {WASM_NAME}?)")
                self.funcs[name] = func


class Runtime:
    """The process-wide engine, component and instance; calls are serialised."""

    def __init__(self) -> None:
        self.engine = wasmtime.Engine()
        self.component, self.from_cache = load_component(self.engine)
        self.lock = threading.Lock()
        self._instance: Instance | None = None

    def instance(self) -> Instance:
        """The live instance (the caller holds `lock`)."""
        if self._instance is None:
            self._instance = Instance(self.engine, self.component)
        return self._instance

    def call(self, name: str, *args: Any) -> Any:
        with self.lock:
            inst = self.instance()
            func = inst.funcs[name]
            try:
                result = func(inst.store, *args)
                # Once per call, after the result is lifted: wasmtime-py 39
                # needs it before the next call; in later releases it is a no-op.
                func.post_return(inst.store)
                return result
            except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
                # A trapped instance may be inconsistent: the next call gets a fresh one.
                self._instance = None
                raise ComponentFailure(f"the component failed (a bug in tracker-publish, not in the input): {e}") from None


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """The process-wide runtime, loaded on first use (thread-safe)."""
    global _runtime
    rt = _runtime
    if rt is None:
        with _runtime_lock:
            rt = _runtime
            if rt is None:
                rt = _runtime = Runtime()
    return rt
