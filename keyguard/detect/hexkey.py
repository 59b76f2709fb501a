"""Rule `hex32-key`: a 32-hex literal, graded by the context it sits in."""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterator

from keyguard.detect.rule import TOKEN_RUNS, Hit, ascii_bytes
from keyguard.detect.values import is_repetitive, known_public_key
from keyguard.lazyre import lazy
from keyguard.model import Confidence

# Runs of 32 or more; the length check in code gives hex boundaries without look-around.
HEX_RUN = lazy(r"[0-9A-Fa-f]{32,}")
_ALL_HEX = lazy(r"[0-9A-Fa-f]+")

_KEY_WORD = r"key|token|secret|auth(?:[^o]|$)|authoriz|bearer|credential|imin|passw|pwd"
_KEY_WORDS = lazy(_KEY_WORD, re.IGNORECASE)
_CHECKSUM_WORDS = lazy(
    r"(?i)md5|sha-?(?:1|224|256|384|512)|\bsha\b|digest|checksum|etag|integrity|hash"
    r"|uuid|guid|crc32|fingerprint|if-(?:none-)?match"
)
# Ids by name: `id`, `user_id`, `requestId`, `rid`, `correlation`. Not `ref`: the corpus holds a
# key a Postman environment names `storeRef`; not `pk`, which may name a private key.
_ID_NAME = lazy(r"(?:^|[_\-.@])(?i:ids?|identifiers?|rid|correlation)$|[a-z](?:Id|ID|Identifier)s?$")
_URL_KEY_PARAM = lazy(
    r"(?i)[?&;](?:api[-_]?key|apikey|key|token|access[-_]?token|auth|secret)=$"
)
# How a value opens after its name: quotes (maybe escaped, prefixed) and an ETag's W/.
_OPENING = r"(?:[bru@$]?\\?[\"'`]|W/)*"
# The name a literal is given, read backwards from the literal; each pattern ends at it. The
# common `name = …` comes first: no two patterns can end the same text with different names.
# A name is not tried from inside a word it could extend backwards (the lookbehinds): the
# match from the word's start is found first anyway, and a long word before a key would
# otherwise be read once from each of its characters.
_NAMED = tuple(lazy(pattern + _OPENING + "$") for pattern in (
    # name = …, name: …, "name" => …, name := …, ${NAME:-…}, const name: &str = …, a == …
    r"(?:(?<![A-Za-z_$])|(?=@))(?P<name>[A-Za-z_$@][\w.\-$]*)\\?[\"'\]]?\s*(?::\s*[&\w<>\[\]' ]+?\s*)?"
    r"(?:!==?|===?|:=|:-|=>|[:=])\s*[{(]?\s*",
    r"<(?P<name>[\w.:-]+)(?:\s[^<>]*)?>",  # <apiKey>…
    r"(?:ENV|ARG|export|set|setenv|SetEnv)\s+(?P<name>[\w.]+)(?:[ \t]+|=)",  # Dockerfile, shells
    # os.getenv("NAME", "<default>"), ENV.fetch(…), System.getProperty(…)
    r"(?:getenv|get|fetch|getProperty|GetEnvironmentVariable)\(\s*\\?[\"'](?P<name>[\w.\-]+)\\?[\"']\s*,\s*",
    r"(?<![A-Za-z_])(?P<name>[A-Za-z_][\w.\-]*)\s*(?:\|\||\?\?|\bor\b)\s*",  # process.env.NAME || "<default>"
))
# Records whose name and value are separate fields: the value field, then the record's name.
_RECORD_VALUE_NAMES = frozenset({"value", "default", "example"})
_RECORD_NAME = lazy(r"(?i)\b(?:name|key)\\?[\"']?\s*[:=]\s*\\?[\"']?([\w.\-]+)")
_FIELD_CUTS = ",;{("
_LOCKFILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "go.sum", "shasums",
    "sha256sums", "sha512sums", "md5sums", "sha1sums",
})
_CHECKSUM_SUFFIXES = (".lock", ".md5", ".sha1", ".sha256", ".sha512", ".sum")


def find(text: str, path: str, at_least: Confidence = Confidence.LOW) -> Iterator[Hit]:
    """Hits graded `at_least` or surer: in a log of request ids, thousands of sure-to-be-low
    ones are never built."""
    if is_checksum_file(path):
        return
    table = table_header(text, path)
    # In ASCII text, the ids of a log are passed over on their line alone: see _passed_over
    pass_over = at_least > Confidence.LOW and table is None and text.isascii()
    shapes = b""  # the text with digits as zeros, made at the first key
    for start, end in hex_runs(text):
        # hex only: a digit somewhere unless all letters, a letter somewhere unless all digits
        if end - start != 32:
            continue
        if pass_over:
            shapes = shapes or ascii_bytes(text).translate(_DIGITS_TO_ZERO)
            low = start - _CONTEXT if start > _CONTEXT else 0
            line_start = text.rfind("\n", low, start) + 1 or low
            shape = shapes[max(line_start, start - 200) : start]
            # (_shortened, inlined: this runs for every id of a log)
            if _passed_over(shape.replace(b"000", b"0").replace(b"00", b"0").replace(b"00", b"0")):
                continue
        secret = text[start:end]
        if secret.isdigit() or secret.isalpha():
            continue
        signals = _signals_at(text, start)
        if signals is not None and "assignment" not in signals and _named_in_a_comment_after(text, end):
            signals = (*signals, "key-word-nearby")  # `"<key>",  // staging api key`
        if table is not None and signals is not None and "assignment" not in signals:
            signals = _column_signals(text, start, *table) or signals  # the column's name
        if signals is None or (at_least > Confidence.LOW and _surely_low(signals)):
            continue  # a log's request ids: a dotted suffix would only lower them further
        if "key-like-name" not in signals and "url-key-parameter" not in signals \
                and _in_a_dotted_name(text, end):
            signals = (*signals, "id-name")  # `uploads/<hex>.jpg`, `cache_page.<hex>.en-us`
            if at_least > Confidence.LOW:
                continue
        if not is_repetitive(secret):
            yield _graded(signals, start, secret)


def hex_runs(text: str) -> Iterator[tuple[int, int]]:
    """The spans of HEX_RUN in the text, looked for only inside the token runs (hex characters
    are token characters, so each hex run lies within one); a token run of 32, the length of a
    key and of most runs, is a hex run when it is all hex."""
    for start, end in TOKEN_RUNS.kept_spans(text):
        if end - start == 32:
            if _ALL_HEX.fullmatch(text, start, end):
                yield start, end
        else:
            for match in HEX_RUN.finditer(text, start, end):
                yield match.span()


@functools.lru_cache(maxsize=1 << 12)  # asked for every version of a path in a history scan
def is_checksum_file(path: str) -> bool:
    """Lockfiles and checksum lists: full of digests, never the place for a key."""
    name = posixpath.basename(path.replace("\\", "/")).lower()
    return name in _LOCKFILES or name.endswith(_CHECKSUM_SUFFIXES)


def _signals_at(text: str, start: int) -> tuple[str, ...] | None:
    """The signals of the context before `start`, as _grade_at reads them: at most 420 characters
    before the key, its line (or the line above), and a record's name further up only for
    `value:`-like fields. What numbers say never matters to them (digest names such as md5 or
    sha256 aside), so contexts that differ only in their numbers, like the lines of a log,
    share one remembered grading."""
    low = max(0, start - _CONTEXT)
    left = _left_context(text, start, low)
    if left.isascii():
        shape = _shortened(left.encode().translate(_DIGITS_TO_ZERO))
        signals = _ascii_shape_signals(shape)
        if signals is _DIGITS_COUNT:
            signals = _shape_signals(left)
    else:
        # `in` on the case-folded text is as wide as the case-insensitive search ("ſha" holds "sha")
        folded = left.casefold()
        digest_named = "md5" in folded or "sha" in folded or "crc" in folded
        signals = _shape_signals(left if digest_named else _NUMBERS.sub("0", left))
    if signals is _RECORD:
        signals = _signals(left, _record_name(text, low, start) or "")
    return signals


def _shortened(zeroed: bytes) -> bytes:
    """A context with its digits as zeros, runs of zeros shortened (to one, up to twelve): the
    shape its grading is remembered by. A few C calls, where a regex substitution costs a call
    per number. Each worker grades each shape once: the benchmark's log has 1,289 line shapes
    with runs shortened to one or two zeros, 645 with all up to twelve to one."""
    return zeroed.replace(b"000", b"0").replace(b"00", b"0").replace(b"00", b"0")


_CONTEXT = 420
_ALNUM = lazy(r"[^\W_]")  # what str.isalnum() accepts, in one search
_NUMBERS = lazy(r"[0-9]+")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_RECORD = ("(the record's name is needed)",)
_DIGITS_COUNT = ("(the digits are needed)",)


@functools.lru_cache(maxsize=1 << 12)
def _shape_signals(left: str) -> tuple[str, ...] | None:
    return _signals(left, None)


@functools.lru_cache(maxsize=1 << 12)
def _ascii_shape_signals(shape: bytes) -> tuple[str, ...] | None:
    """Signals of an ASCII context with its numbers as zeros; _DIGITS_COUNT when it names
    md5, sha... or crc, the only names where digits count (md5 is md0 here)."""
    lowered = shape.lower()
    if b"md0" in lowered or b"sha" in lowered or b"crc" in lowered:
        return _DIGITS_COUNT
    alone = _assigned_alone(shape)
    return _shape_signals(alone) if alone is not None else _signals(shape.decode("ascii"), None)


def _assigned_alone(shape: bytes) -> str | None:
    """` NAME=` for a context that ends with a plain name assigned, after a space (a log's
    `... request_id=`), when no word before it can be read as the name instead: the grading is
    that of ` NAME=` alone, done once for every line shape that ends so. None when a type
    annotation could reach the name from a `:` before it (`api_key: request_id=` names
    api_key): every character from that `:` to the `=` is one an annotation may hold. Any
    other word before would need its operator right after it and nothing but quotes and spaces
    from there to the end (tests/test_properties.py checks the equivalence)."""
    space = max(shape.rfind(b" "), shape.rfind(b"\t"))
    if space < 0 or not _PLAIN_NAME_ASSIGNED.fullmatch(shape, space + 1):
        return None
    field_start = max(shape.rfind(cut) for cut in (b",", b";", b"{", b"(")) + 1
    colon = shape.rfind(b":", field_start, space)
    if colon >= 0 and _ANNOTATION_CHARACTERS.fullmatch(shape, colon + 1, len(shape) - 1):
        return None
    return " " + shape[space + 1 :].decode("ascii")


_PLAIN_NAME_ASSIGNED = lazy(rb"[A-Za-z_][A-Za-z0-9_]*=")
# What a type annotation may hold, and the spaces around it (str's \s: \x1c-\x1f too)
_ANNOTATION_CHARACTERS = lazy(rb"[&0-9A-Za-z_<>\[\]' \t\n\r\f\v\x1c-\x1f]*")


@functools.lru_cache(maxsize=1 << 12)
def _passed_over(shape: bytes) -> bool:
    """Whether find passes over a key whose line, up to it, has this shape (ASCII, numbers as
    zeros), when only medium or surer hits are asked for and the text is no table: its context
    is a checksum's, or it is assigned to a name that grades it surely low. Without an
    assignment the line alone cannot say: a comment after the key may name it, and a line with
    no letter or digit before it reads the line above (it names nothing, so it has none). Nor
    when a record's name or the digits are needed (their markers hold no assignment)."""
    signals = _ascii_shape_signals(shape)
    return signals is None or ("assignment" in signals and _surely_low(signals))


@functools.cache
def _surely_low(signals: tuple[str, ...]) -> bool:
    """Whether every hit with these signals is graded low, whatever its secret."""
    return "id-name" in signals or not any(_WEIGHTS.get(s, 0) for s in signals)


TABLE_SUFFIXES = (".csv", ".tsv")
LONGEST_HEADER = 64 << 10  # characters: a longer first line names no columns
_LONGEST_PREFIX = 16 << 10  # characters of a row before a value: further in, its column is not looked up


def is_table(path: str) -> bool:
    """Whether the file is a CSV or TSV table, whose first line names its columns."""
    return path.lower().endswith(TABLE_SUFFIXES)


def table_header(text: str, path: str) -> tuple[list[str], str] | None:
    """A CSV or TSV file's column names (its first line) and delimiter; None for other files."""
    if not is_table(path):
        return None
    first = text[: text.find("\n")] if "\n" in text else text
    if len(first) > LONGEST_HEADER:
        return [], ","
    # a .csv written in a locale whose decimal mark is a comma is separated by semicolons: the
    # delimiter is the one that splits the first line into the most fields, among those that
    # leave no quote inside a field (a quote opens a field: one inside means a wrong split)
    delimiters = "\t" if path.lower().endswith(".tsv") else ",;|\t"
    delimiter = max(delimiters, key=lambda d: _split_score(first, d))
    return _fields(first, delimiter), delimiter


def _split_score(line: str, delimiter: str) -> tuple[bool, int]:
    fields = _fields(line, delimiter)
    return not any('"' in field for field in fields), len(fields)


def _column_signals(text: str, start: int, columns: list[str], delimiter: str) -> tuple[str, ...] | None:
    """A key-like name for a value in a column the header names so: `id,label,api_key` then
    `1,prod,<key>`. None when the column's name says nothing (or on the header itself)."""
    line_start = text.rfind("\n", max(0, start - _LONGEST_PREFIX), start) + 1
    if line_start == 0 or not columns:  # the header itself, a row too long to parse each time
        return None
    index = len(_fields(text[line_start:start], delimiter) or [""]) - 1
    name = columns[index].strip() if 0 <= index < len(columns) else ""
    if _CHECKSUM_WORDS.search(name):
        return None
    signals = _context_signals("", "", name)  # graded as any other name
    return signals if "key-like-name" in signals else None


def _fields(line: str, delimiter: str) -> list[str]:
    """The fields of one line of a table; none when csv refuses it (a field over 128 KiB)."""
    import csv  # tables only

    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def _in_a_dotted_name(text: str, end: int) -> bool:
    """Whether a dotted suffix follows the hex: a file's name (`<hex>.png`), a cache key's
    (`cache_page.<hex>.en-us`). A key stands alone; a sentence's full stop after it does not
    count, nor a prefix (`live.<key>`)."""
    after = text[end : end + 2]
    return after[:1] == "." and after[1:].isalpha()


def _named_in_a_comment_after(text: str, end: int) -> bool:
    """Whether a comment follows the key on its line and names it (key, token, secret...)."""
    stop = text.find("\n", end, end + 200)
    return _COMMENT_NAMING_A_KEY.search(text, end, stop if stop >= 0 else end + 200) is not None


_COMMENT_NAMING_A_KEY = lazy(rf"(?:#|//|/\*|<!--|--)[^\n]*?(?:{_KEY_WORD})", re.IGNORECASE)


def _grade_at(text: str, start: int, secret: str) -> Hit | None:
    """The same grading, straight from the text: what find's (_signals_at, then _graded) must
    always agree with."""
    context = text[max(0, start - _CONTEXT) : start]
    signals = _signals(_left_context(context, len(context), 0), _record_name(context, 0, len(context)) or "")
    return None if signals is None else _graded(signals, start, secret)


def _signals(left: str, record_name: str | None) -> tuple[str, ...] | None:
    """The context's signals; None in a checksum context; _RECORD when the field is a record's
    value and its name was not looked up (`record_name` None; "" when there is none)."""
    field = _field_context(left)
    name = _assigned_name(field)
    if name is not None and name.lower() in _RECORD_VALUE_NAMES:
        if record_name is None:
            return _RECORD
        name = record_name or name
    if _CHECKSUM_WORDS.search(name or field):
        return None
    return _context_signals(left, field, name)


def _graded(signals: tuple[str, ...], start: int, secret: str) -> Hit:
    if (label := known_public_key(secret)) is not None:
        return Hit(start=start, secret=secret, confidence=Confidence.LOW, signals=(label,),
                   label=label)
    if "id-name" in signals:
        return Hit(start=start, secret=secret, confidence=Confidence.LOW, signals=signals)
    signals = (signals or ("bare-literal",)) + _layout_signals(secret)
    return Hit(start=start, secret=secret, confidence=_score(signals), signals=signals)


def _left_context(text: str, start: int, low: int) -> str:
    """The line up to the key; the line above too when this one holds only the literal, and
    past the items of a list (`'<hex>',`, `- <hex>`) to the line that names it. Nothing
    before `low` is read: there, the text is taken to start."""
    line_start = text.rfind("\n", low, start) + 1 or low
    left = text[max(line_start, start - 200) : start]
    if line_start > low and not _ALNUM.search(left):
        previous_end = line_start - 1
        previous_start = text.rfind("\n", low, previous_end) + 1 or low
        while previous_start > low and _LIST_ITEM.fullmatch(text, previous_start, previous_end):
            previous_end = previous_start - 1
            previous_start = text.rfind("\n", low, previous_end) + 1 or low
        left = text[max(previous_start, previous_end + 1 - 200) : previous_end] + " " + left
    return left


# A line that is one item of a list of hex literals: `  '<hex>',`, `  - <hex>`, `"<hex>"`.
_LIST_ITEM = lazy(r"\s*(?:-\s+)?[\"'`]?[0-9A-Fa-f]{32}[\"'`]?\s*,?\s*")


def _field_context(left: str) -> str:
    """The field the key belongs to: `"a": "x", "apiKey": "` -> ` "apiKey": "`."""
    cut = max(left.rfind(c) for c in _FIELD_CUTS)
    field = left[cut + 1 :]
    return field if _ALNUM.search(field) else left


def _assigned_name(field: str) -> str | None:
    for pattern in _NAMED:
        match = pattern.search(field)
        if match:
            return match["name"]
    return None


def _record_name(text: str, low: int, start: int) -> str | None:
    """For `value: <key>` in a name/value record, the record's name from just above (within
    300 characters, and not before `low`)."""
    names = _RECORD_NAME.findall(text, max(low, start - 300), start)
    return names[-1] if names else None


def _context_signals(left: str, field: str, name: str | None) -> tuple[str, ...]:
    if name is not None and _NOT_A_KEY_NAME.search(name):
        return ("assignment", "id-name")  # a cache key, a key's id, a nonce: not a credential
    signals: list[str] = []
    if _URL_KEY_PARAM.search(left):
        signals.append("url-key-parameter")
    if name is not None and _KEY_WORDS.search(name):
        signals.append("key-like-name")
    elif name is None and _KEY_WORDS.search(field):
        signals.append("key-word-nearby")
    if name is not None:
        signals.append("assignment")
        if "key-like-name" not in signals and (_ID_NAME.search(name) or _DERIVED_NAME.search(name)):
            signals.append("id-name")
    return tuple(signals)


# Names with a key word that still name an identifier or a one-time value (QA: each blocked).
# No digits: contexts are graded with their numbers as zeros (_signals_at).
_NOT_A_KEY_NAME = lazy(
    r"(?i)(?:cache|idempotency|dedup|partition|sort|primary|foreign|lookup|routing|shard|translation"
    r"|flag|feature)[-_.]?keys?$|key[-_.]?ids?$|^(?:kid|nonce|state|session|trace|span"
    r"|revision|build|version)$|^csrf"
)
# Names of derived or one-time values, when no key word is in them: an asset version, a cache
# buster, an image tag, a trace header, the value a test expects. `IMIN_API_KEY_VERSION` is
# still a key's name.
_DERIVED_NAME = lazy(
    r"(?i:(?:^|[_\-.])(?:version|revision|buster|expected|trace[-_]?context)"
    r"|^(?:tag|want|b3|sentry[-_]trace))$|[a-z0-9](?:Version|Revision|Buster|Expected)$"
)
_WEIGHTS = {"url-key-parameter": 3, "key-like-name": 2, "key-word-nearby": 1, "assignment": 1}


def _score(signals: tuple[str, ...]) -> Confidence:
    score = sum(_WEIGHTS.get(s, 0) for s in signals)
    if score == 0:
        return Confidence.LOW
    score += "uuid4-layout" in signals
    return Confidence.HIGH if score >= 3 else Confidence.MEDIUM


def _layout_signals(secret: str) -> tuple[str, ...]:
    """imin keys are version-4 UUIDs without dashes; a digest has that layout 1 time in 64."""
    lowered = secret.lower()
    return ("uuid4-layout",) if lowered[12] == "4" and lowered[16] in "89ab" else ()
