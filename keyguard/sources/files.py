"""Files and directories: a .gitignore-aware walk that never follows a symlink it was not asked to."""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Iterator, Sequence

from keyguard import git
from keyguard.errors import GitError, UsageError
from keyguard.model import Blob, Item, ScanError, Skipped, Unread
from keyguard.record import Record
from keyguard.sources.text import SNIFF, UTF16_BOMS, decode_text, is_binary
from keyguard.worktree import repository_root

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

    Warn = Callable[[str], None]


class WalkOptions(Record):
    max_file_size: int
    follow_symlinks: bool = False
    use_gitignore: bool = True
    warn: Warn | None = None  # told when git cannot say what .gitignore excludes
    meanwhile: Callable[[], None] | None = None  # work to do while git lists the ignored files


def read_paths(paths: Sequence[str], options: WalkOptions) -> Iterator[Item]:
    """Each named file, and every file under each named directory, as files to read or reasons
    not to."""
    for path in paths:
        try:
            os.lstat(path)
        except FileNotFoundError:
            raise UsageError(f"no such file or directory: {path!r}") from None
    for path in paths:
        yield from _read_named(os.path.normpath(path), options)


def read_stream(stream: BinaryIO, name: str, max_size: int) -> Blob | Skipped:
    data = _read_capped(stream.read, max_size + 1)
    if len(data) > max_size:
        return Skipped.over_size_cap(name, max_size)
    text = decode_text(data)
    return Skipped(path=name, reason="binary") if text is None else Blob(path=name, text=text)


def _read_named(path: str, options: WalkOptions) -> Iterator[Item]:
    """A path the user named: followed even if it is a symlink, scanned even if ignored."""
    try:
        info = os.stat(path)
    except OSError as e:
        yield ScanError(path=path, message=_describe(e))
        return
    if stat.S_ISDIR(info.st_mode):
        root = repository_root(path) if options.use_gitignore else None
        yield from _walk(path, options, _Ignores.for_directory(root, path, options.warn, options.meanwhile))
    elif stat.S_ISREG(info.st_mode):
        yield Unread(path=path, size=info.st_size, limit=options.max_file_size)
    else:  # a pipe or device named by the user (`<(command)`, /dev/stdin): read as `-` is
        try:
            with open(path, "rb") as handle:
                item: Item = read_stream(handle, path, options.max_file_size)
        except OSError as e:
            item = ScanError(path=path, message=_describe(e))
        yield item


def _walk(top: str, options: WalkOptions, ignores: _Ignores) -> Iterator[Item]:
    stack = [(top, ignores)]
    visited = {_identity(top)}
    while stack:
        directory, ignores = stack.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as e:
            yield ScanError(path=directory, message=_describe(e))
            continue
        ignores = ignores.entering(directory, [e.name for e in entries])
        subdirectories: list[tuple[str, _Ignores]] = []
        for entry in entries:
            item = _visit(entry, top, options, ignores, visited, subdirectories)
            if item is not None:
                yield item
        stack.extend(reversed(subdirectories))  # popped in name order


def _visit(entry: os.DirEntry[str], top: str, options: WalkOptions, ignores: _Ignores,
           visited: set[tuple[int, int]], stack: list[tuple[str, _Ignores]]) -> Item | None:
    path = os.path.normpath(entry.path)
    try:
        is_link = entry.is_symlink()
        is_dir = entry.is_dir(follow_symlinks=options.follow_symlinks)
    except OSError as e:
        return ScanError(path=path, message=_describe(e))
    if entry.name == ".git" or ignores.ignored(path, is_dir):
        return None
    if is_link:
        reason = _unfollowed_link(path, top, options)
        if reason is not None:
            return Skipped(path=path, reason=reason)
    if is_dir:
        try:
            identity = _identity(path)
        except OSError as e:  # a path too long to name (thousands of nested directories)
            return ScanError(path=path, message=_describe(e))
        if identity in visited:
            return Skipped(path=path, reason="symlink loop")
        visited.add(identity)
        stack.append((path, ignores))
        return None
    try:
        size = entry.stat(follow_symlinks=options.follow_symlinks).st_size
    except OSError as e:
        return ScanError(path=path, message=_describe(e))
    return Unread(path=path, size=size, limit=options.max_file_size)


def _unfollowed_link(path: str, top: str, options: WalkOptions) -> str | None:
    """Why a symlink found while walking is not followed, or None to follow it."""
    if not options.follow_symlinks:
        return "symlink (use --follow-symlinks)"
    target = os.path.realpath(path)
    if not os.path.exists(target):
        return "dangling symlink"
    if os.path.commonpath([target, os.path.realpath(top)]) != os.path.realpath(top):
        return "symlink to outside the scanned directory"
    return None


def read_file(path: str, max_size: int) -> Blob | Skipped | ScanError:
    try:  # no file object: a walk reads thousands of small files, and it cost ~7 us each
        fd = _open_nonblocking(path, os.O_RDONLY)
        try:
            info = os.fstat(fd)
            if (skip := _not_to_read(path, info, max_size)) is not None:
                return skip
            data = _read_capped(functools.partial(os.read, fd), max_size + 1, info.st_size)
        finally:
            os.close(fd)
    except OSError as e:
        return ScanError(path=path, message=_describe(e))
    text = decode_text(data)
    return Skipped(path=path, reason="binary") if text is None else Blob(path=path, text=text, data=data)


def _read_capped(read: Callable[[int], bytes], limit: int, expected: int = 1 << 20) -> bytes:
    """At most `limit` bytes, read in pieces: read(n) sets n bytes aside first, and the cap
    can be far larger than the file (up to 1024G)."""
    chunks = [read(min(limit, expected + 1))]
    total = len(chunks[0])
    while total < limit and (chunk := read(min(limit - total, 1 << 20))):
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)  # one piece: that piece itself, not a copy


def _not_to_read(path: str, info: os.stat_result, max_size: int) -> Skipped | None:
    """Why an opened file is not read: not a regular file (a FIFO, a device), or too large."""
    if not stat.S_ISREG(info.st_mode):
        return Skipped(path=path, reason="not a regular file")
    if info.st_size > max_size:
        return Skipped.over_size_cap(path, max_size)
    return None


class Region(Record, kw_only=False):
    """Lines of a file: `data` is its bytes from `low`, and the lines that start in
    [keep_start, keep_end) are the ones asked for, whole; the bytes around them are context."""

    data: bytes
    low: int
    keep_start: int
    keep_end: int
    version: tuple[int, int]  # the file's size and modification time, as read


def read_region(path: str, max_size: int, start: int, end: int | None,
                margin: int) -> Region | Skipped | ScanError | None:
    """The lines of a file that start in bytes [start, end) (end None: to the end of the file),
    with at least `margin` bytes of context on either side, in whole lines unless a line is
    longer than twice the margin; None when the file must be read whole: binary, or UTF-16
    (with its BOM)."""
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            info = os.fstat(handle.fileno())
            if (skip := _not_to_read(path, info, max_size)) is not None:
                return skip
            fd, size = handle.fileno(), info.st_size
            head = os.pread(fd, SNIFF, 0)
            if is_binary(head) or head.startswith(UTF16_BOMS):
                return None
            stop = size if end is None else min(size, end)
            keep_start = 0 if start == 0 else _line_after(fd, start - 1, stop)
            if keep_start >= stop:  # no line starts here: inside a long one, another slice's
                return Region(b"", stop, stop, stop, (size, info.st_mtime_ns))
            keep_end = size if end is None or end >= size else _line_after(fd, end - 1, size)
            # Whole lines of context, unless a line is far longer than the margin (a minified
            # bundle): then the margin only, so no slice reads a huge line it does not own.
            low = _line_before(fd, max(0, keep_start - margin), keep_start - 2 * margin)
            high = _line_after(fd, min(size, keep_end + margin), min(size, keep_end + 2 * margin))
            data = os.pread(fd, high - low, low).removesuffix(b"\n")
    except OSError as e:
        return ScanError(path=path, message=_describe(e))
    return Region(data, low, keep_start, keep_end, (size, info.st_mtime_ns))


_BLOCK = 64 << 10


def _line_after(fd: int, pos: int, limit: int) -> int:
    """Where the first line starting after byte `pos` starts (just past a newline at `pos` or
    later), or `limit` when no newline is before it."""
    while pos < limit:
        block = os.pread(fd, min(_BLOCK, limit - pos), pos)
        found = block.find(b"\n")
        if found >= 0:
            return pos + found + 1
        if not block:
            break
        pos += len(block)
    return limit


def _line_before(fd: int, pos: int, floor: int = 0) -> int:
    """Where the line holding byte `pos` starts, or `floor` when that is before it."""
    floor = max(0, floor)
    while pos > floor:
        low = max(floor, pos - _BLOCK)
        found = os.pread(fd, pos - low, low).rfind(b"\n")
        if found >= 0:
            return low + found + 1
        pos = low
    return floor


def _open_nonblocking(path: str, flags: int) -> int:
    """A FIFO must not hang the scan: open without blocking, then check the file type."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _identity(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _describe(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    return (error.strerror or str(error)).lower()


class _Ignores:
    """Where git ignores files: the untracked files and directories that .gitignore files,
    .git/info/exclude and core.excludesFile exclude, as git lists them (absolute paths; a
    directory ignored whole ends with a slash). A tracked file is never among them: git
    records its changes, ignored or not."""

    def __init__(self, root: str | None, paths: frozenset[str], warn: Warn | None) -> None:
        self.root = root  # the repository whose listing this is; None: nothing is ignored
        self.paths = paths
        self.warn = warn
        self.cwd = os.getcwd()  # once: os.path.abspath asks for it at each call

    @classmethod
    def for_directory(cls, root: str | None, directory: str, warn: Warn | None,
                      meanwhile: Callable[[], None] | None = None) -> _Ignores:
        """What git ignores under a named directory. One that git ignores itself was asked
        for by name: nothing in it is ignored."""
        ignores = cls(root, frozenset(), warn)
        if root is None:
            return ignores
        listed = ignores._listed(os.path.abspath(directory), meanwhile)
        return ignores if os.path.abspath(directory) + os.sep in listed else cls(root, listed, warn)

    def entering(self, directory: str, names: list[str]) -> _Ignores:
        """The walk enters a directory: a repository nested in this one (a submodule, a clone)
        has its own listing, git's answer for this one stops at it."""
        absolute = os.path.abspath(directory)
        if self.root is None or ".git" not in names or absolute == self.root:
            return self
        return _Ignores(self.root, self.paths | self._listed(absolute), self.warn)

    def _listed(self, directory: str, meanwhile: Callable[[], None] | None = None) -> frozenset[str]:
        try:
            listed = git.ignored_paths(directory, meanwhile=meanwhile)
        except GitError as e:  # not a repository after all, a refused owner, no git...
            # Without a word for a directory that cannot be entered (the walk reports it), or
            # an ignored one named by the user (it is scanned whole).
            if self.warn is not None and os.access(directory, os.R_OK | os.X_OK) \
                    and not (self.root and git.is_ignored(directory, self.root)):
                self.warn(f"{directory}: cannot ask git what .gitignore excludes ({e}); "
                          "scanning every file in it")
            return frozenset()
        # "dir/" for a directory ignored whole: its absolute path ends with a separator
        return frozenset(os.path.normpath(os.path.join(directory, path)) + os.sep * path.endswith("/")
                         for path in listed)

    def ignored(self, path: str, is_dir: bool) -> bool:
        if not self.paths:
            return False
        absolute = os.path.normpath(os.path.join(self.cwd, path))
        # a symlink to a directory (--follow-symlinks) is a file to git: listed without a slash
        return absolute in self.paths or (is_dir and absolute + os.sep in self.paths)
