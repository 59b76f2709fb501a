"""One test per row of docs/failures.md: the documented exit code and one clean line."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from keyguard.errors import GitError, KeyguardError
from keyguard.model import ScanError, Unread
from keyguard.sources.files import WalkOptions, read_paths
from keyguard.workers import forked
from tests.conftest import Repo, Run, fake_key

KEY = fake_key("failures")


def one_line(run: Run, *expected: str) -> None:
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.err, run.err
    for text in expected:
        assert text in lines[0], run.err


@pytest.fixture
def committed(repo: Repo) -> Repo:
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.commit("key")
    repo.write("b.txt", "b\n")
    repo.stage()
    repo.commit("more")
    return repo


def test_unwritable_report_path(repo: Repo) -> None:
    run = repo.keyguard("scan", "--output", "/nonexistent-dir/report.json")
    assert run.code == 2
    one_line(run, "cannot write /nonexistent-dir/report.json")


@pytest.mark.parametrize("stdout", ["full", "closed"])
@pytest.mark.parametrize(("command", "what"), [
    (["scan", "app.env"], "the report"),
    # they printed through click: a traceback and exit 5 when full, nothing and exit 0 when closed
    (["rules"], "the rules"), (["config", "check"], "the result"),
])
def test_unwritable_standard_output(tmp_path: Path, stdout: str, command: list[str], what: str) -> None:
    (tmp_path / "app.env").write_text(f"IMIN_API_KEY={fake_key('stdout')}\n")
    with open(os.devnull if stdout == "closed" else "/dev/full", "w") as sink:
        done = subprocess.run([sys.executable, "-m", "keyguard", *command], cwd=tmp_path,
                              stdout=sink, stderr=subprocess.PIPE, text=True, check=False,
                              preexec_fn=(lambda: os.close(1)) if stdout == "closed" else None)
    expected = (f"cannot write {what}: standard output is closed" if stdout == "closed"
                else f"cannot write {what} to standard output: No space left on device")
    assert (done.returncode, done.stderr.strip()) == (2, f"keyguard: {expected}")


@pytest.mark.parametrize("stderr", ["full", "closed"])
def test_an_unwritable_standard_error_keeps_the_exit_code(repo: Repo, tmp_path: Path, stderr: str) -> None:
    """What keyguard would say is lost, but not what its exit code says (it was 1, the code
    for findings, whenever a message could not be written)."""
    repo.write("clean.txt", "nothing\n")
    no_git = tmp_path / "no-git"
    no_git.mkdir()
    # a missing path (exit 2), and a clean scan with a warning (git missing: exit 0)
    for args, env, code in ((["scan", "nope"], {}, 2), (["scan", "."], {"PATH": str(no_git)}, 0)):
        with open(os.devnull if stderr == "closed" else "/dev/full", "w") as sink:
            done = subprocess.run([sys.executable, "-m", "keyguard", *args], cwd=repo.path,
                                  stdout=subprocess.PIPE, stderr=sink, check=False,
                                  env={**os.environ, **env},
                                  preexec_fn=(lambda: os.close(2)) if stderr == "closed" else None)
        assert done.returncode == code, (args, done.stdout)


def test_git_not_installed(committed: Repo, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    for command in ("staged", "history"):
        run = committed.keyguard(command, env={"PATH": str(empty)})
        assert run.code == 4
        one_line(run, "git is not installed or not on PATH")


def test_git_not_runnable(committed: Repo, tmp_path: Path) -> None:
    # a `git` on PATH that cannot be executed: a traceback and exit 5 once
    fake = tmp_path / "bad-bin" / "git"
    fake.parent.mkdir()
    fake.write_text("not a program\n")
    fake.chmod(0o644)
    for command in ("staged", "history"):
        run = committed.keyguard(command, env={"PATH": str(fake.parent)})
        assert run.code == 4
        one_line(run, "cannot run git: permission denied")


def test_git_too_old(committed: Repo, tmp_path: Path) -> None:
    fake = tmp_path / "old-git" / "git"
    fake.parent.mkdir()
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
    fake.write_text("#!/bin/sh\n"
                    'if [ "$1" = version ]; then echo "git version 2.20.1"; exit 0; fi\n'
                    'for a in "$@"; do case "$a" in --diff-merges*) '
                    'echo "fatal: unrecognized argument: $a" >&2; exit 128;; esac; done\n'
                    f'exec {real} "$@"\n')
    fake.chmod(0o755)
    run = committed.keyguard("history", env={"PATH": f"{fake.parent}:{os.environ['PATH']}"})
    assert run.code == 4
    one_line(run, "unrecognized argument", "keyguard needs git 2.31 or newer; this is 2.20.1")


def test_not_a_repository(tmp_path: Path) -> None:
    outside = Repo.__new__(Repo)
    outside.path = tmp_path
    for command in (["staged"], ["history"], ["ci", "--base", "HEAD"]):
        run = outside.keyguard(*command)
        assert run.code == 4, command
        one_line(run, "not a git repository")


def test_unknown_revision(committed: Repo) -> None:
    run = committed.keyguard("history", "no-such-branch")
    assert run.code == 4
    one_line(run, "no-such-branch")


def test_missing_object(committed: Repo) -> None:
    blob = committed.git("rev-parse", "HEAD:b.txt").strip()
    (committed.path / ".git/objects" / blob[:2] / blob[2:]).unlink()  # commits write loose objects
    run = committed.keyguard("history")
    assert run.code == 4
    one_line(run)


def test_shallow_clone_history(committed: Repo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    committed.git("clone", "-q", "--depth", "1", f"file://{committed.path}", str(clone))
    shallow = Repo.__new__(Repo)
    shallow.path = clone
    run = shallow.keyguard("history")
    assert run.code == 4 and "scan incomplete" in run.out
    one_line(run, "shallow clone", "git fetch --unshallow")


def test_file_vanishing_mid_scan(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("text\n")
    items = read_paths([str(tmp_path)], WalkOptions(max_file_size=1 << 20))
    first = next(items)
    assert isinstance(first, Unread) and first.path.endswith("a.txt")
    (tmp_path / "b.txt").unlink()
    [second] = list(items)
    assert isinstance(second, ScanError) and second.message == "no such file or directory"
    # found by the walk, gone when read (by a worker, in a parallel scan)
    (tmp_path / "a.txt").unlink()
    gone = first.read()
    assert isinstance(gone, ScanError) and gone.message == "no such file or directory"


def test_internal_error_is_exit_5_with_a_request_to_report(
        monkeypatch: pytest.MonkeyPatch, keyguard: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text(f"IMIN_API_KEY={KEY}\n")

    def broken(*args: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr("keyguard.scan.detect", broken)
    run = keyguard("scan", tmp_path)
    assert run.code == 5
    assert "Traceback" in run.err and run.err.strip().splitlines()[-1].startswith(
        "keyguard: internal error in keyguard")
    assert KEY not in run.err


def test_interrupted_is_130(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "keyguard", "scan", "-"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    time.sleep(1.0)  # started and waiting on standard input
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert err.decode().strip().splitlines() == ["keyguard: interrupted"]


@pytest.mark.parametrize("command", ["history", "audit", "scan"])
def test_interrupted_workers_are_quiet(repo: Repo, command: str) -> None:
    """Ctrl-C reaches the whole foreground process group, workers included: history's, an
    audit's (one worker per repository), a large scan's. Only the main process speaks: exit
    130, one line."""
    _seconds_of_scanning(repo, logs=4 if command == "scan" else 2)
    args = ["history", "-j", "2"]
    if command == "audit":
        subprocess.run(["git", "clone", "-q", str(repo.path), str(repo.path.parent / "copy")], check=True)
        args = ["audit", "-j", "2", ".", str(repo.path.parent / "copy")]
    elif command == "scan":
        args = ["scan", "-j", "2", "."]
    process = subprocess.Popen([sys.executable, "-m", "keyguard", *args], cwd=repo.path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_children(process.pid)) >= 2, "the worker processes never started"
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.decode().strip().splitlines() == ["keyguard: interrupted"]


@pytest.mark.parametrize("command", ["scan", "history", "audit"])
def test_a_killed_worker_makes_the_scan_incomplete(repo: Repo, command: str) -> None:
    """A worker killed from outside (the OOM killer, kill -9) never answers for its work: the
    scan says so and exits 4, rather than waiting for ever or finishing without it."""
    _seconds_of_scanning(repo, logs=4 if command == "scan" else 2)
    args = [command, "-j", "2"]
    if command == "audit":  # one worker per repository
        subprocess.run(["git", "clone", "-q", str(repo.path), str(repo.path.parent / "copy")], check=True)
        args += [".", str(repo.path.parent / "copy")]
    process = subprocess.Popen([sys.executable, "-m", "keyguard", *args], cwd=repo.path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        # a busy worker (an idle one: the test below)
        deadline = time.monotonic() + 60
        while not (busy := [w for w in _workers(process.pid) if _cpu_seconds(w) >= 0.2]):
            assert time.monotonic() < deadline, "no worker process got to work"
            time.sleep(0.02)
        os.kill(int(busy[0]), signal.SIGKILL)
        _, err = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):  # a scan left waiting must not outlive the test
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 4
    assert err.decode().strip().splitlines() == [
        "keyguard: a worker process ended before its work was done (exit code -9: killed?); "
        "the scan is incomplete"]


def test_a_worker_killed_while_it_waits_makes_history_incomplete(repo: Repo) -> None:
    """History forks its workers before it plans the work: one killed meanwhile, while it waits
    for work, is no less gone. The scan says so and exits 4 (a pool that replaced it would give
    its task to a copy that inherited git's input pipe, and wait for ever)."""
    stream = []
    for n in range(12_000):  # commits enough for a plan that takes a while (~0.25 s)
        value = f"VALUE = {n}\n"
        stream.append(f"commit refs/heads/main\ncommitter T <t@example.org> {1_700_000_000 + n} +0000\n"
                      "data 2\nc\n"  # each commit follows the last one on the branch
                      f"M 644 inline src/m{n % 100}.py\ndata {len(value)}\n{value}\n")
    repo.git("fast-import", "--quiet", input="".join(stream))
    process = subprocess.Popen([sys.executable, "-m", "keyguard", "history", "-j", "2"], cwd=repo.path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(workers := _workers(process.pid)) < 2:
            assert time.monotonic() < deadline, "the worker processes never started"
            time.sleep(0.01)
        idle = _cpu_seconds(workers[0])
        os.kill(int(workers[0]), signal.SIGKILL)
        _, err = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert idle < 0.05, "the worker was at work already: not the case this test is for"
    assert process.returncode == 4, err.decode()
    assert err.decode().strip().splitlines() == [
        "keyguard: a worker process ended before its work was done (exit code -9: killed?); "
        "the scan is incomplete"]


def test_workers_end_when_the_main_process_is_killed(repo: Repo) -> None:
    """kill -9 of the main process alone (a CI runner's timeout, a user's kill): its workers
    find themselves orphaned and end, busy or not, rather than scan for no one or wait for ever."""
    _seconds_of_scanning(repo, logs=2)
    process = subprocess.Popen([sys.executable, "-m", "keyguard", "history", "-j", "2"], cwd=repo.path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        workers = _workers(process.pid)
        while not any(_cpu_seconds(w) >= 0.2 for w in workers):
            assert time.monotonic() < deadline, "no worker process got to work"
            time.sleep(0.02)
            workers = _workers(process.pid)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 10
        while alive := [w for w in workers if os.path.exists(f"/proc/{w}")]:
            assert time.monotonic() < deadline, f"workers {alive} outlived the main process"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _seconds_of_scanning(repo: Repo, logs: int) -> None:
    """Committed and in the working tree: `logs` large, dense logs, each its own blob (seconds
    of scanning; a working tree is scanned faster than history, so a scan needs more), and
    file versions enough for two workers' worth of history tasks. Their ids are bare, named
    by nothing: each is graded the whole way (a named one is passed over sooner)."""
    log = "".join(f"GET /x {fake_key(f'r{n}')}\n" for n in range(150_000))
    for n in range(logs):
        repo.write(f"logs/access-{n}.log", f"{log}# log {n}\n")
    for n in range(300):
        repo.write(f"src/m{n}.py", f"VALUE = {n}\n")
    repo.stage()
    repo.commit("a large, dense log: seconds of scanning")


def _cpu_seconds(pid: str) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _workers(pid: int) -> list[str]:
    """The children that are keyguard's own processes (forked workers), not git."""
    def forked(child: str) -> bool:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                return b"keyguard" in handle.read()
        except OSError:
            return False
    return [child for child in _children(pid) if forked(child)]


def _children(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return handle.read().split()
    except OSError:
        return []


def _no_git() -> None:
    raise GitError("git is not installed or not on PATH")


def _no_processes_left() -> None:
    raise BlockingIOError(11, "Resource temporarily unavailable")


@pytest.mark.parametrize(("initializer", "expected"), [
    (_no_git, "git is not installed or not on PATH"),
    (_no_processes_left, "a worker process could not start: [Errno 11] Resource temporarily "
                         "unavailable; the scan is incomplete"),
])
def test_a_worker_that_cannot_start_says_why(initializer: Callable[[], None], expected: str,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    """A history worker starts its git when it is forked; if it cannot, the scan stops with
    why, as one error of the main process (exit 4), not a traceback logged by the worker."""
    with pytest.raises(KeyguardError) as raised, forked(2, initializer) as workers:
        workers.answer(workers.submit(int))
    assert str(raised.value) == expected
    assert raised.value.exit_code == 4
    assert capfd.readouterr().err == ""
