#!/usr/bin/env python3
"""Reference verifier for a marketplace-entitlement file, in another language than the library.

Follows docs/entitlement-file.md step by step. Needs the `cryptography` package.

    python3 verify_entitlement.py FILE PRODUCT_KEY.pem [PRODUCT_CODE [INSTANCE_ID]]

Exit 0 and prints the claims when valid; exit 65 and names the failed check otherwise.
"""
import base64, hashlib, json, re, sys, time
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
CLOCK_TOLERANCE = 300


class Invalid(Exception):
    pass


def b64d(segment):
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != segment:
        raise Invalid("FILE_MALFORMED: non-canonical base64url")
    return data


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same_claim(value, expected):
    # As the TypeScript verifier: strings exactly; the key version as a number (a digit string "1" counts as 1).
    if isinstance(expected, str):
        return isinstance(value, str) and value == expected
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return is_number(value) and value == expected


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def split(token, code):
    parts = token.split(".")
    if len(parts) != 3 or not all(SEGMENT.match(p) for p in parts):
        raise Invalid(f"{code}: not a compact JWS")
    return parts


def verify(text, product_key_pem, product_code=None, instance_id=None, now=None):
    now = time.time() if now is None else now
    token = text[:-1] if text.endswith("\n") else text
    h, p, s = split(token, "FILE_MALFORMED")
    header, signature = json.loads(b64d(h)), b64d(s)
    # 1. Header: EdDSA, our typ, no crit, a public Ed25519 key with exactly kty, crv, x.
    if header.get("alg") != "EdDSA":
        raise Invalid("FILE_ALGORITHM_NOT_ALLOWED")
    if header.get("typ") != "marketplace-entitlement+jwt" or "crit" in header:
        raise Invalid("FILE_MALFORMED: typ/crit")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or sorted(jwk) != ["crv", "kty", "x"] or jwk["kty"] != "OKP" or jwk["crv"] != "Ed25519":
        raise Invalid("FILE_KEY_INVALID")
    # 2. Signature over ASCII(header "." payload) under that key.
    try:
        Ed25519PublicKey.from_public_bytes(b64d(jwk["x"])).verify(signature, f"{h}.{p}".encode())
    except (InvalidSignature, ValueError):
        raise Invalid("FILE_SIGNATURE_INVALID")
    payload = json.loads(b64d(p))  # only signed bytes are parsed
    # 3. The nonce is the RFC 7638 thumbprint of that key.
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"), sort_keys=True)
    if payload["nonce"] != b64e(hashlib.sha256(canonical.encode()).digest()):
        raise Invalid("NONCE_NOT_KEY_THUMBPRINT")
    if payload["iat"] > now + CLOCK_TOLERANCE:
        raise Invalid("FILE_IAT_IN_FUTURE")
    # 4. The AWS registration: PS256 under the product key, claims equal to the file's. Its iat is advisory (AWS
    #    documents none; the nonce, this file's key thumbprint, proves it was made for this file): not checked.
    rh, rp, rs = split(payload["registration"], "TOKEN_MALFORMED")
    registration_header = json.loads(b64d(rh))
    if registration_header.get("alg") != "PS256":
        raise Invalid("ALGORITHM_NOT_ALLOWED")
    if "crit" in registration_header:
        raise Invalid("TOKEN_MALFORMED: crit")
    key = serialization.load_pem_public_key(product_key_pem)
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise Invalid("product key must be RSA >= 2048 bits")
    try:
        key.verify(b64d(rs), f"{rh}.{rp}".encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    except InvalidSignature:
        raise Invalid("SIGNATURE_INVALID")
    claims = json.loads(b64d(rp))
    for camel, pascal in (("nonce", "Nonce"), ("productCode", "ProductCode"), ("publicKeyVersion", "PublicKeyVersion")):
        present = [claims[n] for n in (camel, pascal) if n in claims]
        if not present or any(not same_claim(v, payload[camel]) for v in present):
            raise Invalid("CLAIMS_DIFFER_FROM_REGISTRATION")
    # 5. What this verifier expects.
    if product_code is not None and payload["productCode"] != product_code:
        raise Invalid("PRODUCT_CODE_MISMATCH")
    if instance_id is not None:
        if "instance" not in payload:
            raise Invalid("INSTANCE_MISSING")
        if payload["instance"] != instance_id:
            raise Invalid("INSTANCE_MISMATCH")
    return {k: v for k, v in payload.items() if k != "registration"}


if __name__ == "__main__":
    path, key_path, *expect = sys.argv[1:]
    try:
        with open(path) as f, open(key_path, "rb") as k:
            print(json.dumps(verify(f.read(), k.read(), *expect)))
    except Invalid as err:
        print(f"invalid: {err}", file=sys.stderr)
        sys.exit(65)
    except (ValueError, KeyError, TypeError, AttributeError) as err:  # undecodable or missing parts: fail closed
        print(f"invalid: FILE_MALFORMED ({type(err).__name__})", file=sys.stderr)
        sys.exit(65)
