// Types for @spec-kitty/tracker-publish. Self-contained: they need neither
// the DOM library nor @types/node.
//
// Which component each entry runs: the lean `tracker_publish.wasm` (WIT world
// `tracker-publish`, interface `publish`) for normalizeProvider,
// resolveResourceRouting, buildSnapshotPayload and publish; the full
// `tracker_publish_full.wasm` (world `tracker-publish-full`, interfaces
// `store`, `receive` and `framed`) for storedTimestamp, storeScope,
// buildSnapshotPayloadFromStore, verifySnapshot and `framed` (compiled on
// first use).

/** Why a request was refused (publish-contract.md section 7), or why `publish` got no answer. */
export type ErrorKind =
  | 'not-configured'
  | 'invalid-server-url'
  | 'invalid-auth-token'
  | 'invalid-input'
  | 'too-large'
  | 'invalid-config'
  | 'invalid-credentials'
  | 'store-missing'
  | 'invalid-store'
  | 'invalid-store-row'
  /** `publish` only: the last attempt failed to connect or lost the connection. */
  | 'network-error'
  /** `publish` only: the last attempt got no answer within `timeoutMs`. */
  | 'timeout';

/**
 * A refusal, or a publish that got no answer. The message names the field at
 * fault and never contains a token or a credential value.
 */
export class PublishError extends Error {
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown });
  readonly name: 'PublishError';
  /** What went wrong, for programs (kebab-case). */
  readonly kind: ErrorKind;
  /** For `network-error` and `timeout`: how many attempts were made. */
  attempts?: number;
}

/** The identity of one issue in its tracker. */
export interface IssueRef {
  system: string;
  workspace: string;
  id: string;
  key: string | null;
  url: string | null;
}

/** One issue as the payload carries it (contract section 4). */
export interface IssueSnapshot {
  ref: IssueRef;
  title: string;
  body: string | null;
  /** One of `todo in_progress in_review blocked done canceled`. */
  status: string;
  /** One of `epic story task bug chore subtask`. */
  issue_type: string;
  /** An integer, 0 to 4 as the tracker model stores it. */
  priority: number | null;
  assignees: string[];
  labels: string[];
  /** As Python's `isoformat()` writes it. */
  updated_at: string | null;
}

/** One work-package-to-issue mapping row, as stored. */
export interface MappingRow {
  wp_id: string;
  system: string;
  workspace: string;
  external_id: string;
  external_key: string | null;
  external_url: string | null;
  created_at: string;
  updated_at: string;
}

/** The sync checkpoint row for `<provider>:<workspace>`. */
export interface Checkpoint {
  cursor: string | null;
  updated_since: string | null;
}

/**
 * An ordered string-to-string map: a Map, an array of `[key, value]` pairs,
 * or a plain object. A plain object with an integer-like key (`"2"`) is
 * refused as `invalid-input`: JavaScript lists such keys first, so the
 * order it was written in is lost. Use a Map, pairs, or JSON text for those.
 */
export type OrderedMap = ReadonlyMap<string, string> | ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;

/**
 * The JSON form of the input (contract section 1), as in the shared
 * conformance vectors: every field present, null for a missing value.
 */
export interface SnapshotInput {
  /** The SaaS base URL (`--server-url`): http or https, no user-info. */
  server_url: string;
  /** The explicit `--auth-token`; null or "" when not given. */
  auth_token: string | null;
  /** `tracker.provider`, as written in the project config. */
  provider: string;
  /** `tracker.workspace`. */
  workspace: string;
  /** `tracker.doctrine.mode`; null or blank means `external_authoritative`. */
  doctrine_mode: string | null;
  /** `tracker.doctrine.field_owners`, in order (see OrderedMap). */
  doctrine_field_owners: OrderedMap;
  /** The provider's credentials table, in order (see OrderedMap). */
  credentials: OrderedMap;
  project_uuid: string | null;
  project_slug: string | null;
  /** Stored issues, ordered by identity. */
  issues: IssueSnapshot[];
  /** Stored mappings, ordered by work package and system. */
  mappings: MappingRow[];
  /** The checkpoint row, null when there is none. */
  checkpoint: Checkpoint | null;
}

/**
 * How the `Idempotency-Key` is derived: `v1` is the CLI's (counts and cursor,
 * the default); `content` is the SHA-256 of the body bytes.
 */
export type IdempotencyScheme = 'v1' | 'content';

export interface BuildOptions {
  /** Default `"v1"`. */
  idempotency?: IdempotencyScheme;
}

/** The request to send, exactly. */
export interface PublishRequest {
  /** The full URL to POST to. */
  endpoint: string;
  /** `[name, value]` pairs in wire order: Content-Type, Idempotency-Key, then Authorization when a token resolves. */
  headers: Array<[string, string]>;
  /** The JSON body as a string. */
  body: string;
  /** The body's exact bytes (UTF-8): send these. */
  bodyBytes: Uint8Array;
  /** The `Idempotency-Key` header value. */
  idempotencyKey: string;
}

/** Where the SaaS routes a snapshot. */
export interface ResourceRouting {
  /** `jira_project` or `linear_team`. */
  resourceType: string;
  /** The credential value (`project_key` or `team_id`), stripped. */
  resourceId: string;
}

/** Normalises a provider as the CLI does (strip, full Unicode lower-casing, aliases `azure`/`azure-devops` to `azure_devops`). */
export function normalizeProvider(provider: string): string;

/**
 * The CLI's `_resolve_resource_routing`: `provider` is taken as already
 * normalised (see normalizeProvider). Null when the provider has no routing or
 * the credential is missing or blank.
 */
export function resolveResourceRouting(provider: string, credentials: OrderedMap): ResourceRouting | null;

/**
 * Computes the request, from the input as an object or as JSON text (used
 * exactly as written: the component reads it). Throws PublishError on a
 * refusal. Lean component.
 */
export function buildSnapshotPayload(input: SnapshotInput | string, options?: BuildOptions): PublishRequest;

/** One `tracker_issues` row of a spec-kitty tracker store, as stored. */
export interface StoredIssueRow {
  /** The `identity` column, named in refusals. */
  identity: string;
  /** The `payload` column: the issue as JSON text. */
  payload: string;
}

/** Where a project's tracker store lives: `~/.spec-kitty/trackers/<scope>.db`. */
export interface TrackerScope {
  /** `{provider}|{workspace}|{server}|{user}|{team}`; holds no secret. */
  identity: string;
  /** The first 16 hex characters of the SHA-256 of `identity`. */
  scope: string;
}

/** What a receiver learns from a verified snapshot. */
export interface SnapshotReceipt {
  /** The normalised provider. */
  provider: string;
  workspace: string;
  /** E.g. `jira_project`; set exactly when `externalResourceId` is. */
  externalResourceType: string | null;
  /** E.g. the Jira project key; set exactly when `externalResourceType` is. */
  externalResourceId: string | null;
  /** The scheme the `Idempotency-Key` follows. */
  scheme: IdempotencyScheme;
  /** Number of issues in the snapshot. */
  issues: number;
  /** Number of mapping rows in the snapshot. */
  mappings: number;
  /** `[provider, workspace, type, id]`, or `[provider, workspace]` when the routing is null. */
  routingKey: string[];
}

/**
 * A stored timestamp as the CLI re-writes it (Python 3.11's
 * `datetime.fromisoformat(value).isoformat()`); null when null, blank or
 * refused by Python. Full component.
 */
export function storedTimestamp(value: string | null): string | null;

/** The tracker store's scope for a project (provider as the config holds it). Full component. */
export function storeScope(provider: string, workspace: string, credentials: OrderedMap): TrackerScope;

/**
 * Computes the request for a project read from its store: `input` with
 * `issues: []` and the checkpoint's `updated_since` as stored; the issues come
 * from `issueRows` (in `ORDER BY identity`), refused as `invalid-store-row`
 * naming the row where the CLI would fail. Full component.
 */
export function buildSnapshotPayloadFromStore(
  input: SnapshotInput,
  issueRows: readonly StoredIssueRow[],
  options?: BuildOptions,
): PublishRequest;

/**
 * The receiving side, for servers: checks a body (bytes, or a string taken as
 * UTF-8) and its `Idempotency-Key` with the code that writes them. Throws
 * PublishError (`invalid-input` naming the field or byte offset, or
 * `too-large`). Full component.
 */
export function verifySnapshot(body: Uint8Array | string, idempotencyKey: string): SnapshotReceipt;

/** What `fetch` is called with (a subset of RequestInit). */
export interface FetchInit {
  method: 'POST';
  headers: Array<[string, string]>;
  body: Uint8Array;
  redirect: 'manual';
  signal: AbortSignalLike;
}

/** The part of a fetch Response that `publish` reads. */
export interface ResponseLike {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The part of an AbortSignal that `publish` uses. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Reported to `onAttempt` after each attempt. */
export interface AttemptInfo {
  /** 1 for the first attempt. */
  attempt: number;
  /** `retries + 1`. */
  maxAttempts: number;
  /** The HTTP status, or null when the attempt got no answer. */
  status: number | null;
  /** Why the attempt got no answer (network error or timeout), or null. */
  error: string | null;
  /** Milliseconds until the next attempt, or null when this one was the last. */
  retryInMs: number | null;
}

/**
 * The full component's `framed` interface as it stands: one string in, one
 * string out, fields joined by U+000A with the last one whole (WIT docs).
 * Made for wasmtime-py; in JS the typed entries are as fast. Throws
 * PublishError (`invalid-input`) for a non-string or ill-formed request;
 * the component's own refusals come back inside the frame (`error`, kind,
 * message).
 */
export declare const framed: {
  /** `request` is `<credentials as JSON text>\n<provider>`; returns `none`, `some\n<resource-type>\n<resource-id>` or `error\n<kind>\n<message>`. */
  resolveResourceRoutingFramed(request: string): string;
  /** `request` is the input as JSON text (scheme v1), or `content\n` before it; returns `ok\n<endpoint>\n<idempotency-key>\n<header count>\n<name>\n<value>...\n<body>` or `error\n<kind>\n<message>`. */
  buildSnapshotPayloadFramed(request: string): string;
};

/** One finished attempt, for decideRetry (WIT `attempt-report`). */
export interface AttemptReport {
  /** 1 for the first attempt. */
  attempt: number;
  /** How it ended: an answer (`status`), or none. */
  outcome: 'status' | 'connection-error' | 'timeout';
  /** The HTTP status, when `outcome` is `status`. */
  status?: number | null;
  /** An earlier attempt of this publish got no answer (it may still be running on the server). Default false. */
  earlierUnanswered?: boolean;
  /** The answer's `Retry-After` header as received, or null. */
  retryAfter?: string | null;
  /** The clock, in milliseconds since the Unix epoch (`Date.now()`). */
  nowUnixMs: number;
  /** A random integer from 0 to 2^32 - 1, fresh per call (the jitter). */
  random: number;
}

/** The retry policy's options (WIT `retry-options`). */
export interface RetryOptions {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** The first backoff in milliseconds; it doubles on every retry. */
  baseDelayMs: number;
  /** The longest wait between two attempts, `Retry-After` included. */
  maxDelayMs: number;
}

/** What to do after an attempt (WIT `retry-decision`). */
export type RetryDecision =
  | { retryInMs: number }
  | { stop: 'success' | 'not-retryable' | 'attempts-exhausted' };

/**
 * The retry policy, decided by the component (README "Retries"); `publish`
 * follows it. Throws PublishError (`invalid-input`) on a malformed report.
 */
export function decideRetry(report: AttemptReport, options: RetryOptions): RetryDecision;

export interface PublishOptions extends BuildOptions {
  /** Default `globalThis.fetch`. */
  fetch?: (url: string, init: FetchInit) => Promise<ResponseLike>;
  /** Further attempts after the first, on network errors, timeouts, 408, 425, 429, 5xx, and 409 after an attempt without an answer (decideRetry). Default 3. */
  retries?: number;
  /** Per attempt, including reading the answer. Default 10000. */
  timeoutMs?: number;
  /** The first backoff; it doubles on every retry, with jitter (half to all of it). Default 500. */
  backoffMs?: number;
  /** Cap on any wait between attempts, `Retry-After` included. Default 30000. */
  maxDelayMs?: number;
  /** Called after each attempt, for progress. */
  onAttempt?: (info: AttemptInfo) => void;
  /** Aborts the publish (between or during attempts); it rejects with the signal's reason. */
  signal?: AbortSignalLike;
}

export interface PublishResult {
  endpoint: string;
  /** The HTTP status of the last answer. */
  status: number;
  /** True for a 2xx. */
  ok: boolean;
  /** The answer's body: parsed when it is JSON, else the text. */
  body: unknown;
  idempotencyKey: string;
  /** How many attempts were made. */
  attempts: number;
}

/**
 * Computes the request and POSTs it, retrying under the same key and bytes.
 * Resolves with the last answer; rejects with PublishError on a refusal, or
 * with kind `network-error` / `timeout` when the last attempt got no answer.
 */
export function publish(input: SnapshotInput | string, options?: PublishOptions): Promise<PublishResult>;
