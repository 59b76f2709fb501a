"""What a push would send: git's pre-push input, or pre-commit's FROM/TO refs, as revisions."""

from __future__ import annotations

from collections.abc import Sequence

from keyguard import git
from keyguard.errors import UsageError
from keyguard.record import Record


class RefUpdate(Record, kw_only=False):
    local_sha: str
    remote_sha: str | None  # None: the remote does not have this ref yet (or we do not know)
    local_ref: str = ""  # refs/tags/v2: an annotated tag's message goes with it


def parse_pre_push(text: str) -> list[RefUpdate]:
    """`<local ref> <local sha> <remote ref> <remote sha>` per line, as git gives the hook."""
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 4:
            raise UsageError(f"pre-push input line {number}: expected "
                             "'<local ref> <local sha> <remote ref> <remote sha>'")
        updates.append(RefUpdate(fields[1], None if git.is_null_sha(fields[3]) else fields[3], fields[0]))
    return updates


def push_revisions(updates: Sequence[RefUpdate], remote: str | None,
                   cwd: str | None = None) -> list[str]:
    """Revisions naming every commit the push sends: deletions send nothing; an update sends
    what the remote's old tip lacks; a new branch, or one whose remote tip this repository does
    not have, sends what no remote-tracking ref of that remote has. Another remote's refs say
    nothing about this one: pushed to a URL or to no named remote, all of the branch is read."""
    revisions: list[str] = []
    for update in updates:
        if git.is_null_sha(update.local_sha):
            continue
        revisions.append(update.local_sha)
        if update.remote_sha is not None and git.has_commit(update.remote_sha, cwd):
            revisions.append("^" + update.remote_sha)
        elif remote:
            revisions.extend("^" + sha for sha in git.remote_tips(remote, cwd))
    return list(dict.fromkeys(revisions))


def pushed_objects(updates: Sequence[RefUpdate]) -> list[tuple[str, str]]:
    """(ref, object) of each ref the push creates or moves: an annotated tag's message is read
    from its object."""
    return [(u.local_ref or u.local_sha, u.local_sha) for u in updates if not git.is_null_sha(u.local_sha)]
