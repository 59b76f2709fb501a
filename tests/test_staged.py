"""`keyguard staged` and the hooks, driven by real `git commit`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from keyguard.cli.common import REPORT_DEFAULTS
from tests.conftest import Repo, fake_key

KEY = fake_key("staged")
OTHER = fake_key("staged-other")


def committed(repo: Repo) -> int:
    return int(repo.git("rev-list", "--count", "--all", check=False).strip() or 0)


@pytest.fixture
def hooked(repo: Repo) -> Repo:
    assert repo.keyguard("install", "--hook", "pre-commit").code == 0
    return repo


def test_initial_commit_with_a_key_is_blocked(hooked: Repo) -> None:
    hooked.write("app.env", f"IMIN_API_KEY={KEY}\n")
    hooked.stage()
    done = hooked.hooked_commit("-m", "first")
    assert committed(hooked) == 0, done
    result = hooked.keyguard("staged")
    assert result.code == 1 and "app.env:1:14  hex32-key (high)" in result.out
    assert KEY not in result.out + result.err and "--no-verify" in result.err


def test_blocking_message_from_git_commit(hooked: Repo) -> None:
    hooked.write("README.md", "hello\n")
    hooked.stage()
    hooked.git("commit", "-q", "-m", "clean")
    hooked.write("client.sh", f"curl -H 'X-API-KEY: {KEY}' https://x\n")
    hooked.stage()
    done = hooked.hooked_commit("-m", "leak")
    assert done.returncode != 0
    assert "x-api-key" in done.stdout + done.stderr and committed(hooked) == 1


def test_commit_all_uses_the_temporary_index(hooked: Repo) -> None:
    hooked.write("a.env", "IMIN_API_KEY=\n")
    hooked.stage()
    hooked.git("commit", "-q", "-m", "empty key")
    hooked.write("a.env", f"IMIN_API_KEY={KEY}\n")  # modified, not staged
    hooked.git("commit", "-a", "-m", "leak", check=False)
    assert committed(hooked) == 1


def test_commit_path_uses_the_temporary_index(hooked: Repo) -> None:
    hooked.write("a.env", "IMIN_API_KEY=\n")
    hooked.write("b.txt", "b\n")
    hooked.stage()
    hooked.git("commit", "-q", "-m", "base")
    hooked.write("a.env", f"IMIN_API_KEY={KEY}\n")
    hooked.write("b.txt", "b2\n")
    hooked.git("commit", "-m", "only b", "b.txt")  # a.env is not part of this commit
    assert committed(hooked) == 2
    hooked.git("commit", "-m", "leak", "a.env", check=False)
    assert committed(hooked) == 2


def test_a_key_added_to_a_named_list_blocks(repo: Repo) -> None:
    repo.write("keys.js", f"const IMIN_KEYS = [\n  '{fake_key('first')}',\n];\n")
    repo.stage()
    repo.commit("one key, accepted")
    repo.write("keys.js", f"const IMIN_KEYS = [\n  '{fake_key('first')}',\n  '{fake_key('second')}',\n];\n")
    repo.stage()
    run = repo.keyguard("staged")
    assert run.code == 1 and "keys.js:3:" in run.out


def test_working_tree_only_key_does_not_block(hooked: Repo) -> None:
    hooked.write("a.env", "IMIN_API_KEY=\n")
    hooked.write("notes.txt", "notes\n")
    hooked.stage()
    hooked.git("commit", "-q", "-m", "base")
    hooked.write("notes.txt", "notes, edited\n")
    hooked.stage("notes.txt")
    hooked.write("a.env", f"IMIN_API_KEY={KEY}\n")  # in the working tree only
    hooked.git("commit", "-q", "-m", "notes")
    assert committed(hooked) == 2


def test_unstaged_removal_does_not_unblock(hooked: Repo) -> None:
    hooked.write("a.env", f"IMIN_API_KEY={KEY}\n")
    hooked.stage()
    hooked.write("a.env", "IMIN_API_KEY=\n")  # removed in the working tree, still staged
    hooked.git("commit", "-m", "leak", check=False)
    assert committed(hooked) == 0


def test_partially_staged_file(repo: Repo) -> None:
    repo.write("a.py", "x = 1\n")
    repo.stage()
    repo.commit("base")
    repo.write("a.py", f"x = 1\nAPI_KEY = '{KEY}'\n")
    repo.stage()
    repo.write("a.py", f"x = 1\nAPI_KEY = '{KEY}'\nTOKEN = '{OTHER}'\n")  # not staged
    result = repo.keyguard("staged", "--show-secrets")
    assert result.code == 1 and KEY in result.out and OTHER not in result.out


def test_only_added_lines_block(repo: Repo) -> None:
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.commit("already committed")
    repo.write("a.env", f"IMIN_API_KEY={KEY}\nDEBUG=1\n")
    repo.stage()
    assert repo.keyguard("staged").code == 0


def test_a_change_to_a_large_file_is_read_with_the_context_around_it(repo: Repo) -> None:
    # A large file is detected around its changed lines only (a log's other ids are not
    # graded), with the context the rules read: here the name on the line above the key.
    filler = "".join(f"request_id={fake_key(str(n))} status=200\n" for n in range(300))
    repo.write("big.txt", f"{filler}IMIN_API_KEY = '{OTHER}'\n{filler}api_key =\nend\n")
    repo.stage()
    repo.commit("base")
    repo.write("big.txt", f"{filler}IMIN_API_KEY = '{OTHER}'\n{filler}api_key =\n    '{KEY}'\nend\n")
    repo.stage()
    result = repo.keyguard("staged", "--show-secrets")
    assert result.code == 1 and "big.txt:603:6  hex32-key (high)" in result.out
    assert OTHER not in result.out and "request_id" not in result.out


def test_deletion_rename_and_odd_names(repo: Repo) -> None:
    repo.write("old name.env", f"IMIN_API_KEY={KEY}\n")
    repo.write("gone.env", f"TOKEN={OTHER}\n")
    repo.stage()
    repo.commit("base")
    repo.git("mv", "old name.env", "new näme.env")
    repo.git("rm", "-q", "gone.env")
    assert repo.keyguard("staged").code == 0  # a rename adds no line, a deletion nothing
    repo.write("line\nbreak.env", f"IMIN_TOKEN={OTHER}\n")
    repo.stage()
    result = repo.keyguard("staged")
    assert result.code == 1 and "line\\x0abreak.env:1:12" in result.out


@pytest.mark.parametrize("name", ["prod secrets.env", "my dir/a.env", "tab\tname.env"])
def test_names_with_spaces_and_tabs(repo: Repo, name: str) -> None:
    """git's patch ends a name holding a space with a tab: the lines added must still count."""
    repo.write(name, f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.commit("already committed")
    repo.write(name, f"IMIN_API_KEY={KEY}\nDEBUG=1\n")
    repo.stage()
    assert repo.keyguard("staged").code == 0  # the committed key's line is not new
    repo.write(name, f"IMIN_API_KEY={KEY}\nDEBUG=1\nIMIN_TOKEN={OTHER}\n")
    repo.stage()
    result = repo.keyguard("staged")
    assert result.code == 1 and re.search(r"\.env:3:12 +hex32-key", result.out), result.out
    assert ":1:" not in result.out


def test_added_lines_that_look_like_patch_headers(repo: Repo) -> None:
    """`++ b/zz` added reads `+++ b/zz` in git's patch: not the start of another file's diff."""
    repo.write("notes.md", "".join(f"{n}\n" for n in range(20)))
    repo.stage()
    repo.commit("base")
    repo.write("notes.md", "++ b/zz\n++ /dev/null\n" + "".join(f"{n}\n" for n in range(20))
               + f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    result = repo.keyguard("staged")
    assert result.code == 1 and "notes.md:23:14  hex32-key" in result.out, result.out


@pytest.mark.parametrize("why", ["utf-16", "attribute"])
def test_text_that_git_diffs_as_binary(repo: Repo, why: str) -> None:
    """UTF-16 (NUL bytes) and a `binary` attribute make git give no lines for a change; the
    lines new to the file are found by comparing the versions."""
    def write(text: str) -> None:
        (repo.path / "win.env").write_bytes(text.encode("utf-16" if why == "utf-16" else "utf-8"))

    if why == "attribute":
        repo.write(".gitattributes", "*.env binary\n")
    write(f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    assert repo.keyguard("staged").code == 1  # a new file: every line is new
    repo.commit("already committed")
    write(f"IMIN_API_KEY={KEY}\nDEBUG=1\n")
    repo.stage()
    assert repo.keyguard("staged").code == 0
    write(f"DEBUG=1\nIMIN_API_KEY={KEY}\nIMIN_TOKEN={OTHER}\n")
    repo.stage()
    result = repo.keyguard("staged")
    assert result.code == 1 and "win.env:3:12  hex32-key" in result.out, result.out
    assert "win.env:2:" not in result.out


def test_binary_and_submodule(repo: Repo, tmp_path) -> None:
    inner = Repo(tmp_path / "inner")
    inner.write("x", "x\n")
    inner.stage()
    inner.commit("inner")
    repo.write("blob.bin", "\0" + f"IMIN_API_KEY={KEY}")
    repo.stage()
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.path), "sub")
    result = repo.keyguard("staged")
    assert result.code == 0, result.out + result.err


def test_paths_limit_the_scan(repo: Repo) -> None:
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.write("b.txt", "b\n")
    repo.stage()
    assert repo.keyguard("staged", "b.txt").code == 0
    assert repo.keyguard("staged", "a.env").code == 1


def test_outside_a_repository_is_exit_4(tmp_path) -> None:
    outside = Repo.__new__(Repo)
    outside.path = tmp_path
    result = outside.keyguard("staged")
    assert result.code == 4 and "not a git repository" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_install_keeps_and_chains_an_existing_hook(repo: Repo) -> None:
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho earlier-hook-ran >&2\nexit 0\n")
    (hooks / "pre-commit").chmod(0o755)
    assert repo.keyguard("install", "--hook", "pre-commit").code == 0
    assert repo.keyguard("install", "--hook", "pre-commit").code == 0  # idempotent
    assert (hooks / "pre-commit.keyguard-chained").read_text().count("earlier-hook-ran") == 1
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    done = repo.hooked_commit("-m", "x")
    assert done.returncode != 0 and "earlier-hook-ran" in done.stderr
    assert repo.keyguard("install", "--uninstall", "--hook", "pre-commit").code == 0
    assert "earlier-hook-ran" in (hooks / "pre-commit").read_text()


def test_install_respects_core_hooks_path(repo: Repo) -> None:
    repo.git("config", "core.hooksPath", ".githooks")
    assert repo.keyguard("install", "--hook", "pre-commit").code == 0
    assert (repo.path / ".githooks" / "pre-commit").exists()
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.git("commit", "-m", "x", check=False)
    assert committed(repo) == 0


def test_install_into_an_unusable_hooks_path_is_one_line(repo: Repo) -> None:
    repo.write("not-a-dir", "a file where the hooks directory should be\n")
    repo.git("config", "core.hooksPath", "not-a-dir")
    run = repo.keyguard("install")
    assert run.code == 2 and "Traceback" not in run.err
    assert run.err.startswith("keyguard: cannot install the pre-commit hook: ") and run.err.count("\n") == 1


def test_hook_fails_closed_when_keyguard_is_missing(hooked: Repo) -> None:
    hook = hooked.path / ".git" / "hooks" / "pre-commit"
    hook.write_text(hook.read_text().replace("import keyguard", "import keyguard_gone"))
    hooked.write("clean.txt", "nothing here\n")
    hooked.stage()
    done = hooked.hooked_commit("-m", "x")
    assert done.returncode != 0 and committed(hooked) == 0
    assert "not installed" in done.stderr and "git commit --no-verify" in done.stderr


def conflicted_merge(repo: Repo, side_files: dict[str, str]) -> None:
    """Branch side commits `side_files`, main and side both change c.txt, main merges side
    (a conflict on c.txt), and the resolution is staged: a merge being concluded."""
    repo.git("checkout", "-q", "-b", "side")
    for name, text in side_files.items():
        repo.write(name, text)
    repo.write("c.txt", "side\n")
    repo.stage()
    repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.write("c.txt", "main\n")
    repo.stage()
    repo.commit("main")
    repo.git("merge", "-q", "side", check=False)
    repo.write("c.txt", "resolved\n")
    repo.stage("c.txt")


def test_concluding_a_merge_blocks_only_on_lines_new_to_every_parent(repo: Repo) -> None:
    repo.write("c.txt", "base\n")
    repo.stage()
    repo.commit("base")
    conflicted_merge(repo, {"side.env": f"IMIN_API_KEY={KEY}\n"})  # the key: on the side branch
    assert repo.keyguard("staged").code == 0
    repo.write("c.txt", f"resolved\nTOKEN={OTHER}\n")
    repo.stage("c.txt")
    result = repo.keyguard("staged")
    assert result.code == 1 and "c.txt:2:" in result.out and "side.env" not in result.out


def test_hook_blocks_when_keyguard_cannot_finish(hooked: Repo) -> None:
    hooked.write(".keyguard.toml", "[[allow]]\npahts = ['x']\n")  # invalid: exit 3
    hooked.write("clean.txt", "nothing here\n")
    hooked.stage("clean.txt")
    done = hooked.hooked_commit("-m", "x")
    assert done.returncode != 0 and committed(hooked) == 0
    assert "unknown key 'pahts'" in done.stderr
    assert "did not finish (exit 3); commit blocked" in done.stderr and "--no-verify" in done.stderr


def test_the_hook_call_does_not_load_click(repo: Repo) -> None:
    """pre-commit calls `keyguard staged PATH...`: that runs without click (a quarter of the
    hook's start-up); an option sends it through click, with the same result."""
    repo.write("app.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    probe = ("import sys; from keyguard.cli import main; code = main(sys.argv[1:]); "
             "print('click' in sys.modules, code)")
    for flags in ([], ["--no-color", "-v"]):  # the flags a plain `keyguard scan` takes too
        runs = [subprocess.run([sys.executable, "-c", probe, "staged", *flags, *options, "app.env"],
                               cwd=repo.path, capture_output=True, text=True, check=False)
                for options in ([], ["--min-confidence", "medium"])]
        assert [run.stdout.splitlines()[-1] for run in runs] == ["False 1", "True 1"]
        reports = [re.sub(r"; [0-9.]+ s$", "", run.stdout, flags=re.M).splitlines()[:-1] for run in runs]
        assert reports[0] == reports[1]  # the same report, but for the time the scan took
        assert "app.env:1:14  hex32-key (high)" in runs[0].stdout and runs[0].stderr == runs[1].stderr


def test_the_hook_call_has_the_defaults_click_would_give() -> None:
    from keyguard.cli import _PLAIN_FLAGS
    from keyguard.cli.scanning import staged

    params = staged.make_context("staged", []).params
    assert {name: value for name, value in params.items() if name != "paths"} == REPORT_DEFAULTS
    for flag, name in _PLAIN_FLAGS.items():
        assert staged.make_context("staged", [flag]).params[name] is True


def test_paths_like_options_that_name_no_file_are_usage_errors(repo: Repo) -> None:
    # an option put in pre-commit's `args:` lands after `--`: it must not narrow the scan to nothing
    repo.write("a.env", "x\n")
    repo.stage()
    run = repo.keyguard("staged", "--", "--min-confidence", "a.env")
    assert run.code == 2 and "no such file: '--min-confidence'" in run.err
    run = repo.keyguard("staged", "--", "../elsewhere")
    assert run.code == 2 and "not in the repository" in run.err


def test_a_nul_past_where_git_looks_leaves_the_file_text(repo: Repo) -> None:
    # git diffs a file with its first NUL at byte 8,100 as text: keyguard read it as binary
    key = fake_key("late nul")
    repo.write("README.md", "x\n")
    repo.stage()
    repo.commit("base")
    (repo.path / "b.env").write_bytes(b"#" * 8100 + b"\0\n" + f"IMIN_API_KEY={key}\n".encode())
    repo.stage("b.env")
    assert not repo.git("diff", "--cached", "--numstat", "--", "b.env").startswith("-")  # git: text
    run = repo.keyguard("staged")
    assert run.code == 1 and "b.env:2:" in run.out, run.out + run.err


def test_a_file_over_the_size_cap_fails_the_hook(repo: Repo) -> None:
    # a 12 MB HAR holding a key passed with exit 0 (pre-commit shows nothing of a passing hook)
    repo.write(".keyguard.toml", 'max-file-size = "1k"\n')
    repo.write("big.har", "x" * 2000 + f"\nIMIN_API_KEY={fake_key('big')}\n")
    repo.stage()
    run = repo.keyguard("staged")
    assert run.code == 4, run.err
    assert "not scanned, over the size cap (1024 bytes): big.har; a key in it would pass" in run.err
    scan = repo.keyguard("scan")  # a directory scan counts it as skipped, as before
    assert scan.code == 0 and "big.har" not in scan.err
    repo.write(".keyguard.toml", 'max-file-size = "1M"\n')
    assert repo.keyguard("staged").code == 1


def test_a_big_file_that_adds_no_text_passes(repo: Repo) -> None:
    # a rename or a mode change of a file over the cap adds nothing; a binary file is binary
    repo.write(".keyguard.toml", 'max-file-size = "1k"\n')
    repo.write("big.txt", "x" * 2000 + "\n")
    repo.stage()
    repo.commit("big, before keyguard")
    repo.git("mv", "big.txt", "big2.txt")
    assert repo.keyguard("staged").code == 0
    repo.commit("moved")
    repo.git("update-index", "--chmod=+x", "big2.txt")
    assert repo.keyguard("staged").code == 0
    (repo.path / "image.png").write_bytes(b"\x89PNG\0\0" + b"\1" * 3000)
    repo.stage("image.png")
    run = repo.keyguard("staged")
    assert run.code == 0 and "image.png" not in run.err, run.err
    repo.commit("image")
    # concluding a merge: the big file comes unchanged from the merged branch
    conflicted_merge(repo, {"big2.txt": "x" * 2000 + "\nmore\n", "new\nline.txt": "y" * 2000 + "\n",
                            "sub/big.txt": "z" * 2000 + "\n"})
    in_sub = subprocess.run([sys.executable, "-m", "keyguard", "staged"], cwd=repo.path / "sub",
                            capture_output=True, text=True, check=False)
    assert in_sub.returncode == 0, in_sub.stderr  # the parents' versions found from a subdirectory
    run = repo.keyguard("staged")
    assert run.code == 0, run.err


def test_a_path_through_a_symlink_to_the_repository(repo: Repo, tmp_path) -> None:
    # git's top level is the resolved path: an absolute PATH through a link is still inside
    link = tmp_path / "link"
    link.symlink_to(repo.path)
    repo.write("a.env", f"IMIN_API_KEY={fake_key('through a link')}\n")
    repo.stage()
    run = repo.keyguard("staged", "--", str(link / "a.env"))
    assert run.code == 1 and "a.env:1:" in run.out, run.err
