"""The audit as JSON: the same content as the HTML report (`keyguard_audit` version 1)."""

from __future__ import annotations

import json

from keyguard import __version__
from keyguard.audit import Repository, Secret, checklist, is_client_side
from keyguard.terminal import neutralise

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any


def document(secrets: list[Secret], repositories: list[Repository]) -> dict[str, Any]:
    return {
        "keyguard_audit": 1,
        "tool": {"name": "keyguard", "version": __version__},
        "repositories": [{"name": r.name, "path": neutralise(r.path), "complete": r.error is None,
                          "error": r.error} for r in repositories],
        "summary": {
            "secrets": len(secrets),
            "live_at_head": sum(1 for s in secrets if s.live_at_head),
            "client_side": sum(1 for s in secrets if s.client_side),
            "shared": sum(1 for s in secrets if s.shared),
            "locations": sum(len(s.locations) for s in secrets),
        },
        "secrets": [_secret(s) for s in secrets],
    }


def _secret(secret: Secret) -> dict[str, Any]:
    return {
        "secret": secret.shown,
        "secret_sha256": secret.digest,
        "confidence": secret.confidence.label,
        "label": secret.label,
        "first_appeared": secret.first_appeared,
        "last_appeared": secret.last_appeared,
        "live_at_head": bool(secret.live_at_head),
        "client_side": bool(secret.client_side),
        "shared": secret.shared,
        "services": secret.services,
        "locations": [{
            "repository": loc.repository, "path": neutralise(loc.path), "rule_id": loc.rule_id,
            "line": loc.line, "at_head": loc.at_head, "client_side": is_client_side(loc.path),
            "commit": loc.origin.commit if loc.origin else None,
            "author": loc.origin.author if loc.origin else None,
            "email": loc.origin.email if loc.origin else None,
            "date": loc.origin.date if loc.origin else None,
        } for loc in secret.locations],
        "checklist": [neutralise(step) for step in checklist(secret)],
    }


def render(secrets: list[Secret], repositories: list[Repository]) -> str:
    return json.dumps(document(secrets, repositories), indent=2) + "\n"
