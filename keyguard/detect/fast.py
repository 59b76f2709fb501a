"""The fast path: find where in a blob detection could matter, and run the rules only there.

One RE2 pass over the raw bytes (hundreds of MB/s, linear time) finds every place a built-in
rule could fire: a header name, a 32-hex run, a base64 token, a percent escape. A text with
none is done. In ASCII text, the rules' own passes run on RE2 too, and one run of them over the
whole text costs less than one per window (~30% on a repository's source files). In other
text they run on whole lines around those places, with enough margin that every context they
read (at most 400 characters away) is included, so the candidates are the same as detecting on
the whole text (tests/test_fast.py checks both against `detect`).
"""

from __future__ import annotations

import codecs
import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

from keyguard.detect import RULES, Rule, detect
from keyguard.detect.hexkey import LONGEST_HEADER, is_table
from keyguard.detect.rule import ascii_bytes, re2_spans
from keyguard.model import Blob, Candidate, Confidence
from keyguard.record import replace
from keyguard.sources.text import UTF16_BOMS, decode_text, is_binary

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

MARGIN = 1024  # characters of context kept around each interesting place: rules read <= 400
_PATTERN = (rb"[xX][-_][aA][pP][iI][-_][kK][eE][yY]"  # x-api-key rule (and decoded variants)
            rb"|[0-9A-Fa-f]{32}"  # hex32-key rule
            rb"|[A-Za-z0-9+/_-]{40,}"  # base64 tokens that could hold a key (whole runs: few spans)
            rb"|%[0-9A-Fa-f]{2}")  # percent-encoded lines
@functools.cache
def _compiled() -> Any:
    """Compiled once per process, on first use: the pre-commit hook never needs it."""
    import re2

    return re2.compile(_PATTERN)


def warm() -> None:
    """Load RE2 and compile the built-in rules' patterns now, rather than on first use: a
    working-tree scan does it while git lists the ignored files (keyguard.cli.files)."""
    from keyguard.detect import decode, header, hexkey, rule, values
    from keyguard.lazyre import lazy

    _compiled()
    for module in (decode, header, hexkey, rule, values):
        for value in vars(module).values():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, rule.Pass):
                    item.compile()
                elif isinstance(item, lazy):
                    item.search  # noqa: B018 (compiles it)


def detect_bytes(data: bytes, path: str, rules: Sequence[Rule] = RULES,
                 at_least: Confidence = Confidence.LOW) -> list[Candidate] | None:
    """What `detect` finds in the text of `data`, or None when it is binary."""
    if is_binary(data):
        return None
    data = data.removeprefix(codecs.BOM_UTF8)
    if not prefilter_fits(data, rules):
        text = decode_text(data)
        return [] if text is None else list(detect(Blob(path=path, text=text), rules, at_least=at_least))
    return detect_prefiltered(data, path, rules, at_least=at_least)


def prefilter_fits(data: bytes, rules: Sequence[Rule]) -> bool:
    """Whether the prefilter can say where `rules` could fire in `data`: it reads UTF-8 (not
    UTF-16) and knows only the built-in rules."""
    return not data.startswith(UTF16_BOMS) and only_built_in(rules)


def only_built_in(rules: Sequence[Rule]) -> bool:
    """Whether the prefilter knows every rule: it knows only the built-in ones (asked per
    file: the same objects are known at once, without comparing their fields)."""
    return all(id(rule) in _BUILT_IN or rule in RULES for rule in rules)


_BUILT_IN = frozenset(map(id, RULES))


def detect_prefiltered(data: bytes, path: str, rules: Sequence[Rule] = RULES, first_line: int = 1,
                       at_least: Confidence = Confidence.LOW, header: bytes | None = None) -> list[Candidate]:
    """Detection in UTF-8 text where the prefilter fits, run only around interesting places;
    the text starts at line `first_line`; `header`: a table's first line, if not in `data`."""
    if data.isascii():  # the rules' passes use RE2 on it: once over the whole is cheapest
        windows = [(0, len(data))] if could_match(data) else []
    else:
        windows = interesting_windows(data, margin_bytes(data))
    return list(detect_windows(data, path, windows, rules, first_line, at_least, header))


def detect_lines(text: str, path: str, lines: frozenset[int], rules: Sequence[Rule] = RULES,
                 at_least: Confidence = Confidence.LOW) -> list[Candidate]:
    """What `detect` finds on `lines` (numbered from 1) of the text, looked for only around them,
    with the margin the rules read: a hook's one-line change to a large log does not grade every
    id in it. Built-in rules only (a custom rule may read further)."""
    data = text.encode("utf-8", "surrogatepass")
    ends = list(itertools.accumulate(len(line) + 1 for line in data.split(b"\n")))  # past each newline
    spans = [(ends[n - 2] if n > 1 else 0, ends[n - 1] - 1) for n in sorted(lines) if 0 < n <= len(ends)]
    windows = line_windows(data, spans, margin_bytes(data))
    return [c for c in detect_windows(data, path, windows, rules, at_least=at_least) if c.line in lines]


def margin_bytes(data: bytes, chars: int = MARGIN) -> int:
    """`chars` characters in bytes of `data`: UTF-8 takes up to 4 bytes a character."""
    return chars if data.isascii() else chars * 4


def could_match(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether a built-in rule could fire anywhere in data[start:end]."""
    return next(re2_spans(_compiled(), data, start, end), None) is not None


def interesting_spans(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of UTF-8 text where a built-in rule could fire, each of them: what
    interesting_windows must cover (it finds them a chunk at a time)."""
    return list(re2_spans(_compiled(), data))


def interesting_windows(data: bytes, margin: int = MARGIN) -> list[tuple[int, int]]:
    """Whole-line byte ranges of UTF-8 text that cover every place a built-in rule could fire,
    with `margin` bytes around it: line_windows(data, interesting_spans(data), margin) or wider.
    Looked for a chunk of `margin` bytes at a time: the first place in a chunk stands for all
    that start there, so dense text (a log of request ids) costs a search per chunk, not one
    per id."""
    windows: list[tuple[int, int]] = []
    compiled = _compiled()
    pos = 0
    while pos < len(data) and (span := next(re2_spans(compiled, data, pos), None)) is not None:
        start = span[0]
        # A place that starts in this chunk and crosses its end goes on in token characters
        # (hex, base64, a header name, an escape's two digits), and so does every place that
        # starts in the run of them at the chunk's end: they all end where that run ends.
        run = _TOKEN_CHARACTERS.match(data, (start // margin + 1) * margin)
        run_end = run.end() if run else len(data)  # always a match, maybe empty
        _add_window(data, windows, start - margin, run_end + margin)
        pos = run_end
    return windows


_TOKEN_CHARACTERS = re.compile(rb"[A-Za-z0-9+/_-]*")


def line_windows(data: bytes, spans: Iterable[tuple[int, int]],
                 margin: int = MARGIN) -> list[tuple[int, int]]:
    """Whole-line byte ranges covering each span with `margin` bytes around it, merged.
    `spans` must be in ascending order of start. Spans closer than two margins share a window,
    so lines are looked for once per window, not once per span."""
    windows: list[tuple[int, int]] = []
    first, last = -1, -1  # the spans gathered for the next window: from `first` to `last`
    for start, end in spans:
        if last >= 0 and start - margin <= last + margin:
            last = max(last, end)
            continue
        if last >= 0:
            _add_window(data, windows, first - margin, last + margin)
        first, last = start, end
    if last >= 0:
        _add_window(data, windows, first - margin, last + margin)
    return windows


def _add_window(data: bytes, windows: list[tuple[int, int]], low: int, high: int) -> None:
    """data[low:high] widened to whole lines, merged into the last window when they touch."""
    low = data.rfind(b"\n", 0, max(0, low)) + 1
    high = data.find(b"\n", min(len(data), high))
    high = len(data) if high < 0 else high
    if windows and low <= windows[-1][1] + 1:
        windows[-1] = (windows[-1][0], max(high, windows[-1][1]))
    else:
        windows.append((low, high))


def detect_windows(data: bytes, path: str, windows: Iterable[tuple[int, int]],
                   rules: Sequence[Rule] = RULES, first_line: int = 1,
                   at_least: Confidence = Confidence.LOW, header: bytes | None = None) -> Iterator[Candidate]:
    """Detection on each window, with line numbers of the whole blob (which starts at line
    `first_line`: a part of a larger text). Lines are counted only up to windows with
    candidates: in a long file, most windows have none `at_least` as sure as asked. A CSV or
    TSV file's first line (`header`, when `data` starts after it) names its columns: each
    window is read after it, as the whole text would be."""
    given = header is not None
    if header is None and is_table(path):
        newline = data.find(b"\n", 0, 4 * LONGEST_HEADER + 1)
        header = data[:newline] if newline >= 0 else b""
    if header and len(header.decode("utf-8", errors="replace")) > LONGEST_HEADER:
        header = b""  # it names no columns: not read again before each window
    line, counted_to = first_line, 0
    for start, end in windows:
        head = header + b"\n" if header is not None and (given or start > 0) else b""
        piece = head + data[start:end]
        text = piece.decode("utf-8", errors="replace")
        if piece.isascii():
            ascii_bytes(text, piece)  # the rules' passes read these bytes: not encoded again
        found = [c if not head else replace(c, line=c.line - 1)
                 for c in detect(Blob(path=path, text=text), rules, at_least=at_least)
                 if not head or c.line > 1]
        if found:
            line += data.count(b"\n", counted_to, start)
            counted_to = start
            yield from (replace(c, line=c.line + line - 1) for c in found)
