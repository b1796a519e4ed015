"""The tracker-publish component in wasmtime-py: loading, calling, lifting results.

One engine, one compiled component, one store and one instance per process,
created on first use and reused; a lock serialises calls, because a wasmtime
store is not thread-safe. Parameters are lowered with wasmtime-py's own
converters, except lists of string pairs (the credentials), built directly.
Results are lifted here, straight from the C API values: the
generic converters lift a `list<u8>` one element at a time in Python (about
0.5 s for a 650 kB body), while a strided view over the value array takes a
few milliseconds. The layout read is that of wasmtime-py 50.0.1, which
pyproject.toml pins; tests/test_component.py checks that both ways agree.
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import byref, pointer
from pathlib import Path
from typing import Any, Callable

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import Component, Linker, ListType, String, TupleType

#: The exported interface of world `tracker-publish`.
INTERFACE = "spec-kitty:tracker/publish@0.1.0"

#: Environment variable naming the component file to load instead of the default.
WASM_ENV = "TRACKER_PUBLISH_WASM"

_K_U8 = ffi.WASMTIME_COMPONENT_U8.value
_K_STRING = ffi.WASMTIME_COMPONENT_STRING.value
_K_LIST = ffi.WASMTIME_COMPONENT_LIST.value
_K_RECORD = ffi.WASMTIME_COMPONENT_RECORD.value
_K_TUPLE = ffi.WASMTIME_COMPONENT_TUPLE.value
_K_ENUM = ffi.WASMTIME_COMPONENT_ENUM.value
_K_OPTION = ffi.WASMTIME_COMPONENT_OPTION.value
_K_RESULT = ffi.WASMTIME_COMPONENT_RESULT.value
_VAL_SIZE = ctypes.sizeof(ffi.wasmtime_component_val_t)
_VAL_OF = ffi.wasmtime_component_val_t.of.offset


class ComponentFailure(RuntimeError):
    """The component trapped or could not be loaded: a bug or a broken install, never the input's fault."""


def wasm_path() -> Path:
    """Where the component is loaded from.

    `TRACKER_PUBLISH_WASM` when set; else, in a source checkout, the repository's
    `dist/tracker_publish.wasm` (what `make build` writes); else the copy
    shipped inside this package.
    """
    env = os.environ.get(WASM_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for parent in here.parents:
        if (parent / "wit" / "tracker.wit").is_file():
            candidate = parent / "dist" / "tracker_publish.wasm"
            if candidate.is_file():
                return candidate
            break
    return here / "tracker_publish.wasm"


# ---------------------------------------------------------------------------
# Lifting C API values (the caller deletes the whole value afterwards).
# ---------------------------------------------------------------------------


def _expect(v: Any, kind: int) -> None:
    if v.kind != kind:
        raise ComponentFailure(f"unexpected component value kind {v.kind}, expected {kind}")


def _str(v: Any) -> str:
    _expect(v, _K_STRING)
    return ffi.to_str(v.of.string)


def _bytes(v: Any) -> bytes:
    """A `list<u8>`: a strided view over the value array, copied once."""
    _expect(v, _K_LIST)
    n = v.of.list.size
    if n == 0:
        return b""
    addr = ctypes.addressof(v.of.list.data.contents)
    vals = memoryview((ctypes.c_ubyte * (n * _VAL_SIZE)).from_address(addr)).cast("B")
    if vals[0::_VAL_SIZE].tobytes() != bytes((_K_U8,)) * n:
        raise ComponentFailure("unexpected element kind in a list<u8>")
    return vals[_VAL_OF::_VAL_SIZE].tobytes()


def _fields(v: Any) -> dict[str, Any]:
    _expect(v, _K_RECORD)
    rec = v.of.record
    return {ffi.to_str(rec.data[i].name): rec.data[i].val for i in range(rec.size)}


def _string_pairs(v: Any) -> list[tuple[str, str]]:
    _expect(v, _K_LIST)
    out = []
    lst = v.of.list
    for i in range(lst.size):
        t = lst.data[i]
        _expect(t, _K_TUPLE)
        out.append((_str(t.of.tuple.data[0]), _str(t.of.tuple.data[1])))
    return out


def _publish_result(v: Any) -> tuple[bool, Any]:
    """`result<publish-request, publish-error>` as (ok, fields)."""
    _expect(v, _K_RESULT)
    f = _fields(v.of.result.val.contents)
    if v.of.result.is_ok:
        return True, (_str(f["endpoint"]), _string_pairs(f["headers"]), _bytes(f["body"]), _str(f["idempotency-key"]))
    kind = f["kind"]
    _expect(kind, _K_ENUM)
    return False, (ffi.to_str(kind.of.enumeration), _str(f["message"]))


def _routing_result(v: Any) -> tuple[str, str] | None:
    """`option<resource-routing>`."""
    _expect(v, _K_OPTION)
    if not v.of.option:
        return None
    f = _fields(v.of.option.contents)
    return _str(f["resource-type"]), _str(f["resource-id"])


def _string_result(v: Any) -> str:
    return _str(v)


# ---------------------------------------------------------------------------
# The instance.
# ---------------------------------------------------------------------------


def _lower_string_pairs(_store: Any, val: Any, ptr: Any) -> None:
    """A `list<tuple<string, string>>`, built directly (the generic path asks the C API for the element types on every element)."""
    # Encode everything first, so that a bad value raises before anything is allocated.
    encoded = []
    for pair in val:
        k, v = pair
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("expected a list of (str, str) pairs")
        encoded.append((k.encode("utf-8"), v.encode("utf-8")))
    raw = ffi.wasmtime_component_vallist_t()
    ffi.wasmtime_component_vallist_new_uninit(raw, len(encoded))
    for i, (k, v) in enumerate(encoded):
        t = ffi.wasmtime_component_valtuple_t()
        ffi.wasmtime_component_valtuple_new_uninit(t, 2)
        t.data[0].kind = _K_STRING
        t.data[0].of.string = ffi.bytes_to_capi(k)
        t.data[1].kind = _K_STRING
        t.data[1].of.string = ffi.bytes_to_capi(v)
        raw.data[i].kind = _K_TUPLE
        raw.data[i].of.tuple = t
    ptr.contents.kind = _K_LIST
    ptr.contents.of.list = raw


def _lowering(ty: Any) -> Callable[[Any, Any, Any], None]:
    if (
        isinstance(ty, ListType)
        and isinstance(ty.element, TupleType)
        and [type(e) for e in ty.element.elements] == [String, String]
    ):
        return _lower_string_pairs
    return ty.convert_to_c


class _Export:
    """One exported function, its parameter types looked up once."""

    def __init__(self, store: wasmtime.Store, func: Any, lift: Callable[[Any], Any]) -> None:
        self.func = func
        self.params = [_lowering(ty) for _name, ty in func.type(store).params]
        self.lift = lift

    def call(self, store: wasmtime.Store, *args: Any) -> Any:
        # As wasmtime.component.Func.__call__, lifting the result with `self.lift`.
        params = (ffi.wasmtime_component_val_t * len(args))()
        n = 0
        result = ffi.wasmtime_component_val_t()
        try:
            for lower, val in zip(self.params, args):
                lower(store, val, pointer(params[n]))
                n += 1
            err = ffi.wasmtime_component_func_call(byref(self.func._func), store._context(), params, n, byref(result), 1)
            if err:
                raise ComponentFailure(f"the component failed (a bug in tracker-publish, not in the input): {wasmtime.WasmtimeError._from_ptr(err)}")
            try:
                return self.lift(result)
            finally:
                ffi.wasmtime_component_val_delete(byref(result))
        finally:
            for i in range(n):
                ffi.wasmtime_component_val_delete(byref(params[i]))


class Instance:
    """The component instantiated once, with its four exports."""

    def __init__(self, engine: wasmtime.Engine, component: Component) -> None:
        self.store = wasmtime.Store(engine)
        inst = Linker(engine).instantiate(self.store, component)
        iface = inst.get_export_index(self.store, INTERFACE)
        if iface is None:
            raise ComponentFailure(f"the component does not export {INTERFACE}")

        def export(name: str, lift: Callable[[Any], Any]) -> _Export:
            idx = inst.get_export_index(self.store, name, iface)
            func = inst.get_func(self.store, idx) if idx is not None else None
            if func is None:
                raise ComponentFailure(f"the component does not export {INTERFACE}#{name}")
            return _Export(self.store, func, lift)

        self.normalize_provider = export("normalize-provider", _string_result)
        self.resolve_resource_routing = export("resolve-resource-routing", _routing_result)
        self.build_snapshot_payload = export("build-snapshot-payload", _publish_result)
        self.build_snapshot_payload_json = export("build-snapshot-payload-json", _publish_result)
        # Kept for the tests that compare with wasmtime-py's generic conversion.
        self.raw = inst


class Runtime:
    """The process-wide engine, component and instance; calls are serialised."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.engine = wasmtime.Engine()
            self.component = Component.from_file(self.engine, str(path))
        except (OSError, wasmtime.WasmtimeError) as e:
            raise ComponentFailure(f"cannot load the tracker-publish component from {path} (set {WASM_ENV} or run `make build`): {e}") from e
        self.lock = threading.Lock()
        self._instance: Instance | None = None

    def call(self, name: str, *args: Any) -> Any:
        with self.lock:
            if self._instance is None:
                self._instance = Instance(self.engine, self.component)
            inst = self._instance
            try:
                return getattr(inst, name).call(inst.store, *args)
            except ComponentFailure:
                # A trapped instance may be inconsistent: the next call gets a fresh one.
                self._instance = None
                raise


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
                rt = _runtime = Runtime(wasm_path())
    return rt
