"""Every git call goes through here: plumbing, NUL-separated output, nothing git would run.

Repository config cannot make keyguard run code: fsmonitor is off, signatures are not shown
(no gpg), external diff and textconv drivers are disabled on every diff, filters are not
applied, and nothing here runs hooks.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType

from keyguard.errors import GitError

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import IO, Any

# --no-replace-objects: `git replace` must not hide a commit or blob that a push sends and
# a clone holds; the log's encoding fixed, so that repository config cannot change what is parsed
_SAFE = ("-c", "core.fsmonitor=false", "-c", "core.quotePath=false", "-c", "log.showSignature=false",
         "-c", "diff.external=", "-c", "i18n.logOutputEncoding=UTF-8", "--literal-pathspecs",
         "--no-replace-objects")
# Paths git takes from the environment, relative to the directory of whoever set them (a hook
# run from a subdirectory); keyguard runs some git calls from the top level, so they are made
# absolute. GIT_DIFF_OPTS would widen the -U0 hunks the staged scan reads as added lines.
_ENV_PATHS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")
_ENV_DROPPED = ("GIT_DIFF_OPTS",)
NULL_SHA_CHARS = frozenset("0")
MINIMUM_VERSION = (2, 31)  # --diff-merges=first-parent, --end-of-options in rev-list


def environment(**extra: str) -> dict[str, str]:
    """The environment of every git call."""
    env = {name: value for name, value in os.environ.items() if name not in _ENV_DROPPED}
    for name in _ENV_PATHS:
        if env.get(name):
            env[name] = os.path.abspath(env[name])
    return {**env, **extra}


def run(args: Sequence[str], *, cwd: str | None = None, input: bytes | None = None,
        env: dict[str, str] | None = None, meanwhile: Callable[[], None] | None = None) -> bytes:
    """Run git and return its stdout; a failure raises GitError with git's message.
    `meanwhile`: work for this process while git runs."""
    process = _started(["git", *_SAFE, *args], cwd, stdin=None if input is None else subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=environment() if env is None else env)
    with process:
        try:
            if meanwhile is not None:
                meanwhile()
            stdout, stderr = process.communicate(input)
        except BaseException:  # as subprocess.run does: no git left running
            process.kill()
            raise
    if process.returncode != 0:
        raise _failed(args, stderr)
    return stdout


def _started(command: list[str], cwd: str | None, **options: Any) -> subprocess.Popen[bytes]:
    """git started in `cwd`; GitError when it cannot be: not installed, not runnable, or `cwd` a
    directory it cannot enter (mode 000)."""
    try:
        return subprocess.Popen(command, cwd=cwd, text=False, **options)
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        if cwd is not None and e.filename == cwd:
            raise GitError(f"cannot run git in {cwd}: {reason}") from e
        if isinstance(e, FileNotFoundError):
            raise GitError("git is not installed or not on PATH") from e
        raise GitError(f"cannot run git: {reason}") from e


def stream(args: Sequence[str], *, cwd: str | None = None, size: int = 1 << 20) -> Iterator[bytes]:
    """Run git and yield its stdout in chunks as it comes, so a long output is never held
    whole; a failure (seen once the output ends) raises GitError as `run` does."""
    process = _started(["git", *_SAFE, *args], cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=environment())
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None
    _widen(stdout)  # git writes the next chunk while this one is used, instead of waiting
    errors: list[bytes] = []
    drain = _drained(stderr, errors)  # git blocks if its stderr pipe fills while stdout is being read
    ended = False
    try:
        while chunk := stdout.read(size):
            yield chunk
        ended = True
    finally:
        if not ended:
            process.kill()  # the reader stopped early: git must not block on a full pipe
        stdout.close()
        drain.join()
        code = process.wait()
    if code != 0:
        raise _failed(args, b"".join(errors))


def _failed(args: Sequence[str], stderr: bytes) -> GitError:
    return GitError(f"git {args[0]} failed: {_message(stderr)}{_too_old()}")


def _too_old() -> str:
    """Asked only after a failure, so a fast path pays nothing for it."""
    try:
        out = subprocess.run(["git", "version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""
    version = out.split()[-1] if out.split() else ""
    numbers = tuple(int(n) for n in version.split(".")[:2] if n.isdigit())
    if len(numbers) == 2 and numbers < MINIMUM_VERSION:
        needed = ".".join(map(str, MINIMUM_VERSION))
        return f" (keyguard needs git {needed} or newer; this is {version})"
    return ""


def _message(stderr: bytes) -> str:
    """git's own reason, on one line: its fatal/error line if it printed one."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
    reasons = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (reasons or lines)[-1]


def ignored_paths(directory: str, *paths: str, meanwhile: Callable[[], None] | None = None) -> list[str]:
    """The untracked paths under `directory` (or among `paths`) that git ignores, relative to
    it; a directory ignored whole ends with "/" ("./" when `directory` is). Asked of the
    repository that holds `directory`, whatever GIT_DIR says: the walk finds repositories by
    their .git, so must this."""
    out = run(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory",
               *(["--", *paths] if paths else [])], cwd=directory, env=_found_from_cwd(),
              meanwhile=meanwhile)
    return os.fsdecode(out).split("\0")[:-1]


def is_ignored(directory: str, root: str) -> bool:
    """Whether git ignores `directory`, in the repository at `root`, or a directory above it
    (ls-files fails inside one). check-ignore refuses --literal-pathspecs: ls-files answers."""
    relative = os.path.relpath(directory, root).replace(os.sep, "/")
    try:
        listed = ignored_paths(root, relative)
    except GitError:
        return False
    return any(f"{relative}/".startswith(entry) for entry in listed if entry.endswith("/"))


def _found_from_cwd() -> dict[str, str]:
    """The environment without the variables that name a repository: git finds it from cwd."""
    return {name: value for name, value in environment().items() if name not in _ENV_PATHS}


def is_null_sha(sha: str) -> bool:
    return set(sha) <= NULL_SHA_CHARS


def toplevel(cwd: str | None = None) -> str:
    return run(["rev-parse", "--show-toplevel"], cwd=cwd).decode().rstrip("\n")


def repository_dir(cwd: str | None = None) -> str:
    """The top of the work tree `cwd` is in, or the repository itself when it is bare (a
    mirror): where a history scan runs."""
    out = run(["rev-parse", "--is-bare-repository", "--absolute-git-dir"], cwd=cwd).decode()
    bare, git_dir = out.split("\n")[:2]
    return git_dir if bare == "true" else toplevel(cwd)


def toplevel_and_git_path(name: str, cwd: str | None = None) -> tuple[str, str]:
    """The work tree's root and where `name` lives in the git directory, in one call."""
    out = run(["rev-parse", "--show-toplevel", "--git-path", name], cwd=cwd)
    root, path = out.decode("utf-8", "surrogateescape").rstrip("\n").split("\n")[-2:]
    return root, path


def has_commit(revision: str, cwd: str | None = None) -> bool:
    try:
        run(["cat-file", "-e", f"{revision}^{{commit}}"], cwd=cwd)
    except GitError:
        return False
    return True


def shallow_boundary(cwd: str | None = None) -> frozenset[str]:
    """The commits whose parents a shallow clone lacks (none in a full clone)."""
    path = run(["rev-parse", "--git-path", "shallow"], cwd=cwd).decode().rstrip("\n")
    try:
        with open(os.path.join(cwd or os.getcwd(), path), encoding="ascii") as handle:
            return frozenset(handle.read().split())
    except FileNotFoundError:
        return frozenset()
    except (OSError, UnicodeDecodeError) as e:
        raise GitError(f"cannot read {path}: {e}") from e


def remote_tips(remote: str, cwd: str | None = None) -> list[str]:
    """The commits that the remote-tracking refs of `remote` (its fetch refspecs' destinations)
    point at. None when they cannot speak for where a push goes: a URL, not a remote's name; a
    remote with several URLs (a push goes to all, a fetch reads the first), or push URLs that
    are not its URL; and never a ref that another remote's refspec also writes."""
    if not pushes_where_it_fetches(remote, cwd):  # a URL, several URLs, another push URL
        return []
    try:
        listed = run(["config", "--null", "--get-regexp", r"^remote\..*\.fetch$"], cwd=cwd)
    except GitError:  # no fetch refspec anywhere (exit 1): no tracking refs to trust
        return []
    destinations: dict[str, list[str]] = {}  # each remote's refspecs' destinations
    for entry in listed.decode("utf-8", "surrogateescape").split("\0")[:-1]:
        key, _, spec = entry.partition("\n")
        if ":" in spec:
            name = key.removeprefix("remote.").rpartition(".")[0]
            destinations.setdefault(name, []).append(spec.lstrip("+").partition(":")[2])
    out = run(["for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes"], cwd=cwd)
    tips = set()
    for sha, _, ref in (line.partition(" ") for line in out.decode("utf-8", "surrogateescape").splitlines()):
        owners = {name for name, patterns in destinations.items()
                  if any(_refspec_matches(pattern, ref) for pattern in patterns)}
        if owners == {remote}:
            tips.add(sha)
    return sorted(tips)


def pushes_where_it_fetches(remote: str, cwd: str | None = None) -> bool:
    """Whether a remote's push URLs are its fetch URLs, as git rewrites them (url.<base>.
    insteadOf, pushInsteadOf, pushurl): only then do its tracking refs say what a push finds."""
    try:
        fetched, pushed = (run(["remote", "get-url", *push, "--all", "--", remote], cwd=cwd)
                           for push in ([], ["--push"]))
    except GitError:  # not a remote's name: a URL
        return False
    return fetched == pushed and fetched.count(b"\n") == 1  # one URL: a fetch reads the first only


def is_remote(name: str, cwd: str | None = None) -> bool:
    """Whether `name` names a configured remote (git's pre-push hook gets a URL otherwise)."""
    return name in run(["remote"], cwd=cwd).decode("utf-8", "surrogateescape").split()


def blob_at(commit: str, path: str, cwd: str | None = None) -> str | None:
    """The blob at `path` (from the top level) in `commit`, or None; any name: ls-tree reads
    it as an argument, not a line."""
    out = run(["ls-tree", "-z", "--full-tree", commit, "--", path], cwd=cwd)  # path from the top
    meta, _, _ = out.partition(b"\t")
    fields = meta.split()
    return fields[2].decode() if len(fields) == 3 and fields[1] == b"blob" else None


def _refspec_matches(pattern: str, ref: str) -> bool:
    """Whether a refspec side (`refs/remotes/origin/*`, or a full ref) names the ref."""
    prefix, star, suffix = pattern.partition("*")
    if not star:
        return ref == pattern
    return len(ref) >= len(prefix) + len(suffix) and ref.startswith(prefix) and ref.endswith(suffix)


def empty_tree(cwd: str | None = None) -> str:
    # from standard input, not /dev/null: where that is not the device, it need not be empty
    return run(["hash-object", "--no-filters", "-t", "tree", "--stdin"], cwd=cwd, input=b"").decode().strip()


def blob_ids(specs: Sequence[str], cwd: str | None = None) -> list[str | None]:
    """The blob each `<commit>:<path>` names (None when it names no blob), in order, from one
    `git cat-file --batch-check`."""
    if not specs:
        return []
    out = run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd=cwd,
              input="".join(f"{spec}\n" for spec in specs).encode("utf-8", "surrogateescape"))
    answers = out.decode("utf-8", "surrogateescape").splitlines()
    return [fields[0] if len(fields) == 2 and fields[1] == "blob" else None
            for fields in (answer.split(" ") for answer in answers)]


def blob_head(sha: str, size: int, cwd: str | None = None) -> bytes:
    """The first `size` bytes of a blob, without reading the rest (a file over the size cap:
    binary or text?)."""
    process = _started(["git", *_SAFE, "cat-file", "blob", sha], cwd, env=environment(),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    with process.stdout:
        head = process.stdout.read(size)
    process.kill()
    process.wait()
    return head


def object_sizes(shas: Iterable[str], cwd: str | None = None) -> dict[str, int]:
    """Each object's size, from one `git cat-file --batch-check`; missing objects are left out."""
    with SizeReader(cwd) as reader:
        for sha in shas:
            reader.ask(sha)
        return reader.sizes()


class SizeReader:
    """Object sizes asked one by one while something else goes on (a `git log` being parsed):
    `git cat-file --batch-check` answers as they come, a thread keeps its output drained, so
    neither side ever waits on the other; `sizes()` ends it."""

    def __init__(self, cwd: str | None = None) -> None:
        self._process = _started(
            ["git", *_SAFE, "cat-file", "--batch-check=%(objectname) %(objectsize)"], cwd,
            env=environment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            bufsize=1 << 16)
        self._output: list[bytes] = []
        self._errors: list[bytes] = []
        self._drains = [_drained(self._process.stdout, self._output),
                        _drained(self._process.stderr, self._errors)]

    def __enter__(self) -> SizeReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._process.returncode is None:  # left early: git is not waited for
            self._process.kill()
            self._end()

    def ask(self, sha: str) -> None:
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # git stopped: `sizes()` reports why
            self._process.stdin.write(sha.encode() + b"\n")

    def sizes(self) -> dict[str, int]:
        if self._end() != 0:
            raise _failed(["cat-file"], b"".join(self._errors))
        sizes = {}
        for line in b"".join(self._output).decode().splitlines():
            sha, size = line.split()
            if size.isdigit():  # "<sha> missing" otherwise: the reader reports it
                sizes[sha] = int(size)
        return sizes

    def _end(self) -> int:
        stdin = self._process.stdin
        if stdin is not None and not stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                stdin.close()
        for drain in self._drains:
            drain.join()
        return self._process.wait()


def _drained(pipe: IO[bytes] | None, into: list[bytes]) -> threading.Thread:
    """A thread reading `pipe` to its end into `into`, so the process writing it never blocks."""
    assert pipe is not None
    thread = threading.Thread(target=lambda: into.append(pipe.read()), daemon=True)
    thread.start()
    return thread


# glibc maps each allocation over 128 KiB-32 MiB afresh and unmaps it when freed: git cat-file
# then pays page faults for every large blob it rebuilds (1.0-1.2 s of system time reading the
# benchmark's 5 GB; 0.5 s kept in its heap). Up to 16 MiB free is kept, so the history scan's
# peak stays where it was (215 MB; 225 MB keeping up to 32 MiB). Other C libraries ignore these.
_REUSE_LARGE_BUFFERS = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(16 << 20)}


class ObjectReader:
    """One long-lived `git cat-file --batch` process serving many objects."""

    def __init__(self, cwd: str | None = None, cache_mib: int = 24) -> None:
        self.cache_mib = cache_mib
        self._process = _started(
            # The delta base cache bounds what reading each path's versions in turn costs in
            # a delta-packed repository: large versions rebuilt oldest first miss it often
            # (the benchmark's files of 1-5 MB: 4.5 s of git with 24m, 2.9 s with 48m, 1.7 s
            # in pack order); small ones do not need it (1.7 s with 4m or 24m). git's 96m
            # default in every process would cost ~150 MB more.
            ["git", *_SAFE, "-c", f"core.deltaBaseCacheLimit={cache_mib}m", "cat-file", "--batch"],
            cwd, env=environment(**_REUSE_LARGE_BUFFERS), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20)
        _widen(self._process.stdout)

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def read(self, sha: str, max_size: int | None = None) -> tuple[str, bytes | None]:
        """The object's type and content (None when over `max_size`, never held in memory);
        a missing object raises GitError."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(sha.encode() + b"\n")
            stdin.flush()
        except BrokenPipeError as e:
            raise GitError("git cat-file stopped unexpectedly") from e
        return self._response(sha, max_size)

    def _response(self, sha: str, max_size: int | None) -> tuple[str, bytes | None]:
        stdout = self._process.stdout
        assert stdout is not None
        header = stdout.readline().split()
        if len(header) != 3:
            raise GitError(f"object {sha} is missing or unreadable (corrupt repository?)")
        size = int(header[2])
        if max_size is not None and size > max_size:
            _drain(stdout, size + 1)
            return header[1].decode(), None
        content = stdout.read(size)  # then its newline: no copy of the content to drop it
        if len(content) < size or not stdout.read(1):
            raise GitError("git cat-file stopped unexpectedly")
        return header[1].decode(), content

    def read_many(self, shas: list[str], max_size: int | None = None) -> Iterator[tuple[str, bytes | None]]:
        """Like `read` for each sha, in order, with all requests sent ahead by a thread: no
        round trip per object."""
        stdin = self._process.stdin
        assert stdin is not None

        def send() -> None:
            try:
                stdin.write(b"".join(sha.encode() + b"\n" for sha in shas))
                stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader reports what is missing

        writer = threading.Thread(target=send, daemon=True)
        writer.start()
        answered = 0
        try:
            for sha in shas:
                content = self._response(sha, max_size)[1]
                answered += 1
                yield sha, content
        finally:
            if answered < len(shas) and writer.is_alive():
                # Stopped early (an error, a missing object): git would block on its unread
                # output and the writer on git's full input. Ending git releases both. After
                # the last answer git has read every request, and the writer is only ending.
                self._process.kill()
            writer.join()

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        if self._process.stdout:
            self._process.stdout.close()
        self._process.wait()


def _widen(pipe: IO[bytes] | None) -> None:
    """A 1 MiB pipe instead of 64 KiB, where the system allows it (Linux): git hands over a
    large blob in far fewer writes and wake-ups (a quarter less CPU reading the benchmark's
    blobs, benchmarks/README.md)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[union-attr]
    except (ImportError, AttributeError, OSError):
        pass


def _drain(stream: IO[bytes], size: int) -> None:
    """Skip an object's bytes in bounded chunks."""
    while size > 0:
        chunk = stream.read(min(size, 1 << 20))
        if not chunk:
            raise GitError("git cat-file stopped unexpectedly")
        size -= len(chunk)
