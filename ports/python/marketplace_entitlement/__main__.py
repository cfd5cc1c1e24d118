"""``python -m marketplace_entitlement``: ensure_entitled once, with the marketplace-entitlement CLI's exit codes.

0 entitled, 64 usage, 65 invalid answer, 66 unreadable key file, 69 unavailable, 77 not entitled, 78 configuration.
Credentials come from botocore's default chain.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime, timezone

from .aws import TLS_ROOTS_AWS
from .ensure import ensure_entitled
from .errors import EntitlementError, ExitCode, InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"ensure-entitled: {message} (see --help)", file=sys.stderr)
        sys.exit(ExitCode.USAGE)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="ensure-entitled", description="Register with AWS Marketplace and verify the signed answer.")
    parser.add_argument("--product-code", required=True, help="product code from the AWS Marketplace Management Portal")
    parser.add_argument("--public-key-file", required=True, help="PEM file with the public key AWS issued for the product")
    parser.add_argument("--public-key-version", type=int, default=1, help="version of that key (default 1)")
    parser.add_argument("--region", help="the task's or pod's Region (default: AWS_REGION, AWS_DEFAULT_REGION)")
    parser.add_argument("--endpoint", help="Metering endpoint override, e.g. the emulator's URL")
    parser.add_argument("--tls-roots", default=TLS_ROOTS_AWS, help="TLS trust: aws (default), system, or a PEM bundle path")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, format="ensure-entitled: %(message)s")
    try:
        try:
            with open(args.public_key_file, "rb") as key_file:
                public_key = key_file.read()
        except OSError as err:
            raise InputError("PUBLIC_KEY_FILE", f"The public key file {args.public_key_file} cannot be read: {err.strerror}.") from None
        entitlement = ensure_entitled(
            product_code=args.product_code,
            public_key=public_key,
            public_key_version=args.public_key_version,
            region=args.region,
            endpoint=args.endpoint,
            tls_roots=args.tls_roots,
        )
    except EntitlementError as err:
        print(f"ensure-entitled: {err}", file=sys.stderr)
        return err.exit_code
    registered = datetime.fromtimestamp(entitlement.issued_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(
        f"entitled: product {entitlement.product_code}, key version {entitlement.public_key_version}, registered "
        f"{registered} ({entitlement.issued_at_source}), {entitlement.attempts} attempt(s), Region {entitlement.region}"
    )
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
