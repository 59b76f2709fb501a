from __future__ import annotations

import base64
import urllib.parse

import pytest

from keyguard.detect import detect
from keyguard.model import Blob, Candidate, Confidence
from tests.conftest import fake_key

KEY = fake_key("detect")
EXAMPLE_KEY = "6aa0fa074bec4a5cb0e8ed8fd36151ce"
TEST_KEY = "7gsdzogPG2elvc9XAvx0qQday6W637js"


def found(text: str, path: str = "file.txt") -> list[Candidate]:
    return list(detect(Blob(path=path, text=text)))


def grades(text: str, path: str = "file.txt") -> list[tuple[str, str]]:
    return [(c.rule_id, c.confidence.label) for c in found(text, path)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"IMIN_API_KEY={KEY}", [("hex32-key", "high")]),
        (f"settings = {{'session_token': '{KEY}'}}", [("hex32-key", "high")]),
        (f"FOO={KEY}", [("hex32-key", "medium")]),
        (f"values = ['{KEY}']", [("hex32-key", "low")]),
        (f'"request_id": "{KEY}"', [("hex32-key", "low")]),
        (f'"requestId": "{KEY}"', [("hex32-key", "low")]),
        (f"api_key_md5 = '{KEY}'", []),
        (f"X-API-KEY: {KEY}", [("x-api-key", "high")]),
        (f'curl -H "Authorization: Bearer {KEY}" https://x', [("hex32-key", "medium")]),
        (f"authorization = '{KEY}'", [("hex32-key", "high")]),
        (f"author = '{KEY}'", [("hex32-key", "medium")]),  # an assignment; author is no key word
        (f'    "{KEY}",  // staging api key', [("hex32-key", "medium")]),
        (f'print("{KEY}")  # imin key', [("hex32-key", "medium")]),
        (f"{KEY},John,monkey", [("hex32-key", "low")]),  # a word after it, not a comment
        (f'{{"@id": "{KEY}", "identifier": "{KEY[::-1]}"}}', [("hex32-key", "low")] * 2),
        (f'If-None-Match: "{KEY}"', []),
        (f"If-Match: {KEY}", []),
    ],
)
def test_confidence_follows_context(text: str, expected: list[tuple[str, str]]) -> None:
    assert grades(text) == expected


def test_hex_boundaries() -> None:
    assert grades(f"token={KEY}0") == []
    assert grades(f"token=0{KEY}") == []
    assert grades(f"token: '{KEY}'") == [("hex32-key", "high")]
    assert grades(f"zz{KEY}zz") == [("hex32-key", "low")]  # non-hex neighbours are boundaries


def test_documented_keys_are_labelled_low() -> None:
    for text in (f"X-API-KEY: {EXAMPLE_KEY}", f"api_key = '{EXAMPLE_KEY}'", f"X-API-KEY: {TEST_KEY}"):
        [candidate] = found(text)
        assert candidate.confidence is Confidence.LOW
        assert candidate.label in ("documented-example", "published-test-key")


def test_the_example_key_in_upper_case_is_still_the_example() -> None:
    for text in (f"IMIN_API_KEY={EXAMPLE_KEY.upper()}", f"X-API-KEY: {EXAMPLE_KEY.upper()}"):
        [candidate] = found(text)
        assert candidate.confidence is Confidence.LOW and candidate.label == "documented-example"


@pytest.mark.parametrize("escaped", [
    '{{"source": "headers = {{\\u0022X-API-KEY\\u0022: \\u0022{key}\\u0022}}"}}',  # .NET
    '{{"body": "\\u003capiKey\\u003e{key}\\u003c/apiKey\\u003e"}}',  # Go
    '{{"source": "API_KEY = \\u0027{key}\\u0027"}}',
    'var s = "API_KEY=\\x22{key}\\x22";',
])
def test_escapes_that_run_into_a_key(escaped: str) -> None:
    """`\\u0022<key>`: the escape's hex digits are not part of the key."""
    text = escaped.format(key=KEY)
    [candidate] = found(text)
    assert candidate.confidence is Confidence.HIGH and candidate.secret == KEY
    assert candidate.column == text.index(KEY) + 1 and "backslash-escaped" in candidate.signals


def test_secret_manager_references_are_not_header_values() -> None:
    for reference in ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:imin-key",
                      "vault:secret/data/imin#key", "projects/p/secrets/imin-key/versions/latest",
                      "op://vault/imin/api-key", "https://kv1.vault.azure.net/secrets/imin-key"):
        assert found(f'headers = {{"X-API-KEY": "{reference}"}}') == [], reference


def test_lockfiles_and_checksum_lists_are_not_scanned_for_hex_keys() -> None:
    for path in ("package-lock.json", "app/yarn.lock", "go.sum", "SHA256SUMS", "dist/app.md5"):
        assert found(f'"key": "{KEY}"', path) == []


def test_line_and_column() -> None:
    text = f"line one\n\n  curl -H 'X-API-KEY: {KEY}' https://x\n"
    [candidate] = found(text)
    assert (candidate.line, candidate.column) == (3, 23)
    assert candidate.secret == KEY


def test_one_finding_per_secret_and_line() -> None:
    assert grades(f'{{"X-API-KEY": "{KEY}", "api_key": "{KEY}"}}') == [("x-api-key", "high")]


def test_base64_is_reported_at_the_encoded_token() -> None:
    encoded = base64.b64encode(KEY.encode()).decode()
    [candidate] = found(f"data:\n  IMIN_API_KEY: {encoded}\n")
    assert (candidate.rule_id, candidate.line, candidate.column) == ("hex32-key", 2, 17)
    assert "base64" in candidate.signals and candidate.secret == KEY


def test_percent_encoded_url() -> None:
    url = urllib.parse.quote(f"https://api.example.org/v1?api_key={KEY}", safe="")
    [candidate] = found(f"redirect={url}")
    assert candidate.confidence is Confidence.HIGH and "percent-encoded" in candidate.signals


def test_header_record_split_over_lines() -> None:
    text = f'{{\n  "name": "X-API-KEY",\n  "value": "{KEY}"\n}}'
    [candidate] = found(text)
    assert (candidate.rule_id, candidate.line, candidate.confidence) == ("x-api-key", 3, Confidence.HIGH)


def test_header_record_takes_its_own_value_not_a_neighbours() -> None:
    other = fake_key("other")
    text = (f'[{{"name": "Accept", "value": "{other}"}}, {{"name": "X-API-KEY", "value": "$KEY"}}]')
    assert [c.rule_id for c in found(text)] == ["hex32-key"]  # the neighbour's bare value only


def test_other_vendor_values_are_medium() -> None:
    assert grades("X-API-KEY: AKxq81mZ0pLq7TvR2sYw") == [("x-api-key", "medium")]  # keyguard:allow
    assert grades("X-API-KEY: short1") == []


def test_deterministic() -> None:
    text = f"IMIN_API_KEY={KEY}\nX-API-KEY: {fake_key('b')}\n" * 3
    assert found(text) == found(text)


@pytest.mark.parametrize("text", [
    "const IMIN_KEYS = [\n  '{0}',\n  '{1}',\n  '{2}',\n];\n",
    "imin_api_keys:\n  - {0}\n  - {1}\n  - {2}\n",
    'API_TOKENS = (\n    "{0}",\n    "{1}",\n    "{2}",\n)\n',
])
def test_every_item_of_a_named_list_is_graded_by_its_name(text: str) -> None:
    keys = [fake_key(f"list item {n}") for n in range(3)]
    assert [(c.line, c.confidence >= Confidence.MEDIUM) for c in found(text.format(*keys))] == [
        (2, True), (3, True), (4, True)]
    # a list under an id name stays low
    ids = text.format(*keys)
    for name in ("IMIN_KEYS", "imin_api_keys", "API_TOKENS"):
        ids = ids.replace(name, "REQUEST_IDS")
    assert [c.confidence for c in found(ids)] == [Confidence.LOW] * 3


@pytest.mark.parametrize("template", [
    "cache_key = '{k}'", "const cacheKey = '{k}';", "Idempotency-Key: {k}", '{{"keyId": "{k}"}}',
    '{{"kty": "RSA", "kid": "{k}", "use": "sig"}}', "INFO session={k} user=42 logged in",
    '<script nonce="{k}">init()</script>', '<input type="hidden" name="csrfmiddlewaretoken" value="{k}">',
    "revision: {k}", '{{"version": "1.2.3", "build": "{k}"}}', "api_key_id = '{k}'",
])
def test_names_of_identifiers_with_a_key_word_are_low(template: str) -> None:
    assert grades(template.format(k=KEY)) == [("hex32-key", "low")]


@pytest.mark.parametrize("value", ["test1234", "abc123def456", "sha256:abc", "password1", "testkey123"])
def test_short_test_values_in_the_header_are_not_keys(value: str) -> None:
    assert grades(f"headers = {{'X-API-KEY': '{value}'}}") == []
    assert grades(f"X-API-KEY: {value}x{KEY[:16]}") == [("x-api-key", "medium")]  # long: a key


def test_an_html_escaped_quote_ends_a_header_value() -> None:
    # one finding for one key: not a second one whose secret runs into `&quot`
    html = f"<pre>curl -H &quot;X-API-KEY: {KEY}&quot; https://x</pre>"
    assert [(c.rule_id, c.secret) for c in found(html)] == [("x-api-key", KEY)]


@pytest.mark.parametrize("template", [
    # a key-like name outweighs the look-alike rules for dotted names and derived values
    'token = "{k}.prod"', "api_key: {k}.live", 'secret_file = "{k}.json"', "IMIN_API_KEY=live.{k}",
    'key = "v1.{k}"', "IMIN_API_KEY_VERSION={k}", "apiKeyVersion: {k}", "imin_key_revision: {k}",
    'api_key_expected = "{k}"', "API_KEY_BUSTER={k}", "IMIN_KEY_CONVERSION={k}", 'pk = "{k}"',
])
def test_look_alike_rules_never_hide_a_named_key(template: str) -> None:
    assert [c.confidence >= Confidence.MEDIUM for c in found(template.format(k=KEY))] == [True], template
