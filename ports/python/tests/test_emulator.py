"""Real registrations: botocore over HTTP(S) to the project's emulator, which signs PS256 answers as AWS does."""

from __future__ import annotations

import datetime
import http.client
import http.server
import ipaddress
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
from unittest import mock
from urllib.parse import urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from marketplace_entitlement import (
    ConfigurationError,
    EntitlementError,
    NotEntitledError,
    RetryPolicy,
    ServiceUnavailableError,
    VerificationError,
    ensure_entitled,
    load_product_public_key,
    verify_registration,
)

from .support import PORT, PRODUCT_CODE, ROOT, Emulator, vectors

# Windows of 1 to 4 ms: retries cost no test time.
FAST_RETRIES = RetryPolicy(base_delay_ms=1, max_delay_ms=4)


def other_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class EmulatorTestCase(unittest.TestCase):
    def emulator(self, *args: str, scenario: dict[str, object] | None = None) -> Emulator:
        emulator = Emulator(*args, scenario=scenario)
        self.addCleanup(emulator.stop)
        return emulator

    def check(self, emulator: Emulator, **overrides: object):
        options: dict[str, object] = {
            "product_code": PRODUCT_CODE,
            "public_key": emulator.key,
            "endpoint": emulator.url,
            "retry_policy": FAST_RETRIES,
        }
        options.update(overrides)
        return ensure_entitled(**options)  # type: ignore[arg-type]

    def assert_fails(self, error_type: type[EntitlementError], code: str, exit_code: int, emulator: Emulator, **overrides: object) -> EntitlementError:
        with self.assertRaises(error_type) as caught:
            self.check(emulator, **overrides)
        self.assertEqual((caught.exception.code, caught.exception.exit_code), (code, exit_code), str(caught.exception))
        return caught.exception


class Registration(EmulatorTestCase):
    def test_entitled_with_a_fresh_nonce_each_time(self) -> None:
        emulator = self.emulator()
        first = self.check(emulator)
        second = self.check(emulator)
        self.assertEqual((first.product_code, first.public_key_version, first.attempts, first.region, first.issued_at_source), (PRODUCT_CODE, 1, 1, "us-east-1", "token"))
        self.assertEqual(len(first.nonce), 43)
        self.assertNotEqual(first.nonce, second.nonce)
        # The registration verifies under the nonce it was made with, and under no other.
        key = load_product_public_key(emulator.key)
        with self.assertRaises(VerificationError) as caught:
            verify_registration(first.registration, key=key, product_code=PRODUCT_CODE, public_key_version=1, nonce=second.nonce)
        self.assertEqual(caught.exception.code, "NONCE_MISMATCH")
        self.assertEqual(emulator.stop(), 2)

    def test_not_entitled(self) -> None:
        emulator = self.emulator("--not-entitled")
        self.assert_fails(NotEntitledError, "CUSTOMER_NOT_ENTITLED", 77, emulator)
        self.assertEqual(emulator.stop(), 1, "a final answer was retried")

    def test_throttling_and_server_errors_are_retried(self) -> None:
        for flag in ("--throttle-first", "--fail-first"):
            with self.subTest(flag):
                emulator = self.emulator(flag, "2")
                self.assertEqual(self.check(emulator).attempts, 3)

    def test_modelled_errors_are_final(self) -> None:
        for exception, code in (
            ("PlatformNotSupportedException", "PLATFORM_NOT_SUPPORTED"),
            ("InvalidRegionException", "INVALID_REGION"),
            ("InvalidPublicKeyVersionException", "INVALID_PUBLIC_KEY_VERSION"),
        ):
            with self.subTest(exception):
                emulator = self.emulator("--error", exception)
                self.assert_fails(ConfigurationError, code, 78, emulator)
                self.assertEqual(emulator.stop(), 1)

    def test_an_answer_under_another_key_is_refused(self) -> None:
        self.assert_fails(VerificationError, "SIGNATURE_INVALID", 65, self.emulator(), public_key=other_key_pem())

    def test_configuration_is_checked_before_any_call(self) -> None:
        emulator = self.emulator()
        placeholder = (ROOT / "test" / "fixtures" / "aws-doc-example-key.pem").read_bytes()
        for label, overrides, code in (
            ("the documentation placeholder key", {"public_key": placeholder}, "REFUSED_PUBLIC_KEY"),
            ("no key", {"public_key": b""}, "MISSING_PUBLIC_KEY"),
            ("a product code with a space", {"product_code": "prod code"}, "INVALID_PRODUCT_CODE"),
            ("an empty product code", {"product_code": ""}, "INVALID_PRODUCT_CODE"),
            ("key version 0", {"public_key_version": 0}, "INVALID_PUBLIC_KEY_VERSION"),
            ("a key version beyond 32 bits", {"public_key_version": 2**31}, "INVALID_PUBLIC_KEY_VERSION"),
            ("a key version that is a bool", {"public_key_version": True}, "INVALID_PUBLIC_KEY_VERSION"),
            ("an endpoint that is no URL", {"endpoint": "127.0.0.1:8443"}, "INVALID_OPTION"),
            ("an ftp endpoint", {"endpoint": "ftp://127.0.0.1/"}, "INVALID_OPTION"),
            ("a Region that is no Region", {"region": "moon-base"}, "INVALID_REGION"),
            ("a NaN maximum token age", {"max_token_age_sec": float("nan")}, "INVALID_OPTION"),
            ("a TLS root bundle that does not exist", {"tls_roots": "/nonexistent/roots.pem"}, "INVALID_TLS_ROOTS"),
            ("a TLS root bundle that holds a key", {"tls_roots": emulator.key_file}, "INVALID_TLS_ROOTS"),
        ):
            with self.subTest(label):
                self.assert_fails(ConfigurationError, code, 78, emulator, **overrides)
        with self.subTest("no Region anywhere"), mock.patch.dict(os.environ, {"AWS_REGION": ""}):
            self.assert_fails(ConfigurationError, "MISSING_REGION", 78, emulator)
        with self.subTest("a retry cap below its base"), self.assertRaises(ConfigurationError):
            RetryPolicy(base_delay_ms=1000, max_delay_ms=1)
        self.assertEqual(emulator.stop(), 0)

    def test_no_credentials_is_a_configuration_error(self) -> None:
        emulator = self.emulator()
        with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}):
            os.environ.pop("AWS_ACCESS_KEY_ID")
            os.environ.pop("AWS_SECRET_ACCESS_KEY")
            self.assert_fails(ConfigurationError, "NO_CREDENTIALS", 78, emulator)

    def test_unreachable_until_the_deadline(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
        error = self.assert_fails(ServiceUnavailableError, "DEADLINE_EXCEEDED", 69, self.emulator(), endpoint=closed, deadline_seconds=0.3)
        assert isinstance(error, ServiceUnavailableError)
        self.assertGreaterEqual(error.attempts, 1)
        self.assertIn("EndpointConnectionError", str(error))


class Scenarios(EmulatorTestCase):
    def test_every_scenario_gets_the_typescript_verdict(self) -> None:
        for case in vectors("emulator-scenarios.json")["cases"]:
            expect = case["expect"]
            with self.subTest(case["name"]):
                emulator = self.emulator(scenario=case["scenario"])
                try:
                    entitlement = self.check(emulator)
                except EntitlementError as err:
                    self.assertEqual((type(err).__name__, err.code, err.exit_code), (expect["error"], expect["code"], expect["exitCode"]), str(err))
                else:
                    self.assertTrue(expect["valid"], f"entitled; TypeScript says {expect}")
                    self.assertEqual(entitlement.issued_at_source, expect["issuedAtSource"])
                    rotation = entitlement.public_key_rotation_timestamp
                    self.assertEqual(rotation.timestamp() if rotation else None, expect.get("publicKeyRotationTimestamp"))
                self.assertEqual(emulator.stop(), 1)


class _Proxy(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = urlparse(self.target)
        connection = http.client.HTTPConnection(target.hostname, target.port)
        connection.request("POST", self.path, body, {k: v for k, v in self.headers.items() if k.lower() != "host"})
        answer = connection.getresponse()
        payload = answer.read()
        connection.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class TlsTrust(EmulatorTestCase):
    """A TLS server with a self-signed certificate in front of the emulator: a TLS-intercepting proxy, to the client."""

    def front(self, emulator: Emulator) -> tuple[str, str]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intercepting proxy")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        directory = tempfile.mkdtemp(prefix="me-py-tls-")
        bundle = os.path.join(directory, "front.pem")
        key_file = os.path.join(directory, "front-key.pem")
        with open(bundle, "wb") as out:
            out.write(certificate.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        handler = type("Proxy", (_Proxy,), {"target": emulator.url})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(bundle, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"https://127.0.0.1:{server.server_address[1]}", bundle

    def test_only_amazon_roots_by_default(self) -> None:
        emulator = self.emulator()
        front, bundle = self.front(emulator)
        for roots in ("aws", "system"):
            with self.subTest(roots):
                error = self.assert_fails(ServiceUnavailableError, "DEADLINE_EXCEEDED", 69, emulator, endpoint=front, tls_roots=roots, deadline_seconds=0.5)
                self.assertIn("CERTIFICATE_VERIFY_FAILED", str(error))
        with self.subTest("AWS_CA_BUNDLE cannot widen the trust"), mock.patch.dict(os.environ, {"AWS_CA_BUNDLE": bundle}):
            self.assert_fails(ServiceUnavailableError, "DEADLINE_EXCEEDED", 69, emulator, endpoint=front, deadline_seconds=0.5)
        with self.subTest("a bundle with the front's certificate"):
            self.assertEqual(self.check(emulator, endpoint=front, tls_roots=bundle).attempts, 1)
        self.assertEqual(emulator.stop(), 1)


class Executable(EmulatorTestCase):
    def run_executable(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(PORT / "ensure-entitled"), *args], capture_output=True, text=True, check=False)

    def test_exit_codes(self) -> None:
        entitled = self.emulator()
        not_entitled = self.emulator("--not-entitled")
        directory = tempfile.mkdtemp(prefix="me-py-exe-")
        other_key = os.path.join(directory, "other.pem")
        with open(other_key, "wb") as out:
            out.write(other_key_pem())
        placeholder = str(ROOT / "test" / "fixtures" / "aws-doc-example-key.pem")

        def args(emulator: Emulator, key: str, *extra: str) -> list[str]:
            return ["--product-code", PRODUCT_CODE, "--public-key-file", key, "--public-key-version", "1", "--region", "us-east-1", "--endpoint", emulator.url, *extra]

        for label, arguments, code, output in (
            ("entitled", args(entitled, entitled.key_file), 0, f"entitled: product {PRODUCT_CODE}"),
            ("not entitled", args(not_entitled, not_entitled.key_file), 77, "CUSTOMER_NOT_ENTITLED"),
            ("an answer under another key", args(entitled, other_key), 65, "SIGNATURE_INVALID"),
            ("the documentation placeholder key", args(entitled, placeholder), 78, "REFUSED_PUBLIC_KEY"),
            ("a key file that does not exist", args(entitled, os.path.join(directory, "missing.pem")), 66, "PUBLIC_KEY_FILE"),
            ("an invalid Region", args(entitled, entitled.key_file, "--region", "nowhere"), 78, "INVALID_REGION"),
            ("no arguments", [], 64, "required"),
            ("an unknown flag", [*args(entitled, entitled.key_file), "--verbose"], 64, "unrecognized arguments"),
            ("a key version that is no number", args(entitled, entitled.key_file, "--public-key-version", "one"), 64, "invalid int value"),
        ):
            with self.subTest(label):
                result = self.run_executable(*arguments)
                self.assertEqual(result.returncode, code, result.stdout + result.stderr)
                self.assertIn(output, result.stdout + result.stderr)
        self.assertEqual(entitled.stop(), 2, "entitled and another key reach the emulator; nothing else does")


if __name__ == "__main__":
    unittest.main()
