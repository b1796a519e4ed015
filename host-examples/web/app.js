// The preview page: gathers a snapshot input, asks the tracker-publish core
// (the wasm-bindgen build, ./tracker_publish.js) for the request, and shows
// it. No rule of the contract lives here: the page only displays what the
// core returns, masking the Authorization value and the input's secrets at
// this edge.
import init, { buildSnapshotPayloadJson } from './tracker_publish.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = /** @type {HTMLTextAreaElement} */ ($('input'));

/** Issues rendered per step on large snapshots, so the page stays responsive. */
const PAGE = 200;
/** Up to this many issues start expanded. */
const OPEN_UP_TO = 10;
/** Larger bodies fill the exact-bytes view only when it is opened. */
const RAW_EAGER_BYTES = 256 * 1024;
/** A top-level value larger than this is left to the exact-bytes view. */
const PRETTY_MAX_CHARS = 1024 * 1024;

/** The last request the core returned; the real header values stay here, never in the DOM while masked. */
let request = null;
let bodyText = '';
let revealed = false;
/**
 * The input as given, secrets included: what the core computes from. While
 * masked, `#input` shows it with every secret value replaced by "***".
 */
let realText = '';
/** Secret values last seen, by `secretId`: {raw: the JSON string token, value}; "***" in an edit stands for these. */
let remembered = new Map();
/** What `#input` held after the last edit was taken in: tells newly typed text from text already shown. */
let shown = '';
let renders = 0;

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

const bytes = (n) => `${n.toLocaleString('en')} byte${n === 1 ? '' : 's'}`;

// ---- token-exact JSON layout ---------------------------------------------
// The body is compact JSON. These helpers only insert white space between
// tokens, so every string and number is shown exactly as sent (no parse and
// re-encode that could round a large integer or change an escape).

/** Index of the closing quote of the string opening at `i`. */
function stringEnd(text, i) {
  let j = i + 1;
  for (;;) {
    j = text.indexOf('"', j);
    let k = j - 1;
    while (text.charCodeAt(k) === 92) k--; // backslashes before the quote
    if ((j - 1 - k) % 2 === 0) return j;
    j++;
  }
}

/**
 * The members of the object or array opening at `open`: for each, where its
 * value starts and ends (after `"key":` in an object). Returns the index
 * just after the container, too.
 */
function members(text, open) {
  const isObject = text.charCodeAt(open) === 123;
  const items = [];
  let depth = 0;
  let start = open + 1;
  let valueStart = isObject ? -1 : start;
  const c0 = text.charCodeAt(start);
  if (c0 === 125 || c0 === 93) return { items, end: start + 1 };
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i = stringEnd(text, i);
      if (isObject && depth === 0 && valueStart < 0) valueStart = i + 2; // after `":`
    } else if (c === 123 || c === 91) {
      depth++;
    } else if (c === 125 || c === 93) {
      if (depth === 0) {
        items.push({ start, valueStart, end: i });
        return { items, end: i + 1 };
      }
      depth--;
    } else if (c === 44 && depth === 0) {
      items.push({ start, valueStart, end: i });
      start = i + 1;
      valueStart = isObject ? -1 : start;
    }
  }
  throw new Error('unterminated JSON container');
}

/** `text[start, end)` laid out with two-space indents, starting at `level`. */
function pretty(text, start, end, level) {
  const parts = [];
  const nl = (l) => `\n${'  '.repeat(Math.max(l, 0))}`;
  let seg = start;
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i = stringEnd(text, i) + 1;
    } else if (c === 123 || c === 91) {
      const next = text.charCodeAt(i + 1);
      if (next === 125 || next === 93) {
        i += 2; // {} or []
        continue;
      }
      parts.push(text.slice(seg, i + 1), nl(++level));
      seg = ++i;
    } else if (c === 125 || c === 93) {
      parts.push(text.slice(seg, i), nl(--level));
      seg = i++;
    } else if (c === 44) {
      parts.push(text.slice(seg, i + 1), nl(level));
      seg = ++i;
    } else if (c === 58) {
      parts.push(text.slice(seg, i + 1), ' ');
      seg = ++i;
    } else {
      i++;
    }
  }
  parts.push(text.slice(seg, end));
  return parts.join('');
}

// ---- rendering -----------------------------------------------------------

function clearRequest() {
  request = null;
  bodyText = '';
  $('endpoint').textContent = '';
  $('headers').replaceChildren();
  $('idempotency-key').textContent = '';
  const routing = $('routing');
  routing.textContent = '';
  routing.dataset.type = '';
  routing.dataset.id = '';
  $('body').replaceChildren();
  $('body-raw').textContent = '';
  const size = $('body-size');
  size.textContent = '';
  size.dataset.bytes = '';
  $('more').hidden = true;
  for (const id of ['copy', 'download']) /** @type {HTMLButtonElement} */ ($(id)).disabled = true;
}

function showError(kind, message) {
  const box = $('error');
  box.dataset.kind = kind;
  box.replaceChildren(el('strong', 'Refused: '), el('code', kind, { class: 'kind' }), el('p', message, { class: 'message' }));
  box.hidden = false;
}

function clearError() {
  const box = $('error');
  box.dataset.kind = '';
  box.replaceChildren();
  box.hidden = true;
}

function renderHeaders() {
  const list = $('headers');
  list.replaceChildren();
  if (!request) return;
  for (const [name, value] of request.headers) {
    const secret = name.toLowerCase() === 'authorization';
    const li = el('li');
    li.append(el('code', name, { class: 'name' }), ': ');
    if (secret && !revealed) {
      // The real value is never written into the page while masked.
      li.append(el('code', 'Bearer ***', { class: 'value masked' }));
      li.dataset.masked = 'true';
    } else {
      li.append(el('code', value, { class: secret ? 'value secret' : 'value' }));
    }
    list.append(li);
  }
}

function issueLabel(json) {
  try {
    const issue = JSON.parse(json);
    const ref = issue.ref ?? {};
    const title = String(issue.title ?? '');
    return `${ref.key ?? ref.id ?? ''} · ${title.length > 80 ? `${title.slice(0, 79)}…` : title}`;
  } catch {
    return '';
  }
}

/** The body, laid out, with one collapsible block per issue. */
function renderBody(text) {
  const body = $('body');
  const more = $('more');
  body.replaceChildren();
  more.hidden = true;

  const top = members(text, 0);
  const issues = top.items.find((m) => text.startsWith('"issues":', m.start));
  if (!issues || text.charCodeAt(issues.valueStart + 1) === 93) {
    body.append(el('pre', pretty(text, 0, text.length, 0)));
    return;
  }
  const list = members(text, issues.valueStart).items;
  const head = el('pre', pretty(text, 0, issues.valueStart + 1, 0).trimEnd());
  const tailPre = el('pre', pretty(text, list.at(-1).end, text.length, 2).replace(/^\n/, ''));
  const tailItems = top.items.slice(top.items.indexOf(issues) + 1);
  if (tailItems.some((m) => m.end - m.start > PRETTY_MAX_CHARS)) {
    // A huge mappings list is left to the exact-bytes view.
    tailPre.textContent = `  ]${tailItems.map((m) => `,\n  ${text.slice(m.start, m.valueStart)} …`).join('')}\n}`;
    tailPre.classList.add('elided');
  }
  body.append(head, tailPre);

  const open = list.length <= OPEN_UP_TO;
  let shown = 0;
  const step = () => {
    const frag = document.createDocumentFragment();
    const stop = Math.min(shown + PAGE, list.length);
    for (; shown < stop; shown++) {
      const m = list[shown];
      const details = el('details', undefined, { class: 'issue' });
      details.open = open;
      details.append(
        el('summary', undefined, { 'data-label': `issues[${shown}] ${issueLabel(text.slice(m.start, m.end))}` }),
        el('pre', `    ${pretty(text, m.start, m.end, 2)}${shown + 1 < list.length ? ',' : ''}`),
      );
      frag.append(details);
    }
    body.insertBefore(frag, tailPre);
    const left = list.length - shown;
    more.hidden = left === 0;
    more.textContent = `Show ${Math.min(PAGE, left).toLocaleString('en')} more issues (${left.toLocaleString('en')} not shown)`;
  };
  more.onclick = step;
  step();
}

function renderRaw() {
  const raw = $('body-raw');
  if (raw.textContent === '' && bodyText !== '') raw.textContent = bodyText;
}

function render() {
  renders++;
  const text = realText;
  const scheme = /** @type {HTMLInputElement} */ (document.querySelector('input[name="scheme"]:checked')).value;
  clearRequest();
  clearError();
  $('status').textContent = '';
  if (text.trim() === '') {
    document.body.dataset.renders = String(renders);
    return;
  }
  const t0 = performance.now();
  try {
    request = buildSnapshotPayloadJson(text, scheme);
  } catch (e) {
    showError(e?.kind ?? 'internal-error', e?.message ?? String(e));
    document.body.dataset.renders = String(renders);
    return;
  }
  const t1 = performance.now();
  bodyText = new TextDecoder('utf-8', { fatal: true }).decode(request.body);

  $('endpoint').textContent = request.endpoint;
  renderHeaders();
  $('idempotency-key').textContent = request.idempotencyKey;
  const routing = $('routing');
  if (request.routing) {
    routing.dataset.type = request.routing.resourceType;
    routing.dataset.id = request.routing.resourceId;
    routing.replaceChildren(el('code', request.routing.resourceType), ' ', el('code', request.routing.resourceId));
  } else {
    routing.textContent = 'no routing: falls back to provider + workspace';
  }
  const size = $('body-size');
  size.dataset.bytes = String(request.body.length);
  size.textContent = bytes(request.body.length);
  for (const id of ['copy', 'download']) /** @type {HTMLButtonElement} */ ($(id)).disabled = false;
  renderBody(bodyText);
  if (request.body.length <= RAW_EAGER_BYTES || /** @type {HTMLDetailsElement} */ ($('raw')).open) renderRaw();
  const t2 = performance.now();
  $('status').textContent = `computed in ${(t1 - t0).toFixed(1)} ms, shown in ${(t2 - t1).toFixed(1)} ms`;
  document.body.dataset.renders = String(renders);
}

// ---- the input's secrets ----------------------------------------------------
// `auth_token` and every value of `credentials` are secrets: while masked,
// the page keeps them in `realText` and `remembered`, never in `#input`.
// Masking replaces only those string tokens, so the rest of the text stays as
// given, character for character.

const MASK = '***';
const isWs = (c) => c === 32 || c === 9 || c === 10 || c === 13;
function skipWs(text, i) {
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  return i;
}

/** Index just after the (valid) JSON value starting at `i`. */
function valueEnd(text, i) {
  const c = text.charCodeAt(i);
  if (c === 34) return stringEnd(text, i) + 1;
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === 34) j = stringEnd(text, j);
      else if (d === 123 || d === 91) depth++;
      else if ((d === 125 || d === 93) && --depth === 0) return j + 1;
    }
    throw new Error('unterminated JSON container');
  }
  let j = i; // a number, true, false or null
  while (j < text.length && !isWs(text.charCodeAt(j)) && !',}]'.includes(text[j])) j++;
  return j;
}

/** The members of the (valid) JSON object opening at `open`: key, and where its value starts and ends. */
function objectMembers(text, open) {
  const out = [];
  let i = skipWs(text, open + 1);
  while (text.charCodeAt(i) !== 125) {
    const keyEnd = stringEnd(text, i) + 1;
    const key = JSON.parse(text.slice(i, keyEnd));
    const start = skipWs(text, skipWs(text, keyEnd) + 1); // past the colon
    const end = valueEnd(text, start);
    out.push({ key, start, end });
    i = skipWs(text, end);
    if (text.charCodeAt(i) === 44) i = skipWs(text, i + 1);
  }
  return out;
}

/**
 * The secret string tokens of `text` (`auth_token`, each `credentials`
 * value), with where they are and what they hold; null when `text` is not a
 * JSON object, so cannot be masked token by token.
 */
function secretSpans(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const spans = [];
  const add = (id, m) => {
    if (text.charCodeAt(m.start) !== 34) return; // not a string: nothing to hide, the core names the field
    const raw = text.slice(m.start, m.end);
    spans.push({ id, start: m.start, end: m.end, raw, value: JSON.parse(raw) });
  };
  for (const m of objectMembers(text, skipWs(text, 0))) {
    if (m.key === 'auth_token') add('auth_token', m);
    else if (m.key === 'credentials' && text.charCodeAt(m.start) === 123) {
      for (const c of objectMembers(text, m.start)) add(JSON.stringify(['credentials', c.key]), c);
    }
  }
  return spans;
}

/** `text` with `spans` replaced by `withText(span)`, and a caret position carried across. */
function splice(text, spans, withText, caret = 0) {
  const parts = [];
  let at = 0;
  let length = 0; // of the parts so far
  let moved = caret;
  for (const s of spans) {
    const w = withText(s);
    const before = text.slice(at, s.start);
    if (s.end <= caret) moved += w.length - (s.end - s.start);
    else if (s.start < caret) moved = length + before.length + w.length; // inside a replaced token: after it
    parts.push(before, w);
    length += before.length + w.length;
    at = s.end;
  }
  parts.push(text.slice(at));
  return { text: parts.join(''), caret: moved };
}

const hidden = (s) => s.value !== '' && s.value !== MASK;
const count = (text, s) => (s === '' ? 0 : text.split(s).length - 1);

/** Text that is not a JSON object, with every remembered secret value replaced by the mask. */
function maskLoose(text) {
  let out = text;
  for (const { value } of remembered.values()) if (value !== '') out = out.split(value).join(MASK);
  return out;
}

/** `text` as `#input` shows it while masked. */
function maskedText(text) {
  const spans = secretSpans(text);
  if (!spans) return maskLoose(text);
  return splice(text, spans.filter(hidden), () => `"${MASK}"`).text;
}

/** Puts `text` in `#input`, keeping the caret where it was meant to be. */
function show(text, caret) {
  if (input.value !== text) {
    input.value = text; // .value, not textContent: the input never becomes page markup
    if (caret !== undefined && document.activeElement === input) input.setSelectionRange(caret, caret);
  }
  shown = input.value;
}

/** A new input (sample, file, drop): it is the real text; its secrets are remembered and masked. */
function setInput(text) {
  clearTimeout(timer);
  pending = false;
  realText = text;
  remembered = new Map();
  for (const s of secretSpans(text) ?? []) if (hidden(s)) remembered.set(s.id, s);
  show(revealed ? text : maskedText(text), 0);
  render();
}

/**
 * The person changed `#input` (typing, paste): `typed` is its new text and
 * `caret` where the caret is. While masked, a secret shown as "***" stands
 * for the remembered value; a new value is remembered and masked at once.
 * The text is written back only then, so ordinary typing keeps its caret.
 */
function edit(typed, caret) {
  clearTimeout(timer);
  pending = false;
  const spans = secretSpans(typed);
  if (revealed) {
    realText = typed;
    for (const s of spans ?? []) if (hidden(s)) remembered.set(s.id, s);
    show(typed, caret);
  } else if (!spans) {
    // Not a JSON object: nothing to mask token by token. The core refuses it;
    // a remembered secret typed or pasted in is still masked where it appears.
    realText = typed;
    const leaks = [...remembered.values()].some((s) => count(typed, s.value) > count(shown, s.value));
    show(leaks ? maskLoose(typed) : typed, caret);
  } else {
    const fresh = spans.filter((s) => hidden(s));
    for (const s of fresh) remembered.set(s.id, s);
    realText = splice(typed, spans, (s) => (s.value === MASK && remembered.has(s.id) ? remembered.get(s.id).raw : s.raw)).text;
    const masked = fresh.length ? splice(typed, fresh, () => `"${MASK}"`, caret) : { text: typed, caret };
    show(masked.text, masked.caret);
  }
  render();
}

let timer = 0;
let pending = false;
/** Typing into a large snapshot: wait for a pause instead of taking in every key. */
function onInput() {
  clearTimeout(timer);
  const later = () => edit(input.value, input.selectionEnd);
  pending = true;
  if (input.value.length > 200_000) timer = setTimeout(later, 200);
  else later();
}

/** Takes in an edit still waiting for its pause, before anything reads `realText`. */
function flush() {
  if (pending) edit(input.value, input.selectionEnd);
}

/** A paste goes through `edit` before it reaches the textarea, so a pasted secret is never in it, even for a moment. */
function onPaste(e) {
  const text = e.clipboardData?.getData('text/plain');
  if (typeof text !== 'string' || revealed) return;
  e.preventDefault();
  const v = input.value;
  const a = input.selectionStart;
  edit(v.slice(0, a) + text + v.slice(input.selectionEnd), a + text.length);
}

async function load(text) {
  setInput(text);
}

async function loadFile(file) {
  if (file) await load(await file.text());
}

function wire() {
  input.addEventListener('input', onInput);
  input.addEventListener('paste', onPaste);
  for (const r of document.querySelectorAll('input[name="scheme"]')) {
    r.addEventListener('change', () => {
      if (pending) flush();
      else render();
    });
  }
  $('sample').addEventListener('click', async () => load(await (await fetch('sample.json')).text()));
  $('file').addEventListener('change', (e) => loadFile(/** @type {HTMLInputElement} */ (e.target).files?.[0]));

  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    drop.classList.remove('over');
    const file = e.dataTransfer?.files?.[0];
    if (file) {
      e.preventDefault();
      loadFile(file);
    }
  });

  const reveal = $('reveal');
  reveal.addEventListener('click', () => {
    flush();
    revealed = !revealed;
    reveal.setAttribute('aria-pressed', String(revealed));
    reveal.textContent = revealed ? 'Hide secrets' : 'Reveal secrets';
    renderHeaders();
    show(revealed ? realText : maskedText(realText));
  });

  $('copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(bodyText);
      $('status').textContent = `copied the body (${bytes(request.body.length)})`;
    } catch (e) {
      $('status').textContent = `could not copy: ${e?.message ?? e}`;
    }
  });
  $('download').addEventListener('click', () => {
    const url = URL.createObjectURL(new Blob([request.body], { type: 'application/json' }));
    const a = el('a', undefined, { href: url, download: 'snapshot-body.json' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  $('expand').addEventListener('click', () => {
    for (const d of $('body').querySelectorAll('details')) d.open = true;
  });
  $('collapse').addEventListener('click', () => {
    for (const d of $('body').querySelectorAll('details')) d.open = false;
  });
  $('raw').addEventListener('toggle', renderRaw);
}

await init({ module_or_path: new URL('tracker_publish_bg.wasm', import.meta.url) });
wire();
if (input.value.trim() !== '') setInput(input.value); // a value the browser kept across a reload
document.documentElement.dataset.ready = 'true';
