"""JUnit XML: one test case per finding (a failure when it blocks), one per unreadable input,
and one passing case when nothing was found, so dashboards always show the scan."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from keyguard.model import Finding, ScanResult, finding_order
from keyguard.reporters.options import ReportOptions, shown_excerpt, shown_secret
from keyguard.terminal import neutralise


def render(result: ScanResult, options: ReportOptions) -> str:
    findings = sorted(result.findings, key=finding_order)
    suite = ET.Element("testsuite", name="keyguard", tests=str(max(1, len(findings) + len(result.errors))),
                       failures=str(len(result.blocking)), errors=str(len(result.errors)), skipped="0")
    for finding in findings:
        _case(suite, finding, options)
    for problem in result.errors:
        case = ET.SubElement(suite, "testcase", classname="keyguard.input", name=_xml(problem.path))
        ET.SubElement(case, "error", message=_xml(f"cannot read: {problem.message}"))
    if not findings and not result.errors:
        ET.SubElement(suite, "testcase", classname="keyguard", name="no secrets found")
    suites = ET.Element("testsuites", name="keyguard")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _case(suite: ET.Element, finding: Finding, options: ReportOptions) -> None:
    name = _xml(f"{finding.rule_id} {finding.path}:{finding.line}:{finding.column}")
    case = ET.SubElement(suite, "testcase", classname=_xml(finding.path), name=name)
    detail = _xml_text(f"{finding.rule_id} ({finding.confidence.label}) {shown_secret(finding, options)}\n"
                  f"{shown_excerpt(finding, options)}\nfingerprint {finding.fingerprint}"
                  + (f"\nverified: {finding.verification}" if finding.verification else ""))
    if finding.blocking:
        failure = ET.SubElement(case, "failure", type=finding.rule_id,
                                message=_xml(f"{finding.rule_id}: {shown_secret(finding, options)}"))
        failure.text = detail
    else:
        ET.SubElement(case, "system-out").text = detail


def _xml(text: str) -> str:
    """XML 1.0 cannot hold most control characters at all: escape them visibly."""
    return neutralise(text)


def _xml_text(text: str) -> str:
    return "\n".join(neutralise(line) for line in text.split("\n"))
