"""``ensure_entitled()``: the entitlement check to run once at container start (src/registration/register.ts)."""

from __future__ import annotations

import base64
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlparse

import botocore.session

from .aws import DEFAULT_REQUEST_TIMEOUT_SECONDS, TLS_ROOTS_AWS, classify_aws_error, metering_client, resolve_region, trust_roots
from .errors import ConfigurationError
from .public_key import load_product_public_key
from .retry import DEFAULT_DEADLINE_SECONDS, DEFAULT_RETRY_POLICY, RetryPolicy, retry_until_deadline
from .verify import check_seconds, verify_registration

PRODUCT_CODE_PATTERN = re.compile(r"[-a-zA-Z0-9/=:_.@]{1,255}")
"""What RegisterUsage accepts as a product code (API model)."""
MAX_PUBLIC_KEY_VERSION = 2_147_483_647
"""RegisterUsage takes a 32-bit integer."""

_log = logging.getLogger("marketplace_entitlement")


@dataclass(frozen=True)
class Entitlement:
    """A verified registration."""

    product_code: str
    public_key_version: int
    nonce: str
    """The nonce sent and found again in the signed answer."""
    issued_at: float
    """Epoch seconds: AWS's iat, or when the answer arrived (see issued_at_source)."""
    issued_at_source: str
    """'token' or 'received'."""
    registration: str
    """The AWS JWT, verbatim."""
    public_key_rotation_timestamp: datetime | None
    """Set when AWS says public_key_version has expired: rotate to the new key."""
    attempts: int
    """RegisterUsage calls made, retries included."""
    region: str


def new_nonce() -> str:
    """A nonce from the CSPRNG: 256 bits, 43 base64url characters (RegisterUsage allows 255)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def ensure_entitled(
    *,
    product_code: str,
    public_key: str | bytes,
    public_key_version: int = 1,
    region: str | None = None,
    endpoint: str | None = None,
    tls_roots: str = TLS_ROOTS_AWS,
    session: botocore.session.Session | None = None,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS,
    clock_tolerance_sec: float | None = None,
    max_token_age_sec: float | None = None,
    logger: logging.Logger | None = None,
) -> Entitlement:
    """Call RegisterUsage with a fresh nonce and verify the signed answer; raise an EntitlementError subclass otherwise.

    Configuration is checked before any network call. Throttling, 5xx and network failures are retried with
    jittered backoff (``retry_policy``) until the deadline. ``tls_roots``: 'aws' (Amazon's roots only), 'system', or a PEM bundle
    path. Credentials come from ``session`` (default: botocore's chain: IRSA on EKS, the task role on ECS).
    """
    log = logger or _log
    if not isinstance(product_code, str) or not PRODUCT_CODE_PATTERN.fullmatch(product_code):
        raise ConfigurationError(
            "INVALID_PRODUCT_CODE",
            f"Product code {product_code!r} is not valid: 1-255 characters of letters, digits and -/=:_.@. "
            "Copy it from the AWS Marketplace Management Portal.",
        )
    if isinstance(public_key_version, bool) or not isinstance(public_key_version, int) or not 1 <= public_key_version <= MAX_PUBLIC_KEY_VERSION:
        raise ConfigurationError(
            "INVALID_PUBLIC_KEY_VERSION",
            f"Public key version {public_key_version!r} is not valid: a whole number from 1 to {MAX_PUBLIC_KEY_VERSION} "
            "(RegisterUsage takes a 32-bit integer), as shown beside the key in the Management Portal.",
        )
    check_seconds("clock_tolerance_sec", clock_tolerance_sec)
    check_seconds("max_token_age_sec", max_token_age_sec)
    key = load_product_public_key(public_key)
    if not deadline_seconds > 0:
        raise ConfigurationError("INVALID_OPTION", f"deadline_seconds must be positive, got {deadline_seconds!r}.")
    if endpoint is not None:
        parsed = urlparse(endpoint)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigurationError(
                "INVALID_OPTION",
                f"The endpoint {endpoint!r} is not an http(s) URL. Give the emulator's URL (e.g. http://127.0.0.1:8443), "
                "or leave the endpoint out to use AWS.",
            )
    verify = trust_roots(tls_roots)
    session = session or botocore.session.get_session()
    resolved_region = resolve_region(region, session)
    client = metering_client(session, resolved_region, endpoint, verify, request_timeout_seconds)

    nonce = new_nonce()
    request = {"ProductCode": product_code, "PublicKeyVersion": public_key_version, "Nonce": nonce}

    def register_usage() -> dict[str, Any]:
        return cast("dict[str, Any]", client.register_usage(**request))

    try:
        response, attempts = retry_until_deadline(
            register_usage,
            deadline_seconds=deadline_seconds,
            policy=retry_policy,
            classify=classify_aws_error,
            operation="RegisterUsage",
            on_retry=lambda attempt, delay_ms, err: log.warning("RegisterUsage attempt %d failed, retrying in %d ms: %s", attempt, delay_ms, err),
        )
    finally:
        client.close()
    signature = response.get("Signature")
    token = signature if isinstance(signature, str) else ""
    claims = verify_registration(
        token,
        key=key,
        product_code=product_code,
        public_key_version=public_key_version,
        nonce=nonce,
        clock_tolerance_sec=clock_tolerance_sec,
        max_token_age_sec=max_token_age_sec,
    )
    rotation = response.get("PublicKeyRotationTimestamp")
    if rotation is not None:
        log.warning(
            "AWS reports that public key version %d expired at %s: configure the newer key and its version from the "
            "AWS Marketplace Management Portal.", public_key_version, rotation,
        )
    return Entitlement(
        product_code=claims.product_code,
        public_key_version=claims.public_key_version,
        nonce=claims.nonce,
        issued_at=claims.issued_at,
        issued_at_source=claims.issued_at_source,
        registration=token,
        public_key_rotation_timestamp=rotation,
        attempts=attempts,
        region=resolved_region,
    )
