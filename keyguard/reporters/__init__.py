"""Reporters turn a ScanResult into text. They never print and never choose exit codes."""

from __future__ import annotations

from collections.abc import Callable

from keyguard.model import ScanResult
from keyguard.reporters import (
    csv_format,
    github_format,
    gitlab_format,
    json_format,
    junit_format,
    sarif_format,
    text_format,
)
from keyguard.reporters.options import ReportOptions, shown_secret

__all__ = ["FORMATS", "ReportOptions", "shown_secret"]

FORMATS: dict[str, Callable[[ScanResult, ReportOptions], str]] = {
    "text": text_format.render,
    "json": json_format.render,
    "sarif": sarif_format.render,
    "junit": junit_format.render,
    "csv": csv_format.render,
    "github": github_format.render,
    "gitlab": gitlab_format.render,
}
