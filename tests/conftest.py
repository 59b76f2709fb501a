from __future__ import annotations

import hashlib
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
