from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from keyguard.cli import main


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own git config and identity cannot change results."""
    home = tmp_path_factory.mktemp("home")
    (home / "gitconfig").write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(home))
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{name}_NAME", "Test Author")
        monkeypatch.setenv(f"GIT_{name}_EMAIL", "test@example.org")
        monkeypatch.setenv(f"GIT_{name}_DATE", "2026-01-01T12:00:00Z")
    monkeypatch.delenv("NO_COLOR", raising=False)
    # The suite may itself run in CI or under pre-commit: their variables must not leak in.
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "CI_", "PRE_COMMIT_")) or name in ("GITLAB_CI", "CI"):
            monkeypatch.delenv(name)


def fake_key(seed: str) -> str:
    """A 32-hex key built at run time, so no key sits in the test sources."""
    return hashlib.md5(seed.encode()).hexdigest()  # not security: just 32 hex digits


@pytest.fixture
def key() -> str:
    return fake_key("keyguard-tests")


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def keyguard(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


class Repo:
    """A real git repository in tmp_path, driven with real git."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, input: str | None = None, check: bool = True) -> str:
        done = subprocess.run(["git", *args], cwd=self.path, input=input, capture_output=True,
                              text=True, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def stage(self, *names: str) -> None:
        self.git("add", "--", *(names or (".",)))

    def commit(self, message: str, *args: str) -> str:
        self.git("commit", "-q", "--no-verify", "-m", message, *args)
        return self.git("rev-parse", "HEAD").strip()

    def hooked_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`git commit` with hooks running, as a user would type it."""
        return subprocess.run(["git", "commit", *args], cwd=self.path, capture_output=True,
                              text=True, check=False, timeout=300)

    def keyguard(self, *args: str, input: str = "", env: dict[str, str] | None = None) -> Run:
        done = subprocess.run([sys.executable, "-m", "keyguard", *args], cwd=self.path, input=input,
                              capture_output=True, text=True, env={**os.environ, **(env or {})},
                              check=False, timeout=120)
        return Run(done.returncode, done.stdout, done.stderr)


def drain_terminal(leader: int) -> str:
    """Everything a program wrote to a pseudo-terminal, once its side is closed."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # Linux reports the closed other side as EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks).decode()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")
