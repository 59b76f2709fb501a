"""User-supplied regexes run on RE2: linear time, so no pattern can hang a commit."""

from __future__ import annotations

from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # errors come back as exceptions, not lines on stderr


def compile_linear(pattern: str) -> Any:
    """An RE2 pattern (no look-around, no backreferences); ValueError says what is wrong."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as e:
        reason = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(f"{reason} (RE2 syntax: no look-around or backreferences)") from None
