"""Every format, on the same findings, against golden files; and no format can be hijacked."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from keyguard.model import Confidence, Finding, Origin, ScanError, ScanResult, Skipped, excerpt_of
from keyguard.record import replace
from keyguard.reporters import FORMATS, ReportOptions, renderer
from tests.conftest import Repo, fake_key

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).parents[1]
KEY, OTHER = fake_key("report-1"), fake_key("report-2")


def finding(path: str, line: int, rule: str, secret: str, text: str, *,
            confidence: Confidence = Confidence.HIGH, origin: Origin | None = None) -> Finding:
    column = text.index(secret) + 1
    return Finding(rule_id=rule, path=path, secret=secret, line=line, column=column,
                   confidence=confidence, blocking=confidence >= Confidence.MEDIUM,
                   signals=("key-like-name", "assignment"), origin=origin,
                   excerpt=excerpt_of(text, column, secret))


def sample() -> ScanResult:
    origin = Origin(commit="a" * 40, author="Ada Lovelace", email="ada@example.org",
                    date="2026-01-01T12:00:00+00:00")
    return ScanResult(
        findings=(
            finding("config/app.env", 3, "hex32-key", KEY, f"IMIN_API_KEY={KEY}"),
            finding("client/request.sh", 7, "x-api-key", OTHER,
                    f"curl -H 'X-API-KEY: {OTHER}' https://search.imin.co", origin=origin),
            finding("docs/ids.md", 12, "hex32-key", KEY[::-1], f"see {KEY[::-1]}",
                    confidence=Confidence.LOW),
        ),
        scanned=42, skipped=(Skipped(path="logo.png", reason="binary"),),
        errors=(ScanError(path="locked", message="permission denied"),),
        started_at="2026-01-01T12:00:00+00:00", finished_at="2026-01-01T12:00:01+00:00")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_golden(name: str) -> None:
    rendered = renderer(name)(sample(), ReportOptions(explain=True))
    path = GOLDEN / f"report.{name}"
    if os.environ.get("KEYGUARD_UPDATE_GOLDEN"):
        path.write_text(rendered)
    assert rendered == path.read_text(), f"regenerate with KEYGUARD_UPDATE_GOLDEN=1 if intended: {path}"
    assert KEY not in rendered and OTHER not in rendered


def test_show_secrets_is_the_only_way_to_print_a_key() -> None:
    for name in FORMATS:
        assert KEY in renderer(name)(sample(), ReportOptions(show_secrets=True)), name


def test_sarif_validates_against_the_official_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "fixtures/schemas/sarif-schema-2.1.0.json").read_text())
    log = json.loads(renderer("sarif")(sample(), ReportOptions()))
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert {r["partialFingerprints"]["keyguardFingerprint/v1"] for r in results} == {
        f.fingerprint for f in sample().findings}
    assert log["runs"][0]["tool"]["driver"]["version"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all("security-severity" in rule["properties"] for rule in rules)
    [invocation] = log["runs"][0]["invocations"]  # a path could not be read: not a clean scan
    assert invocation["executionSuccessful"] is False
    [notification] = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"] == "cannot read locked: permission denied"


def test_sarif_uri_names_the_real_file() -> None:
    # the file's name percent-encoded as it is, not as the terminal shows it
    cases = (("new\nline.py", "new%0Aline.py"), ("bad\udcff.py", "bad%FF.py"),
             ("a b/é.py", "a%20b/%C3%A9.py"))
    for path, uri in cases:
        result = ScanResult(findings=(finding(path, 1, "hex32-key", KEY, f"K={KEY}"),), scanned=1)
        document = json.loads(renderer("sarif")(result, ReportOptions()))
        location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == uri


def test_sarif_describes_custom_rules(repo: Repo) -> None:
    repo.write(".keyguard.toml", '[[rules]]\nid = "acme-token"\nregex = "acme_(?P<secret>[a-z0-9]{24})"\n')
    repo.write("a.txt", "token: acme_zyxwvutsrqponmlkjihgfedc\n")
    run = repo.keyguard("scan", "--format", "sarif")
    assert run.code == 1, run.err
    [sarif_run] = json.loads(run.out)["runs"]
    rules = [rule["id"] for rule in sarif_run["tool"]["driver"]["rules"]]
    assert rules == ["x-api-key", "hex32-key", "acme-token"]
    [result] = sarif_run["results"]
    assert result["ruleId"] == "acme-token" and result["ruleIndex"] == 2
    assert sarif_run["invocations"][0]["executionSuccessful"] is True


def test_sarif_fingerprint_does_not_move_with_lines() -> None:
    moved = ScanResult(findings=tuple(replace(f, line=f.line + 50) for f in sample().findings),
                       scanned=1)
    fingerprints = [[r["partialFingerprints"] for r in json.loads(renderer("sarif")(result, ReportOptions()))
                     ["runs"][0]["results"]] for result in (sample(), moved)]
    assert fingerprints[0] == fingerprints[1]


def test_gitlab_report_validates_against_gitlabs_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "fixtures/schemas/gitlab-secret-detection-report-format.json").read_text())
    report = json.loads(renderer("gitlab")(sample(), ReportOptions()))
    jsonschema.validate(report, schema)
    assert report["scan"]["status"] == "failure"  # one input could not be read
    assert [v["location"]["commit"]["sha"] for v in report["vulnerabilities"]] == [
        "a" * 40, "0000000", "0000000"]
    clean = json.loads(renderer("gitlab")(ScanResult(findings=(), scanned=1), ReportOptions()))
    jsonschema.validate(clean, schema)


def test_junit_and_csv_parse() -> None:
    suite = ET.fromstring(renderer("junit")(sample(), ReportOptions())).find("testsuite")
    assert suite is not None and suite.get("failures") == "2" and suite.get("errors") == "1"
    assert len(suite.findall("testcase")) == 4
    rows = list(csv.DictReader(io.StringIO(renderer("csv")(sample(), ReportOptions()))))
    assert [r["path"] for r in rows] == ["client/request.sh", "config/app.env", "docs/ids.md"]
    assert rows[0]["commit"] == "a" * 40


HOSTILE = ["evil%0A::error::pwned.env", "evil\n::error file=x::pwned.env", "red\x1b[31m.env",
           "=HYPERLINK(1).env", "comma,colon:.env", "bad\udcff\u202e.env"]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_inject_nothing(path: str) -> None:
    result = ScanResult(findings=(finding(path, 1, "hex32-key", KEY, f"TOKEN={KEY}"),), scanned=1)
    for name in FORMATS:
        out = renderer(name)(result, ReportOptions())
        out.encode("utf-8")  # printable as it is: no lone surrogates from undecodable names
        assert "\x1b" not in out and "\u202e" not in out, name
        if name == "github":
            commands = [line for line in out.splitlines() if line.startswith("::")]
            assert len(commands) == 1 and "pwned" not in commands[0].split("::")[2], out
            assert ",line=1,col=" in commands[0]
        if name == "csv":
            assert not any(cell.startswith("=") for row in csv.reader(io.StringIO(out)) for cell in row)
        if name in ("json", "sarif", "gitlab"):
            json.loads(out)
        if name == "junit":
            ET.fromstring(out)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_fragment_of_an_encoded_key_shows(repo: Repo, name: str) -> None:
    """A key found decoded (base64, percent-encoding) is redacted as a key; its encoded text,
    and another encoded key on the line, are not shown in part: each piece would give a part
    of the key back."""
    token = base64.b64encode(f"IMIN_API_KEY_STAGE1={KEY}".encode()).decode()
    other = base64.b64encode(f"IMIN_TOKEN={OTHER}".encode()).decode()
    escaped = "".join(f"%{ord(c):02x}" if n % 3 else c for n, c in enumerate(OTHER))
    repo.write("secret.yaml", f"data:\n  a: {token} b: {other}\n  url: /v1?api_key={escaped}&page=2\n")
    result = repo.keyguard("scan", "--format", name, "--min-confidence", "low")
    assert result.code == 1, result.out + result.err
    shown = result.out + result.err
    assert KEY[:4] in shown and OTHER[-4:] in shown, shown  # both found, and shown redacted
    for encoded in (token, other, escaped, KEY, OTHER):
        pieces = {encoded[i : i + 10] for i in range(len(encoded) - 9)}
        assert not [piece for piece in pieces if piece in shown], (encoded, shown)


def test_an_excerpt_never_shows_a_piece_of_a_key_its_clip_cuts() -> None:
    # QA: the clip cut the other key; pieces under 16 characters showed as they were, longer
    # ones as 4 + 4 characters from the key's middle. Every offset of the cut is tried.
    key, other, filler = fake_key("cut key"), fake_key("other key"), "0123456789abcdef" * 6
    for gap in range(0, 120, 3):
        line = f"token={key} {filler[:gap]} api_key={other} {filler[:81]} {key}"
        for secret, column in ((key, 7), (other, line.index(other) + 1), (key, line.rindex(key) + 1)):
            shown = excerpt_of(line, column, secret).replace(secret, "")
            for hidden in {key, other} - {secret}:
                pieces = {hidden[i:i + 5] for i in range(len(hidden) - 4)}  # redacted: 4 + 4 shown
                assert not any(piece in shown for piece in pieces), (gap, shown)


def test_an_excerpt_hides_opaque_values_found_only_with_other_lines() -> None:
    # a header value in a record over two lines is not found on its own line alone
    line = '  "value": "OFXdVqEmpAxEh2SWTb", "token": "' + fake_key("record") + '"}]'
    shown = excerpt_of(line, line.index("token") + 10, fake_key("record"))
    assert "OFXdVqEmpAxEh2SWTb" not in shown and "OFXd…SWTb" in shown


def test_an_excerpt_never_shows_a_piece_of_a_secret_with_punctuation() -> None:
    # a custom rule's secret holds characters no encoding writes: the clip's cut must still
    # leave out the whole word it cuts
    first, second = "Qw7!Er8@Ty9#Ui0$Op1*As2!", "Zx3!Cv4@Bn5#Mm6$Lk7*Jh8!"
    for gap in range(60, 140):
        line = f"pw={first},{'8bf0d8c3' * 20}"[: 4 + len(first) + gap] + f",pw={second}"
        for secret in (first, second):
            # as findings_at gives it: every secret of the line, whole ones redacted as such
            shown = excerpt_of(line, line.index(secret) + 1, secret, [first, second]).replace(secret, "")
            hidden = second if secret == first else first
            assert not any(hidden[i:i + 6] in shown for i in range(len(hidden) - 5)), (gap, shown)


def test_an_excerpt_keeps_names_with_digits_readable() -> None:
    key = fake_key("readable")
    line = f"IMIN_API_KEY_V2_PRODUCTION={key}"
    assert excerpt_of(line, line.index(key) + 1, key).startswith("IMIN_API_KEY_V2_PRODUCTION=")


def test_an_excerpt_of_a_minified_line_keeps_its_context() -> None:
    key = fake_key("minified")
    items = ",".join(f'{{"id":{i}}}' for i in range(300))
    line = f'{{"a":[{items}],"config":{{"imin":{{"apiKey":"{key}"}}}},"b":[{items}]}}'
    shown = excerpt_of(line, line.index(key) + 1, key)
    assert '"imin":{"apiKey":"' + key in shown and len(shown) < 200
