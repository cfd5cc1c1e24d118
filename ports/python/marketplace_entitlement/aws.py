"""The botocore client and what an AWS failure means: retry it, or end with which typed error (src/aws/aws-errors.ts)."""

from __future__ import annotations

import os
import re
import ssl
from importlib import resources
from typing import Any, Callable

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError, ParamValidationError, PartialCredentialsError

from .errors import ConfigurationError, EntitlementError, NotEntitledError

TLS_ROOTS_AWS = "aws"
"""Trust only Amazon's root certificates (the default)."""
TLS_ROOTS_SYSTEM = "system"
"""Trust the operating system's roots."""

DEFAULT_REQUEST_TIMEOUT_SECONDS = 10.0
"""Bounds each attempt, so a hung connection is retried long before the deadline."""

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_ROLE_HINT = (
    "Check the IAM role the container runs with: on EKS an IRSA role (ServiceAccount annotation "
    "eks.amazonaws.com/role-arn) and on ECS the task role, allowing the aws-marketplace action being called "
    "(RegisterUsage: managed policy AWSMarketplaceMeteringRegisterUsage; MeterUsage where usage is metered). "
    "Node roles, EKS Pod Identity and long-term keys are not supported by AWS Marketplace."
)

_FATAL: dict[str, Callable[[str], EntitlementError]] = {
    "CustomerNotEntitledException": lambda m: NotEntitledError(
        f"AWS Marketplace says the account running this container is not subscribed to the product ({m}). Subscribe "
        "to the product in AWS Marketplace, or check the product code; the container must not serve until then."
    ),
    "PlatformNotSupportedException": lambda m: ConfigurationError(
        "PLATFORM_NOT_SUPPORTED",
        f"AWS says this is not running on ECS, EKS or Fargate ({m}). RegisterUsage only works there; for local runs "
        "use the emulator (`marketplace-entitlement emulator`, then --endpoint).",
    ),
    "InvalidProductCodeException": lambda m: ConfigurationError(
        "INVALID_PRODUCT_CODE", f"AWS does not know this product code ({m}). Use the code from the AWS Marketplace Management Portal."
    ),
    "InvalidPublicKeyVersionException": lambda m: ConfigurationError(
        "INVALID_PUBLIC_KEY_VERSION",
        f"AWS rejects the public key version ({m}). Use the version number shown next to the key in the AWS Marketplace Management Portal.",
    ),
    "InvalidRegionException": lambda m: ConfigurationError(
        "INVALID_REGION",
        f"AWS says RegisterUsage was called in the wrong Region ({m}). Call it in the Region the task or pod runs in: "
        "do not hard-code the Region; let AWS_REGION supply it.",
    ),
    "DisabledApiException": lambda m: ConfigurationError("DISABLED_API", f"The Metering API is disabled for this call ({m})."),
}
_RETRYABLE = {"ThrottlingException", "InternalServiceErrorException"}


def classify_aws_error_code(name: str, message: str, status: int | None) -> EntitlementError | None:
    """The typed error an AWS error ends in, or None when it is worth another attempt (test/vectors/aws-errors.json)."""
    message = message.rstrip(".")
    if name in _FATAL:
        return _FATAL[name](message)
    if name in _RETRYABLE:
        return None
    if status is not None and 400 <= status < 500 and status != 429:
        return ConfigurationError("AWS_CLIENT_ERROR", f"AWS refused the call: {name}: {message}. {_ROLE_HINT}")
    return None


def classify_aws_error(err: Exception) -> EntitlementError | None:
    """Final (the typed error) or retryable (None): network failures, timeouts and unparseable answers are retried."""
    if isinstance(err, EntitlementError):
        return err
    if isinstance(err, (NoCredentialsError, PartialCredentialsError)):
        return ConfigurationError("NO_CREDENTIALS", f"No AWS credentials were found ({err}). {_ROLE_HINT}")
    if isinstance(err, ParamValidationError):
        return ConfigurationError("CLIENT_FAILURE", f"The Metering client failed before reaching AWS: {err}.")
    if isinstance(err, ClientError):
        error: dict[str, Any] = err.response.get("Error", {})
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return classify_aws_error_code(str(error.get("Code", "")), str(error.get("Message", "")), status)
    return None


def trust_roots(choice: str) -> str:
    """The CA bundle (file or directory) for ``verify``: Amazon's roots, the system's, or the PEM bundle given."""
    if choice == TLS_ROOTS_AWS:
        return str(resources.files(__package__).joinpath("amazon-roots.pem"))
    if choice == TLS_ROOTS_SYSTEM:
        paths = ssl.get_default_verify_paths()
        for candidate in (paths.cafile, paths.openssl_cafile, paths.capath, paths.openssl_capath):
            if candidate and os.path.exists(candidate):
                return candidate
        raise ConfigurationError("INVALID_TLS_ROOTS", "tls_roots 'system': this system has no CA bundle.")
    _check_bundle(choice)
    return choice


def _check_bundle(path: str) -> None:
    from cryptography import x509

    try:
        with open(path, "rb") as bundle:
            text = bundle.read()
    except OSError as err:
        raise ConfigurationError(
            "INVALID_TLS_ROOTS", f"tls_roots is neither 'aws', 'system' nor a readable PEM bundle: {err}."
        ) from None
    blocks = re.findall(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", text, re.S)
    for label, _ in blocks:
        if label != b"CERTIFICATE":
            raise ConfigurationError("INVALID_TLS_ROOTS", f"The TLS root bundle {path} holds a {label.decode()} block, not only certificates.")
    if not blocks:
        raise ConfigurationError("INVALID_TLS_ROOTS", f"The TLS root bundle {path} holds no PEM certificate.")
    for label, body in blocks:
        try:
            x509.load_pem_x509_certificate(b"-----BEGIN CERTIFICATE-----" + body + b"-----END CERTIFICATE-----")
        except ValueError:
            raise ConfigurationError("INVALID_TLS_ROOTS", f"The TLS root bundle {path} holds a certificate that cannot be parsed.") from None


def resolve_region(region: str | None, session: botocore.session.Session) -> str:
    """The Region: the option, AWS_REGION, AWS_DEFAULT_REGION, the profile. Never assumed."""
    found = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or session.get_config_variable("region")
    if not found:
        raise ConfigurationError(
            "MISSING_REGION",
            "No AWS Region found: set --region / region= or AWS_REGION to the Region this task or pod runs in. Fargate "
            "and EKS with IRSA set AWS_REGION themselves; on ECS with EC2 set it in the task definition. (Looked at: "
            "the option, AWS_REGION, AWS_DEFAULT_REGION, the shared config profile.)",
        )
    if not _REGION.fullmatch(found):
        raise ConfigurationError("INVALID_REGION", f"Region {found!r} is not an AWS Region name like eu-west-1.")
    return found


def metering_client(
    session: botocore.session.Session, region: str, endpoint: str | None, verify: str, request_timeout_seconds: float
) -> Any:
    """The Metering client: botocore's own retries off (our loop owns them), timeouts per attempt, TLS trust pinned.

    ``verify`` given explicitly wins over AWS_CA_BUNDLE, so the environment cannot widen the trust.
    """
    try:
        # botocore >= 1.31 would otherwise take an endpoint from AWS_ENDPOINT_URL(_*) or the config file.
        endpoint_guard = Config(ignore_configured_endpoint_urls=True)
    except TypeError:
        endpoint_guard = Config()  # older botocore reads no endpoint from the environment
    config = endpoint_guard.merge(
        Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=request_timeout_seconds)
    )
    return session.create_client("meteringmarketplace", region_name=region, endpoint_url=endpoint, verify=verify, config=config)

