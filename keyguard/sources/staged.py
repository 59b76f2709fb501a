"""The index: what the next commit will record, read through git (never the working tree).

Git hands hooks a temporary index through GIT_INDEX_FILE under `git commit -a` and
`git commit <path>`; every git call here inherits it, so the scan sees exactly that index.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from keyguard import git
from keyguard.errors import GitError
from keyguard.lazyre import lazy
from keyguard.model import Blob, ScanError, Skipped
from keyguard.sources.text import SNIFF, decode_text, is_binary

_GITLINK = "160000"
_HUNK = lazy(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_DIFF_OPTIONS = ["--no-color", "--no-ext-diff", "--no-textconv", "--no-relative",
                 "--src-prefix=a/", "--dst-prefix=b/", "-M"]


def read_staged(paths: Sequence[str], max_size: int, merge_head: str,
                cwd: str | None = None) -> Iterator[Blob | Skipped | ScanError]:
    """Each added or changed file of the index, with the lines this commit adds or changes.
    `merge_head` is the path of MERGE_HEAD (`git rev-parse --git-path MERGE_HEAD`). `paths`
    (from the top level; files or directories) narrow the files read once git has compared the
    whole index: a file renamed into them is still a rename, its source being outside them."""
    wanted = {path.rstrip("/") or "." for path in paths}
    with git.ObjectReader(cwd) as objects:
        try:
            staged, added = _diff("HEAD", cwd, objects, max_size)
        except GitError:
            if git.has_commit("HEAD", cwd):
                raise
            staged, added = _diff(git.empty_tree(cwd), cwd, objects, max_size)  # all is new
        parents = _merge_heads(merge_head, cwd)
        for parent in parents:
            # Concluding a merge: a line is this commit's only if it is new to every parent.
            theirs = _diff(parent, cwd, objects, max_size)[1]
            added = {path: lines & theirs.get(path, set()) for path, lines in added.items()}
        for path, old, sha in staged:
            if wanted and not _within(path, wanted):
                continue
            _, data = objects.read(sha, max_size)
            if data is None:  # new text left unread fails the hook: a rename or binary does not,
                # nor a version a merged parent has
                if is_binary(git.blob_head(sha, SNIFF, cwd)):
                    yield Skipped(path=path, reason="binary")
                else:
                    known = old == sha or any(git.blob_at(parent, path, cwd) == sha for parent in parents)
                    yield Skipped.over_size_cap(path, max_size, new_text=not known)
                continue
            text = decode_text(data)
            if text is None:
                yield Skipped(path=path, reason="binary")
            else:
                yield Blob(path=path, text=text, only_lines=frozenset(added.get(path, ())))


def _within(path: str, wanted: set[str]) -> bool:
    """Whether the path, or a directory above it, is among the wanted ones: a lookup per
    level, so 20,000 file names from pre-commit cost 20,000 lookups, not their square."""
    if "." in wanted:
        return True
    while path:
        if path in wanted:
            return True
        path = path.rpartition("/")[0]
    return False


def _diff(base: str, cwd: str | None, objects: git.ObjectReader,
          max_size: int) -> tuple[list[tuple[str, str, str]], dict[str, set[int]]]:
    """One `git diff-index --patch-with-raw -z`: the raw entries (NUL-separated), an empty
    field, then the `-U0` patch whose hunks give the added lines. A changed file the patch
    has no text for (binary to git, as UTF-16 is, or by an attribute) has its added lines
    found here, when it is text to keyguard."""
    out = git.run(["diff-index", "--cached", "--patch-with-raw", "-z", "-U0", "--no-abbrev",
                   *_DIFF_OPTIONS, base], cwd=cwd)
    raw, separator, patch = out.partition(b"\0\0")
    staged = list(staged_blobs(raw + b"\0" if separator else raw))
    added = added_lines(patch)
    for path, old, new in staged:
        if path not in added and old != new:
            added[path] = _new_lines(objects, old, new, max_size)
    return staged, added


def _new_lines(objects: git.ObjectReader, old: str, new: str, max_size: int) -> set[int]:
    """The numbers of the lines of blob `new` that blob `old` does not hold (every line of
    a new file, or of an old version that is binary or over the size cap)."""
    _, data = objects.read(new, max_size)
    text = None if data is None else decode_text(data)
    if text is None:
        return set()  # not scanned as text: no lines to count
    before = None if git.is_null_sha(old) else objects.read(old, max_size)[1]
    old_text = None if before is None else decode_text(before)
    had = set() if old_text is None else set(old_text.split("\n"))
    return {number for number, line in enumerate(text.split("\n"), 1) if line not in had}


def _merge_heads(path: str, cwd: str | None) -> list[str]:
    try:
        with open(os.path.join(cwd or os.getcwd(), path), encoding="ascii") as handle:
            return handle.read().split()
    except (OSError, UnicodeDecodeError):
        return []


def staged_blobs(raw: bytes) -> Iterator[tuple[str, str, str]]:
    """(path, old blob, new blob) for each added, modified, renamed, copied or retyped file.

    `git diff --raw -z`: `:<old mode> <new mode> <old sha> <new sha> <status>` NUL path NUL,
    with a second path for renames and copies.
    """
    tokens = raw.split(b"\0")
    index = 0
    while index < len(tokens) - 1:
        meta = tokens[index].decode("ascii", "replace").lstrip(":").split()
        if len(meta) != 5 or not meta[4]:
            raise GitError("unexpected output from git diff-index --raw")
        paths = 2 if meta[4][0] in "RC" else 1
        if index + paths >= len(tokens):
            raise GitError("unexpected output from git diff-index --raw (a truncated entry)")
        path = tokens[index + paths].decode("utf-8", "surrogateescape")
        index += 1 + paths
        if meta[4][0] in "AMRCT" and meta[1] != _GITLINK:
            yield path, meta[2], meta[3]


def added_lines(patch: bytes) -> dict[str, set[int]]:
    """New-side line numbers of every hunk in a `-U0` patch, by path."""
    result: dict[str, set[int]] = {}
    current: set[int] | None = None
    in_header = False  # before a file's first hunk: in a hunk, an added line `++ x` reads `+++ x`
    for line in patch.split(b"\n"):
        if line.startswith(b"diff --git "):
            in_header, current = True, None
        elif in_header and line.startswith(b"+++ "):
            # git ends the name with a tab when it holds a space; a tab in a name is quoted
            target = line[4:].removesuffix(b"\t")
            current = None if target == b"/dev/null" else result.setdefault(_unquote(target)[2:], set())
        elif current is not None and (hunk := _HUNK.match(line)):
            in_header = False
            start, count = int(hunk[1]), int(hunk[2] or b"1")
            current.update(range(start, start + count))
    return result


_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b",
            b"f": b"\f", b"r": b"\r", b"v": b"\v"}


def _unquote(name: bytes) -> str:
    """git C-quotes names holding `"`, `\\` or control characters: `"b/evil\\nname"`."""
    if not name.startswith(b'"'):
        return name.decode("utf-8", "surrogateescape")
    body, out, index = name[1:-1], bytearray(), 0
    while index < len(body):
        char = body[index : index + 1]
        if char != b"\\":
            out += char
            index += 1
        elif body[index + 1 : index + 2].isdigit():
            out.append(int(body[index + 1 : index + 4], 8))
            index += 4
        else:
            out += _ESCAPES.get(body[index + 1 : index + 2], body[index + 1 : index + 2])
            index += 2
    return bytes(out).decode("utf-8", "surrogateescape")
