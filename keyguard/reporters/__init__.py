"""Reporters turn a ScanResult into text. They never print and never choose exit codes."""

from __future__ import annotations

from collections.abc import Callable

from keyguard.model import ScanResult
from keyguard.reporters import json_format, text_format
from keyguard.reporters.options import ReportOptions, shown_secret

__all__ = ["FORMATS", "ReportOptions", "shown_secret"]

FORMATS: dict[str, Callable[[ScanResult, ReportOptions], str]] = {
    "text": text_format.render,
    "json": json_format.render,
}
