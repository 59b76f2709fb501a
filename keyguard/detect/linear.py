"""User-supplied regexes run on RE2: linear time, so no pattern can hang a commit."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any


def compile_linear(pattern: str) -> Any:
    """An RE2 pattern (no look-around, no backreferences); ValueError says what is wrong."""
    import re2  # only configurations with regexes pay for it

    options = re2.Options()
    options.log_errors = False  # errors come back as exceptions, not lines on stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as e:
        reason = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(f"{reason} (RE2 syntax: no look-around or backreferences)") from None
