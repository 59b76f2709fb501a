"""Text that is safe to print: no control characters, escape sequences or undecodable bytes."""

from __future__ import annotations


def neutralise(text: str) -> str:
    """Escape what a terminal or log viewer could interpret: `\\x1b[31m` stays visible, inert."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
