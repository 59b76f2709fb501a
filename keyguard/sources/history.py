"""Commits: which file versions (blobs) each commit brought to which path, and messages.

One `git log --raw` pass lists, oldest first, every blob each commit adds or changes; merges
are compared with their first parent, so a conflict resolution's own content is seen. No
patches are produced: each distinct blob is later read once through `git cat-file --batch`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from keyguard import git
from keyguard.errors import GitError
from keyguard.model import Origin
from keyguard.record import Record, field

_GITLINK = b"160000"
_COMMIT_MARK = b"\x01"


class Appearance(Record, kw_only=False):
    path: str
    order: int  # position of the commit, oldest first: smaller is earlier
    origin: Origin


class HistoryPlan(Record, frozen=False, kw_only=False):
    """What to read: each blob with the places it first appeared, in commit order."""

    blobs: dict[str, list[Appearance]] = field(default_factory=dict)
    # Blobs that commits in range changed but that came from before the range (`A..B`,
    # --since): their secrets were committed earlier and are not this range's to report.
    earlier: dict[str, set[str]] = field(default_factory=dict)
    commits: dict[str, tuple[int, Origin]] = field(default_factory=dict)
    # Merges: each one's parents after the first, and the paths its first-parent diff changed
    merged: dict[str, list[str]] = field(default_factory=dict)
    merge_changes: list[tuple[str, str]] = field(default_factory=list)  # (commit, path)
    renames: dict[tuple[str, str], str] = field(default_factory=dict)  # (commit, new) -> old
    sizes: dict[str, int] | None = None  # each blob's size, when asked for


def log_arguments(revisions: Sequence[str], filters: Sequence[str]) -> list[str]:
    """Options first, then revisions that can never be read as options; all refs by default."""
    return [*filters, *([] if revisions else ["--all"]), "--end-of-options", *revisions, "--"]


def plan_history(revisions: Sequence[str], filters: Sequence[str], cwd: str | None = None,
                 sizes: bool = False) -> HistoryPlan:
    """The plan; with `sizes`, each blob's size too, asked of git while the log is read."""
    log = git.stream(["log", "--reverse", "--topo-order", "--root", "-M", "--raw", "-z",
                      "--no-abbrev", "--diff-merges=first-parent",
                      "--format=%x01%H%x00%P%x00%an%x00%ae%x00%aI", *log_arguments(revisions, filters)],
                     cwd=cwd)
    if not sizes:
        return parse_log(log)
    with git.SizeReader(cwd) as reader:
        plan = parse_log(log, reader.ask)
        plan.sizes = reader.sizes()
    return plan


def parse_log(log: bytes | Iterable[bytes],
              new_blob: Callable[[str], None] = lambda sha: None) -> HistoryPlan:
    """Read `git log --raw -z` output (whole, or in chunks as it comes): a commit header, then
    its raw entries, and so on. Names, e-mails and paths repeat: each is kept once. `new_blob`
    is told each blob the first time it is seen."""
    plan = HistoryPlan()
    seen: set[tuple[str, str]] = set()
    strings: dict[bytes, str] = {}
    tokens = _tokens([log] if isinstance(log, bytes) else log)
    origin = None
    for raw in tokens:
        token = raw.lstrip(b"\n")
        if token.startswith(_COMMIT_MARK):
            header = list(islice(tokens, 4))
            if len(header) < 4:
                break
            name, email = (_shared(strings, t, "replace") for t in header[1:3])
            origin = Origin(commit=_ascii(token[1:]), author=name, email=email,
                            date=header[3].decode("utf-8", "replace"))
            plan.commits[origin.commit] = (len(plan.commits), origin)
            parents = header[0].split()
            if len(parents) > 1:
                plan.merged[origin.commit] = [_ascii(p) for p in parents[1:]]
        elif token.startswith(b":") and origin is not None:
            meta = token.split()
            renamed = len(meta) == 5 and meta[4].startswith(b"R")  # `R<similarity>` old, new
            names = [_shared(strings, t, "surrogateescape") for t in islice(tokens, 1 + renamed)]
            if len(meta) != 5 or not meta[4] or len(names) != 1 + renamed:
                raise GitError("unexpected output from git log --raw (a truncated or corrupt entry)")
            if renamed:
                plan.renames[(origin.commit, names[1])] = names[0]
            if origin.commit in plan.merged:
                plan.merge_changes.append((origin.commit, names[-1]))
            _record(plan, seen, meta, names[-1], plan.commits[origin.commit][0], origin, new_blob)
    return plan


def _tokens(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """NUL-separated tokens across chunk boundaries."""
    rest = b""
    for chunk in chunks:
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    yield rest


def _shared(strings: dict[bytes, str], raw: bytes, errors: str) -> str:
    text = strings.get(raw)
    if text is None:
        text = strings[raw] = raw.decode("utf-8", errors)
    return text


def _ascii(value: bytes) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError as e:
        raise GitError("unexpected output from git: an object id that is not hexadecimal") from e


def _record(plan: HistoryPlan, seen: set[tuple[str, str]], meta: list[bytes], path: str,
            order: int, origin: Origin, new_blob: Callable[[str], None]) -> None:
    """`:<old mode> <new mode> <old sha> <new sha> <status>`: keep each blob's first places."""
    new_sha, status = _ascii(meta[3]), meta[4][:1]
    if status in b"MTR" and meta[0] != b":" + _GITLINK:
        old_sha = _ascii(meta[2])
        if old_sha not in plan.blobs:  # changed from a version before the range
            plan.earlier.setdefault(old_sha, set()).add(path)
    if status not in b"AMTR" or meta[1] == _GITLINK or (new_sha, path) in seen:
        return
    seen.add((new_sha, path))
    places = plan.blobs.get(new_sha)
    if places is None:
        places = plan.blobs[new_sha] = []
        new_blob(new_sha)
    places.append(Appearance(path, order, origin))


def add_merged_earlier(plan: HistoryPlan, cwd: str | None = None) -> None:
    """A merge's first-parent diff shows what its other parents brought as its own change
    (`git pull` merging commits the remote holds). The versions those parents have, when they
    are outside the range, were committed before it: they join `earlier`."""
    asked = [(parent, path) for commit, path in plan.merge_changes for parent in plan.merged[commit]
             if parent not in plan.commits and "\n" not in path]
    blobs = git.blob_ids([f"{parent}:{path}" for parent, path in asked], cwd)
    for (_, path), sha in zip(asked, blobs, strict=True):
        if sha is not None:
            plan.earlier.setdefault(sha, set()).add(path)


def commit_messages(revisions: Sequence[str], filters: Sequence[str],
                    cwd: str | None = None) -> Iterator[tuple[str, str]]:
    """(commit, message) for each commit in range; messages cannot hold NUL."""
    log = git.run(["log", "--format=%H%n%B", "-z", *log_arguments(revisions, filters)], cwd=cwd)
    for record in log.split(b"\0"):
        sha, _, message = record.lstrip(b"\n").partition(b"\n")
        if sha:
            yield sha.decode(), message.decode("utf-8", "replace")


def annotated_tags(objects: git.ObjectReader, cwd: str | None = None,
                   refs: Sequence[tuple[str, str]] | None = None) -> Iterator[tuple[Origin, str]]:
    """Each annotated tag with its tagger and message (a tag of a tag: each of them), of every
    tag ref, or of the (ref name, object) pairs given: what a push sends."""
    if refs is None:
        refs = [(name, sha) for kind, sha, name in _refs(cwd, "refs/tags") if kind == "tag"]
    for name, sha in refs:
        kind, content = objects.read(sha)
        while kind == "tag" and content is not None:
            yield _tag_origin(name, content), _tag_message(content)
            tagged_kind, tagged = _tagged(content)
            if tagged_kind != "tag":
                break  # the commit (or blob) it names is read elsewhere, not here
            kind, content = objects.read(tagged)


def tagged_files(objects: git.ObjectReader, cwd: str | None = None,
                 refs: Sequence[tuple[str, str]] | None = None,
                 max_size: int | None = None) -> Iterator[tuple[str, Origin, bytes | None]]:
    """Blobs a ref names without a commit: a ref (or the tags it names) pointing at a blob,
    or at a tree and so at its files. `git log` never reaches them, a push and a clone carry
    them. (label, origin, content or None over the size cap), of every ref or of the (ref
    name, object) pairs given."""
    if refs is None:
        refs = [(name, sha) for kind, sha, name in _refs(cwd) if kind != "commit"]
    for name, named in refs:
        sha = named
        kind, content = objects.read(sha, max_size)
        while kind == "tag" and content is not None:
            sha = _tagged(content)[1]
            kind, content = objects.read(sha, max_size)
        origin = Origin(commit=name, author="", email="", date="", kind="tag")
        if kind == "blob":
            yield f"(tagged blob) {name}", origin, content
        elif kind == "tree":
            listing = git.run(["ls-tree", "-r", "-z", sha], cwd=cwd).decode("utf-8", "surrogateescape")
            for entry in filter(None, listing.split("\0")):
                mode_kind_sha, path = entry.split("\t", 1)
                _, entry_kind, blob = mode_kind_sha.split(" ")
                if entry_kind == "blob":
                    yield f"(tagged tree) {name}:{path}", origin, objects.read(blob, max_size)[1]


def _refs(cwd: str | None, *patterns: str) -> list[list[str]]:
    """[object type, object, ref name] of each ref (matching `patterns`, when given)."""
    out = git.run(["for-each-ref", "--format=%(objecttype) %(objectname) %(refname)", *patterns], cwd=cwd)
    return [line.split(" ", 2) for line in out.decode("utf-8", "surrogateescape").splitlines()]


def _tagged(content: bytes) -> tuple[str, str]:
    """The type and id of the object an annotated tag names (its `type` and `object` headers)."""
    header = dict(line.split(b" ", 1) for line in content.split(b"\n\n", 1)[0].splitlines() if b" " in line)
    return header.get(b"type", b"").decode("ascii", "replace"), header[b"object"].decode("ascii", "replace")


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
