"""The baseline: findings a team has accepted, by fingerprint only.

No line numbers (moving code changes nothing), no timestamps (no churn, no merge conflicts),
no plaintext. Entries are sorted, so the file changes only when its content does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from keyguard.errors import ConfigError
from keyguard.model import Finding
from keyguard.terminal import neutralise

VERSION = 1
DEFAULT_NAME = ".keyguard-baseline.json"
_FINGERPRINT_LENGTH = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    fingerprint: str
    rule_id: str
    path: str
    status: str  # "accepted" (recorded by `keyguard baseline`) or "allowed" (`keyguard allow`)
    reason: str


Baseline = dict[str, Entry]  # by fingerprint


def load_baseline(path: str, label: str) -> Baseline:
    """The baseline at `path`; no file is an empty baseline; anything unreadable is exit 3."""
    try:
        with open(path, encoding="utf-8") as handle:
            import json  # most hooks run without a baseline file

            document = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ConfigError(f"{label}: not a keyguard baseline (invalid JSON: {e})") from e
    return _parse(document, label)


def _parse(document: object, label: str) -> Baseline:
    if not isinstance(document, dict) or not isinstance(document.get("keyguard_baseline"), int):
        raise ConfigError(f"{label}: not a keyguard baseline (no 'keyguard_baseline' version)")
    if document["keyguard_baseline"] > VERSION:
        raise ConfigError(f"{label}: written by a newer keyguard (baseline version "
                          f"{document['keyguard_baseline']}, this one reads {VERSION}): upgrade keyguard")
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise ConfigError(f"{label}: 'findings' must be a list")
    return dict(_entry(raw, f"{label}: findings #{n}") for n, raw in enumerate(entries, 1))


def _entry(raw: object, where: str) -> tuple[str, Entry]:
    fields = ("fingerprint", "rule_id", "path", "status", "reason")
    if not isinstance(raw, dict) or not all(isinstance(raw.get(f), str) for f in fields):
        raise ConfigError(f"{where}: needs string fields {', '.join(fields)}")
    if len(raw["fingerprint"]) != _FINGERPRINT_LENGTH:
        raise ConfigError(f"{where}: 'fingerprint' must be {_FINGERPRINT_LENGTH} hex digits")
    entry = Entry(**{f: raw[f] for f in fields})
    return entry.fingerprint, entry


def render_baseline(baseline: Baseline) -> str:
    import json

    entries = sorted(baseline.values(), key=lambda e: (e.path, e.rule_id, e.fingerprint))
    document = {"keyguard_baseline": VERSION,
                "findings": [{"fingerprint": e.fingerprint, "rule_id": e.rule_id, "path": e.path,
                              "status": e.status, "reason": e.reason} for e in entries]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def accepted(findings: Iterable[Finding], reason: str) -> Baseline:
    return {f.fingerprint: Entry(fingerprint=f.fingerprint, rule_id=f.rule_id, path=neutralise(f.path),
                                 status="accepted", reason=reason) for f in findings}
