"""GitHub Actions workflow commands: one annotation per finding, on the file and line.

Values are escaped as the runner requires (`%`, CR, LF; in properties also `:` and `,`), so no
path or message can end the command early and inject another one.
"""

from __future__ import annotations

from keyguard.model import ScanResult, finding_order, is_file_path
from keyguard.reporters.options import ReportOptions, shown_secret
from keyguard.reporters.text_format import summary
from keyguard.terminal import neutralise


def render(result: ScanResult, options: ReportOptions) -> str:
    lines = []
    for finding in sorted(result.findings, key=finding_order):
        level = "error" if finding.blocking else "notice"
        title = f"keyguard {finding.rule_id} ({finding.confidence.label})"
        verified = f" (verified {finding.verification})" if finding.verification else ""
        message = (f"{shown_secret(finding, options)}{verified}: move the key to an environment variable and "
                   f"rotate it; not a key? keyguard allow {finding.fingerprint} --reason '...'")
        properties = [f"title={_property(title)}"]
        if is_file_path(finding.path):
            properties[:0] = [f"file={_property(finding.path)}", f"line={finding.line}",
                              f"col={finding.column}"]
        lines.append(f"::{level} {','.join(properties)}::{_data(message)}")
    for problem in result.errors:
        lines.append(f"::error title=keyguard::{_data(f'cannot read {problem.path}: {problem.message}')}")
    lines.append(_data(summary(result)))
    return "\n".join(lines) + "\n"


def _data(text: str) -> str:
    return neutralise(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
