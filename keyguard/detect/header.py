"""Rule `x-api-key`: the literal value of an X-API-KEY header, however code writes one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from keyguard.detect.rule import Hit, Pass
from keyguard.detect.values import (
    known_public_key,
    looks_like_identifier,
    looks_like_placeholder,
    looks_like_secret,
)
from keyguard.lazyre import lazy
from keyguard.model import Confidence

# Spelled out rather than IGNORECASE: several times faster in Python's engine.
NAME = Pass(r"[xX][-_][aA][pP][iI][-_][kK][eE][yY]")
# Also as servers and test clients spell it: nginx $http_x_api_key, Django HTTP_X_API_KEY.
_SERVER_PREFIX = "http_"
_NAME_CHAR = lazy(r"[\w-]")
_HEX32 = lazy(r"[0-9a-fA-F]{32}")

# A value: stops at whitespace, quotes, escapes, delimiters and template brackets. Read at most
# this far: a longer value is no key, and an unbounded read after each of many names on one
# line (`x-api-key:x-api-key:…`) would make the rule quadratic.
LONGEST_VALUE = 1024
# An HTML entity for a quote that closes a value (its `;` ends the value): `…&quot;`
_ENTITY_END = lazy(r"&(?:quot|apos|#3[49]|#x2[27])$", re.IGNORECASE)
_VALUE = rf"(?P<v>[^\s\"'`\\,;()\[\]{{}}<>]{{0,{LONGEST_VALUE}}})"

# The name closed by a quote: map keys, setter arguments, index assignments.
_AFTER_QUOTED_NAME = lazy(
    r"""(?x)
    \\?["'`]                                   # the quote that closes the name
    [ \t]*[\])]?[ \t]*                         # headers["X-API-KEY"] = …, .get("X-API-KEY") != …
    (?: (?:!==?|===?|:=|=>|->|[:=,]|to[ \t]) \s*   # separator, then maybe a line break
      | [ \t]+ )                               # or only blanks (PowerShell, Lisp-likes)
    (?:\[\]string)?[\[{(]?\s*                   # Go []string{"…"}, {"…"}, ("…" on the next line)
    (?:[\w:.]{1,40}\(\s*)?                      # HeaderValue::from_static("…") and similar
    (?P<q>[bru@$]?\\?["'`])?                   # C# @"…", Python b"…"
    """
    + _VALUE
)
# The name in running text: `X-API-KEY: value` (HTTP, curl -H, logs), nginx/Apache directives.
_AFTER_RAW_NAME = lazy(r"(?:[ \t]*(?:!==?|===?|[:=])[ \t]*|[ \t]+)(?P<q>\\?[\"'])?" + _VALUE)
# The name as the value of a record field: Postman `key`, HAR/extension `name`, OpenAPI `name`
# (not `--header=`, a curl or wget option).
_RECORD_NAME_BEFORE = lazy(
    r"(?i)(?:^|[^\w-])(?:name|key|header)\\?[\"']?\s*[:=]\s*\\?[\"']?$")
# Postman's collection-level API-key auth: {"key": "value", "value": "<key>"} beside
# {"key": "key", "value": "X-API-KEY"}.
_NAME_AS_VALUE_BEFORE = lazy(r"(?i)\bvalue\\?[\"']\s*:\s*\\?[\"']$")
_POSTMAN_APIKEY_VALUE = lazy(
    r"\"key\"\s*:\s*\"value\"\s*,\s*\"value\"\s*:\s*(?P<q>\")" + _VALUE)
_RECORD_FIELD = lazy(r"(?i)\b(?:name|key|header)\\?[\"']?\s*[:=]")
_RECORD_VALUE = lazy(
    r"(?i)\b(?:value|example|default)\\?[\"']?\s*[:=]\s*(?P<q>\\?[\"'])?" + _VALUE
)
# Swift puts the value first: request.setValue("...", forHTTPHeaderField: "X-API-KEY").
_SWIFT_SETTER_BEFORE = lazy(
    r"(?:set|add)Value\(\s*(?P<q>\\?\")" + _VALUE + r"\\?\"\s*,\s*forHTTPHeaderField:\s*\\?\"$"
)
_RECORD_WINDOW = 400
_CLOSING_QUOTES = ("\"", "'", "`", "\\")


def find(text: str, path: str, at_least: Confidence = Confidence.LOW) -> Iterator[Hit]:
    for name_start, end in NAME.spans(text):
        start = name_start
        if text[max(0, start - 5) : start].lower() == _SERVER_PREFIX:
            start -= 6 if text[start - 6 : start - 5] == "$" else 5
        if _is_name_char(text, start - 1) or _is_name_char(text, end):
            continue  # X-API-KEY-ID, MY_X_API_KEY: other names
        hit = _value_after(text, start, end)
        if hit is not None:
            yield hit


def _is_name_char(text: str, index: int) -> bool:
    return 0 <= index < len(text) and _NAME_CHAR.match(text, index) is not None


def _value_after(text: str, start: int, end: int) -> Hit | None:
    before = text[max(0, start - 200) : start]
    if may_end_a_field_name(before):
        if _RECORD_NAME_BEFORE.search(before):
            return _record_value(text, start, end)
        if _NAME_AS_VALUE_BEFORE.search(before):
            return _postman_apikey_value(text, start)
        swift = _SWIFT_SETTER_BEFORE.search(before)
        if swift:
            return _judge(swift, start - len(before), quoted_name=True, form="header-setter")
    quoted = _AFTER_QUOTED_NAME.match(text, end)
    if quoted:
        return _judge(quoted, 0, quoted_name=True, form="header-map")
    raw = _AFTER_RAW_NAME.match(text, end)
    if raw:
        return _judge(raw, 0, quoted_name=False, form="header-line")
    return None


def _record_value(text: str, start: int, end: int) -> Hit | None:
    """Name and value in separate fields of one record: the value after the name, else before."""
    after = _cut_at_record_end(text[end : end + _RECORD_WINDOW])
    value = _RECORD_VALUE.search(after)
    if value:
        return _judge(value, end, quoted_name=False, form="header-record")
    before = text[max(0, start - _RECORD_WINDOW) : start]
    before_start = start - len(before) + max(before.rfind(c) for c in "{}[]") + 1
    values = list(_RECORD_VALUE.finditer(text, before_start, start))
    if values:
        return _judge(values[-1], 0, quoted_name=False, form="header-record")
    return None


def may_end_a_field_name(before: str) -> bool:
    """Whether the name can be a field's value, `before` ending `name: "`, `value": "` or
    `forHTTPHeaderField: "`: only with a `:` or `=` before the quote (`$` also matches before a
    last newline). Most names (`get("X-API-KEY"`) then skip three searches, each tried from
    every character of `before`."""
    return before.rstrip().rstrip("\"'").rstrip("\\").rstrip().endswith((":", "="))


def _postman_apikey_value(text: str, start: int) -> Hit | None:
    window_start = max(0, start - _RECORD_WINDOW)
    match = _POSTMAN_APIKEY_VALUE.search(text, window_start, start + _RECORD_WINDOW)
    return _judge(match, 0, quoted_name=False, form="header-record") if match else None


def _cut_at_record_end(after: str) -> str:
    """The rest of this record: up to the closing brace or the next record's name field."""
    stops = [len(after)]
    next_record = _RECORD_FIELD.search(after)
    if next_record:
        stops.append(next_record.start())
    if "}" in after:
        stops.append(after.index("}"))
    return after[: min(stops)]


def _judge(match: re.Match[str], offset: int, *, quoted_name: bool, form: str) -> Hit | None:
    value, quote = match["v"], match["q"]
    after = match.string[match.end("v") : match.end("v") + 1]
    if after == ";" and (entity := _ENTITY_END.search(value)):  # HTML: -H &quot;X-API-KEY: …&quot;
        value, after = value[: entity.start()], '"'
    if not value or len(value) == LONGEST_VALUE or looks_like_placeholder(value):
        return None
    if quote and after not in _CLOSING_QUOTES:
        return None  # a longer string ("Bearer …", "key-" + id): not a bare key
    if quoted_name and not quote and (looks_like_identifier(value) or after in ("(", "[", ".")):
        return None  # a variable or call: a reference, not a literal
    start = offset + match.start("v")
    if (label := known_public_key(value)) is not None:
        return Hit(start=start, secret=value, confidence=Confidence.LOW,
                   signals=("header-name", form, label), label=label)
    if _HEX32.fullmatch(value):
        return Hit(start=start, secret=value, confidence=Confidence.HIGH,
                   signals=("header-name", form, "hex32-value"))
    if looks_like_secret(value):
        return Hit(start=start, secret=value, confidence=Confidence.MEDIUM,
                   signals=("header-name", form, "opaque-value"))
    return None
