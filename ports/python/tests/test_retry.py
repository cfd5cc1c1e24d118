"""The backoff of the retry loop: full jitter under a doubling, capped window."""

from __future__ import annotations

import unittest

from marketplace_entitlement import RetryPolicy, backoff_delay_ms
from marketplace_entitlement.retry import _jitter


class Backoff(unittest.TestCase):
    def test_window_doubles_up_to_the_cap(self) -> None:
        policy = RetryPolicy(base_delay_ms=100, max_delay_ms=1000)
        for failures, random, expected in ((1, 0, 0), (1, 0.999999, 99), (3, 0.5, 200), (5, 0.999999, 999), (0, 0.5, 50), (1000, 0.5, 500)):
            with self.subTest(failures=failures, random=random):
                self.assertEqual(backoff_delay_ms(failures, policy, random), expected)

    def test_jitter_is_uniform_in_the_unit_interval(self) -> None:
        draws = [_jitter() for _ in range(1000)]
        self.assertTrue(all(0 <= draw < 1 for draw in draws))
        # 1000 fair draws fall below 0.5 between 400 and 600 times except with probability ~1e-10.
        self.assertTrue(400 <= sum(draw < 0.5 for draw in draws) <= 600)


if __name__ == "__main__":
    unittest.main()
