"""The backoff of the retry loop: a window that doubles, then steps, up to a cap; the delay in its last max_jitter_ms."""

from __future__ import annotations

import math
import unittest

from marketplace_entitlement import DEFAULT_RETRY_POLICY, ConfigurationError, RetryPolicy, backoff_delay_ms
from marketplace_entitlement.retry import _backoff_window_ms, _jitter


class Backoff(unittest.TestCase):
    def test_window_doubles_then_steps_up_to_the_cap(self) -> None:
        policy = RetryPolicy(base_delay_ms=1000, doubling_limit_ms=4000, step_delay_ms=500, max_delay_ms=30_000, max_jitter_ms=8000)
        # 1, 2, 4 s doubling, then 4.5, 5, ... s, capped at 30 s.
        for failures, expected in ((0, 1000), (1, 1000), (2, 2000), (3, 4000), (4, 4500), (5, 5000), (54, 29_500), (55, 30_000), (2**62, 30_000)):
            with self.subTest(failures=failures):
                self.assertEqual(_backoff_window_ms(failures, policy), expected)

    def test_delay_is_uniform_over_the_windows_last_max_jitter(self) -> None:
        policy = RetryPolicy(base_delay_ms=100, doubling_limit_ms=400, step_delay_ms=100, max_delay_ms=1000, max_jitter_ms=300)
        for failures, random, expected in (
            (1, 0, 0),
            (1, 0.999999, 99),  # full jitter while the window (100 ms) is narrower than max_jitter_ms
            (3, 0, 100),  # window 400 ms: the delay falls in its last 300 ms
            (3, 0.5, 250),
            (4, 0.999999, 499),  # window 500 ms, never the window itself
            (1000, 0.5, 850),  # capped at 1000 ms, no overflow however many failures
            (0, 0.5, 50),  # before any failure: the first window
        ):
            with self.subTest(failures=failures, random=random):
                self.assertEqual(backoff_delay_ms(failures, policy, random), expected)

    def test_jitter_is_uniform_in_the_unit_interval(self) -> None:
        draws = [_jitter() for _ in range(1000)]
        self.assertTrue(all(0 <= draw < 1 for draw in draws))
        # 1000 fair draws fall below 0.5 between 400 and 600 times except with probability ~1e-10.
        self.assertTrue(400 <= sum(draw < 0.5 for draw in draws) <= 600)


class Policy(unittest.TestCase):
    def test_defaults_and_refusals(self) -> None:
        self.assertEqual(RetryPolicy(), DEFAULT_RETRY_POLICY)
        # The old two fields alone keep their values and take the new defaults for the rest, as in TypeScript.
        self.assertEqual(
            RetryPolicy(base_delay_ms=10, max_delay_ms=50),
            RetryPolicy(base_delay_ms=10, doubling_limit_ms=1000, step_delay_ms=500, max_delay_ms=50, max_jitter_ms=8000),
        )
        self.assertEqual(RetryPolicy(base_delay_ms=3_600_000).max_delay_ms, 3_600_000, "a base above the default cap keeps its own cap")
        for bad in (
            {"base_delay_ms": 0},
            {"base_delay_ms": -1},
            {"base_delay_ms": 2000, "max_delay_ms": 1000},
            {"doubling_limit_ms": math.nan},
            {"step_delay_ms": math.inf},
            {"max_delay_ms": -1},
            {"max_jitter_ms": 0},
        ):
            with self.subTest(**bad), self.assertRaises(ConfigurationError) as raised:
                RetryPolicy(**bad)
            self.assertEqual(raised.exception.code, "INVALID_OPTION")


if __name__ == "__main__":
    unittest.main()
