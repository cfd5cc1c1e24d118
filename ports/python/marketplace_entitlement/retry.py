"""The RegisterUsage retry policy: a jittered backoff whose window grows per failure up to a cap, bounded by a deadline (src/aws/retry.ts)."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

from .errors import ConfigurationError, EntitlementError, ServiceUnavailableError

T = TypeVar("T")


@dataclass(frozen=True, init=False)
class RetryPolicy:
    """Backoff of the retry loop (the TypeScript library's RetryPolicy; any field may be given alone).

    After the k-th consecutive failure the loop waits a random delay drawn from a window: the window starts at
    ``base_delay_ms``, doubles after each failure up to ``doubling_limit_ms``, then grows by ``step_delay_ms`` per
    failure, never past ``max_delay_ms``; the delay is uniform over the last ``max_jitter_ms`` of the window (over the
    whole window, "full jitter", while the window is no wider than that). See backoff_delay_ms. The defaults are
    DEFAULT_RETRY_POLICY's; ``max_delay_ms`` defaults to 30 s, or ``base_delay_ms`` if that is larger.
    """

    base_delay_ms: float
    """The first backoff window."""
    doubling_limit_ms: float
    """The window doubles after each failure until it reaches this (it stays at most this while doubling)."""
    step_delay_ms: float
    """Past the doubling, the window grows by this much per failure."""
    max_delay_ms: float
    """Largest backoff window, however many attempts failed."""
    max_jitter_ms: float
    """Widest spread of the random draw: the delay falls in the last ``max_jitter_ms`` of the window."""

    # The retry policy's parameters, in one place: the TypeScript library's DEFAULT_RETRY_POLICY (src/aws/retry.ts,
    # chosen on its herd simulation, issue 25). test/vectors/retry-policy.json carries them with sample delays and this
    # package's tests fail when they differ, so a change there is a change here.
    def __init__(
        self,
        *,
        base_delay_ms: float = 1_000,
        doubling_limit_ms: float = 1_000,
        step_delay_ms: float = 500,
        max_delay_ms: Optional[float] = None,
        max_jitter_ms: float = 8_000,
    ) -> None:
        # A base above the default cap with no cap given means "wait longer", not a contradiction.
        resolved = {
            "base_delay_ms": base_delay_ms,
            "doubling_limit_ms": doubling_limit_ms,
            "step_delay_ms": step_delay_ms,
            "max_delay_ms": max(30_000, base_delay_ms) if max_delay_ms is None else max_delay_ms,
            "max_jitter_ms": max_jitter_ms,
        }
        positive = all(isinstance(ms, (int, float)) and not isinstance(ms, bool) and 0 < ms < math.inf for ms in resolved.values())
        if not positive or not resolved["max_delay_ms"] >= resolved["base_delay_ms"]:
            raise ConfigurationError(
                "INVALID_OPTION", f"The retry policy needs finite, positive delays with base_delay_ms <= max_delay_ms, got {resolved}."
            )
        for name, ms in resolved.items():
            object.__setattr__(self, name, ms)


DEFAULT_RETRY_POLICY = RetryPolicy()
"""Window 1 s, growing by 0.5 s per failure up to 30 s (no doubling); the delay is drawn from the window's last 8 s (the whole window up to the 15th failure)."""
DEFAULT_DEADLINE_SECONDS = 30 * 60.0
"""AWS's guidance: keep retrying RegisterUsage for up to 30 minutes."""


def _backoff_window_ms(failures: int, policy: RetryPolicy) -> float:
    """The backoff window after ``failures`` consecutive failures (backoffWindow in TypeScript, the same float arithmetic)."""
    window = float(policy.base_delay_ms)
    counted = 1  # failures the window accounts for so far
    # At most log2(doubling_limit_ms / base_delay_ms) + 1 rounds, whatever ``failures`` is.
    while counted < failures and window < policy.doubling_limit_ms and window < policy.max_delay_ms:
        window = min(window * 2, float(policy.doubling_limit_ms))
        counted += 1
    # float(): JavaScript multiplies doubles, not Python's exact integers.
    return min(float(policy.max_delay_ms), window + float(policy.step_delay_ms) * float(max(failures - counted, 0)))


def backoff_delay_ms(failures: int, policy: RetryPolicy, random: float) -> int:
    """Delay before the next attempt after ``failures`` consecutive failures (1 = the first), for ``random`` in [0, 1).

    Whole milliseconds: floor(window - spread) + floor(random * spread), where spread = min(window, max_jitter_ms);
    that is, uniform over [window - spread, window).
    """
    window = _backoff_window_ms(failures, policy)
    spread = min(window, float(policy.max_jitter_ms))
    # Two floors rather than one: floor(a + random * b) can round up to the window itself when random is near 1.
    return math.floor(window - spread) + math.floor(random * spread)


def _jitter() -> float:
    """Uniform in [0, 1) from the OS CSPRNG, so that pods started together draw different delays."""
    return secrets.randbits(53) / (1 << 53)


def retry_until_deadline(
    attempt: Callable[[], T],
    *,
    deadline_seconds: float,
    policy: RetryPolicy,
    classify: Callable[[Exception], Optional[EntitlementError]],
    operation: str,
    on_retry: Callable[[int, int, Exception], None] | None = None,
) -> tuple[T, int]:
    """Run ``attempt`` until it succeeds, fails for good (``classify`` returns the typed error), or the deadline passes.

    Returns (value, attempts). The deadline ends in ServiceUnavailableError DEADLINE_EXCEEDED naming the last failure.
    An attempt already under way when the deadline passes finishes first (bounded by the client's timeouts).
    """
    deadline_at = time.monotonic() + deadline_seconds
    attempts = 0
    last_error: Exception | None = None
    while time.monotonic() < deadline_at:
        attempts += 1
        try:
            return attempt(), attempts
        except Exception as err:  # noqa: BLE001 - every failure is classified; the final ones are raised typed
            final = classify(err)
            if final is not None:
                raise final from err
            last_error = err
        remaining_ms = max((deadline_at - time.monotonic()) * 1000, 0)
        delay_ms = min(backoff_delay_ms(attempts, policy, _jitter()), remaining_ms)
        if on_retry is not None:
            on_retry(attempts, int(delay_ms), last_error)
        time.sleep(delay_ms / 1000)
    last = f"; last error: {type(last_error).__name__}: {last_error}" if last_error else ""
    raise ServiceUnavailableError(
        "DEADLINE_EXCEEDED",
        f"{operation} did not succeed within {deadline_seconds:g} s ({attempts} attempt(s)){last}. AWS was unreachable "
        "or kept throttling; check network egress to the AWS endpoint and retry later.",
        attempts,
    ) from last_error
