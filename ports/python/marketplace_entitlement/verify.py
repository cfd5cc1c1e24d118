"""Verification of the RegisterUsage Signature, a PS256 JWT, exactly as src/registration/verify.ts.

The algorithm is judged first (so alg none is reported as such), every segment must be canonical unpadded
base64url, a crit header is refused, the signature must be RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte
salt, and the nonce, product code and key version that were sent must come back (camelCase or PascalCase; when
both are present both must match). iat is advisory unless the caller sets a bound.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .errors import ConfigurationError, VerificationError
from .public_key import ProductKey

PLAUSIBLE_IAT_MIN_SEC = 1_451_606_400
"""2016-01-01, the Metering API's release: an earlier iat is not a NumericDate in seconds and counts as absent."""
PLAUSIBLE_IAT_MAX_SEC = 4_102_444_800
"""2100-01-01 (excluded): milliseconds, for instance, land beyond it."""

# RFC 7518 section 3.5: the salt is as long as the hash. Pinned: a verifier that accepts any length accepts more.
_PS256 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Claims:
    """The verified content of a RegisterUsage token."""

    product_code: str
    public_key_version: int
    nonce: str
    issued_at: float
    """Epoch seconds: the token's iat, or the time the answer was judged (see issued_at_source)."""
    issued_at_source: str
    """'token' or 'received'."""
    clock_skew_sec: int | None
    """iat minus the local clock, rounded, when issued_at_source is 'token'."""
    payload: dict[str, Any] = field(repr=False)


def verify_registration(
    token: str,
    *,
    key: ProductKey,
    product_code: str,
    public_key_version: int,
    nonce: str,
    clock_tolerance_sec: float | None = None,
    max_token_age_sec: float | None = None,
    now: float | None = None,
) -> Claims:
    """Return the claims of ``token`` or raise VerificationError (its code names the failed check)."""
    for name, value in (("clock_tolerance_sec", clock_tolerance_sec), ("max_token_age_sec", max_token_age_sec)):
        check_seconds(name, value)
    malformed = VerificationError(
        "TOKEN_MALFORMED", "The RegisterUsage signature is not a compact JWT (three non-empty unpadded base64url segments)."
    )
    segments = token.split(".") if isinstance(token, str) else []
    if len(segments) != 3:
        raise malformed
    header_bytes = _canonical_segment(segments[0])
    if header_bytes is None:
        raise malformed
    header = _decode_object(header_bytes, "header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg != "PS256":
        raise VerificationError("ALGORITHM_NOT_ALLOWED", f"The RegisterUsage token uses alg {_json(alg)}; only PS256 is accepted.")
    # AWS sends no crit; with crit b64:false the signed payload would be the raw segment, not the JSON read here.
    if "crit" in header:
        raise VerificationError("TOKEN_MALFORMED", "The RegisterUsage token header has a crit member; AWS sends none.")
    payload_bytes = _canonical_segment(segments[1])
    signature = _canonical_segment(segments[2])
    if payload_bytes is None or signature is None:
        raise malformed
    if not _ps256_verifies(f"{segments[0]}.{segments[1]}".encode("ascii"), signature, key):
        raise VerificationError(
            "SIGNATURE_INVALID",
            "The RegisterUsage token signature does not verify under the configured public key. Check that the key is "
            "the one AWS issued for this product and that the public key version matches it; otherwise the answer was forged.",
        )
    payload = _decode_object(payload_bytes, "payload")
    _expect_claim(payload, ("nonce", "Nonce"), nonce, "NONCE_MISMATCH", "nonce", lambda v: isinstance(v, str) and v == nonce)
    _expect_claim(
        payload, ("productCode", "ProductCode"), product_code, "PRODUCT_CODE_MISMATCH", "product code",
        lambda v: isinstance(v, str) and v == product_code,
    )
    _expect_claim(
        payload, ("publicKeyVersion", "PublicKeyVersion"), public_key_version, "PUBLIC_KEY_VERSION_MISMATCH",
        "public key version", lambda v: _version_number(v) == public_key_version,
    )
    judged_at = time.time() if now is None else now
    issued_at, source, skew = _issued_at(payload.get("iat"), judged_at, clock_tolerance_sec, max_token_age_sec)
    return Claims(product_code, public_key_version, nonce, issued_at, source, skew, payload)


def check_seconds(name: str, value: float | None) -> None:
    """Refuse a bound that would switch its check off (NaN) or refuse everything (negative): ConfigurationError INVALID_OPTION."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ConfigurationError("INVALID_OPTION", f"{name} must be a number of seconds >= 0, got {value!r}.")


def _canonical_segment(segment: str) -> bytes | None:
    """Unpadded base64url that re-encodes to itself (decoders ignore a last character's spare bits), else None."""
    if not _SEGMENT.fullmatch(segment):
        return None
    try:
        decoded = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode("ascii") == segment else None


def _ps256_verifies(signing_input: bytes, signature: bytes, key: ProductKey) -> bool:
    public = key.public_key
    modulus = public.public_numbers().n
    if not key.ps256 or len(signature) != (modulus.bit_length() + 7) // 8 or int.from_bytes(signature, "big") >= modulus:
        return False
    try:
        public.verify(signature, signing_input, _PS256, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_object(segment: bytes, part: str) -> dict[str, Any]:
    """A JSON object as JSON.parse reads it: numbers as floats (so 1e400 is infinity), no NaN or Infinity."""
    try:
        value = json.loads(segment.decode("utf-8", errors="replace"), parse_int=float, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise VerificationError("TOKEN_MALFORMED", f"The RegisterUsage token {part} is not valid JSON.") from None
    if not isinstance(value, dict):
        raise VerificationError("TOKEN_MALFORMED", f"The RegisterUsage token {part} is not a JSON object.")
    return value


def _expect_claim(
    payload: dict[str, Any], names: tuple[str, str], sent: object, code: str, label: str, matches: Callable[[Any], bool]
) -> None:
    present = [name for name in names if name in payload]
    if not present:
        raise VerificationError(code, f"The RegisterUsage token has no {label} claim ({' or '.join(names)}).")
    for name in present:
        if not matches(payload[name]):
            raise VerificationError(code, f"The RegisterUsage token's {name} is {_json(payload[name])}, but {_json(sent)} was sent.")


def _version_number(value: Any) -> float | None:
    """A key version claim as TypeScript compares it: a JSON number, or a string of ASCII digits read as a number."""
    if isinstance(value, float):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return float(value)
    return None


def _issued_at(
    iat: Any, now: float, tolerance: float | None, max_age: float | None
) -> tuple[float, str, int | None]:
    if not (isinstance(iat, float) and PLAUSIBLE_IAT_MIN_SEC <= iat < PLAUSIBLE_IAT_MAX_SEC):
        if tolerance is not None or max_age is not None:
            raise VerificationError(
                "IAT_MISSING",
                f"The RegisterUsage token has no iat in NumericDate seconds (got {_json(iat)}), so the clock tolerance / "
                "maximum token age you set cannot be checked. Leave them unset to rely on the nonce alone.",
            )
        return now, "received", None
    if tolerance is not None and iat > now + tolerance:
        raise VerificationError(
            "IAT_IN_FUTURE",
            f"The RegisterUsage token was issued {_js_round(iat - now)} s in the future (tolerance {tolerance} s). "
            "Check this host's clock (NTP).",
        )
    if max_age is not None and now - iat > max_age:
        raise VerificationError(
            "TOKEN_TOO_OLD",
            f"The RegisterUsage token was issued {_js_round(now - iat)} s ago (limit {max_age} s): a replayed or delayed answer.",
        )
    return iat, "token", _js_round(iat - now)


def _js_round(value: float) -> int:
    """JavaScript's Math.round: halves towards +infinity."""
    return math.floor(value + 0.5)


def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
