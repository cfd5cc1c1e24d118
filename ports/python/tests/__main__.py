"""Runs every test (``python3 -m tests`` in ports/python) and ends with "N passed, N failed", counting sub-tests."""

from __future__ import annotations

import sys
import unittest


class CountingResult(unittest.TextTestResult):
    """Counts each sub-test (every vector is one) as a test of its own."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.passed = 0
        self.failed = 0
        self._had_subtests: set[str] = set()

    def addSubTest(self, test, subtest, outcome) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().addSubTest(test, subtest, outcome)
        self._had_subtests.add(test.id())
        if outcome is None:
            self.passed += 1
        else:
            self.failed += 1

    def addSuccess(self, test) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().addSuccess(test)
        if test.id() not in self._had_subtests:
            self.passed += 1

    def addFailure(self, test, err) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().addFailure(test, err)
        self.failed += 1

    def addError(self, test, err) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().addError(test, err)
        self.failed += 1

    def addSkip(self, test, reason) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().addSkip(test, reason)
        self.failed += 1  # nothing here may be skipped


def main() -> int:
    suite = unittest.defaultTestLoader.discover("tests", top_level_dir=".")
    result = unittest.TextTestRunner(resultclass=CountingResult, verbosity=1).run(suite)
    assert isinstance(result, CountingResult)
    print(f"{result.passed} passed, {result.failed} failed")
    return 0 if result.wasSuccessful() and result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
