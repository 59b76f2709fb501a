from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

Keyguard = Callable[..., Run]


@pytest.fixture
def repo(tmp_path: Path, key: str) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "fake.env").write_text(f"IMIN_API_KEY={key}\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hello')\n")
    return tmp_path


def test_allowlisted_path_does_not_block_from_any_directory(
        keyguard: Keyguard, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".keyguard.toml").write_text('[[allow]]\npaths = ["fixtures/"]\nreason = "fake keys"\n')
    monkeypatch.chdir(repo / "src")
    run = keyguard("scan", repo)
    assert run.code == 0 and "1 allowlisted" in run.out


def test_pyproject_section_is_read(keyguard: Keyguard, repo: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[[tool.keyguard.allow]]\npaths = ["*.env"]\nreason = "fake"\n')
    monkeypatch.chdir(repo)
    assert keyguard("scan", ".").code == 0


def test_inline_allow_marker(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    (tmp_path / "a.py").write_text(f'KEY = "{key}"  # keyguard:allow test data\n')
    run = keyguard("scan", tmp_path)
    assert run.code == 0 and "1 allowlisted" in run.out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[allow]]\npahts = ["x"]\nreason = "r"\n',
         ".keyguard.toml: [[allow]] #1: unknown key 'pahts' (did you mean 'paths'?)"),
        ('[[allow]]\npaths = ["x"]\n', ".keyguard.toml: [[allow]] #1: 'reason' is required"),
        ('[[allow]]\npaths = "x"\nreason = "r"\n', "[[allow]] #1: 'paths' must be a non-empty list"),
        ("max-file-size = -1\n", "'max-file-size' must be a positive number"),
        ("allow = [\n", ".keyguard.toml: invalid TOML"),
        ("max_file_size = 1\n", "unknown key 'max_file_size' (did you mean 'max-file-size'?)"),
    ],
)
def test_invalid_config_is_exit_3_with_a_precise_message(
        keyguard: Keyguard, repo: Path, monkeypatch: pytest.MonkeyPatch,
        content: str, message: str) -> None:
    (repo / ".keyguard.toml").write_text(content)
    monkeypatch.chdir(repo)
    run = keyguard("scan", ".")
    assert run.code == 3 and message in run.err
    assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err


def test_config_option_overrides(keyguard: Keyguard, repo: Path, tmp_path: Path) -> None:
    other = repo / "other.toml"
    other.write_text('[[allow]]\npaths = ["fixtures/**"]\nreason = "fake keys"\n')
    assert keyguard("scan", repo, "--config", other).code == 0
    assert keyguard("scan", repo, "--config", repo / "missing.toml").code == 2
