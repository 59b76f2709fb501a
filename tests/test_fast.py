"""The fast path finds exactly what detecting on the whole text finds."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from keyguard.custom_rules import parse_rule
from keyguard.detect import RULES, detect
from keyguard.detect.decode import _BASE64_TOKEN, _PERCENT_ESCAPE
from keyguard.detect.fast import (
    detect_bytes,
    detect_windows,
    interesting_windows,
    margin_bytes,
    prefilter_fits,
)
from keyguard.detect.header import NAME
from keyguard.detect.hexkey import HEX_RUN, hex_runs
from keyguard.detect.rule import TOKEN_RUNS, Pass
from keyguard.model import Blob, Confidence
from keyguard.sources.text import decode_text, is_binary
from tests.conftest import fake_key
from tests.test_properties import TOKENS, code_like

FIXTURES = Path(__file__).parents[1] / "fixtures" / "corpus"


def fast(data: bytes, path: str, level: Confidence = Confidence.LOW) -> list:
    """What the fast path finds. It reads ASCII text whole and other text a window at a time:
    the windows must find the same in ASCII text too."""
    found = detect_bytes(data, path, at_least=level) or []  # None: binary
    body = data.removeprefix(codecs.BOM_UTF8)
    if not is_binary(data) and prefilter_fits(body, RULES):
        windows = interesting_windows(body, margin_bytes(body))
        assert list(detect_windows(body, path, windows, at_least=level)) == found
    return found


def reference(data: bytes, path: str) -> list:
    text = decode_text(data)
    return [] if text is None else list(detect(Blob(path=path, text=text)))


def test_warming_compiles_the_rules_patterns() -> None:
    """A scan compiles them while git runs, hiding errors (keyguard.cli.files): warm()
    itself must work, and compile what the rules use (in a fresh process: nothing before)."""
    check = ("from keyguard.detect import fast, header, hexkey\n"
             "assert 'search' not in vars(hexkey.HEX_RUN)\n"
             "fast.warm()\n"
             "assert 'search' in vars(hexkey.HEX_RUN) and 'search' in vars(header.NAME.compiled)\n")
    subprocess.run([sys.executable, "-c", check], check=True)


def test_same_findings_on_every_fixture() -> None:
    files = [p for p in FIXTURES.rglob("*") if p.is_file()]
    assert len(files) > 100
    for path in files:
        data = path.read_bytes()
        assert fast(data, path.name) == reference(data, path.name), path


def test_asking_for_a_confidence_is_filtering_afterwards_on_every_fixture() -> None:
    # Rules may leave out hits below the asked confidence (a log's request ids): never one above.
    checked = 0
    for path in (p for p in FIXTURES.rglob("*") if p.is_file()):
        data = path.read_bytes()
        every = reference(data, path.name)
        for level in (Confidence.MEDIUM, Confidence.HIGH):
            sure = [c for c in every if c.confidence >= level]
            assert fast(data, path.name, level) == sure, path
            checked += len(sure)
    assert checked > 100


def test_same_findings_in_a_large_file_with_scattered_keys() -> None:
    body = [f"line {n} of ordinary text, value={n * 7}" for n in range(20000)]
    body[50] = "IMIN_API_KEY=3f0c9e1d2b7a48c6" "a5e4d3c2b1a09f8e"
    body[19990] = "headers = {\n  'X-API-KEY':\n    '9b1e6f0a27c44d1e" "8f3a5b6c7d8e9f01'\n}"
    data = "\n".join(body).encode()
    found = fast(data, "big.txt")
    assert found == reference(data, "big.txt") and len(found) == 2


def test_same_findings_when_the_context_is_far_in_bytes_but_near_in_characters() -> None:
    # 300 four-byte characters: the key's line is 1,200 bytes long but the name above is
    # within the 400 characters rules read.
    key = "3f0c9e1d2b7a48c6" "a5e4d3c2b1a09f8e"
    data = ("filler line\n" * 200 + "api_key =\n" + "\U0001F511" * 300 + " " + key + "\n").encode()
    found = fast(data, "f.txt")
    assert found == reference(data, "f.txt") and found[0].confidence == Confidence.MEDIUM


@settings(max_examples=int(os.environ.get("KEYGUARD_FUZZ_EXAMPLES", "150")), deadline=None)
@given(parts=st.lists(st.sampled_from(TOKENS) | code_like, max_size=40))
def test_same_findings_on_random_text(parts: list[str]) -> None:
    data = "".join(parts).encode("utf-8", "surrogatepass")
    assert fast(data, "f.txt") == reference(data, "f.txt")


@settings(max_examples=int(os.environ.get("KEYGUARD_FUZZ_EXAMPLES", "150")), deadline=None)
@given(parts=st.lists(st.sampled_from(TOKENS) | code_like, max_size=40), lines=st.integers(0, 3000))
def test_asking_for_a_confidence_is_filtering_afterwards(parts: list[str], lines: int) -> None:
    # Lines before the text: windows far down a file, whose line numbers are counted lazily.
    data = ("x\n" * lines + "".join(parts)).encode("utf-8", "surrogatepass")
    every = reference(data, "f.txt")
    for level in (Confidence.MEDIUM, Confidence.HIGH):
        sure = [c for c in every if c.confidence >= level]
        assert fast(data, "f.txt", level) == sure
        assert list(detect(Blob(path="f.txt", text=decode_text(data) or ""), at_least=level)) == sure


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.sampled_from([*TOKENS, "a" * 50, "0" * 40, "Zz+/" * 30, "%2", "=", "_", " ",
                                       "f00d" * 9, "Zz+/" * 8]), min_size=1, max_size=60))
@example(parts=[" ", "Zz+/" * 8, " ", "f00d" * 8, " "])  # runs of 32: one not hex, one hex
@example(parts=[" ", "0" * 40, " "])  # a run of 40: the shortest base64 token
def test_long_texts_use_re2_with_the_same_matches(parts: list[str]) -> None:
    # Hex keys and base64 tokens are looked for inside runs found once: padding and runs that
    # touch them must not change what is found.
    unit = "".join(parts).encode("ascii", "ignore").decode() or "x"
    text = unit * (Pass.LONG // len(unit) + 1)
    for sample in (text, unit * (Pass.SHORT // len(unit) + 1), unit):  # long, short with RE2 loaded
        for scan in (NAME, TOKEN_RUNS, _BASE64_TOKEN, _PERCENT_ESCAPE):
            assert list(scan.spans(sample)) == [m.span() for m in scan.compiled.finditer(sample)]
        assert list(hex_runs(sample)) == [m.span() for m in HEX_RUN.finditer(sample)]


def test_asking_for_a_confidence_keeps_the_earlier_rules_grading() -> None:
    # One grading per secret and line, the earlier rule's: asking for medium drops it, and
    # does not let a later rule's surer grading through instead.
    problems: list[str] = []
    first = parse_rule({"id": "first", "regex": "token=([a-z]{12})", "confidence": "low"}, "a", set(),
                       problems)
    second = parse_rule({"id": "second", "regex": "=([a-z]{12})", "confidence": "high"}, "b", set(),
                        problems)
    assert first and second and not problems
    blob = Blob(path="f.txt", text="token=abcdefghijkl\n")
    assert [(c.rule_id, c.confidence) for c in detect(blob, [first, second])] == [("first", Confidence.LOW)]
    assert list(detect(blob, [first, second], at_least=Confidence.MEDIUM)) == []


def test_a_tables_column_names_grade_its_values_wherever_the_window() -> None:
    # `api_key` names the third column: its values are keys, thousands of rows below too
    key, other = fake_key("csv key"), fake_key("csv id")
    rows = [f"{n},tenant-{n},{other if n == 10 else ''},2024-03-01" for n in range(20000)]
    rows[15000] = f"15000,acme-prod,{key},2024-03-01"
    data = ("id,name,api_key,created_at\n" + "\n".join(rows) + "\n").encode()
    found = fast(data, "export.csv")
    assert found == reference(data, "export.csv")
    graded = {c.secret: (c.line, c.confidence) for c in found}
    assert graded[key] == (15002, Confidence.HIGH) and graded[other][1] == Confidence.HIGH
    assert all(c.confidence == Confidence.LOW for c in fast(data, "export.txt"))  # not a table
    tsv = data.replace(b",", b"\t")
    assert fast(tsv, "export.tsv") == reference(tsv, "export.tsv") and len(fast(tsv, "export.tsv")) == 2


def test_a_table_line_csv_refuses_is_read_without_its_column() -> None:
    # csv refuses a field over 128 KiB: the value is graded as in any other file, no crash
    key = fake_key("long field")
    data = ("id,api_key,blob\n" + "1," + key + "," + "x" * 200_000 + "\n"
            + "2," + "y" * 200_000 + "," + key + "\n").encode()
    assert fast(data, "t.csv") == reference(data, "t.csv")
    assert [c.confidence for c in fast(data, "t.csv")] == [Confidence.HIGH, Confidence.LOW]


def test_table_delimiters_long_headers_and_long_rows_read_the_same_everywhere() -> None:
    key = fake_key("semicolons")
    # a semicolon-separated .csv: `request_id` is an id, `api_key` a key
    data = f"date;order;request_id;token_type\n2024-03-01;1001;{key};bearer\n".encode()
    assert [c.confidence for c in fast(data, "s.csv")] == [Confidence.LOW]
    data = f"id;name;api_key\n1;prod;{key}\n".encode()
    assert [c.confidence for c in fast(data, "s.csv")] == [Confidence.HIGH]
    # delimiters inside quotes do not count: this header has three fields
    for header, row in (('"notes; a; b; c",api_key,etag', f"x,{key},x"),
                        ('id|"notes, a, b, c"|api_key', f"1|x|{key}"),
                        ('"id";"notes, free text, more";"api_key"', f'"1";"x";"{key}"')):
        data = f"{header}\n{row}\n".encode()
        assert [c.confidence for c in fast(data, "q.csv")] == [Confidence.HIGH], header
    data = f'api_key;"notes, a, b, c";etag\nx;y;{key}\n'.encode()  # the key sits under etag
    assert [c.confidence for c in fast(data, "q.csv")] == [Confidence.LOW]
    # a first line over 64 Ki characters, or an empty one, names no columns; nor is a value's
    # column looked up 16 Ki characters into its row: the same in windows and whole
    wide = "id,api_key," + ",".join(f"attribute_{i:05d}" for i in range(6000))
    filler = "\n".join("1,none," + "x," * 100 for _ in range(40))
    for header in (wide, "", "id,api_key"):
        for row in (f"1,{key},x", "1,x," + "y," * 9000 + key):
            data = f"{header}\n{filler}\n{row}\n".encode()
            assert fast(data, "t.csv") == reference(data, "t.csv"), (header[:20], row[:20])
    assert fast(f"id,api_key\n{filler}\n1,{key},x\n".encode(), "t.csv")[0].confidence == Confidence.HIGH
