"""The Python port of marketplace-entitlement's ensureEntitled: the AWS Marketplace entitlement check for paid
container products (hourly pricing), made and verified inside the seller's own process.

    from marketplace_entitlement import ensure_entitled, EntitlementError

    try:
        entitlement = ensure_entitled(product_code="abc123example", public_key=os.environ["PRODUCT_PUBLIC_KEY"])
    except EntitlementError as err:
        sys.exit(err.exit_code)

RegisterUsage through botocore with a fresh 256-bit CSPRNG nonce, TLS trusting only Amazon's roots unless told
otherwise, jittered retries (RetryPolicy) for up to 30 minutes, and the answer verified as the TypeScript library verifies
it (PS256 pinned; test/vectors/ holds the shared conformance vectors).
"""

from .aws import DEFAULT_REQUEST_TIMEOUT_SECONDS, TLS_ROOTS_AWS, TLS_ROOTS_SYSTEM
from .ensure import MAX_PUBLIC_KEY_VERSION, PRODUCT_CODE_PATTERN, Entitlement, ensure_entitled, new_nonce
from .errors import (
    ConfigurationError,
    EntitlementError,
    ExitCode,
    InputError,
    NotEntitledError,
    ServiceUnavailableError,
    VerificationError,
)
from .public_key import AWS_DOC_PLACEHOLDER_KEY_SHA256, MAX_RSA_BITS, MIN_RSA_BITS, ProductKey, load_product_public_key
from .retry import DEFAULT_DEADLINE_SECONDS, DEFAULT_RETRY_POLICY, RetryPolicy, backoff_delay_ms
from .verify import Claims, verify_registration

__all__ = [
    "AWS_DOC_PLACEHOLDER_KEY_SHA256",
    "Claims",
    "ConfigurationError",
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_REQUEST_TIMEOUT_SECONDS",
    "DEFAULT_RETRY_POLICY",
    "Entitlement",
    "EntitlementError",
    "ExitCode",
    "InputError",
    "MAX_PUBLIC_KEY_VERSION",
    "MAX_RSA_BITS",
    "MIN_RSA_BITS",
    "NotEntitledError",
    "PRODUCT_CODE_PATTERN",
    "ProductKey",
    "RetryPolicy",
    "ServiceUnavailableError",
    "TLS_ROOTS_AWS",
    "TLS_ROOTS_SYSTEM",
    "VerificationError",
    "backoff_delay_ms",
    "ensure_entitled",
    "load_product_public_key",
    "new_nonce",
    "verify_registration",
]
