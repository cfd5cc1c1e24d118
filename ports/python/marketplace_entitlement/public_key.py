"""Loading and vetting the product's public key, the trust anchor of every RegisterUsage answer.

As src/registration/public-key.ts: exactly one PEM block ("PUBLIC KEY" or "RSA PUBLIC KEY") and nothing else,
neither a certificate nor a private key, an RSA key with exponent 65537 of 2048 to 16384 bits, and not the
placeholder printed in AWS's documentation (its private key is published).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import _der
from .errors import ConfigurationError

AWS_DOC_PLACEHOLDER_KEY_SHA256 = "d2f8d7917928bbe7a457bdbaa0f69221a49b0fbc867ea34b700e9e78364d57e8"
"""SHA-256 of the SPKI DER of the placeholder key printed in AWS's RegisterUsage documentation."""

# SHA-256 of the placeholder's PKCS#1 RSAPublicKey: recognises it whatever algorithm identifier or label it has.
_PLACEHOLDER_RSA_PUBLIC_KEY_SHA256 = "411c4f74ea279a981238973c708a245cdb0c8951ede91521d1a034918253619c"

MIN_RSA_BITS = 2048
"""Below 2048 bits RSA offers no real assurance (the placeholder is 1024)."""
MAX_RSA_BITS = 16384
"""Larger keys only cost verification time."""
RSA_PUBLIC_EXPONENT = 65537
"""The only exponent accepted: e = 1 makes any "signature" verify, small ones invite forgery."""

_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")
_RSASSA_PSS = bytes.fromhex("2a864886f70d01010a")
_MGF1 = bytes.fromhex("2a864886f70d010108")
_SHA1 = bytes.fromhex("2b0e03021a")
_SHA256 = bytes.fromhex("608648016503040201")

# JavaScript's \s, which the TypeScript library's checks and trim() use.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_BLOCK = re.compile(
    rf"[{_JS_SPACE}]*-----BEGIN ((?:RSA )?)PUBLIC KEY-----([A-Za-z0-9+/={_JS_SPACE}]*)-----END \1PUBLIC KEY-----[{_JS_SPACE}]*"
)


@dataclass(frozen=True)
class ProductKey:
    """A vetted RegisterUsage trust anchor."""

    public_key: rsa.RSAPublicKey
    ps256: bool
    """False for an RSA-PSS key whose parameters forbid PS256: it verifies nothing, as in TypeScript."""

    @property
    def bits(self) -> int:
        """The modulus length."""
        return self.public_key.key_size

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the SPKI DER: the TypeScript publicKeyFingerprint."""
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(der).hexdigest()


def load_product_public_key(pem: str | bytes) -> ProductKey:
    """Parse and vet a PEM public key; raise ConfigurationError MISSING_PUBLIC_KEY, INVALID_PUBLIC_KEY or REFUSED_PUBLIC_KEY."""
    if isinstance(pem, bytes):
        pem = pem.decode("utf-8", errors="replace")
    if not pem:
        raise ConfigurationError(
            "MISSING_PUBLIC_KEY",
            "No product public key given. There is no global AWS key: pass the RSA public key AWS Marketplace issued "
            "for this product and key version (Management Portal) as public_key / --public-key-file.",
        )
    body, pkcs1 = _single_public_key_block(pem)
    try:
        # Line ends, spaces and tabs only, as PEM readers skip them; any other character (a form feed, a
        # non-breaking space) is refused, as OpenSSL refuses it in the TypeScript library.
        der = base64.b64decode(re.sub(r"[ \t\r\n]", "", body), validate=True)
    except (binascii.Error, ValueError):
        raise _unparsable("base64 inside the PEM block") from None
    modulus, exponent, ps256 = _rsa_numbers(der, pkcs1)
    if exponent != RSA_PUBLIC_EXPONENT:
        raise ConfigurationError(
            "INVALID_PUBLIC_KEY",
            f"The product public key has public exponent {exponent}; only {RSA_PUBLIC_EXPONENT} is accepted (with e = 1 "
            "anyone could forge a signature). Use the public key AWS Marketplace issued for your product.",
        )
    canonical = _der.encode_rsa_public_key(modulus, exponent)
    if hashlib.sha256(canonical).hexdigest() == _PLACEHOLDER_RSA_PUBLIC_KEY_SHA256:
        raise ConfigurationError(
            "REFUSED_PUBLIC_KEY",
            'The product public key is the placeholder printed in AWS documentation ("Replace with your public key"). '
            "Its private key is published, so anyone could forge an entitlement under it. Use the public key AWS "
            "Marketplace issued for your product and key version (AWS Marketplace Management Portal).",
        )
    bits = modulus.bit_length()
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise ConfigurationError(
            "INVALID_PUBLIC_KEY",
            f"The product public key is RSA-{bits}; {MIN_RSA_BITS} to {MAX_RSA_BITS} bits are required. Use the public "
            "key AWS Marketplace issued for your product (the ones seen in production are 3072-bit).",
        )
    return ProductKey(rsa.RSAPublicNumbers(exponent, modulus).public_key(), ps256)


def _single_public_key_block(text: str) -> tuple[str, bool]:
    """The base64 body of the only PEM block, and whether it is PKCS#1; with several, which one a parser used would be an accident."""
    labels = _LABEL.findall(text)
    if any("PRIVATE KEY" in label for label in labels):
        raise ConfigurationError(
            "INVALID_PUBLIC_KEY",
            "A private key was given where the product public key belongs. Pass the PUBLIC key AWS Marketplace issued "
            "(-----BEGIN PUBLIC KEY-----), and keep private keys out of configuration.",
        )
    if any("CERTIFICATE" in label for label in labels):
        raise ConfigurationError(
            "INVALID_PUBLIC_KEY",
            "A certificate was given where the product public key belongs. AWS Marketplace issues a bare RSA public key "
            "(-----BEGIN PUBLIC KEY-----), not a certificate: pass that key from the Management Portal.",
        )
    match = _BLOCK.fullmatch(text)
    if len(labels) != 1 or match is None:
        found = ", ".join(f'"{label}"' for label in labels) or "none"
        if len(labels) == 1:
            found += " with other text"
        raise ConfigurationError(
            "INVALID_PUBLIC_KEY",
            'The product public key must be exactly one PEM block "-----BEGIN PUBLIC KEY-----" with nothing else around '
            f"it; found {found}. Keep only the key AWS Marketplace issued for this product.",
        )
    return match.group(2), match.group(1) == "RSA "


def _rsa_numbers(der: bytes, pkcs1: bool) -> tuple[int, int, bool]:
    """(modulus, exponent, PS256 allowed) of an SPKI or PKCS#1 DER."""
    try:
        ps256 = True
        if pkcs1:
            rsa_public_key = der
        else:
            algorithm, public_key = _der.read_all(_der.single(der, _der.SEQUENCE))
            if algorithm[0] != _der.SEQUENCE or public_key[0] != _der.BIT_STRING:
                raise _der.DerError("not a SubjectPublicKeyInfo")
            identifier = _der.read_all(algorithm[1])
            oid = identifier[0][1] if identifier and identifier[0][0] == _der.OBJECT_IDENTIFIER else b""
            if oid == _RSASSA_PSS:
                ps256 = _pss_parameters_allow_ps256(identifier[1:])
            elif oid != _RSA_ENCRYPTION:
                raise ConfigurationError(
                    "INVALID_PUBLIC_KEY",
                    f"The product public key is not an RSA key (algorithm {_oid_text(oid)}); RegisterUsage signatures are "
                    "PS256, so it must be the RSA public key AWS Marketplace issued for this product (Management Portal).",
                )
            bit_string = public_key[1]
            if not bit_string or bit_string[0] != 0:
                raise _der.DerError("a bit string with unused bits")
            rsa_public_key = bit_string[1:]
        numbers = _der.read_all(_der.single(rsa_public_key, _der.SEQUENCE))
        if len(numbers) != 2 or any(tag != _der.INTEGER for tag, _ in numbers):
            raise _der.DerError("not an RSAPublicKey")
        modulus, exponent = (_der.unsigned_integer(content) for _, content in numbers)
        if modulus == 0 or exponent == 0:
            raise _der.DerError("a zero modulus or exponent")
        return modulus, exponent, ps256
    except _der.DerError as err:
        raise _unparsable(str(err)) from None


def _pss_parameters_allow_ps256(parameters: list[tuple[int, bytes]]) -> bool:
    """RSASSA-PSS-params (RFC 4055) restrict a key to their hash, mask hash and minimum salt (defaults SHA-1, MGF1-SHA-1, 20)."""
    if not parameters:
        return True
    if len(parameters) != 1 or parameters[0][0] != _der.SEQUENCE:
        raise _der.DerError("RSASSA-PSS parameters")
    fields = dict(_der.read_all(parameters[0][1]))
    hash_oid, mgf_hash_oid, salt_length, trailer = _SHA1, _SHA1, 20, 1
    if 0xA0 in fields:
        hash_oid = _algorithm_oid(_der.single(fields[0xA0], _der.SEQUENCE))
    if 0xA1 in fields:
        mgf = _der.read_all(_der.single(fields[0xA1], _der.SEQUENCE))
        if len(mgf) != 2 or mgf[0] != (_der.OBJECT_IDENTIFIER, _MGF1) or mgf[1][0] != _der.SEQUENCE:
            return False
        mgf_hash_oid = _algorithm_oid(mgf[1][1])
    if 0xA2 in fields:
        salt_length = _der.unsigned_integer(_der.single(fields[0xA2], _der.INTEGER))
    if 0xA3 in fields:
        trailer = _der.unsigned_integer(_der.single(fields[0xA3], _der.INTEGER))
    return hash_oid == _SHA256 and mgf_hash_oid == _SHA256 and salt_length <= 32 and trailer == 1


def _algorithm_oid(algorithm_identifier: bytes) -> bytes:
    elements = _der.read_all(algorithm_identifier)
    if not elements or elements[0][0] != _der.OBJECT_IDENTIFIER:
        raise _der.DerError("an AlgorithmIdentifier")
    return elements[0][1]


def _oid_text(oid: bytes) -> str:
    if not oid:
        return "unknown"
    parts = [oid[0] // 40, oid[0] % 40]
    value = 0
    for byte in oid[1:]:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _unparsable(what: str) -> ConfigurationError:
    return ConfigurationError(
        "INVALID_PUBLIC_KEY",
        f'The product public key could not be parsed ({what}): expected a PEM block "-----BEGIN PUBLIC KEY-----" '
        '(SPKI) or "-----BEGIN RSA PUBLIC KEY-----".',
    )
