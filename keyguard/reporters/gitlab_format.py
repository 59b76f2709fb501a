"""GitLab's secret-detection report (schema 15.2.1), for merge request security widgets."""

from __future__ import annotations

import datetime
import json
import uuid

from keyguard import __version__
from keyguard.model import Confidence, Finding, ScanResult, finding_order
from keyguard.reporters.options import ReportOptions, shown_excerpt, shown_secret
from keyguard.terminal import neutralise

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

VERSION = "15.2.1"
SCHEMA = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
          f"v{VERSION}/dist/secret-detection-report-format.json")
_TOOL = {"id": "keyguard", "name": "keyguard", "version": __version__, "vendor": {"name": "keyguard"}}
_SEVERITY = {Confidence.HIGH: "Critical", Confidence.MEDIUM: "High", Confidence.LOW: "Low"}
_NO_COMMIT = "0000000"  # what GitLab's own analyzer writes for findings outside history
_IDS = uuid.UUID("5b0f3c2e-8a61-4d7e-9c1b-6f4a2d8e7c10")  # namespace for stable vulnerability ids
_SOLUTION = ("Move the key out of the repository (read it from an environment variable), rotate it "
             "with the provider, and rewrite history if the repository is shared.")


def render(result: ScanResult, options: ReportOptions) -> str:
    report = {
        "version": VERSION,
        "schema": SCHEMA,
        "scan": {"analyzer": _TOOL, "scanner": _TOOL, "type": "secret_detection",
                 "start_time": _timestamp(result.started_at), "end_time": _timestamp(result.finished_at),
                 "status": "success" if result.complete else "failure"},
        "vulnerabilities": [_vulnerability(f, options) for f in sorted(result.findings, key=finding_order)],
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _vulnerability(finding: Finding, options: ReportOptions) -> dict[str, Any]:
    commit = finding.origin.commit if finding.origin and finding.origin.kind == "commit" else _NO_COMMIT
    return {
        "id": str(uuid.uuid5(_IDS, finding.fingerprint)),
        "category": "secret_detection",
        "name": f"imin API key ({finding.rule_id})",
        "description": (f"{finding.rule_id} found {shown_secret(finding, options)} with "
                        f"{finding.confidence.label} confidence; fingerprint {finding.fingerprint}."
                        + (f" Verified: {finding.verification}." if finding.verification else "")),
        "severity": _SEVERITY[finding.confidence],
        "solution": _SOLUTION,
        "raw_source_code_extract": shown_excerpt(finding, options),
        "identifiers": [{"type": "keyguard_rule_id", "name": f"keyguard rule {finding.rule_id}",
                         "value": finding.rule_id}],
        "location": {"file": neutralise(finding.path), "start_line": finding.line, "end_line": finding.line,
                     "commit": {"sha": commit}},
    }


def _timestamp(iso: str) -> str:
    """The schema wants `YYYY-MM-DDTHH:MM:SS`, UTC, without a zone."""
    moment = datetime.datetime.fromisoformat(iso) if iso else datetime.datetime(1970, 1, 1)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
