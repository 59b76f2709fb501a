"""`keyguard history`: every secret once, attributed to the commit that introduced it."""

from __future__ import annotations

import base64
import json
import os
import pty
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.conftest import Repo, drain_terminal, fake_key

KEYS = {name: fake_key(f"history-{name}") for name in (
    "removed", "side", "merge", "renamed", "deleted", "message", "tag")}


def history(repo: Repo, *args: str) -> tuple[int, list[dict]]:
    run = repo.keyguard("history", "--format", "json", *args)
    assert run.code in (0, 1), run.err
    return run.code, json.loads(run.out)["findings"]


@pytest.fixture
def story(repo: Repo) -> dict[str, str]:
    """A history with each kind of leak; returns the commit (or tag) expected for each key."""
    commits = {}
    repo.write("README.md", "project\n")
    repo.stage()
    repo.commit("start")
    repo.write("a.env", f"IMIN_API_KEY={KEYS['removed']}\n")
    repo.stage()
    commits["removed"] = repo.commit("add a key")
    repo.write("a.env", "IMIN_API_KEY=\n")
    repo.stage()
    repo.commit("remove it")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("side.http", f"GET / HTTP/1.1\nX-API-KEY: {KEYS['side']}\n")
    repo.write("c.txt", "side version\n")
    repo.stage()
    commits["side"] = repo.commit("side work")
    repo.git("checkout", "-q", "main")
    repo.write("c.txt", "main version\n")
    repo.stage()
    repo.commit("main work")
    repo.git("merge", "-q", "side", "-m", "merge", check=False)  # conflicts on c.txt
    repo.write("c.txt", f"resolved\nIMIN_TOKEN={KEYS['merge']}\n")
    repo.stage()
    commits["merge"] = repo.commit("merge side")
    repo.git("checkout", "-q", "-b", "only-side-branch")
    repo.write("branch.py", f'api_key = "{fake_key("branch-only")}"\n')
    repo.stage()
    commits["branch-only"] = repo.commit("on a branch nobody merged")
    repo.git("checkout", "-q", "main")
    repo.write("old.py", f'api_key = "{KEYS["renamed"]}"\n')
    repo.stage()
    commits["renamed"] = repo.commit("old file")
    repo.git("mv", "old.py", "new.py")
    repo.commit("rename")
    repo.write("gone.env", f"TOKEN={KEYS['deleted']}\n")
    repo.stage()
    commits["deleted"] = repo.commit("soon deleted")
    repo.git("rm", "-q", "gone.env")
    repo.commit("delete")
    commits["message"] = repo.commit(f"debug: X-API-KEY: {KEYS['message']}", "--allow-empty")
    repo.git("tag", "-a", "v1", "-m", f"release notes api_key={KEYS['tag']}")
    commits["tag"] = "refs/tags/v1"
    return commits


def test_every_leak_once_with_its_commit(repo: Repo, story: dict[str, str]) -> None:
    code, findings = history(repo, "--show-secrets")
    assert code == 1
    by_secret: dict[str, list[dict]] = {}
    for finding in findings:
        by_secret.setdefault(finding["secret"], []).append(finding)
    expected = {**KEYS, "branch-only": fake_key("branch-only")}
    assert set(by_secret) == set(expected.values())
    for name, key in expected.items():
        [finding] = by_secret[key]  # once
        assert finding["origin"]["commit"] == story[name], name
    where = {name: by_secret[key][0]["path"] for name, key in expected.items()}
    assert where == {"removed": "a.env", "side": "side.http", "merge": "c.txt",
                     "renamed": "new.py", "deleted": "gone.env", "message": "(commit message)",
                     "tag": "(tag message) refs/tags/v1", "branch-only": "branch.py"}
    renamed = by_secret[KEYS["renamed"]][0]
    assert renamed["origin"]["author"] == "Test Author"
    assert renamed["origin"]["email"] == "test@example.org"
    assert renamed["origin"]["date"].startswith("2026-01-01T12:00:00")


def test_redacted_by_default(repo: Repo, story: dict[str, str]) -> None:
    run = repo.keyguard("history")
    assert run.code == 1
    assert not any(key in run.out + run.err for key in KEYS.values())
    assert f"introduced in commit {story['side'][:12]} by Test Author" in run.out


def test_range_reports_only_what_the_range_introduces(repo: Repo, story: dict[str, str]) -> None:
    code, findings = history(repo, f"{story['renamed']}..main", "--show-secrets")
    assert code == 1
    assert {f["secret"] for f in findings} == {KEYS["deleted"], KEYS["message"]}


def test_edit_of_a_file_with_an_old_key_is_not_new(repo: Repo) -> None:
    key = fake_key("old")
    repo.write("a.env", f"IMIN_API_KEY={key}\n")
    repo.stage()
    base = repo.commit("old key")
    repo.write("a.env", f"IMIN_API_KEY={key}\nDEBUG=1\n")
    repo.stage()
    repo.commit("unrelated edit")
    code, findings = history(repo, f"{base}..HEAD")
    assert (code, findings) == (0, [])


def test_each_blob_is_read_once_however_many_commits_share_it(repo: Repo) -> None:
    key = fake_key("shared")
    repo.write("a.env", f"IMIN_API_KEY={key}\n")
    repo.stage()
    first = repo.commit("key")
    for n in range(5):
        repo.write(f"other{n}.txt", f"{n}\n")
        repo.stage()
        repo.commit(f"more {n}")
    run = repo.keyguard("history")
    assert "6 file versions scanned" in run.out  # a.env once, 5 others
    _, findings = history(repo)
    assert [f["origin"]["commit"] for f in findings] == [first]


def test_messages_with_encoded_keys(repo: Repo) -> None:
    """Messages pass through the fast path's prefilter: encoded keys must still reach detection,
    and messages without anything a rule could fire on give nothing."""
    keys = {form: fake_key(f"message-{form}") for form in ("base64", "percent", "unicode")}
    encoded = base64.b64encode(f"IMIN_API_KEY={keys['base64']}".encode()).decode()
    url = urllib.parse.quote(f"https://api.example.org/v1?api_key={keys['percent']}", safe="")
    commits = {
        "base64": repo.commit(f"deploy notes\n\nconfig: {encoded}", "--allow-empty"),
        "percent": repo.commit(f"redirect={url}", "--allow-empty"),
        "unicode": repo.commit(f"réglage: api_key = \"{keys['unicode']}\"", "--allow-empty"),
    }
    for n in range(5):
        repo.commit(f"plain message {n}", "--allow-empty")
    _, findings = history(repo, "--show-secrets")
    assert {f["secret"]: f["origin"]["commit"] for f in findings} == {
        keys[form]: commits[form] for form in keys}


def test_unknown_revision_is_exit_4_with_gits_message(repo: Repo, story: dict[str, str]) -> None:
    run = repo.keyguard("history", "no-such-branch")
    assert run.code == 4 and "no-such-branch" in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_option_like_revision_is_refused(repo: Repo, story: dict[str, str]) -> None:
    run = repo.keyguard("history", "--", "--output=/tmp/x")
    assert run.code == 2 and "not a revision" in run.err


def test_since_and_max_file_size(repo: Repo) -> None:
    key = fake_key("big")
    repo.write("big.env", f"IMIN_API_KEY={key}\n" + "x" * 5000)
    repo.stage()
    repo.commit("big")
    assert repo.keyguard("history", "--max-file-size", "1k").code == 0
    assert repo.keyguard("history").code == 1
    assert repo.keyguard("history", "--since", "2030-01-01").code == 0


def run_with_terminal_stderr(repo: Repo, env: dict[str, str]) -> str:
    """keyguard history with stderr on a pseudo-terminal; returns what the terminal showed."""
    leader, follower = pty.openpty()
    subprocess.run([sys.executable, "-m", "keyguard", "history", "-q", "-j", "1"], cwd=repo.path,
                   stdout=subprocess.DEVNULL, stderr=follower, env={**os.environ, **env},
                   check=False, timeout=60)
    os.close(follower)
    return drain_terminal(leader)


def test_progress_only_on_a_terminal_and_never_in_ci(repo: Repo) -> None:
    for n in range(3):
        repo.write(f"f{n}.txt", f"{n}\n")
        repo.stage()
        repo.commit(f"c{n}")
    assert "file versions" in run_with_terminal_stderr(repo, {})
    assert "file versions" not in run_with_terminal_stderr(repo, {"CI": "true"})
    assert "file versions" not in repo.keyguard("history").err  # a pipe, not a terminal


def test_refs_naming_blobs_and_trees_are_scanned(repo: Repo) -> None:
    repo.write("a.txt", "a\n")
    repo.stage()
    repo.commit("clean")
    blob = repo.git("hash-object", "-w", "--stdin", input=f'API_KEY = "{fake_key("tagged blob")}"\n').strip()
    tree = repo.git("mktree", input=f"100644 blob {blob}\tk.py\n").strip()
    assert repo.keyguard("history").code == 0  # git log reaches neither
    repo.git("tag", "keyblob", blob)
    run = repo.keyguard("history")
    assert run.code == 1 and "(tagged blob) refs/tags/keyblob:1:" in run.out
    assert "introduced in tag refs/tags/keyblob\n" in run.out
    repo.git("tag", "-d", "keyblob")
    repo.git("tag", "-a", "-m", "a tree", "keytree", tree)  # annotated, of a tree
    run = repo.keyguard("history")
    assert run.code == 1 and "(tagged tree) refs/tags/keytree:k.py:1:" in run.out


def test_history_and_pre_push_in_a_bare_mirror(repo: Repo, tmp_path: Path) -> None:
    repo.write("k.py", f'API_KEY = "{fake_key("mirror")}"\n')
    repo.stage()
    head = repo.commit("key")
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(mirror)], check=True)
    update = f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"
    for args, stdin in ((["history"], ""), (["pre-push"], update)):
        done = subprocess.run([sys.executable, "-m", "keyguard", *args], cwd=mirror, input=stdin,
                              capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 1 and "k.py:1:" in done.stdout, (args, done.stderr)
