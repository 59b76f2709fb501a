"""Judging a candidate value: placeholder, reference, or something that looks like a secret."""

from __future__ import annotations

from keyguard.lazyre import lazy

# Well-known public keys: labelled, never treated as live credentials.
KNOWN_PUBLIC_KEYS = {
    "6aa0fa074bec4a5cb0e8ed8fd36151ce": "documented-example",  # imin docs' example key
    "7gsdzogPG2elvc9XAvx0qQday6W637js": "published-test-key",  # Events API dummy-data key
}


def known_public_key(value: str) -> str | None:
    """The label of a well-known public key; hex is the same key in either case."""
    return KNOWN_PUBLIC_KEYS.get(value) or KNOWN_PUBLIC_KEYS.get(value.lower())


_PLACEHOLDER_WORDS = lazy(
    r"(?i)your|example|placeholder|changeme|change_me|redacted|dummy|sample|insert|replace"
    r"|todo|fixme|xxxx|\*\*\*|\.\.\.|…|api[-_]?key|secret[-_]?key|key[-_]?here|token[-_]?here"
)
# Where a secret manager keeps the key: AWS (ARNs, SSM), Vault, GCP, Azure Key Vault, 1Password.
_SECRET_REFERENCE = lazy(
    r"(?i)^(?:arn:aws[\w-]*:|vault:|ssm:|op://|projects/[^/]+/secrets/)|secretsmanager|\.vault\.azure\.net/secrets/"
)
_TEMPLATE_MARKERS = ("{{", "}}", "${", "#{", "%(", "<%", "%>")
_TEMPLATE_STARTS = ("$", "{", "<", "[", "%", "@", "&", "*")
_SEQUENCES = (
    "0123456789abcdef" * 4,
    "abcdefghijklmnopqrstuvwxyz0123456789" * 3,
    "1234567890" * 6,
)
# Every sequence forwards and backwards, apart, so that one `in` tests them all.
_SEQUENCE_TEXT = "\n".join(seq + "\n" + seq[::-1] for seq in _SEQUENCES)
_CONSTANT_NAME = lazy(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_IDENTIFIER = lazy(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_HAS_DIGIT = lazy(r"\d")
_HAS_LETTER = lazy(r"[A-Za-z]")


def looks_like_placeholder(value: str) -> bool:
    """A template, a reference (to a secret manager too), a made-up filler or a pattern nobody
    would use as a key."""
    if value.startswith(_TEMPLATE_STARTS) or any(m in value for m in _TEMPLATE_MARKERS):
        return True
    if _PLACEHOLDER_WORDS.search(value) or _CONSTANT_NAME.fullmatch(value) or _SECRET_REFERENCE.search(value):
        return True
    return is_repetitive(value)


def is_repetitive(value: str) -> bool:
    """Runs of one character, short periods (`abab…`, `deadbeef…`) and counting sequences."""
    lowered = value.lower()
    # at most 3 distinct characters: so too in its first 8, a cheaper first look
    if (len(set(lowered[:8])) <= 3 and len(set(lowered)) <= 3) or lowered in _SEQUENCE_TEXT:
        return True
    # s repeats with period p exactly when s[p:] == s[:-p]. With p <= 16 and 32 characters or
    # more, its first 16 then come back at p: one search in C rules out most keys.
    if len(lowered) >= 32 and lowered.find(lowered[:16], 1, 32) < 0:
        return False
    first = lowered[0] if lowered else ""
    return any(lowered[p] == first and lowered[p:] == lowered[:-p]
               for p in range(1, min(16, len(lowered) // 2) + 1))


def looks_like_identifier(value: str) -> bool:
    """A variable or attribute path (`api_key`, `settings.key`): a reference, not a literal."""
    if not _IDENTIFIER.fullmatch(value):
        return False
    return "_" in value or "." in value or not _HAS_DIGIT.search(value)


_WORDS = lazy(r"[a-z][a-z0-9]{0,7}(?:[-_.][a-z0-9]{1,8})+")  # hex32-key, content-type, v1.2-beta


# Short values tests and docs send (`test1234`, `abc123def456`, `password1`): a real key that
# short and starting so is unlikely; 32-hex keys are graded apart, whatever they start with.
_TEST_VALUE = lazy(r"(?i)test|abc|secret|key|pass|demo|fake|mock|foo|bar|qwerty|sha\d*:|md5:")


def looks_like_secret(value: str) -> bool:
    """Long enough and mixed enough to be a credential rather than a word."""
    if len(value) < 8 or _WORDS.fullmatch(value) or (len(value) < 16 and _TEST_VALUE.match(value)):
        return False
    mixed = bool(_HAS_DIGIT.search(value)) and bool(_HAS_LETTER.search(value))
    return mixed or len(value) >= 20
