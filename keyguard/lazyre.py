"""Regexes compiled on first use. The rules hold 57 patterns, and compiling them all cost
~5.6 ms of a ~42 ms pre-commit hook; a commit with no key-like text needs few of them."""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split", "pattern")


class lazy:
    """`re.compile(pattern, flags)`, done the first time one of its methods is asked for;
    they are then the compiled pattern's own, kept on this object: no cost per call."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._source: tuple[Any, int] = (pattern, flags)

    def __reduce__(self) -> tuple[type, tuple[Any, int]]:
        return lazy, self._source  # pickled and copied as the pattern it stands for

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # asked before __init__ ran (unpickling): not a method of ours
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        self.__dict__.update({method: getattr(compiled, method) for method in _METHODS})
        return getattr(compiled, name)
