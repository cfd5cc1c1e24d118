"""Every conformance vector (test/vectors/, generated from the TypeScript implementation) gets TypeScript's verdict."""

from __future__ import annotations

import hashlib
import re
import ssl
import unittest
from importlib import resources
from typing import Any

from marketplace_entitlement import (
    AWS_DOC_PLACEHOLDER_KEY_SHA256,
    DEFAULT_DEADLINE_SECONDS,
    DEFAULT_RETRY_POLICY,
    EntitlementError,
    RetryPolicy,
    backoff_delay_ms,
    load_product_public_key,
    verify_registration,
)
from marketplace_entitlement.aws import classify_aws_error_code

from .support import ROOT, vectors


def retry_policy_of(vector: dict[str, Any]) -> RetryPolicy:
    """A RetryPolicy as test/vectors/retry-policy.json writes it (camelCase milliseconds)."""
    return RetryPolicy(
        base_delay_ms=vector["baseDelayMs"],
        doubling_limit_ms=vector["doublingLimitMs"],
        step_delay_ms=vector["stepDelayMs"],
        max_delay_ms=vector["maxDelayMs"],
        max_jitter_ms=vector["maxJitterMs"],
    )


class VectorTestCase(unittest.TestCase):
    def assert_refused(self, err: EntitlementError, expect: dict[str, Any]) -> None:
        self.assertFalse(expect["valid"], f"refused with {err}; TypeScript accepts it")
        self.assertEqual(
            (type(err).__name__, err.code, err.exit_code), (expect["error"], expect["code"], expect["exitCode"]), str(err)
        )


class RegistrationVectors(VectorTestCase):
    def test_every_token(self) -> None:
        data = vectors("registration.json")
        self.assertGreater(len(data["cases"]), 200)
        for case in data["cases"]:
            expect = case["expect"]
            with self.subTest(case["name"]):
                try:
                    key = load_product_public_key(data["keys"][case["key"]])
                    claims = verify_registration(
                        case["token"],
                        key=key,
                        product_code=case["sent"]["productCode"],
                        public_key_version=case["sent"]["publicKeyVersion"],
                        nonce=case["sent"]["nonce"],
                        clock_tolerance_sec=case["options"].get("clockToleranceSec"),
                        max_token_age_sec=case["options"].get("maxTokenAgeSec"),
                        now=data["now"],
                    )
                except EntitlementError as err:
                    self.assert_refused(err, expect)
                    continue
                self.assertTrue(expect["valid"], f"accepted; TypeScript refuses it with {expect.get('code')}")
                self.assertEqual(
                    (claims.product_code, claims.public_key_version, claims.nonce, claims.issued_at_source, claims.clock_skew_sec),
                    (expect["productCode"], expect["publicKeyVersion"], expect["nonce"], expect["issuedAtSource"], expect.get("clockSkewSec")),
                )
                self.assertAlmostEqual(claims.issued_at, expect["issuedAt"], places=3)


class KeyVectors(VectorTestCase):
    def test_every_key(self) -> None:
        for case in vectors("keys.json")["cases"]:
            with self.subTest(case["name"]):
                try:
                    key = load_product_public_key(case["pem"])
                except EntitlementError as err:
                    self.assert_refused(err, case["expect"])
                    continue
                self.assertEqual((True, key.bits), (case["expect"]["valid"], case["expect"].get("bits")))

    def test_placeholder_fingerprint_matches_the_fixture(self) -> None:
        placeholder = (ROOT / "test" / "fixtures" / "aws-doc-example-key.pem").read_text()
        der = ssl.PEM_cert_to_DER_cert(placeholder.replace("PUBLIC KEY", "CERTIFICATE"))
        self.assertEqual(hashlib.sha256(der).hexdigest(), AWS_DOC_PLACEHOLDER_KEY_SHA256)


class AwsErrorVectors(unittest.TestCase):
    def test_every_error(self) -> None:
        for case in vectors("aws-errors.json")["cases"]:
            with self.subTest(f"{case['name']} {case['status']}"):
                final = classify_aws_error_code(case["name"], f"{case['name']} from the service", case["status"])
                if case["expect"]["retryable"]:
                    self.assertIsNone(final)
                else:
                    assert final is not None, "retried; TypeScript says it is final"
                    self.assertEqual(
                        (type(final).__name__, final.code, final.exit_code),
                        (case["expect"]["error"], case["expect"]["code"], case["expect"]["exitCode"]),
                    )


class Constants(unittest.TestCase):
    def test_retry_policy_is_the_librarys(self) -> None:
        policy = vectors("retry-policy.json")
        self.assertEqual(
            (DEFAULT_RETRY_POLICY, DEFAULT_DEADLINE_SECONDS * 1000),
            (retry_policy_of(policy), policy["deadlineMs"]),
            "update DEFAULT_RETRY_POLICY / DEFAULT_DEADLINE_SECONDS in marketplace_entitlement/retry.py",
        )

    def test_backoff_delay_is_the_librarys(self) -> None:
        samples = vectors("retry-policy.json")["samples"]
        self.assertGreater(len(samples), 100)
        for sample in samples:
            policy = retry_policy_of(sample["policy"]) if "policy" in sample else DEFAULT_RETRY_POLICY
            with self.subTest(failures=sample["failures"], random=sample["random"], policy=policy):
                self.assertEqual(backoff_delay_ms(sample["failures"], policy, sample["random"]), sample["delayMs"])

    def test_embedded_roots_are_nodes(self) -> None:
        roots = vectors("amazon-roots.json")["roots"]
        embedded = resources.files("marketplace_entitlement").joinpath("amazon-roots.pem").read_text()
        blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", embedded, re.S)
        self.assertEqual(len(blocks), 5)
        self.assertEqual(blocks, [root["pem"].strip() for root in roots])
        for block, root in zip(blocks, roots):
            digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(block)).hexdigest().upper()
            self.assertEqual(":".join(re.findall("..", digest)), root["sha256"])


if __name__ == "__main__":
    unittest.main()
