"""The audit for people at a terminal: each key, where it has been, what to do."""

from __future__ import annotations

from keyguard.audit import Repository, Secret, checklist
from keyguard.terminal import neutralise


def render(secrets: list[Secret], repositories: list[Repository]) -> str:
    lines = [_summary(secrets, repositories), ""]
    for repository in repositories:
        if repository.error:
            lines.append(f"NOT SCANNED {repository.name}: {neutralise(repository.error)}")
    for secret in secrets:
        flags = "".join([" [LIVE AT HEAD]" * bool(secret.live_at_head),
                         " [CLIENT-SIDE]" * bool(secret.client_side),
                         f" [SHARED: {', '.join(secret.services)}]" * secret.shared,
                         f" [{secret.label}]" * bool(secret.label)])
        shown = secret.shown
        lines.append(f"{neutralise(shown)}  {secret.confidence.label}  first {secret.first_appeared or '-'}"
                     f"  last {secret.last_appeared or '-'}{flags}")
        for loc in secret.locations:
            where = "in no commit" if not loc.origin else f"{loc.origin.kind} {loc.origin.name}" + (
                f" by {loc.origin.author} on {loc.origin.date}" if loc.origin.date else "")
            head = "  (at HEAD)" if loc.at_head else ""
            lines.append(f"  {loc.repository}: {neutralise(loc.path)}:{loc.line}  {loc.rule_id}  "
                         f"{neutralise(where)}{head}")
        lines.append("  rotation checklist:")
        lines.extend(f"    {n}. {neutralise(step)}" for n, step in enumerate(checklist(secret), 1))
        lines.append("")
    return "\n".join(lines) + "\n"


def _summary(secrets: list[Secret], repositories: list[Repository]) -> str:
    return (f"keyguard audit: {len(repositories)} repositories, {len(secrets)} distinct secrets "
            f"({sum(1 for s in secrets if s.live_at_head)} live at HEAD, "
            f"{sum(1 for s in secrets if s.client_side)} client-side, "
            f"{sum(1 for s in secrets if s.shared)} shared)")
