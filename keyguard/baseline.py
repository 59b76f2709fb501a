"""The baseline: findings a team has accepted, by fingerprint only.

No line numbers (moving code changes nothing), no timestamps (no churn, no merge conflicts),
no plaintext. Entries are sorted, so the file changes only when its content does.
"""

from __future__ import annotations

from collections.abc import Iterable

from keyguard.errors import ConfigError
from keyguard.lazyre import lazy
from keyguard.model import Finding
from keyguard.record import Record
from keyguard.terminal import neutralise

VERSION = 1
DEFAULT_NAME = ".keyguard-baseline.json"
_FINGERPRINT_LENGTH = 16


class Entry(Record):
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
    version = document.get("keyguard_baseline") if isinstance(document, dict) else None
    if not isinstance(document, dict) or type(version) is not int or version < 1:
        raise ConfigError(f"{label}: not a keyguard baseline (no 'keyguard_baseline' version)")
    if version > VERSION:
        raise ConfigError(f"{label}: written by a newer keyguard (baseline version "
                          f"{version}, this one reads {VERSION}): upgrade keyguard")
    _no_other_keys(document, ("keyguard_baseline", "findings"), label)
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise ConfigError(f"{label}: 'findings' must be a list")
    baseline: Baseline = {}
    problems = []  # every entry's, one per line
    for number, raw in enumerate(entries, 1):
        try:
            entry = _entry(raw, f"{label}: findings #{number}")
        except ConfigError as e:
            problems.append(str(e))
            continue
        if entry.fingerprint in baseline:
            problems.append(f"{label}: findings #{number}: fingerprint {entry.fingerprint} is listed twice")
        baseline[entry.fingerprint] = entry
    if problems:
        raise ConfigError("\n".join(problems))
    return baseline


_FIELDS = ("fingerprint", "rule_id", "path", "status", "reason")
_FINGERPRINT = lazy(f"[0-9a-f]{{{_FINGERPRINT_LENGTH}}}")


def _entry(raw: object, where: str) -> Entry:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(f), str) for f in _FIELDS):
        raise ConfigError(f"{where}: needs string fields {', '.join(_FIELDS)}")
    _no_other_keys(raw, _FIELDS, where)  # no line numbers, no timestamps: see the top
    if not _FINGERPRINT.fullmatch(raw["fingerprint"]):
        raise ConfigError(f"{where}: 'fingerprint' must be {_FINGERPRINT_LENGTH} hex digits")
    if raw["status"] not in ("accepted", "allowed"):
        raise ConfigError(f"{where}: 'status' must be accepted or allowed, not {raw['status']!r}")
    return Entry(**{f: raw[f] for f in _FIELDS})


def _no_other_keys(table: dict[str, object], known: tuple[str, ...], where: str) -> None:
    unknown = [key for key in table if key not in known]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})")


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
