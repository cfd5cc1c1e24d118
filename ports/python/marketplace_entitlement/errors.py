"""Typed errors with the TypeScript library's stable codes and the CLI's exit codes (src/common/errors.ts)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the CLI (BSD sysexits), one per failure class."""

    OK = 0
    USAGE = 64
    VERIFICATION_FAILED = 65
    NO_INPUT = 66
    SERVICE_UNAVAILABLE = 69
    NOT_ENTITLED = 77
    CONFIGURATION = 78


class EntitlementError(Exception):
    """Base class of every failure: a stable ``code`` (e.g. ``NONCE_MISMATCH``) and the CLI's ``exit_code``."""

    exit_code: int = 70

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.code}: {self.message}"


class NotEntitledError(EntitlementError):
    """AWS says the buyer has no subscription to this product (CustomerNotEntitledException). Exit 77."""

    exit_code = ExitCode.NOT_ENTITLED

    def __init__(self, message: str) -> None:
        super().__init__("CUSTOMER_NOT_ENTITLED", message)


class ConfigurationError(EntitlementError):
    """The deployment or the options are wrong; retrying will not help. Exit 78."""

    exit_code = ExitCode.CONFIGURATION


class VerificationError(EntitlementError):
    """The signed answer failed a check; ``code`` names the check. Exit 65."""

    exit_code = ExitCode.VERIFICATION_FAILED


class InputError(EntitlementError):
    """An input file (the key file) is missing or unreadable. Exit 66."""

    exit_code = ExitCode.NO_INPUT


class ServiceUnavailableError(EntitlementError):
    """AWS unreachable or throttling until the deadline (``DEADLINE_EXCEEDED``). Exit 69."""

    exit_code = ExitCode.SERVICE_UNAVAILABLE

    def __init__(self, code: str, message: str, attempts: int) -> None:
        super().__init__(code, message)
        self.attempts = attempts
