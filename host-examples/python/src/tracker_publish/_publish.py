"""`publish`: send the component's request over HTTP, retrying as the core's `decide-retry` says.

The host only sends and sleeps: which outcomes are retried, how long to wait
(backoff, jitter, `Retry-After`) and when to stop is the core's retry policy
(WIT `decide-retry`, README "Retries"), the same in the command and the Node
package. Every attempt sends the same bytes under the same Idempotency-Key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from wasmtime.component import Variant

from ._component import runtime


def _random32() -> int:
    import random  # on a retry only: not at import time

    return random.getrandbits(32)

if TYPE_CHECKING:
    import httpx

#: Kinds only `publish` raises (no answer at all); the component's kinds are `ERROR_KINDS`.
HOST_ERROR_KINDS = ("network-error", "timeout")


@dataclass(frozen=True)
class RetryOptions:
    """The retry policy's options (WIT `retry-options`); every host's defaults."""

    #: Attempts in all, the first one included.
    max_attempts: int = 4
    #: The first backoff in milliseconds; it doubles on every retry.
    base_delay_ms: int = 500
    #: The longest wait between two attempts in milliseconds, whatever `Retry-After` asks.
    max_delay_ms: int = 30_000


@dataclass(frozen=True)
class PublishResult:
    """The last answer: `ok` for a 2xx; otherwise the server's refusal (after any retries)."""

    endpoint: str
    status: int
    ok: bool
    #: The answer's body, as received.
    body: bytes
    idempotency_key: str
    attempts: int


class _Fields:
    """A WIT record for wasmtime-py, which lowers a record from attributes named as in the WIT."""

    def __init__(self, **fields: Any) -> None:
        for k, v in fields.items():
            setattr(self, k.replace("_", "-"), v)


def decide_retry(report: dict[str, Any], options: RetryOptions = RetryOptions()) -> tuple[str, Any]:
    """The core's decision for one finished attempt: `("retry_in_ms", ms)` or `("stop", reason)`.

    `report` has the WIT `attempt-report` fields in snake_case: `attempt`,
    `outcome` (`"status"`, `"connection-error"`, `"timeout"`), `status` (with
    `"status"`), `earlier_unanswered`, `retry_after` (the header value or
    None), `now_unix_ms`, `random` (a fresh u32).
    """
    from . import PublishError

    outcome = report.get("outcome")
    if outcome == "status":
        status = report.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 0 <= status <= 0xFFFF:
            raise PublishError("invalid-input", "report.status: expected an HTTP status code (0 to 65535)")
        out = Variant("status", status)
    elif outcome in ("connection-error", "timeout"):
        out = Variant(outcome)
    else:
        raise PublishError("invalid-input", 'report.outcome: expected "status", "connection-error" or "timeout"')
    try:
        rec = _Fields(
            attempt=report["attempt"],
            outcome=out,
            earlier_unanswered=bool(report.get("earlier_unanswered", False)),
            retry_after=report.get("retry_after"),
            now_unix_ms=report["now_unix_ms"],
            random=report["random"],
        )
        opts = _Fields(max_attempts=options.max_attempts, base_delay_ms=options.base_delay_ms, max_delay_ms=options.max_delay_ms)
        d = runtime().call("decide-retry", rec, opts)
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise PublishError("invalid-input", f"report or options: {type(e).__name__}: {str(e)[:80]}") from None
    # retry-decision lifts untagged (an int or a str) or, where cases clash, as a Variant.
    if isinstance(d, Variant):
        tag, value = d.tag, d.payload
        return ("retry_in_ms", value) if tag == "retry-in-ms" else ("stop", value)
    return ("retry_in_ms", d) if isinstance(d, int) else ("stop", d)


def publish(
    input: Any,
    *,
    idempotency: str = "v1",
    timeout_seconds: float = 10.0,
    retry: RetryOptions = RetryOptions(),
    client: httpx.Client | None = None,
    on_attempt: Callable[[dict[str, Any]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    """Compute the request (`build_snapshot_payload`) and POST its exact bytes, retrying by the core's policy.

    Returns the final answer (`ok` for a 2xx). Raises `PublishError` for a
    refused input (nothing is sent), or with kind `network-error` /
    `timeout` when the last attempt got no answer. `on_attempt` sees each
    attempt's `{attempt, status, error, retry_in_ms}`; messages never hold
    the token.
    """
    # Imported here: httpx costs tens of milliseconds at import, and most
    # processes only build requests.
    import httpx

    from . import PublishError, build_snapshot_payload

    if not isinstance(timeout_seconds, (int, float)) or isinstance(timeout_seconds, bool) or not 1 <= timeout_seconds <= 120:
        raise PublishError("invalid-input", "timeout_seconds: expected a number from 1 to 120")
    req = build_snapshot_payload(input, idempotency=idempotency)
    own = client is None
    http = client if client is not None else httpx.Client(timeout=timeout_seconds, follow_redirects=False)
    earlier_unanswered = False
    try:
        for n in range(1, 1 << 32):
            answer: httpx.Response | None = None
            failure: str | None = None
            outcome = "status"
            try:
                answer = http.post(req.endpoint, content=req.body, headers=req.headers, timeout=timeout_seconds)
                _ = answer.content
            except httpx.TimeoutException:
                outcome, failure = "timeout", f"no answer within {timeout_seconds:g} s"
            except httpx.TransportError as e:
                # httpx's message names the host, never a header value.
                outcome, failure = "connection-error", f"connection failed ({type(e).__name__})"
            kind, value = decide_retry(
                {
                    "attempt": n,
                    "outcome": outcome,
                    "status": answer.status_code if answer is not None else None,
                    "earlier_unanswered": earlier_unanswered,
                    "retry_after": answer.headers.get("retry-after") if answer is not None else None,
                    "now_unix_ms": int(time.time() * 1000),
                    "random": _random32(),
                },
                retry,
            )
            if failure is not None:
                earlier_unanswered = True
            retry_in = value if kind == "retry_in_ms" else None
            if on_attempt is not None:
                on_attempt({"attempt": n, "status": answer.status_code if answer is not None else None, "error": failure, "retry_in_ms": retry_in})
            if retry_in is None:
                if answer is None:
                    raise PublishError(
                        "timeout" if outcome == "timeout" else "network-error",
                        f"POST {req.endpoint}: {failure} ({n} attempt{'s' if n > 1 else ''})",
                    )
                return PublishResult(req.endpoint, answer.status_code, 200 <= answer.status_code < 300, answer.content, req.idempotency_key, n)
            sleep(retry_in / 1000)
    finally:
        if own:
            http.close()
    raise AssertionError("unreachable")
