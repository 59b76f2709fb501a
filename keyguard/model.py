"""The values that flow from sources through detection to reporters."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from keyguard.lazyre import lazy
from keyguard.record import Record, field


class Confidence(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Confidence:
        return cls[text.upper()]


class Blob(Record):
    """Text to scan and the name to report it under."""

    path: str
    text: str = field(repr=False)
    only_lines: frozenset[int] | None = None  # a staged change: only these lines can block
    data: bytes | None = field(default=None, repr=False)  # the raw bytes, for the fast path


class Unread(Record):
    """A file the walk found, read where it is scanned: on a worker, in a parallel scan."""

    path: str
    size: int  # as the walk saw it: for sharing the work out
    limit: int  # the size cap

    def read(self) -> Blob | Skipped | ScanError:
        from keyguard.sources.files import read_file

        return read_file(self.path, self.limit)


class Candidate(Record):
    """A secret the detector found in one blob, before policy (thresholds, allowlists)."""

    rule_id: str
    secret: str = field(repr=False)
    line: int
    column: int
    confidence: Confidence
    signals: tuple[str, ...] = ()
    label: str | None = None  # e.g. "documented-example": a known, public key


class Origin(Record):
    """The commit (or tag) that first brought a secret to a path."""

    commit: str
    author: str
    email: str
    date: str  # ISO 8601, as git prints it
    kind: str = "commit"  # or "tag"

    @property
    def name(self) -> str:
        """How reports name it: a commit by its abbreviated id, a tag by its whole ref."""
        return self.commit if self.kind == "tag" else self.commit[:12]


class Finding(Record):
    rule_id: str
    path: str
    secret: str = field(repr=False)
    line: int = field(compare=False)
    column: int = field(compare=False)
    confidence: Confidence = field(compare=False)
    blocking: bool = field(compare=False)
    signals: tuple[str, ...] = field(default=(), compare=False)
    label: str | None = field(default=None, compare=False)
    origin: Origin | None = field(default=None, compare=False)
    excerpt: str = field(default="", repr=False, compare=False)  # the line, clipped; holds the secret
    verification: str | None = field(default=None, compare=False)  # "live (HTTP 200)", with --verify

    @property
    def fingerprint(self) -> str:
        """Stable across edits: rule, path and secret, never the line."""
        material = f"{self.rule_id}\0{self.path}\0{self.secret}".encode("utf-8", "surrogateescape")
        return _sha256(material)[:16]

    @property
    def secret_sha256(self) -> str:
        return "sha256:" + _sha256(self.secret.encode("utf-8", "surrogateescape"))


class Skipped(Record):
    path: str
    reason: str
    # new text left unread for its size: a key in it would pass a commit or push unseen
    unread_text: bool = False

    @classmethod
    def over_size_cap(cls, path: str, max_size: int, new_text: bool = True) -> Skipped:
        return cls(path=path, reason=f"over the size cap ({max_size} bytes)", unread_text=new_text)


class ScanError(Record):
    path: str
    message: str


# What a scan is given: a text, a file still to read, or why there is nothing to scan.
Item = Blob | Skipped | ScanError | Unread


class Suppressed(Record):
    finding: Finding
    why: str  # the inline marker, the allowlist entry and its reason, or the baseline entry


class ScanResult(Record):
    findings: tuple[Finding, ...]
    scanned: int
    skipped: tuple[Skipped, ...] = ()
    errors: tuple[ScanError, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    seconds: float = 0.0
    started_at: str = ""  # ISO 8601, for formats that demand timestamps (GitLab)
    finished_at: str = ""
    unit: str = "file"  # what `scanned` counts: files, or file versions (blobs) in history

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def complete(self) -> bool:
        return not self.errors


# What could hold a key or part of one: a 32-hex run, a base64 token, percent escapes and hex.
# Also 16 or more letters and digits mixed (not `_`: names such as IMIN_API_KEY_V2_PROD stay
# readable), as opaque header values and custom rules' secrets are: one graded below what is
# shown, or found only with the lines around it, stays hidden.
_KEY_LIKE = lazy(r"[0-9A-Fa-f]{32,}|[A-Za-z0-9+/_-]{40,}={0,2}|(?:%[0-9A-Fa-f]{2}|[0-9A-Fa-f]){16,}"
                       r"|(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[A-Za-z0-9]{16,}")
# What a cut word runs to: whitespace, or the punctuation code and data put between values
# (a minified line has no whitespace, and keeps its context)
_BETWEEN_VALUES = "\"',;:{}[]()<>="
_CUT_HEAD, _CUT_TAIL = lazy(r"^[^\s\"',;:{}\[\]()<>=]+"), lazy(r"[^\s\"',;:{}\[\]()<>=]+$")


def _in_a_word(char: str) -> bool:
    return not char.isspace() and char not in _BETWEEN_VALUES
_HEX32 = lazy(r"[0-9A-Fa-f]{32}")
_FINGERPRINT = lazy(r"[0-9a-f]{16}")
# What base64 and percent-encoding write.
_ENCODED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_%.~-"


def excerpt_of(line: str, column: int, secret: str, others: Iterable[str] = (), width: int = 100) -> str:
    """The line around the secret, clipped to about `width` characters. Everything else on it
    that looks like a key or an encoded one (`others`: the line's other_secrets, 32-hex runs,
    base64 tokens, percent escapes) is redacted before clipping, so no fragment of another key
    can show. A secret found decoded stands in for the whole encoded text at its column."""
    start = column - 1
    end = start + len(secret)
    if line[start:end] != secret:  # base64, percent-encoded: none of its encoding is shown
        end = len(line) - len(line[start:].lstrip(_ENCODED))
    room = max(20, width - len(secret)) // 2
    others = [o for o in others if o != secret]
    # each other secret is looked for only within reach of what is shown: a line of
    # thousands of keys costs little per key
    reach = room + max(map(len, others), default=0) + 64  # an encoded neighbour's run, too
    low, high = max(0, start - reach), end + reach
    before, after = line[low:start], line[end:high]
    # A word the clip cuts is left out whole: a key's piece would be too short to redact, or
    # redacted as 4 + 4 characters from the middle of the key.
    if low > 0 and _in_a_word(line[low - 1]):
        before = _CUT_HEAD.sub("", before)
    if high < len(line) and _in_a_word(line[high]):
        after = _CUT_TAIL.sub("", after)
    after = after.rstrip()
    for other in others:
        if other in before:
            before = before.replace(other, redact(other))
        if other in after:
            after = after.replace(other, redact(other))
    before, after = redact_key_like(before), redact_key_like(after)
    head = before.lstrip()[-room:] if len(before.lstrip()) > room else before.lstrip()
    tail = after[:room]
    return ("…" if head != before.lstrip() else "") + head + secret + tail + ("…" if tail != after else "")


def redact_key_like(text: str, fingerprints: bool = False) -> str:
    """`text` with everything that looks like a key redacted; with `fingerprints`, runs of 16
    hex digits, a finding's fingerprint, are kept: for messages that quote what a user wrote
    (a configuration's values, a baseline's entries), where a pasted key may be."""
    if fingerprints:
        return _KEY_LIKE.sub(lambda m: m[0] if _FINGERPRINT.fullmatch(m[0]) else redact(m[0]), text)
    return _KEY_LIKE.sub(lambda m: redact(m[0]), text)


def other_secrets(secrets: Iterable[str]) -> list[str]:
    """The secrets of a line as excerpt_of wants them: longest first, once each, and without
    32-hex ones (it redacts every 32-hex run anyway)."""
    return sorted({s for s in secrets if not _HEX32.fullmatch(s)}, key=len, reverse=True)


def finding_order(finding: Finding) -> tuple[str, int, int, str]:
    """The order of every report: by path, line, column, rule."""
    return finding.path, finding.line, finding.column, finding.rule_id


def is_file_path(path: str) -> bool:
    """Whether a finding's path names a file: commit and tag messages and unreachable blobs are
    labelled `(commit message)`, `(tag message) …`, `(unreachable blob) …` instead."""
    return not path.startswith("(")


def redact(secret: str) -> str:
    """`6aa0…51ce`: enough to recognise a key, never enough to use it."""
    if len(secret) >= 16:
        return f"{secret[:4]}…{secret[-4:]}"
    return f"{secret[:1]}…"


def _sha256(data: bytes) -> str:
    # Only findings need it: a clean hook run does not load it. CPython's own SHA-256 where it
    # has one (3.12: _sha2, before: _sha256): hashlib would load OpenSSL first, ~2.5 ms of a
    # hook that blocks a key. The same digest either way.
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()
