"""What a rule is: a pure finder over text, with the examples that prove it."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from keyguard.model import Confidence


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """A rule's raw match: an offset into the scanned text, not yet a line and column."""

    start: int
    secret: str = field(repr=False)
    confidence: Confidence
    signals: tuple[str, ...]
    label: str | None = None


Finder = Callable[[str, str], Iterator[Hit]]  # (text, path) -> hits


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    name: str
    description: str
    confidences: str  # how the rule grades its findings, for `keyguard rules`
    find: Finder
    examples: tuple[str, ...]  # each must give a finding of this rule at medium or above
    counterexamples: tuple[str, ...]  # each must give no finding of this rule at all


class Pass:
    """A whole-text pass of a simple pattern (a character class repeated, a literal): RE2 on the
    bytes of ASCII texts, several times faster with the same matches at the same offsets;
    Python's `re` otherwise, and on short texts while RE2 is not loaded yet (a hook's few small
    files do not pay for loading it)."""

    LONG = 32 << 10
    SHORT = 1 << 10

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled = re.compile(pattern)

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        worth_it = len(text) >= (self.SHORT if "re2" in sys.modules else self.LONG)
        if worth_it and text.isascii():
            for match in _re2(self.pattern.encode()).finditer(text.encode("ascii")):
                yield match.span()
        else:
            for match in self.compiled.finditer(text):
                yield match.span()


@functools.cache
def _re2(pattern: bytes) -> Any:
    import re2  # long texts only: the hook's small files never load it

    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)
