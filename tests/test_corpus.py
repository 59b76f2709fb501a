"""The detection corpus: every positive found at its line with its rule, no negative blocks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "fixtures"

Row = tuple[str, int, str, str]  # path under fixtures/, line, rule, confidence


def expected_rows() -> set[Row]:
    rows = set()
    for line in (FIXTURES / "expected.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            path, number, rule, confidence = line.split("\t")
            rows.add((path, int(number), rule, confidence))
    return rows


@pytest.fixture
def corpus_report(keyguard: Callable[..., Run], tmp_path: Path) -> dict:
    # The project's own config allowlists fixtures/; an empty one sees everything.
    config = tmp_path / "empty.toml"
    config.write_text("")
    run = keyguard("scan", FIXTURES / "corpus", "--format", "json", "--min-confidence", "low",
                   "--config", config)
    assert run.code == 1, run.err
    return json.loads(run.out)


def found_rows(report: dict) -> set[Row]:
    # keyguard reports paths from the repository root: fixtures/corpus/...
    return {(f["path"].removeprefix("fixtures/"), f["line"], f["rule_id"], f["confidence"])
            for f in report["findings"]}


def test_every_expected_finding_and_nothing_else(corpus_report: dict) -> None:
    expected, found = expected_rows(), found_rows(corpus_report)
    assert sorted(expected - found) == [], "missed"
    assert sorted(found - expected) == [], "unexpected"


def test_no_negative_case_blocks(corpus_report: dict) -> None:
    blocking = [f for f in corpus_report["findings"] if "/negative/" in f["path"] and f["blocking"]]
    assert blocking == []


def test_every_positive_file_has_a_finding(corpus_report: dict) -> None:
    positives = {str(p.relative_to(FIXTURES)) for p in (FIXTURES / "corpus/positive").rglob("*")
                 if p.is_file()}
    assert positives <= {row[0] for row in expected_rows()}


def test_corpus_report_validates_against_the_schema(corpus_report: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs/json-report.schema.json").read_text())
    jsonschema.validate(corpus_report, schema)
    assert corpus_report["complete"] is True


def test_project_config_allowlists_the_corpus(keyguard: Callable[..., Run],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    run = keyguard("scan", "fixtures")
    reported = sum(1 for row in expected_rows() if row[3] != "low")  # the default threshold
    assert run.code == 0 and f"{reported} suppressed" in run.out
