// @spec-kitty/tracker-publish: the spec-kitty tracker snapshot publish request,
// computed by the tracker-publish WebAssembly component (zero imports), and
// sent with fetch.
//
// Nothing here re-implements a rule of the contract: the endpoint, headers,
// body bytes and idempotency key come from the component untouched. This file
// only turns JavaScript values into the component's JSON form (refusing the
// values JSON.stringify would quietly change), turns refusals into
// PublishError, and sends the bytes with retries.
import { readFileSync } from 'node:fs';
import { instantiate } from './gen/tracker_publish.js';
import { instantiate as instantiateFull } from './gen/tracker_publish_full.js';

// ---- the components ----------------------------------------------------------
//
// Two components, as in dist/: the lean `tracker_publish.wasm` (world
// `tracker-publish`: the `publish` interface) for normalizeProvider,
// resolveResourceRouting, buildSnapshotPayload and publish; the full
// `tracker_publish_full.wasm` (world `tracker-publish-full`: also `store`,
// `receive` and `framed`) for storedTimestamp, storeScope,
// buildSnapshotPayloadFromStore, verifySnapshot and `framed`, compiled only
// when one of those is first called.

const coreModule = new WebAssembly.Module(
  readFileSync(new URL('./gen/tracker_publish.core.wasm', import.meta.url)),
);

/** The lean component's `publish` interface; re-created after a trap. */
let instance = null;

function component() {
  return (instance ??= instantiate(() => coreModule, {}).publish);
}

let fullCoreModule = null;
/** The full component's exports (`publish`, `store`, `receive`, `framed`); re-created after a trap. */
let fullInstance = null;

function fullComponent() {
  fullCoreModule ??= new WebAssembly.Module(
    readFileSync(new URL('./gen/tracker_publish_full.core.wasm', import.meta.url)),
  );
  return (fullInstance ??= instantiateFull(() => fullCoreModule, {}));
}

/**
 * The error for anything the component threw. A refusal is the component's
 * `publish-error` record (jco runs with --no-component-error-wrapping);
 * anything else is a trap (a bug, or memory exhausted), after which jco
 * refuses every further call on that instance, so the next call gets a new one.
 */
function fromComponent(e) {
  if (e !== null && typeof e === 'object' && !(e instanceof Error) && typeof e.kind === 'string') {
    return new PublishError(e.kind, String(e.message));
  }
  instance = null;
  fullInstance = null;
  return new Error(`tracker-publish: the component failed: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e,
  });
}

// ---- errors ----------------------------------------------------------------

/**
 * A refusal, or a publish that got no answer. `kind` is one of the kinds of
 * publish-contract.md section 7 (`not-configured`, `invalid-server-url`,
 * `invalid-auth-token`, `invalid-input`, `too-large`, ...), or, from
 * `publish`, `network-error` or `timeout`. The message names the field at fault
 * and never contains a token or a credential value.
 */
export class PublishError extends Error {
  constructor(kind, message, options) {
    super(message, options);
    this.name = 'PublishError';
    this.kind = kind;
  }
}

function invalid(path, what) {
  return new PublishError('invalid-input', `${path || 'input'}: ${what}`);
}

/** What a value is, for messages: never the value itself (it may be a secret). */
function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'undefined':
      return 'undefined';
    case 'object': {
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) return 'an object';
      const name = proto?.constructor?.name;
      return typeof name === 'string' && name ? `a ${name}` : 'an object that is not plain';
    }
    default:
      return /^[aeiou]/.test(typeof v) ? `an ${typeof v}` : `a ${typeof v}`;
  }
}

function isPlainObject(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A path as the component writes it: `issues[3].ref.id`, `credentials["a b"]`. */
function formatPath(segments) {
  let s = '';
  for (const k of segments) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (/^[A-Za-z0-9_]+$/.test(k)) s += s ? `.${k}` : k;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

// ---- the JSON form ---------------------------------------------------------

const MAX_DEPTH = 32;

/**
 * Where JSON.stringify(v) would not mean what v means: `undefined` (dropped,
 * or written as null in arrays), functions and symbols (the same), BigInt
 * (throws), NaN and ±Infinity (written as null), objects that are not plain
 * (a Date becomes a string, a Map `{}`), a `toJSON` method, and cycles. Returns
 * undefined when v is fine, else `{ path, what }` with the path innermost first.
 * Everything else, including wrong types, is left to the component, whose
 * errors already name the field.
 */
function badJson(v, depth) {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : { path: [], what: `expected a JSON value, found ${v}` };
    case 'undefined':
      return { path: [], what: 'expected a JSON value, found undefined (use null for a missing value)' };
    case 'bigint':
      return { path: [], what: 'expected a JSON value, found a bigint (use a number)' };
    case 'function':
    case 'symbol':
      return { path: [], what: `expected a JSON value, found ${describe(v)}` };
  }
  if (v === null) return undefined;
  if (depth >= MAX_DEPTH) return { path: [], what: `nested more than ${MAX_DEPTH} levels deep (a cycle?)` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = badJson(v[i], depth + 1);
      if (bad !== undefined) {
        bad.path.push(i);
        return bad;
      }
    }
    return undefined;
  }
  if (!isPlainObject(v)) return { path: [], what: `expected a plain object, found ${describe(v)}` };
  if (typeof v.toJSON === 'function') return { path: [], what: 'expected a plain object, found one with a toJSON method' };
  for (const k of Object.keys(v)) {
    const bad = badJson(v[k], depth + 1);
    if (bad !== undefined) {
      bad.path.push(k);
      return bad;
    }
  }
  return undefined;
}

/** The input's ordered maps (contract section 1): their order reaches the body. */
const ORDERED_MAPS = new Set(['doctrine_field_owners', 'credentials']);

/**
 * An array index (0 to 2^32 - 2 in canonical form): a plain object lists
 * such keys first, in numeric order, whatever order they were written in.
 */
function isIndexKey(k) {
  return /^(0|[1-9][0-9]{0,9})$/.test(k) && Number(k) <= 4294967294;
}

/**
 * The entries of an ordered map in the order given: a Map, an array of
 * `[key, value]` pairs, or a plain object without integer-like keys (whose
 * order JavaScript would have changed). Undefined for any other value, which
 * the component's type check then names.
 */
function orderedEntries(map, field, keepsOrder = true) {
  let entries;
  if (map instanceof Map) {
    entries = [...map];
  } else if (Array.isArray(map)) {
    entries = map;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (!Array.isArray(e) || e.length !== 2) {
        throw invalid(formatPath([field, i]), `expected a [key, value] pair, found ${describe(e)}${Array.isArray(e) ? ` of ${e.length}` : ''}`);
      }
    }
  } else if (isPlainObject(map)) {
    const keys = Object.keys(map);
    const k = keepsOrder ? keys.find(isIndexKey) : undefined;
    if (k !== undefined) {
      throw invalid(
        field,
        `the key "${k}" is integer-like, and a JavaScript object lists such keys first, so the order ` +
          'the map was written in is lost; to keep it, pass a Map, an array of [key, value] pairs, ' +
          'or the whole input as JSON text',
      );
    }
    entries = keys.map((key) => [key, map[key]]);
  } else {
    return undefined;
  }
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i];
    if (typeof key !== 'string') throw invalid(formatPath([field, i]), `expected a string key, found ${describe(key)}`);
    const bad = badJson(value, 2);
    if (bad !== undefined) throw invalid(formatPath([field, key, ...bad.path.reverse()]), bad.what);
  }
  return entries;
}

/**
 * The input as the component's JSON form: JSON text as given (used exactly as
 * written), or an object written with its ordered maps in their given order.
 */
function toJson(input) {
  if (typeof input === 'string') {
    // TextEncoder would write a lone surrogate as U+FFFD: not the text given.
    if (!input.isWellFormed()) throw invalid('input', 'the JSON text holds a lone UTF-16 surrogate (not valid Unicode)');
    return input;
  }
  if (!isPlainObject(input)) throw invalid('input', `expected an object or JSON text, found ${describe(input)}`);
  try {
    const parts = [];
    for (const k of Object.keys(input)) {
      const v = input[k];
      const entries = ORDERED_MAPS.has(k) ? orderedEntries(v, k) : undefined;
      if (entries === undefined) {
        const bad = badJson(v, 1);
        if (bad !== undefined) throw invalid(formatPath([k, ...bad.path.reverse()]), bad.what);
      }
      const json = entries === undefined ? JSON.stringify(v) : `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
      parts.push(`${JSON.stringify(k)}:${json}`);
    }
    return `{${parts.join(',')}}`;
  } catch (e) {
    if (e instanceof PublishError) throw e;
    // Only a getter or a Proxy that throws gets here.
    throw new PublishError('invalid-input', `input: cannot be written as JSON: ${e?.message}`, { cause: e });
  }
}

const utf8 = new TextDecoder();

const SCHEMES = { v1: { idempotency: 'v1' }, content: { idempotency: 'content' } };

function schemeOptions(options, path) {
  if (options === undefined || options === null) return SCHEMES.v1;
  if (typeof options !== 'object') throw invalid(path, `expected an object, found ${describe(options)}`);
  const { idempotency = 'v1' } = options;
  if (idempotency !== 'v1' && idempotency !== 'content') {
    const found = typeof idempotency === 'string' ? JSON.stringify(idempotency.slice(0, 40)) : describe(idempotency);
    throw invalid(`${path}.idempotency`, `expected "v1" or "content", found ${found}`);
  }
  return SCHEMES[idempotency];
}

// ---- the API ---------------------------------------------------------------

/**
 * Normalises a provider as the CLI does: strip (Python white space), full
 * Unicode lower-casing, then the aliases `azure` and `azure-devops` become
 * `azure_devops`.
 */
export function normalizeProvider(provider) {
  if (typeof provider !== 'string') throw invalid('provider', `expected a string, found ${describe(provider)}`);
  try {
    return component().normalizeProvider(provider);
  } catch (e) {
    throw fromComponent(e);
  }
}

/**
 * The routing of contract section 3, as the CLI's `_resolve_resource_routing`:
 * `provider` is taken as already normalised (see normalizeProvider), so
 * `"Jira"` does not route. `credentials` is the provider's credentials table as
 * a plain object of strings. Returns `{ resourceType, resourceId }` or null.
 */
export function resolveResourceRouting(provider, credentials) {
  if (typeof provider !== 'string') throw invalid('provider', `expected a string, found ${describe(provider)}`);
  const pairs = stringPairs(credentials, 'credentials');
  let routing;
  try {
    routing = component().resolveResourceRouting(provider, pairs);
  } catch (e) {
    throw fromComponent(e);
  }
  return routing === undefined ? null : routing;
}

/**
 * A string-to-string map (a Map, `[key, value]` pairs or a plain object; the
 * order does not matter to the callers) as the component's list of pairs.
 */
function stringPairs(map, field) {
  const entries = orderedEntries(map, field, false);
  if (entries === undefined) throw invalid(field, `expected an object, a Map or [key, value] pairs, found ${describe(map)}`);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw invalid(formatPath([field, key]), `expected a string, found ${describe(value)}`);
  }
  return entries.map(([key, value]) => [key, value]);
}

/**
 * Computes the request for the input: its JSON form (publish-contract.md
 * section 1: snake_case keys, null for missing values) as an object, or as
 * JSON text used exactly as written. In an object, the ordered maps
 * `doctrine_field_owners` and `credentials` are a Map, an array of
 * `[key, value]` pairs, or a plain object without integer-like keys (a
 * JavaScript object lists those first, so such an object is refused as
 * `invalid-input` rather than sent in another order). Returns
 * `{ endpoint, headers, body, bodyBytes, idempotencyKey }`; `headers` are
 * `[name, value]` pairs in wire order, `bodyBytes` the exact bytes to send.
 * Throws PublishError on a refusal.
 */
export function buildSnapshotPayload(input, options) {
  const request = computeRequest(input, schemeOptions(options, 'options'));
  return {
    endpoint: request.endpoint,
    headers: request.headers,
    body: utf8.decode(request.body),
    bodyBytes: request.body,
    idempotencyKey: request.idempotencyKey,
  };
}

/** The component's `publish-request` (body as bytes only: `publish` never needs the string). */
function computeRequest(input, scheme) {
  const json = toJson(input);
  try {
    return component().buildSnapshotPayloadJson(json, scheme);
  } catch (e) {
    throw fromComponent(e);
  }
}

// ---- the full component: store and receive ------------------------------------

/** `value` when it is a string, else invalid-input naming `path`. */
function str(value, path) {
  if (typeof value !== 'string') throw invalid(formatPath(path), `expected a string, found ${describe(value)}`);
  return value;
}

/** A string or null (as undefined, jco's none). */
function optStr(value, path) {
  if (value === null) return undefined;
  if (typeof value !== 'string') throw invalid(formatPath(path), `expected a string or null, found ${describe(value)}`);
  return value;
}

/** A plain object holding exactly `names`, else invalid-input naming the field. */
function record(value, path, names) {
  if (!isPlainObject(value)) throw invalid(formatPath(path), `expected an object, found ${describe(value)}`);
  for (const k of Object.keys(value)) {
    if (!names.includes(k)) throw invalid(formatPath([...path, k]), 'unknown field');
  }
  for (const k of names) {
    if (!Object.hasOwn(value, k)) throw invalid(formatPath([...path, k]), 'missing field');
  }
  return value;
}

function list(value, path) {
  if (!Array.isArray(value)) throw invalid(formatPath(path), `expected an array, found ${describe(value)}`);
  return value;
}

const INPUT_FIELDS = [
  'server_url', 'auth_token', 'provider', 'workspace', 'doctrine_mode', 'doctrine_field_owners',
  'credentials', 'project_uuid', 'project_slug', 'issues', 'mappings', 'checkpoint',
];
const MAPPING_FIELDS = ['wp_id', 'system', 'workspace', 'external_id', 'external_key', 'external_url', 'created_at', 'updated_at'];

/** An ordered map as the component's list of pairs (the same rules as buildSnapshotPayload's). */
function orderedPairs(map, field) {
  const entries = orderedEntries(map, field);
  if (entries === undefined) throw invalid(field, `expected an object, a Map or [key, value] pairs, found ${describe(map)}`);
  return entries.map(([key, value]) => [key, str(value, [field, key])]);
}

/**
 * The JSON form of the input (without issues: they come from the store's
 * rows) as the component's `snapshot-input` record. Only shape is checked
 * here; every rule is the component's.
 */
function storeInput(input) {
  const i = record(input, [], INPUT_FIELDS);
  if (list(i.issues, ['issues']).length !== 0) throw invalid('issues', 'expected [] (the issues come from the issue rows)');
  let checkpoint;
  if (i.checkpoint !== null) {
    const c = record(i.checkpoint, ['checkpoint'], ['cursor', 'updated_since']);
    checkpoint = { cursor: optStr(c.cursor, ['checkpoint', 'cursor']), updatedSince: optStr(c.updated_since, ['checkpoint', 'updated_since']) };
  }
  return {
    serverUrl: str(i.server_url, ['server_url']),
    authToken: optStr(i.auth_token, ['auth_token']),
    provider: str(i.provider, ['provider']),
    workspace: str(i.workspace, ['workspace']),
    doctrineMode: optStr(i.doctrine_mode, ['doctrine_mode']),
    doctrineFieldOwners: orderedPairs(i.doctrine_field_owners, 'doctrine_field_owners'),
    credentials: orderedPairs(i.credentials, 'credentials'),
    projectUuid: optStr(i.project_uuid, ['project_uuid']),
    projectSlug: optStr(i.project_slug, ['project_slug']),
    issues: [],
    mappings: list(i.mappings, ['mappings']).map((row, n) => {
      const m = record(row, ['mappings', n], MAPPING_FIELDS);
      const at = (k) => ['mappings', n, k];
      return {
        wpId: str(m.wp_id, at('wp_id')),
        system: str(m.system, at('system')),
        workspace: str(m.workspace, at('workspace')),
        externalId: str(m.external_id, at('external_id')),
        externalKey: optStr(m.external_key, at('external_key')),
        externalUrl: optStr(m.external_url, at('external_url')),
        createdAt: str(m.created_at, at('created_at')),
        updatedAt: str(m.updated_at, at('updated_at')),
      };
    }),
    checkpoint,
  };
}

/**
 * A stored timestamp as the CLI re-writes it (Python 3.11's
 * `datetime.fromisoformat(value).isoformat()`); null when the value is null,
 * blank or refused by Python. Full component.
 */
export function storedTimestamp(value) {
  const v = optStr(value, ['value']);
  try {
    return fullComponent().store.storedTimestamp(v) ?? null;
  } catch (e) {
    throw fromComponent(e);
  }
}

/**
 * Where a project's tracker store lives: `{ identity, scope }`, the store
 * being `~/.spec-kitty/trackers/<scope>.db`. `provider` as the config holds
 * it; `credentials` the provider's table (strings). Full component.
 */
export function storeScope(provider, workspace, credentials) {
  const p = str(provider, ['provider']);
  const w = str(workspace, ['workspace']);
  const pairs = stringPairs(credentials, 'credentials');
  try {
    return fullComponent().store.storeScope(p, w, pairs);
  } catch (e) {
    throw fromComponent(e);
  }
}

/**
 * Computes the request for a project read from its store: `input` as for
 * buildSnapshotPayload (an object) with `issues: []` and the checkpoint's
 * `updated_since` as stored; `issueRows` the `tracker_issues` rows
 * (`{ identity, payload }`, in `ORDER BY identity`), each converted as the
 * CLI loads it or refused as `invalid-store-row`. Full component.
 */
export function buildSnapshotPayloadFromStore(input, issueRows, options) {
  const scheme = schemeOptions(options, 'options');
  const typed = storeInput(input);
  const rows = list(issueRows, ['issueRows']).map((row, n) => {
    const r = record(row, ['issueRows', n], ['identity', 'payload']);
    return { identity: str(r.identity, ['issueRows', n, 'identity']), payload: str(r.payload, ['issueRows', n, 'payload']) };
  });
  let request;
  try {
    request = fullComponent().store.buildSnapshotPayloadFromStore(typed, rows, scheme);
  } catch (e) {
    throw fromComponent(e);
  }
  return {
    endpoint: request.endpoint,
    headers: request.headers,
    body: utf8.decode(request.body),
    bodyBytes: request.body,
    idempotencyKey: request.idempotencyKey,
  };
}

const utf8Encoder = new TextEncoder();

/**
 * The receiving side (contract section 8), for a server written in JS: checks
 * a request body (its bytes, or a string taken as UTF-8) and its
 * `Idempotency-Key` with the code that writes them. Returns the receipt
 * `{ provider, workspace, externalResourceType, externalResourceId, scheme,
 * issues, mappings, routingKey }`; throws PublishError (`invalid-input` naming
 * the field or the byte offset, or `too-large`). Full component.
 */
export function verifySnapshot(body, idempotencyKey) {
  let bytes;
  if (body instanceof Uint8Array) bytes = body;
  else if (typeof body === 'string') {
    if (!body.isWellFormed()) throw invalid('body', 'the text holds a lone UTF-16 surrogate (not valid Unicode)');
    bytes = utf8Encoder.encode(body);
  } else throw invalid('body', `expected a Uint8Array or a string, found ${describe(body)}`);
  const key = str(idempotencyKey, ['idempotencyKey']);
  let r;
  try {
    r = fullComponent().receive.verifySnapshot(bytes, key);
  } catch (e) {
    throw fromComponent(e);
  }
  return {
    provider: r.provider,
    workspace: r.workspace,
    externalResourceType: r.externalResourceType ?? null,
    externalResourceId: r.externalResourceId ?? null,
    scheme: r.scheme,
    issues: r.issues,
    mappings: r.mappings,
    routingKey: r.routingKey,
  };
}

// ---- framed ------------------------------------------------------------------

/** A string argument of a framed entry, or an invalid-input PublishError. */
function framedText(value, path) {
  if (typeof value !== 'string') throw invalid(path, `expected a string, found ${describe(value)}`);
  if (!value.isWellFormed()) throw invalid(path, 'the text holds a lone UTF-16 surrogate (not valid Unicode)');
  return value;
}

/**
 * The full component's `framed` interface as it stands: one string in, one
 * string out (WIT docs: fields joined by U+000A, the last one whole). Made
 * for wasmtime-py, where each WIT type of a signature costs per call; in JS
 * the typed entries above are as fast and easier, so these are here for
 * completeness and for checking other hosts' frames. Full component.
 */
export const framed = Object.freeze({
  /** `resolve-resource-routing-framed`: `request` is `<credentials JSON>\n<provider>`. */
  resolveResourceRoutingFramed(request) {
    const text = framedText(request, 'request');
    try {
      return fullComponent().framed.resolveResourceRoutingFramed(text);
    } catch (e) {
      throw fromComponent(e);
    }
  },
  /** `build-snapshot-payload-framed`: `request` is the input as JSON text (scheme v1), or `content\n` before it. */
  buildSnapshotPayloadFramed(request) {
    const text = framedText(request, 'request');
    try {
      return fullComponent().framed.buildSnapshotPayloadFramed(text);
    } catch (e) {
      throw fromComponent(e);
    }
  },
});

// ---- publish ---------------------------------------------------------------

const MAX_TIMER_MS = 2 ** 31 - 1;
const U32_MAX = 2 ** 32 - 1;
const STOP_REASONS = new Set(['success', 'not-retryable', 'attempts-exhausted']);

/** A whole number in [0, max] at `path`, or an invalid-input PublishError. */
function whole(path, v, max) {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw invalid(path, `expected an integer from 0 to ${max}, found ${typeof v === 'number' ? v : describe(v)}`);
  }
  return v;
}

/**
 * The retry policy (WIT `decide-retry`, README "Retries"), decided by the
 * component: what to do after one attempt. `report` is `{ attempt, outcome,
 * status, earlierUnanswered, retryAfter, nowUnixMs, random }` with `outcome`
 * one of `status` (then `status` is the HTTP status), `connection-error`,
 * `timeout`; `options` is `{ maxAttempts, baseDelayMs, maxDelayMs }`. Returns
 * `{ retryInMs }` or `{ stop }` (`success`, `not-retryable`,
 * `attempts-exhausted`).
 */
export function decideRetry(report, options) {
  if (!isPlainObject(report)) throw invalid('report', `expected an object, found ${describe(report)}`);
  if (!isPlainObject(options)) throw invalid('options', `expected an object, found ${describe(options)}`);
  const { attempt, outcome, status = null, earlierUnanswered = false, retryAfter = null, nowUnixMs, random } = report;
  let wireOutcome;
  if (outcome === 'status') wireOutcome = { tag: 'status', val: whole('report.status', status, 65535) };
  else if (outcome === 'connection-error' || outcome === 'timeout') wireOutcome = { tag: outcome };
  else throw invalid('report.outcome', `expected "status", "connection-error" or "timeout", found ${typeof outcome === 'string' ? JSON.stringify(outcome.slice(0, 40)) : describe(outcome)}`);
  if (typeof earlierUnanswered !== 'boolean') throw invalid('report.earlierUnanswered', `expected a boolean, found ${describe(earlierUnanswered)}`);
  if (retryAfter !== null && typeof retryAfter !== 'string') throw invalid('report.retryAfter', `expected a string or null, found ${describe(retryAfter)}`);
  const wireReport = {
    attempt: whole('report.attempt', attempt, U32_MAX),
    outcome: wireOutcome,
    earlierUnanswered,
    retryAfter: retryAfter ?? undefined,
    nowUnixMs: BigInt(whole('report.nowUnixMs', nowUnixMs, Number.MAX_SAFE_INTEGER)),
    random: whole('report.random', random, U32_MAX),
  };
  const wireOptions = {
    maxAttempts: whole('options.maxAttempts', options.maxAttempts, U32_MAX),
    baseDelayMs: BigInt(whole('options.baseDelayMs', options.baseDelayMs, Number.MAX_SAFE_INTEGER)),
    maxDelayMs: BigInt(whole('options.maxDelayMs', options.maxDelayMs, Number.MAX_SAFE_INTEGER)),
  };
  let decision;
  try {
    decision = component().decideRetry(wireReport, wireOptions);
  } catch (e) {
    throw fromComponent(e);
  }
  if (decision.tag === 'retry-in-ms') return { retryInMs: Number(decision.val) };
  if (decision.tag === 'stop' && STOP_REASONS.has(decision.val)) return { stop: decision.val };
  throw new Error(`tracker-publish: the component returned an unknown decision: ${decision.tag}`);
}

function publishOptions(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw invalid('options', `expected an object, found ${describe(options)}`);
  const {
    fetch = globalThis.fetch,
    retries = 3,
    timeoutMs = 10_000,
    backoffMs = 500,
    maxDelayMs = 30_000,
    onAttempt,
    signal,
  } = options;
  const number = (name, v, ok, what) => {
    if (typeof v !== 'number' || !ok(v)) throw invalid(`options.${name}`, `expected ${what}, found ${typeof v === 'number' ? v : describe(v)}`);
    return v;
  };
  if (typeof fetch !== 'function') throw invalid('options.fetch', `expected a function, found ${describe(fetch)}`);
  if (onAttempt !== undefined && typeof onAttempt !== 'function') {
    throw invalid('options.onAttempt', `expected a function, found ${describe(onAttempt)}`);
  }
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean')) {
    throw invalid('options.signal', `expected an AbortSignal, found ${describe(signal)}`);
  }
  return {
    scheme: schemeOptions(options, 'options'),
    fetch,
    retries: number('retries', retries, (v) => Number.isSafeInteger(v) && v >= 0, 'an integer of at least 0'),
    timeoutMs: number('timeoutMs', timeoutMs, (v) => v > 0 && v <= MAX_TIMER_MS, `a number of milliseconds above 0, at most ${MAX_TIMER_MS}`),
    backoffMs: number('backoffMs', backoffMs, (v) => v >= 0 && v <= MAX_TIMER_MS, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`),
    maxDelayMs: number('maxDelayMs', maxDelayMs, (v) => v >= 0 && v <= MAX_TIMER_MS, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`),
    onAttempt,
    signal,
  };
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

class AttemptTimeout extends Error {
  constructor(ms) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

function parseBody(text, contentType) {
  if (contentType && /[/+]json\b/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON after all: the text, as received.
    }
  }
  return text;
}

/** One POST: resolves to `{ status, ok, body, retryAfter }`, rejects on a network error or timeout. */
async function attempt(o, request) {
  if (o.signal?.aborted) throw o.signal.reason;
  const controller = new AbortController();
  const onAbort = () => controller.abort(o.signal.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let timer;
  // The race also ends an attempt whose fetch ignores the abort signal.
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const e = new AttemptTimeout(o.timeoutMs);
      controller.abort(e);
      reject(e);
    }, o.timeoutMs);
  });
  const exchange = (async () => {
    const response = await o.fetch(request.endpoint, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
    });
    const text = await response.text();
    return {
      status: response.status,
      ok: response.ok,
      body: parseBody(text, response.headers.get('content-type')),
      retryAfter: response.headers.get('retry-after'),
    };
  })();
  try {
    return await Promise.race([exchange, timeout]);
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Why an attempt failed, in words, with the token (if any) masked. */
function failureText(e, token) {
  let text = e instanceof Error ? e.message : String(e);
  const cause = e instanceof Error ? e.cause : undefined;
  if (cause instanceof Error) text += `: ${cause.code ?? cause.message}`;
  return token ? text.split(token).join('***') : text;
}

/**
 * Sends the request: POST with the exact body bytes and headers the component
 * returned. Whether and when to send again is the component's retry policy
 * (decideRetry; README "Retries"): network errors, timeouts, 408, 425, 429,
 * 5xx, and a 409 after an attempt of ours got no answer, are retried up to
 * `retries` times with exponential backoff and jitter (at least `Retry-After`,
 * seconds or an HTTP date, capped at `maxDelayMs`), every attempt with the
 * same `Idempotency-Key` and the same bytes; other answers are final.
 * Resolves to `{ endpoint, status, ok, body, idempotencyKey, attempts }` for
 * the last answer (body parsed when it is JSON); rejects with PublishError
 * (`network-error` or `timeout`) when the last attempt got no answer.
 */
export async function publish(input, options) {
  const o = publishOptions(options);
  const request = computeRequest(input, o.scheme);
  const authorization = request.headers.find(([name]) => name === 'Authorization');
  const token = authorization ? authorization[1].slice('Bearer '.length) : '';
  const maxAttempts = o.retries + 1;
  const policy = {
    maxAttempts: Math.min(maxAttempts, U32_MAX),
    baseDelayMs: Math.round(o.backoffMs),
    maxDelayMs: Math.round(o.maxDelayMs),
  };
  // An attempt without an answer may still be running on the server.
  let earlierUnanswered = false;
  for (let n = 1; ; n++) {
    let answer;
    let failure;
    try {
      answer = await attempt(o, request);
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      failure = e;
    }
    const decision = decideRetry(
      {
        attempt: Math.min(n, U32_MAX),
        outcome: failure === undefined ? 'status' : failure instanceof AttemptTimeout ? 'timeout' : 'connection-error',
        status: failure === undefined ? answer.status : null,
        earlierUnanswered,
        retryAfter: failure === undefined ? answer.retryAfter : null,
        nowUnixMs: Date.now(),
        random: Math.floor(Math.random() * 2 ** 32),
      },
      policy,
    );
    if (failure !== undefined) earlierUnanswered = true;
    const retryInMs = decision.retryInMs ?? null;
    const error = failure === undefined ? null : failureText(failure, token);
    o.onAttempt?.({ attempt: n, maxAttempts, status: answer ? answer.status : null, error, retryInMs });
    if (retryInMs === null) {
      if (failure !== undefined) {
        const kind = failure instanceof AttemptTimeout ? 'timeout' : 'network-error';
        const e = new PublishError(kind, `POST ${request.endpoint}: ${error} (${n} attempt${n === 1 ? '' : 's'})`, {
          cause: failure,
        });
        e.attempts = n;
        throw e;
      }
      return {
        endpoint: request.endpoint,
        status: answer.status,
        ok: answer.ok,
        body: answer.body,
        idempotencyKey: request.idempotencyKey,
        attempts: n,
      };
    }
    await sleep(retryInMs, o.signal);
  }
}
