"""Repository settings and environment that change what git prints must not change what
keyguard finds (QA, seventh session)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import Repo, fake_key

KEY = fake_key("git-environment")


def test_replace_refs_do_not_hide_a_commit(repo: Repo) -> None:
    repo.write("a.txt", "a\n")
    repo.stage()
    base = repo.commit("base")
    repo.write("k.py", f'API_KEY = "{KEY}"\n')
    repo.stage()
    repo.commit("key")
    repo.git("rm", "-q", "k.py")
    repo.commit("remove the key")
    repo.git("replace", "--graft", "HEAD", base)  # git log now skips the key commit
    assert repo.git("log", "--format=%s").splitlines() == ["remove the key", "base"]
    assert repo.keyguard("history").code == 1


def test_log_output_encoding_is_utf8_whatever_the_config(repo: Repo) -> None:
    repo.write("k.py", f'API_KEY = "{KEY}"\n')
    repo.stage()
    repo.commit("key")
    for encoding in ("UTF-16", "UTF-7", "UTF-16LE"):
        repo.git("config", "i18n.logOutputEncoding", encoding)
        run = repo.keyguard("history")
        assert run.code == 1 and "Traceback" not in run.err, (encoding, run.err)


def test_git_diff_opts_does_not_widen_the_staged_hunks(repo: Repo) -> None:
    repo.write("f.py", f'a = 1\nAPI_KEY = "{KEY}"\nb = 2\n')
    repo.stage()
    repo.commit("an old key, accepted long ago")
    repo.write("f.py", f'a = 1\nAPI_KEY = "{KEY}"\nb = 2\nc = 3\n')
    repo.stage()
    assert repo.keyguard("staged", env={"GIT_DIFF_OPTS": "-u3"}).code == 0


def test_relative_git_dir_from_a_subdirectory(repo: Repo) -> None:
    repo.write("c.txt", "clean\n")
    repo.stage()
    repo.commit("outer")
    inner = Repo(repo.path / "inner")
    inner.write("k.py", f'API_KEY = "{KEY}"\n')
    inner.stage()
    inner.commit("inner")
    (inner.path / "sub").mkdir()
    env = {**os.environ, "GIT_DIR": "../.git", "GIT_WORK_TREE": ".."}  # as a hook run there sees them
    done = subprocess.run([sys.executable, "-m", "keyguard", "history"], cwd=inner.path / "sub",
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
