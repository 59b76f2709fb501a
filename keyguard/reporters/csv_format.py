"""CSV for spreadsheets: one row per finding; cells that a spreadsheet would run as a formula
are prefixed with an apostrophe."""

from __future__ import annotations

import csv
import io

from keyguard.model import ScanResult, finding_order
from keyguard.reporters.options import ReportOptions, shown_secret
from keyguard.terminal import neutralise

COLUMNS = ("path", "line", "column", "rule_id", "confidence", "blocking", "secret", "fingerprint",
           "commit", "author", "email", "date", "verification")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(result: ScanResult, options: ReportOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for finding in sorted(result.findings, key=finding_order):
        origin = finding.origin
        row = (finding.path, finding.line, finding.column, finding.rule_id, finding.confidence.label,
               str(finding.blocking).lower(), shown_secret(finding, options), finding.fingerprint,
               origin.commit if origin else "", origin.author if origin else "",
               origin.email if origin else "", origin.date if origin else "", finding.verification or "")
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: object) -> str:
    text = neutralise(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text
