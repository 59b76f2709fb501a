"""Property-based tests: random input never crashes, results are deterministic, planted keys
are always found. Bounded for CI; `KEYGUARD_FUZZ_EXAMPLES=N` runs longer."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from keyguard import blobscan
from keyguard.config import load_config
from keyguard.detect import detect, header, hexkey
from keyguard.detect import values as values_module
from keyguard.detect.decode import decode_base64, variants
from keyguard.detect.fast import (
    could_match,
    detect_lines,
    interesting_spans,
    interesting_windows,
    line_windows,
)
from keyguard.detect.values import is_repetitive
from keyguard.errors import KeyguardError
from keyguard.model import Blob, Confidence
from keyguard.sources.history import parse_log
from keyguard.sources.push import parse_pre_push
from keyguard.sources.staged import added_lines, staged_blobs

EXAMPLES = int(os.environ.get("KEYGUARD_FUZZ_EXAMPLES", "150"))
fuzz = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

code_like = st.text(alphabet=st.sampled_from(list(
    "abcdefxyzABCXYZ0123456789 _-=:\"'{}[](),;./\\\n\t$%<>#@!?&*+|`~…é\x00\x1b")), max_size=400)
# Fragments the rules react to, so random text reaches their deeper branches.
TOKENS = ["X-API-KEY", "x_api_key", "$http_x_api_key", "HTTP_X_API_KEY", "api_key", "apiKey", "name",
          "value", "key", "example", "setValue(", "forHTTPHeaderField:", "<value>", "</value>",
          "IMIN_TOKEN", "md5", "id", "=", ":", ": ", "=>", "!=", "\"", "'", "\\\"", "(", ")", "{", "}",
          "[", "]", ",", "\n", " ", "%3D", "%22", "W/", "\u2026", "6aa0fa074bec4a5cb0e8ed8fd36151ce",
          "3f0c9e1d2b7a48c6" "a5e4d3c2b1a09f8e", "M2YwYzllMWQyYjdhNDhjNmE1ZTRkM2MyYjFhMDlmOGU=",
          "ENV ", "export ", "?api_key=", "os.environ[", "${", "}}", "{{"]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
A_KEY = hashlib.md5(b"keyguard").hexdigest()  # built at run time: keyguard scans its tests
keys = st.binary(min_size=16, max_size=16).map(bytes.hex).filter(
    lambda k: any(c.isdigit() for c in k) and any(c.isalpha() for c in k) and not is_repetitive(k))


@fuzz
@given(text=st.text(max_size=2000) | code_like | token_soup)
def test_detector_never_raises_and_is_deterministic(text: str) -> None:
    first = list(detect(Blob(path="f.txt", text=text)))
    assert first == list(detect(Blob(path="f.txt", text=text)))
    for candidate in first:
        assert text.split("\n")[candidate.line - 1][candidate.column - 1:].startswith(
            candidate.secret) or "base64" in candidate.signals or "percent-encoded" in candidate.signals


@fuzz
@given(before=code_like, after=code_like, key=keys,
       template=st.sampled_from(["IMIN_API_KEY={k}", 'api_key = "{k}"', "X-API-KEY: {k}",
                                 'headers = {{"X-API-KEY": "{k}"}}', "export IMIN_TOKEN='{k}'"]))
def test_a_planted_key_is_always_found(before: str, after: str, key: str, template: str) -> None:
    text = f"{before}\n{template.format(k=key)}\n{after}"
    line = before.count("\n") + 2
    found = [c for c in detect(Blob(path="app.cfg", text=text)) if c.secret == key]
    assert any(c.line == line and c.confidence >= 2 for c in found), (text, found)


# Numbers and digest names around a key: what the grading cache treats specially.
GRADING_TOKENS = [*TOKENS, "0", "7", "42", "2024-03-26", "10.155.70.45", "sha256", "SHA-1", "crc32",
                  "md5sum", "request_id=", "v2", "name: IMIN_KEY_2\n", "value: ", "x1", "9key",
                  "\u017fha1"]  # a long s, which IGNORECASE matches as s
grading_soup = st.lists(st.sampled_from(GRADING_TOKENS), max_size=40).map("".join)
edge_contexts = st.sampled_from(["value: ", "name: IMIN_KEY_1\n  value: ", "- name: sha1\n  value: ",
                                 "md5 = ", "sha-256: ", "crc32=", "id_2 = ", "key2: ", "ttl=30 token=",
                                 # longer than the 420 characters read: where the context is cut
                                 "token=" + "x" * 400 + ": " + " " * 210, "api_key:\n" + "." * 430 + "\n  ",
                                 "name: k\n" + "v" * 150 + "\n" + "-" * 200 + "\nvalue: ",
                                 "key = '" + "." * 150 + "\n" + " " * 300, "userId123 = "])


@fuzz
@given(contexts=st.lists(edge_contexts | grading_soup | code_like, min_size=1, max_size=8), key=keys)
def test_remembered_gradings_equal_grading_from_the_text(contexts: list[str], key: str) -> None:
    """Gradings are remembered by context with numbers folded: each must be what grading
    straight from the text gives, whatever was remembered before."""
    for context in contexts:
        text = f"{context}{key}\n"
        signals = hexkey._signals_at(text, len(context))  # remembered by shape, as find asks
        graded = None if signals is None else hexkey._graded(signals, len(context), key)
        assert graded == hexkey._grade_at(text, len(context), key), text


LOG_LINE = '0.0.0.0 - - [0/Mar/0:0:0:0 +0] "PUT /v0/price/0 HTTP/0.0" 0 00'


@fuzz
@given(before=edge_contexts | grading_soup | code_like, gap=st.sampled_from([" ", "\t", "  "]),
       name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True) | st.sampled_from(
           ["request_id", "api_key", "value", "token", "key_id", "IMIN_KEY_VERSION", "x"]))
@example(before=LOG_LINE, gap=" ", name="request_id")  # graded alone
@example(before="api_key:", gap=" ", name="request_id")  # the annotation's name: not alone
@example(before="token: Dict<str>", gap=" ", name="x")  # token's annotation: not alone
@example(before="x = 1, a: b;", gap=" ", name="value")  # a record's value field: the same
def test_a_plain_name_assigned_last_is_graded_alone(before: str, gap: str, name: str) -> None:
    """A line shape ending ` NAME=` is graded as ` NAME=` alone when hexkey._assigned_alone
    says so (each of a log's line shapes is then graded once): the same signals."""
    shape = f"{before}{gap}{name}=".encode("ascii", "replace")
    alone = hexkey._assigned_alone(shape)
    if alone is not None:
        assert hexkey._signals(shape.decode(), None) == hexkey._signals(alone, None), shape
    if before in (LOG_LINE, "api_key:", "token: Dict<str>"):
        assert (alone is not None) == (before == LOG_LINE)


comments = st.sampled_from(["", "  # staging api key", " // token", ".png", ", 'x': 1"])


@fuzz
@given(lines=st.lists(st.tuples(edge_contexts | grading_soup | code_like, keys, comments | code_like),
                      min_size=1, max_size=8),
       path=st.sampled_from(["app.log", "t.csv"]))
@example(lines=[("token = \n", A_KEY, ""), ("api_key = 1\n" + "." * 30 + "\n", A_KEY, ""),
                ('values = ["', A_KEY, '"]  # the staging api key')], path="app.log")
def test_ids_passed_over_at_medium_are_the_low_graded_ones(
        lines: list[tuple[str, str, str]], path: str) -> None:
    """At medium, find passes over a log's ids by their line's shape alone (ASCII text): what it
    gives must be what grading every id gives, less the low ones."""
    text = "".join(f"{before}{key}{after}\n" for before, key, after in lines)
    found = [[h for h in hexkey.find(text, path, level) if h.confidence >= Confidence.MEDIUM]
             for level in (Confidence.LOW, Confidence.MEDIUM)]
    assert found[1] == found[0], text


@fuzz
@given(before=st.lists(st.sampled_from(["name", "key", "header", "value", "forHTTPHeaderField",
                                         'setValue("v', ":", "=", " ", "\t", "\n", "\u2003", '"', "'",
                                         "\\", "x", "("]), max_size=10).map("".join))
@example(before='name: "\n')  # `$` matches before a last newline
def test_the_shortcut_before_a_header_name_skips_only_what_cannot_match(before: str) -> None:
    if any(p.search(before) for p in (header._RECORD_NAME_BEFORE, header._NAME_AS_VALUE_BEFORE,
                                      header._SWIFT_SETTER_BEFORE)):
        assert header.may_end_a_field_name(before)


@fuzz
@given(parts=st.lists(st.sampled_from([*TOKENS, "\n" * 3, "x" * 300]) | code_like, max_size=60),
       picks=st.lists(st.integers(0, 80), max_size=6), path=st.sampled_from(["f.py", "t.csv"]))
@example(parts=["api_key =", "\n", "    '", TOKENS[39], "'"], picks=[2], path="f.py")  # the name above
@example(parts=["id,api_key", "\n", "x" * 300, "\n" * 3, "1,", TOKENS[39]], picks=[5], path="t.csv")
def test_detecting_around_some_lines_finds_what_the_whole_text_has_on_them(
        parts: list[str], picks: list[int], path: str) -> None:
    """A staged change is detected around its lines only (keyguard.detect.fast.detect_lines)."""
    text = "".join(parts)
    lines = frozenset(picks)
    for level in (Confidence.LOW, Confidence.MEDIUM):
        whole = [c for c in detect(Blob(path=path, text=text), at_least=level) if c.line in lines]
        assert detect_lines(text, path, lines, at_least=level) == whole


periodic = st.tuples(st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=17),
                     st.integers(30, 40)).map(lambda unit_length: (unit_length[0] * 40)[:unit_length[1]])


@fuzz
@given(value=periodic | st.text(alphabet="0123456789abcdef", min_size=30, max_size=40))
def test_repetition_check_matches_its_definition(value: str) -> None:
    """The shortcut in is_repetitive (a search for the first 16 characters) changes nothing."""
    lowered = value.lower()
    periodic_value = any(lowered[p:] == lowered[:-p] for p in range(1, min(16, len(lowered) // 2) + 1))
    assert is_repetitive(value) == (periodic_value or len(set(lowered)) <= 3 or
                                    lowered in values_module._SEQUENCE_TEXT)


@fuzz
@given(token=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.hex()))
def test_decoders_never_raise(token: str) -> None:
    decode_base64(token)
    for variant in variants(token):
        assert variant.region[0] <= variant.region[1] <= len(variant.text)


@fuzz
@given(data=st.binary(max_size=600))
def test_git_output_parsers_fail_only_with_keyguard_errors(data: bytes) -> None:
    parsers = (parse_log, lambda d: list(staged_blobs(d)), added_lines,
               lambda d: parse_pre_push(d.decode("utf-8", "replace")))
    for parse in parsers:
        with contextlib.suppress(KeyguardError):  # anything else escaping is a bug
            parse(data)


scalars = st.one_of(st.text(max_size=20), st.integers(-5, 10**9), st.booleans(),
                    st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 1, 1)))
values = st.one_of(scalars, st.lists(scalars, max_size=4))
known = ["paths", "regexes", "regex-target", "secrets", "commits", "rules", "expires", "reason",
         "id", "regex", "keywords", "confidence", "examples", "counterexamples", "pahts"]
tables = st.dictionaries(st.sampled_from(known) | st.text(min_size=1, max_size=8), values, max_size=6)
documents = st.fixed_dictionaries({}, optional={
    "allow": st.lists(tables, max_size=3), "rules": st.lists(tables, max_size=2),
    "blocking-confidence": values, "max-file-size": values, "baseline": values,
    "allow-markers": values, "bogus": values})


def toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, datetime.date)):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isalnum() or c in " _-.*/()[]?+^$" else f"\\u{ord(c):04x}"
                             for c in value) + '"'
    assert isinstance(value, list)
    return "[" + ", ".join(toml(v) for v in value) + "]"


def key(name: str) -> str:
    return '"' + name.encode("unicode_escape").decode().replace('"', '\\"') + '"'


def document_text(document: dict) -> str:
    lines = [f"{key(k)} = {toml(v)}" for k, v in document.items() if k not in ("allow", "rules")]
    for section in ("allow", "rules"):
        for table in document.get(section, []):
            lines.append(f"[[{section}]]")
            lines.extend(f"{key(k)} = {toml(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


@fuzz
@given(document=documents | st.text(max_size=300).map(lambda t: {"__raw__": t}))
def test_config_loader_returns_a_config_or_a_config_error(document: dict, tmp_path: Path) -> None:
    path = tmp_path / ".keyguard.toml"
    path.write_text(document["__raw__"] if "__raw__" in document else document_text(document))
    try:
        config = load_config(str(path), str(tmp_path), datetime.date(2026, 1, 1))
    except KeyguardError as e:
        assert e.exit_code == 3 and str(e)
    else:
        assert config.rules


# Short lines from a small stock repeat often, as in data files: anchors then also match in the
# wrong place, which the diff must survive.
# Some lines end with others ("px…x" and "x…x"), so an anchor can also match inside a line.
stock_line = (st.sampled_from(["}", "  },", "", "a = 1", "b = 2", "row,1,2", "x" * 70, "p" + "x" * 70,
                              "id " + "7f3a" * 8, "X-API-KEY: none", "end"])
              | st.text("abc xyz,\t", max_size=90))
stock_lines = st.lists(stock_line, max_size=120)
edits = st.lists(st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.integers(0, 150),
                           st.lists(stock_line, min_size=1, max_size=12)),
                 max_size=12)


@fuzz
@pytest.mark.parametrize("tight", [False, True])
@given(lines=stock_lines, changes=edits)
@example(lines=["a = 1", "p" + "x" * 70, "id " + "7f3a" * 8], changes=[("replace", 1, ["x" * 70])])
def test_edited_lines_cover_every_line_the_old_version_lacked_that_could_match(
        lines: list[str], changes: list, tight: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if tight:  # every way out: few resync tries, near then far, few edits followed, then the line-set diff
        monkeypatch.setattr(blobscan, "_RESYNC_LINES", 2)
        monkeypatch.setattr(blobscan, "_RESYNC_NEAR", 100)
        monkeypatch.setattr(blobscan, "_MAX_EDITS", 3)
        monkeypatch.setattr(blobscan, "_ANCHOR", 8)
    new = list(lines)
    for kind, position, block in changes:
        at = min(position, len(new))
        if kind == "insert":
            new[at:at] = block
        elif kind == "delete":
            del new[at : at + len(block)]
        else:
            new[at : at + len(block)] = block
    before, after = "\n".join(lines).encode(), "\n".join(new).encode()
    spans = blobscan._edited_lines(before, after, 0, len(before), len(after))
    old_lines, offset = set(before.split(b"\n")), 0
    for line in after.split(b"\n"):
        if line and line not in old_lines and could_match(after, offset, offset + len(line)):
            assert any(s <= offset and offset + len(line) <= e for s, e in spans), (line, spans)
        offset += len(line) + 1
    assert spans == sorted(spans) and all(s <= e for s, e in spans)


comments = st.sampled_from(["", "  # staging api key", " // token", ".png", ", 'x': 1"])


@fuzz
@given(lines=st.lists(st.text("ab", max_size=6), min_size=1, max_size=120), draw=st.data(),
       margin=st.sampled_from([0, 1, 3, 8, 20]))
@example(lines=["ab"] * 80, draw=None, margin=20)  # spans 2.5 margins apart: windows with a gap
def test_line_windows_are_the_merged_lines_around_each_span(lines: list[str], draw: st.DataObject | None,
                                                            margin: int) -> None:
    data = "\n".join(lines).encode()
    cuts = draw.draw(st.lists(st.tuples(st.integers(0, len(data)), st.integers(0, 20)), max_size=12)) \
        if draw else [(0, 0), (50, 0)]
    spans = sorted((start, min(start + length, len(data))) for start, length in cuts)
    expected: list[list[int]] = []  # by definition: each span's lines, merged when they touch
    for start, end in spans:
        low = data.rfind(b"\n", 0, max(0, start - margin)) + 1
        high = data.find(b"\n", min(len(data), end + margin))
        high = len(data) if high < 0 else high
        if expected and low <= expected[-1][1] + 1:
            expected[-1][1] = max(expected[-1][1], high)
        else:
            expected.append([low, high])
    assert line_windows(data, spans, margin) == [tuple(w) for w in expected]


@fuzz
@given(parts=st.lists(st.sampled_from(["\n", " ", "x", "%2F", "X-API-KEY", "f" * 31, "0a" * 16, "Zm9v" * 11,
                                       "é", "a_b-c+d/"]), max_size=200),
       margin=st.sampled_from([16, 40, 64, 1024]))
@example(parts=["%2F", " ", "Zm9v" * 11, "\n", "x " * 20], margin=16)  # a later token crosses the chunk
def test_interesting_windows_cover_every_span_with_its_margin(parts: list[str], margin: int) -> None:
    # Windows are found a chunk at a time: they must still hold every place the prefilter
    # finds, with its margin (cut at the text's ends), inside one window.
    data = "".join(parts).encode()
    windows = interesting_windows(data, margin)
    assert windows == sorted(windows) and all(a[1] < b[0] for a, b in itertools.pairwise(windows))
    for start, end in interesting_spans(data):
        low, high = max(0, start - margin), min(len(data), end + margin)
        assert any(w_low <= low and high <= w_high for w_low, w_high in windows), (start, end, windows)


@settings(max_examples=300, deadline=None)
@given(common=st.binary(max_size=300), a_rest=st.binary(max_size=40), b_rest=st.binary(max_size=40),
       skip=st.integers(0, 20), scale=st.sampled_from([1, 1000, 5000]), within=st.sampled_from([1, 4, 64]))
def test_common_prefix_and_suffix_match_their_definitions(common: bytes, a_rest: bytes, b_rest: bytes,
                                                          skip: int, scale: int, within: int) -> None:
    common = common * scale  # past the 1 MiB first step too
    rests = min(len(a_rest), len(b_rest))
    a, b = b"x" * skip + common + a_rest, common + b_rest
    exact = len(common) + next((k for k in range(rests) if a_rest[k] != b_rest[k]), rests)
    prefix = blobscan._common_prefix(a, b, skip, 0, within=within)
    assert exact - within < prefix <= exact
    a, b = a_rest + common, b_rest + common
    exact = len(common) + next((k for k in range(rests) if a_rest[-k - 1] != b_rest[-k - 1]), rests)
    suffix = blobscan._common_suffix(a, b, min(len(a), len(b)), within=within)
    assert exact - within < suffix <= exact
