"""Reporters turn a ScanResult into text. They never print and never choose exit codes.

The registry names each format's module; only the one asked for is imported, so a hook that
prints text does not pay for XML, CSV or SARIF.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from keyguard.model import ScanResult
from keyguard.reporters.options import ReportOptions, shown_secret

__all__ = ["FORMATS", "ReportOptions", "renderer", "shown_secret"]

FORMATS: dict[str, str] = {
    "text": "keyguard.reporters.text_format",
    "json": "keyguard.reporters.json_format",
    "sarif": "keyguard.reporters.sarif_format",
    "junit": "keyguard.reporters.junit_format",
    "csv": "keyguard.reporters.csv_format",
    "github": "keyguard.reporters.github_format",
    "gitlab": "keyguard.reporters.gitlab_format",
}


def renderer(name: str) -> Callable[[ScanResult, ReportOptions], str]:
    render: Callable[[ScanResult, ReportOptions], str] = importlib.import_module(FORMATS[name]).render
    return render
