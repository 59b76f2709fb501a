"""SARIF 2.1.0, as GitHub code scanning reads it."""

from __future__ import annotations

import json
import urllib.parse

from keyguard import __version__
from keyguard.detect import Rule
from keyguard.model import Confidence, Finding, ScanResult, finding_order, is_file_path
from keyguard.reporters.options import ReportOptions, shown_secret
from keyguard.terminal import neutralise

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/keyguard/keyguard"
FINGERPRINT_KEY = "keyguardFingerprint/v1"
# GitHub ranks alerts by security-severity (0-10): a live credential is critical.
_SEVERITY = {Confidence.HIGH: "9.0", Confidence.MEDIUM: "7.0", Confidence.LOW: "3.0"}
_HELP = ("Move the key out of the repository (read it from an environment variable such as "
         "IMIN_API_KEY), rotate it with the provider, since it stays in git history, and rewrite "
         "history if the repository is shared. If it is not a key, allow it: "
         "keyguard allow <fingerprint> --reason '...'.")


def render(result: ScanResult, options: ReportOptions) -> str:
    rules = [_rule(rule) for rule in options.rules]
    index = {rule.id: n for n, rule in enumerate(options.rules)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "keyguard", "version": __version__,
                                "semanticVersion": __version__, "informationUri": INFORMATION_URI,
                                "rules": rules}},
            "invocations": [_invocation(result)],
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index, options) for f in sorted(result.findings, key=finding_order)],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _invocation(result: ScanResult) -> dict[str, Any]:
    """Whether the scan finished: a path it could not read makes it unsuccessful (exit 4), each
    such path an error notification, so an incomplete scan never looks like a clean one."""
    invocation: dict[str, Any] = {"executionSuccessful": result.complete}
    if result.errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": neutralise(f"cannot read {e.path}: {e.message}")}}
            for e in result.errors]
    if result.started_at:
        invocation.update(startTimeUtc=result.started_at, endTimeUtc=result.finished_at)
    return invocation


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.description},
        "help": {"text": f"{rule.description}\n\nConfidence: {rule.confidences}.\n\n{_HELP}",
                 "markdown": f"{rule.description}\n\n**Confidence**: {rule.confidences}.\n\n{_HELP}"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"security-severity": _SEVERITY[Confidence.HIGH],
                       "tags": ["security", "secret", "credential"], "precision": "high"},
    }


def _result(finding: Finding, index: dict[str, int], options: ReportOptions) -> dict[str, Any]:
    where = f" (introduced in {finding.origin.kind} {finding.origin.commit})" if finding.origin else ""
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": "error" if finding.blocking else "note",
        "message": {"text": f"{finding.rule_id}: {shown_secret(finding, options)} "
                            f"({finding.confidence.label} confidence){where}"},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"confidence": finding.confidence.label,
                       "security-severity": _SEVERITY[finding.confidence],
                       "secretSha256": finding.secret_sha256, "signals": list(finding.signals)},
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    if finding.origin is not None:
        result["properties"]["commit"] = finding.origin.commit
    if finding.verification is not None:
        result["properties"]["verification"] = finding.verification
    return result


def _location(finding: Finding) -> dict[str, Any]:
    region = {"startLine": finding.line, "startColumn": finding.column,
              "endColumn": finding.column + len(finding.secret)}
    if not is_file_path(finding.path):  # a message or an unreachable blob: no file to point at
        return {"logicalLocations": [{"name": neutralise(finding.path), "kind": "message"}]}
    # the file's real name, percent-encoded: a newline is %0A, a byte that was not UTF-8 %FF
    uri = urllib.parse.quote(finding.path, encoding="utf-8", errors="surrogateescape")
    artifact = {"uri": uri} if finding.path.startswith("/") else {"uri": uri, "uriBaseId": "%SRCROOT%"}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}
