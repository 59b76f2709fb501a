"""Commits: which file versions (blobs) each commit brought to which path, and messages.

One `git log --raw` pass lists, oldest first, every blob each commit adds or changes; merges
are compared with their first parent, so a conflict resolution's own content is seen. No
patches are produced: each distinct blob is later read once through `git cat-file --batch`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from keyguard import git
from keyguard.errors import GitError
from keyguard.model import Origin

_GITLINK = b"160000"
_COMMIT_MARK = b"\x01"


@dataclass(frozen=True, slots=True)
class Appearance:
    path: str
    order: int  # position of the commit, oldest first: smaller is earlier
    origin: Origin


@dataclass(slots=True)
class HistoryPlan:
    """What to read: each blob with the places it first appeared, in commit order."""

    blobs: dict[str, list[Appearance]] = field(default_factory=dict)
    # Blobs that commits in range changed but that came from before the range (`A..B`,
    # --since): their secrets were committed earlier and are not this range's to report.
    earlier: dict[str, set[str]] = field(default_factory=dict)
    commits: dict[str, tuple[int, Origin]] = field(default_factory=dict)
    renames: dict[tuple[str, str], str] = field(default_factory=dict)  # (commit, new) -> old


def log_arguments(revisions: Sequence[str], filters: Sequence[str]) -> list[str]:
    """Options first, then revisions that can never be read as options; all refs by default."""
    return [*filters, *([] if revisions else ["--all"]), "--end-of-options", *revisions, "--"]


def plan_history(revisions: Sequence[str], filters: Sequence[str], cwd: str | None = None) -> HistoryPlan:
    log = git.run(["log", "--reverse", "--topo-order", "--root", "-M", "--raw", "-z",
                   "--no-abbrev", "--diff-merges=first-parent",
                   "--format=%x01%H%x00%an%x00%ae%x00%aI", *log_arguments(revisions, filters)], cwd=cwd)
    return parse_log(log)


def parse_log(log: bytes) -> HistoryPlan:
    """Read `git log --raw -z` output: a commit header, then its raw entries, and so on."""
    plan = HistoryPlan()
    seen: set[tuple[str, str]] = set()
    tokens = log.split(b"\0")
    index, origin = 0, None
    while index < len(tokens):
        token = tokens[index].lstrip(b"\n")
        if token.startswith(_COMMIT_MARK) and index + 3 < len(tokens):
            name, email, date = (t.decode("utf-8", "replace") for t in tokens[index + 1 : index + 4])
            origin = Origin(commit=_ascii(token[1:]), author=name, email=email, date=date)
            plan.commits[origin.commit] = (len(plan.commits), origin)
            index += 4
        elif token.startswith(b":") and origin is not None:
            index += _raw_entry(plan, seen, token.split(), tokens[index + 1 : index + 3], origin)
        else:
            index += 1
    return plan


def _raw_entry(plan: HistoryPlan, seen: set[tuple[str, str]], meta: list[bytes], names: list[bytes],
               origin: Origin) -> int:
    """Record one `:<modes> <shas> <status>` entry; returns how many tokens it used."""
    if len(meta) != 5 or not meta[4] or not names:
        raise GitError("unexpected output from git log --raw (a truncated or corrupt entry)")
    paths = [t.decode("utf-8", "surrogateescape") for t in names]
    renamed = meta[4].startswith(b"R") and len(paths) == 2  # `R<similarity>` old path, new path
    if renamed:
        plan.renames[(origin.commit, paths[1])] = paths[0]
    _record(plan, seen, meta, paths[1] if renamed else paths[0], plan.commits[origin.commit][0], origin)
    return 3 if renamed else 2


def _ascii(value: bytes) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError as e:
        raise GitError("unexpected output from git: an object id that is not hexadecimal") from e


def _record(plan: HistoryPlan, seen: set[tuple[str, str]], meta: list[bytes], path: str,
            order: int, origin: Origin) -> None:
    """`:<old mode> <new mode> <old sha> <new sha> <status>`: keep each blob's first places."""
    old_sha, new_sha, status = _ascii(meta[2]), _ascii(meta[3]), meta[4][:1]
    if status in b"MTR" and meta[0] != b":" + _GITLINK and old_sha not in plan.blobs:
        plan.earlier.setdefault(old_sha, set()).add(path)  # changed from a version before the range
    if status not in b"AMTR" or meta[1] == _GITLINK or (new_sha, path) in seen:
        return
    seen.add((new_sha, path))
    plan.blobs.setdefault(new_sha, []).append(Appearance(path, order, origin))


def commit_messages(revisions: Sequence[str], filters: Sequence[str],
                    cwd: str | None = None) -> Iterator[tuple[str, str]]:
    """(commit, message) for each commit in range; messages cannot hold NUL."""
    log = git.run(["log", "--format=%H%n%B", "-z", *log_arguments(revisions, filters)], cwd=cwd)
    for record in log.split(b"\0"):
        sha, _, message = record.lstrip(b"\n").partition(b"\n")
        if sha:
            yield sha.decode(), message.decode("utf-8", "replace")


def annotated_tags(objects: git.ObjectReader, cwd: str | None = None) -> Iterator[tuple[Origin, str]]:
    """Each annotated tag with its tagger and message."""
    refs = git.run(["for-each-ref", "refs/tags", "--format=%(objecttype) %(objectname) %(refname)"],
                   cwd=cwd)
    for line in refs.decode("utf-8", "surrogateescape").splitlines():
        kind, sha, name = line.split(" ", 2)
        if kind == "tag":
            _, content = objects.read(sha)
            yield _tag_origin(name, content or b""), _tag_message(content or b"")


def _tag_origin(name: str, content: bytes) -> Origin:
    header = content.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    tagger = next((line[7:] for line in header.splitlines() if line.startswith("tagger ")), "")
    who, _, when = tagger.rpartition(">")
    author, _, email = who.partition("<")
    return Origin(commit=name, author=author.strip(), email=email, date=_iso(when.split()),
                  kind="tag")


def _tag_message(content: bytes) -> str:
    return content.partition(b"\n\n")[2].decode("utf-8", "replace")


def _iso(stamp: list[str]) -> str:
    if not stamp:
        return ""
    seconds, offset = int(stamp[0]), stamp[1] if len(stamp) > 1 else "+0000"
    sign = -1 if offset.startswith("-") else 1
    zone = datetime.timezone(sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return datetime.datetime.fromtimestamp(seconds, zone).isoformat()
