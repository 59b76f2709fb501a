"""Bytes to text: binary detection and decoding, shared by every source."""

from __future__ import annotations

import codecs

SNIFF = 8000  # bytes read for a NUL, as git looks (buffer_is_binary): is_binary looks no further
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def is_binary(data: bytes) -> bool:
    """A NUL byte early on, unless the text is UTF-16 (which has many)."""
    return b"\0" in data[:SNIFF] and not data.startswith(UTF16_BOMS)


def decode_text(data: bytes) -> str | None:
    """The text of `data`, or None when it is binary. UTF-16 needs its BOM; bad UTF-8 is replaced."""
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    if is_binary(data):
        return None
    return data.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
