"""The RegisterUsage retry policy: capped exponential backoff with full jitter, bounded by a deadline (src/aws/retry.ts)."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

from .errors import ConfigurationError, EntitlementError, ServiceUnavailableError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Full jitter: each delay uniform in [0, min(max_delay_ms, base_delay_ms * 2**(failures-1)))."""

    base_delay_ms: float
    max_delay_ms: float

    def __post_init__(self) -> None:
        if not (self.base_delay_ms > 0 and self.max_delay_ms >= self.base_delay_ms):
            raise ConfigurationError(
                "INVALID_OPTION", f"The retry policy needs 0 < base_delay_ms <= max_delay_ms, got {self.base_delay_ms} and {self.max_delay_ms}."
            )


# The retry policy's parameters, in one place. They are the TypeScript library's DEFAULT_RETRY_POLICY and
# DEFAULT_DEADLINE_MS (src/aws/retry.ts, tuned on its herd simulation); test/vectors/retry-policy.json carries them
# and this package's tests fail when they differ, so a change there is a change here.
DEFAULT_RETRY_POLICY = RetryPolicy(base_delay_ms=1_000, max_delay_ms=30_000)
"""Base 1 s, cap 30 s."""
DEFAULT_DEADLINE_SECONDS = 30 * 60.0
"""AWS's guidance: keep retrying RegisterUsage for up to 30 minutes."""


def backoff_delay_ms(failures: int, policy: RetryPolicy, random: float) -> int:
    """Delay before the next attempt after ``failures`` consecutive failures (1 = the first), for ``random`` in [0, 1)."""
    exponent = min(max(failures - 1, 0), 30)
    window = min(policy.max_delay_ms, math.ldexp(policy.base_delay_ms, exponent))
    return math.floor(random * window)


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
