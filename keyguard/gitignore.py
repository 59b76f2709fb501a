"""gitignore-style patterns, through pathspec: loaded only when a pattern is compiled (it costs
~20 ms, most of a clean hook run's start-up)."""

from __future__ import annotations

import re
from collections.abc import Sequence

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    import pathspec


def compiled(patterns: Sequence[str]) -> pathspec.GitIgnoreSpec:
    """The patterns as one spec; ValueError or re.error when pathspec refuses one."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def problem(pattern: str) -> str | None:
    """Why pathspec refuses a pattern (`foo\\`, a range such as `[z-a]`), or None."""
    try:
        compiled([pattern])
    except re.error as e:  # a range pathspec turns into a bad regex
        return e.msg
    except ValueError as e:
        return str(e.__cause__ or e)
    return None
