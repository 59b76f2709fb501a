"""The real pre-commit framework installing keyguard from this repository (.pre-commit-hooks.yaml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Repo, fake_key

ROOT = Path(__file__).parents[1]
KEY = fake_key("pre-commit framework")
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("pre-commit-home"))


def pre_commit(repo: Repo, home: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PRE_COMMIT, *args], cwd=repo.path, capture_output=True, text=True,
                          env={**os.environ, "PRE_COMMIT_HOME": home}, check=False, timeout=600)


def test_try_repo_blocks_a_staged_key_only(repo: Repo, pre_commit_home: str) -> None:
    repo.write("README.md", "hello\n")
    repo.stage()
    repo.commit("base")
    repo.write("config.env", f"IMIN_API_KEY={KEY}\n")
    done = pre_commit(repo, pre_commit_home, "try-repo", str(ROOT), "keyguard")
    assert done.returncode == 0, done.stdout + done.stderr  # only in the working tree
    repo.stage("config.env")
    done = pre_commit(repo, pre_commit_home, "try-repo", str(ROOT), "keyguard")
    assert done.returncode == 1 and "hex32-key" in done.stdout
    assert KEY not in done.stdout + done.stderr


def test_file_names_like_options_are_file_names(repo: Repo, pre_commit_home: str) -> None:
    # pre-commit passes staged names as they are: `-o` before `a.env` once wrote the report
    # over a.env, `-h` printed help and let the key through
    repo.write("README.md", "hello\n")
    repo.stage()
    repo.commit("base")
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.write("-h", "help\n")
    repo.write("-o", "out\n")
    repo.git("add", "--", "a.env", "-h", "-o")
    done = pre_commit(repo, pre_commit_home, "try-repo", str(ROOT), "keyguard")
    assert done.returncode == 1 and "hex32-key" in done.stdout, done.stdout + done.stderr
    assert (repo.path / "a.env").read_text() == f"IMIN_API_KEY={KEY}\n"


def test_a_rename_of_a_committed_key_adds_nothing(repo: Repo, pre_commit_home: str) -> None:
    # with the file names given, git once compared only the new name and saw an added file
    repo.write("old.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.commit("the key, before keyguard")
    repo.git("mv", "old.env", "new.env")
    done = pre_commit(repo, pre_commit_home, "try-repo", str(ROOT), "keyguard")
    assert done.returncode == 0, done.stdout + done.stderr
    repo.write("new.env", f"IMIN_API_KEY={KEY}\nIMIN_OTHER_KEY={fake_key('renamed')}\n")
    repo.stage("new.env")
    done = pre_commit(repo, pre_commit_home, "try-repo", str(ROOT), "keyguard")
    assert done.returncode == 1 and "new.env:2:" in done.stdout, done.stdout + done.stderr


def test_try_repo_pre_push_range(repo: Repo, pre_commit_home: str) -> None:
    repo.write("README.md", "hello\n")
    repo.stage()
    base = repo.commit("base")
    repo.write("client.sh", f"curl -H 'X-API-KEY: {KEY}' https://x\n")
    repo.stage()
    repo.commit("leak")
    repo.write("more.txt", "more\n")
    repo.stage()
    head = repo.commit("more")
    done = pre_commit(repo, pre_commit_home, "try-repo", str(ROOT), "keyguard-push",
                      "--hook-stage", "pre-push", "--from-ref", base, "--to-ref", head)
    assert done.returncode == 1 and "x-api-key" in done.stdout, done.stdout + done.stderr


def test_pre_push_to_a_remote_that_pushes_elsewhere_reads_the_whole_branch(repo: Repo, tmp_path: Path,
                                                                          pre_commit_home: str) -> None:
    # for a new branch pre-commit derives FROM_REF from origin's tracking refs; origin pushes
    # to another repository (pushInsteadOf), which holds none of it
    fetched, pushed_to = tmp_path / "a.git", tmp_path / "b.git"
    for bare in (fetched, pushed_to):
        repo.git("init", "-q", "--bare", str(bare))
    repo.write("client.sh", f"curl -H 'X-API-KEY: {KEY}' https://x\n")
    repo.stage()
    base = repo.commit("the key, on a")
    repo.git("remote", "add", "origin", str(fetched))
    repo.git("push", "-q", "origin", "main")
    repo.git("config", f"url.{pushed_to}.pushInsteadOf", str(fetched))
    repo.write("more.txt", "more\n")
    repo.stage()
    head = repo.commit("more")
    done = pre_commit(repo, pre_commit_home, "try-repo", str(ROOT), "keyguard-push", "--hook-stage",
                      "pre-push", "--from-ref", base, "--to-ref", head, "--remote-name", "origin",
                      "--remote-url", str(pushed_to), "--remote-branch", "refs/heads/feature",
                      "--local-branch", "refs/heads/main")  # as pre-commit's hook sets them
    assert done.returncode == 1 and "x-api-key" in done.stdout, done.stdout + done.stderr


def test_git_commit_through_installed_pre_commit(repo: Repo, pre_commit_home: str) -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if head.returncode != 0:
        pytest.skip("this checkout has no commit for pre-commit to install from")
    repo.write(".pre-commit-config.yaml", f"repos:\n- repo: {ROOT}\n  rev: {head.stdout.strip()}\n"
                                          "  hooks:\n  - id: keyguard\n")
    repo.stage()
    repo.commit("config")
    assert pre_commit(repo, pre_commit_home, "install").returncode == 0
    repo.write("settings.py", f'API_KEY = "{KEY}"\n')
    repo.stage()
    done = subprocess.run(["git", "commit", "-m", "leak"], cwd=repo.path, capture_output=True,
                          text=True, env={**os.environ, "PRE_COMMIT_HOME": pre_commit_home},
                          check=False, timeout=600)
    assert done.returncode != 0 and "hex32-key" in done.stdout + done.stderr
    assert repo.git("rev-list", "--count", "HEAD").strip() == "1"


def test_first_push_through_installed_pre_commit_is_blocked(repo: Repo, pre_commit_home: str,
                                                             tmp_path: Path) -> None:
    # pushing a root commit: pre-commit gives the hook PRE_COMMIT_LOCAL_BRANCH and no refs
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if head.returncode != 0:
        pytest.skip("this checkout has no commit for pre-commit to install from")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.write(".pre-commit-config.yaml", f"repos:\n- repo: {ROOT}\n  rev: {head.stdout.strip()}\n"
                                          "  hooks:\n  - id: keyguard-push\n")
    repo.write("settings.py", f'API_KEY = "{KEY}"\n')
    repo.stage()
    repo.commit("the first commit, with a key")
    assert pre_commit(repo, pre_commit_home, "install", "-t", "pre-push").returncode == 0
    done = subprocess.run(["git", "push", str(remote), "main"], cwd=repo.path, capture_output=True,
                          text=True, env={**os.environ, "PRE_COMMIT_HOME": pre_commit_home},
                          check=False, timeout=600)
    assert done.returncode != 0 and "hex32-key" in done.stdout + done.stderr, done.stdout + done.stderr
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "main"], cwd=remote,
                          check=False).returncode != 0  # nothing reached the remote
