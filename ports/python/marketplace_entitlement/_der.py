"""The little DER this package reads: SubjectPublicKeyInfo, RSAPublicKey and RSASSA-PSS parameters."""

from __future__ import annotations

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OBJECT_IDENTIFIER = 0x06
NULL = 0x05


class DerError(ValueError):
    """Not the DER expected."""


def read(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """The element at ``offset``: its tag, its content and the offset after it (definite lengths only)."""
    if offset + 2 > len(data):
        raise DerError("truncated element")
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise DerError("unsupported length")
        length = int.from_bytes(data[offset : offset + count], "big")
        if length < 0x80 or data[offset] == 0:
            raise DerError("non-minimal length")
        offset += count
    end = offset + length
    if end > len(data):
        raise DerError("truncated content")
    return tag, data[offset:end], end


def read_all(data: bytes) -> list[tuple[int, bytes]]:
    """Every element of a constructed value's content, as (tag, content)."""
    elements = []
    offset = 0
    while offset < len(data):
        tag, content, offset = read(data, offset)
        elements.append((tag, content))
    return elements


def single(data: bytes, tag: int) -> bytes:
    """The content of ``data`` when it is exactly one element with ``tag``."""
    found, content, end = read(data)
    if found != tag or end != len(data):
        raise DerError(f"expected one element with tag {tag:#x}")
    return content


def unsigned_integer(content: bytes) -> int:
    """A non-negative INTEGER in its minimal encoding."""
    if not content or content[0] & 0x80:
        raise DerError("negative or empty integer")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise DerError("non-minimal integer")
    return int.from_bytes(content, "big")


def encode_rsa_public_key(modulus: int, exponent: int) -> bytes:
    """The canonical PKCS#1 RSAPublicKey DER of (modulus, exponent)."""

    def integer(value: int) -> bytes:
        body = value.to_bytes(value.bit_length() // 8 + 1, "big")
        return _element(INTEGER, body)

    return _element(SEQUENCE, integer(modulus) + integer(exponent))


def _element(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes([tag, length]) + body
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + body
