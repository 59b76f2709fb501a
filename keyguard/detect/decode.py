"""Encoded text worth a second look: base64 tokens and percent-encoded lines.

Decoding is one level deep and bounded in size, so a crafted blob cannot make it expensive.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

from keyguard.detect.rule import TOKEN_RUNS, Pass
from keyguard.lazyre import lazy
from keyguard.record import Record, field

# 32 hex characters encode to 44 base64 characters; shorter tokens cannot hold a key.
_BASE64_TOKEN = Pass(r"[A-Za-z0-9+/_-]{40,}={0,2}", inside=TOKEN_RUNS, shortest_run=40)
MAX_TOKEN = 64 << 10  # longer tokens are not decoded
# What detection turns on: if percent-decoding a line leaves these alone, it finds nothing new.
_SIGNIFICANT = lazy(r"(?i)[0-9a-f]{32,}|x[-_]api[-_]key|key|token|secret|auth|credential|imin|passw")
_PERCENT_ESCAPE = Pass(r"%[0-9A-Fa-f]{2}")
# A \u or \x escape (JSON, JavaScript, C#, Go) whose hex digits run into a key's: "\u0022<key>".
_ESCAPE_BEFORE_HEX = Pass(r"\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2})[0-9A-Fa-f]{32}")
_BACKSLASH_ESCAPE = lazy(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})")
MAX_DECODED_PER_BLOB = 4 << 20


class Variant(Record):
    """`text` is a line of the blob with an encoded part decoded; hits in `region` count."""

    kind: str
    origin: int  # offset in the blob where the encoded part starts
    origin_end: int
    text: str = field(repr=False)
    region: tuple[int, int]

    def covers(self, offset: int) -> bool:
        return self.region[0] <= offset < self.region[1]


def variants(text: str) -> Iterator[Variant]:
    budget = MAX_DECODED_PER_BLOB
    for variant in _chain(_base64_variants(text), _percent_variants(text), _escaped_variants(text)):
        budget -= len(variant.text)
        if budget < 0:
            return
        yield variant


def _chain(*iterators: Iterator[Variant]) -> Iterator[Variant]:
    for iterator in iterators:
        yield from iterator


def _base64_variants(text: str) -> Iterator[Variant]:
    for start, end in _BASE64_TOKEN.spans(text):
        decoded = decode_base64(text[start:end]) if end - start <= MAX_TOKEN else None
        if decoded is None:
            continue
        line_start, line_end = _line_bounds(text, start)
        prefix = text[line_start:start]
        suffix = text[end:line_end]
        yield Variant(kind="base64", origin=start, origin_end=end,
                      text=prefix + decoded + suffix,
                      region=(len(prefix), len(prefix) + len(decoded)))


_URLSAFE = str.maketrans("-_", "+/")


def decode_base64(token: str) -> str | None:
    """The token's text if it is base64 of printable UTF-8, else None."""
    padded = token + "=" * (-len(token) % 4)
    if "-" in token or "_" in token:
        padded = padded.translate(_URLSAFE)
    try:
        decoded = binascii.a2b_base64(padded).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not decoded or not all(c.isprintable() or c in "\t\r\n" for c in decoded):
        return None
    return decoded


def _percent_variants(text: str) -> Iterator[Variant]:
    for start, line_start, line_end in _lines_holding(_PERCENT_ESCAPE, text):
        line = text[line_start:line_end]
        decoded = unquote(line)
        if _SIGNIFICANT.findall(decoded) == _SIGNIFICANT.findall(line):
            continue  # decoding changed no key, header name or key word: nothing new to find
        yield Variant(kind="percent-encoded", origin=start, origin_end=line_end,
                      text=decoded, region=(0, len(decoded)))


def _escaped_variants(text: str) -> Iterator[Variant]:
    """Lines where an escape runs into a 32-hex run, their escapes decoded: the key's boundary
    is then where it belongs (the run is always found by the fast path's prefilter)."""
    for _, line_start, line_end in _lines_holding(_ESCAPE_BEFORE_HEX, text):
        decoded = _BACKSLASH_ESCAPE.sub(_unescaped, text[line_start:line_end])
        yield Variant(kind="backslash-escaped", origin=line_start, origin_end=line_end,
                      text=decoded, region=(0, len(decoded)))


def _lines_holding(found: Pass, text: str) -> Iterator[tuple[int, int, int]]:
    """(first match, line start, line end) of each line where `found` matches: each line once,
    so long lines stay linear."""
    line_end = -1
    for start, _ in found.spans(text):
        if start >= line_end:
            line_start, line_end = _line_bounds(text, start)
            yield start, line_start, line_end


def _unescaped(match: re.Match[str]) -> str:
    code = int(match[1] or match[2], 16)
    return match[0] if 0xD800 <= code <= 0xDFFF else chr(code)  # a lone surrogate stays escaped


def unquote(text: str) -> str:
    """urllib.parse.unquote's result (escapes as UTF-8 bytes, invalid ones replaced), in
    bounded memory: unquote holds a string per escape, ~85 bytes a byte on a minified line
    of escapes; here 64 KiB are decoded at a time."""
    encoded = text.encode("utf-8", "surrogateescape")
    decoded = bytearray()
    start = 0
    while start < len(encoded):
        end = start + (64 << 10)
        cut = encoded.find(b"%", end - 2, end)  # never between an escape's % and its digits
        end = cut if cut > start else end
        decoded += _PERCENT_BYTES.sub(_byte_of, encoded[start:end])
        start = end
    return decoded.decode("utf-8", "replace")


_PERCENT_BYTES = lazy(rb"%([0-9A-Fa-f]{2})")


def _byte_of(match: re.Match[bytes]) -> bytes:
    return _BYTES[int(match[1], 16)]


_BYTES = [bytes([n]) for n in range(256)]


def _line_bounds(text: str, offset: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, len(text) if end < 0 else end
