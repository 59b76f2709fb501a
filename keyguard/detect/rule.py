"""What a rule is: a pure finder over text, with the examples that prove it."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterator

from keyguard.lazyre import lazy
from keyguard.model import Confidence
from keyguard.record import Record, field

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any


class Hit(Record):
    """A rule's raw match: an offset into the scanned text, not yet a line and column."""

    start: int
    secret: str = field(repr=False)
    confidence: Confidence
    signals: tuple[str, ...]
    label: str | None = None


# (text, path, at_least) -> hits; a finder may leave out hits graded below at_least, or not
Finder = Callable[[str, str, Confidence], Iterator[Hit]]


class Rule(Record):
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
    files do not pay for loading it).

    A pass `inside` another only looks within the other's matches (Python's `re` on those few
    short stretches), and the other's matches over a text are kept for the next pass over it:
    the hex-key and base64 rules share one pass for the runs that can hold either. Every
    match must start within one of the other's and end at most 2 characters past it, and the
    other's matches shorter than `shortest_run` hold none (the base64 pass skips a log's
    32-character request ids)."""

    LONG = 32 << 10
    SHORT = 1 << 10

    def __init__(self, pattern: str, inside: Pass | None = None, shortest_run: int = 0) -> None:
        self.pattern = pattern
        self.compiled = lazy(pattern)
        self.inside = inside
        self.shortest_run = shortest_run
        self._last: tuple[str, list[tuple[int, int]]] = ("", [])  # a text and its spans

    def compile(self) -> None:
        """Compile its patterns now: RE2's for long ASCII texts, `re`'s for others."""
        _re2(self.pattern.encode())
        self.compiled.search  # noqa: B018

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        worth_it = len(text) >= (self.SHORT if "re2" in sys.modules else self.LONG)
        if not (worth_it and text.isascii()):
            for match in self.compiled.finditer(text):
                yield match.span()
        elif self.inside is None:
            yield from re2_spans(_re2(self.pattern.encode()), ascii_bytes(text))
        else:
            for start, end in self.inside.kept_spans(text):
                if end - start < self.shortest_run:
                    continue
                for match in self.compiled.finditer(text, start, end + 2):
                    yield match.span()

    def kept_spans(self, text: str) -> list[tuple[int, int]]:
        """`spans(text)`, kept for the next call with the same text (swapped as one tuple, so
        a reader never sees a text with another's spans)."""
        last = self._last
        if last[0] is not text:
            last = self._last = (text, list(self.spans(text)))
        return last[1]


class Runs(Pass):
    """Runs of `shortest` or more characters of an ASCII class: in ASCII text, found with one
    bytes.translate and two bytes.find per run, C calls that beat RE2 where runs are many (a
    log of request ids: 22 against 37 ms for 5 MB) and match it elsewhere."""

    def __init__(self, characters: str, shortest: int) -> None:
        super().__init__(f"[{characters}]{{{shortest},}}")
        inside = re.compile(f"[{characters}]")
        self._marks = bytes(ord("a") if inside.match(chr(c)) else ord(" ") for c in range(256))
        self._run = b"a" * shortest

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        if not text.isascii():
            yield from super().spans(text)
            return
        marks = ascii_bytes(text).translate(self._marks)
        start = marks.find(self._run)
        while start >= 0:  # the first of `shortest` marks after a run is the start of the next
            end = marks.find(b" ", start + len(self._run))
            end = len(marks) if end < 0 else end
            yield start, end
            start = marks.find(self._run, end)


def ascii_bytes(text: str, known: bytes | None = None) -> bytes:
    """The bytes of an ASCII text, encoded once for all the passes over it: kept for the next
    call with the same text, as kept_spans keeps spans. `known`: those bytes, when the caller
    decoded the text from them."""
    last = _ENCODED[0]
    if last[0] is not text:
        last = _ENCODED[0] = (text, text.encode("ascii") if known is None else known)
    return last[1]


_ENCODED = [("", b"")]  # the last text and its bytes


# Runs that can hold a 32-hex key or a base64 token (of 40 or more): a key's characters are
# among a token's, and the runs are whole, so each key and token lies within one.
TOKEN_RUNS = Runs("A-Za-z0-9+/_-", 32)


def re2_spans(compiled: Any, data: bytes, pos: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """The spans `compiled.finditer(data, pos, end)` gives, for a pattern that cannot match
    empty, asked of RE2's matcher directly: google-re2's finditer builds a Match object per
    match, which costs more than the search itself on windows of a few KiB."""
    end = len(data) if end is None else end
    regexp = getattr(compiled, "_regexp", None)
    if regexp is None:  # another google-re2 layout: its public API
        yield from (match.span() for match in compiled.finditer(data, pos, end))
        return
    unanchored = _unanchored()
    while True:
        start, pos = regexp.Match(unanchored, data, pos, end)[0]
        if start < 0:
            return
        yield start, pos


@functools.cache
def _unanchored() -> Any:
    from re2 import _re2

    return _re2.RE2.Anchor.UNANCHORED


@functools.cache
def _re2(pattern: bytes) -> Any:
    import re2  # long texts only: the hook's small files never load it

    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)
