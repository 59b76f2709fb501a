from __future__ import annotations

import inspect
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Repo, Run, drain_terminal, fake_key

Keyguard = Callable[..., Run]
ISSUE_KEY = "3f0c9e1d2b7a48c6" + "a5e4d3c2b1a09f8e"


def keyguard_process(*args: str, stdin: bytes = b"", cwd: Path | None = None,
                     obey_permissions: bool = False) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "keyguard", *args]
    if obey_permissions and os.geteuid() == 0:
        # root reads everything; without these capabilities file modes apply as to a user
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    return subprocess.run(command, check=False, input=stdin, capture_output=True, cwd=cwd, timeout=60)


def assert_one_clean_line(err: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert "\x1b" not in err


def test_stdin_key_blocks_redacted_and_shows_with_flag() -> None:
    piped = keyguard_process("scan", "-", stdin=f"X-API-KEY: {ISSUE_KEY}\n".encode())
    assert piped.returncode == 1
    assert ISSUE_KEY.encode() not in piped.stdout + piped.stderr
    assert b"3f0c\xe2\x80\xa69f8e" in piped.stdout and b"x-api-key" in piped.stdout
    shown = keyguard_process("scan", "-", "--show-secrets", stdin=f"X-API-KEY: {ISSUE_KEY}\n".encode())
    assert shown.returncode == 1 and ISSUE_KEY.encode() in shown.stdout


def test_stdin_name_is_reported(keyguard: Keyguard) -> None:
    done = keyguard_process("scan", "-", "--stdin-name", "app/config.env",
                            stdin=f"IMIN_API_KEY={ISSUE_KEY}\n".encode())
    assert b"app/config.env:1:14" in done.stdout


def test_clean_directory_exits_zero(keyguard: Keyguard, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('headers = {"X-API-KEY": os.environ["IMIN_API_KEY"]}\n')
    run = keyguard("scan", tmp_path)
    assert run.code == 0 and "no blocking findings; 1 file scanned" in run.out


def test_text_report_groups_by_file_with_a_fix(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    (tmp_path / "a.env").write_text(f"IMIN_API_KEY={key}\nOTHER_TOKEN={fake_key('2')}\n")
    (tmp_path / "b.sh").write_text(f"curl -H 'X-API-KEY: {key}' https://x\n")
    run = keyguard("scan", tmp_path, "--explain")
    assert run.code == 1
    a, b = str(tmp_path / "a.env"), str(tmp_path / "b.sh")
    assert f"{a}:1:14  hex32-key (high)  {key[:4]}…{key[-4:]}" in run.out
    assert run.out.index(f"{a}:2:") < run.out.index(b)
    assert "environment variable" in run.out and "signals: key-like-name" in run.out
    assert "3 blocking findings (3 high) in 2 files; 2 files scanned" in run.out
    assert key not in run.out


def test_min_confidence_low_shows_non_blocking_findings(keyguard: Keyguard, tmp_path: Path,
                                                        key: str) -> None:
    (tmp_path / "ids.txt").write_text(f"see {key} for details\n")
    assert keyguard("scan", tmp_path).code == 0
    run = keyguard("scan", tmp_path, "--min-confidence", "low")
    assert run.code == 0 and "hex32-key (low)" in run.out and "not blocking" in run.out


def test_json_report_validates_and_is_redacted(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    (tmp_path / "a.env").write_text(f"IMIN_API_KEY={key}\n")
    run = keyguard("scan", tmp_path, "--format", "json")
    schema = json.loads((Path(__file__).parents[1] / "docs/json-report.schema.json").read_text())
    document = json.loads(run.out)
    jsonschema.validate(document, schema)
    [finding] = document["findings"]
    assert finding["secret"] == f"{key[:4]}…{key[-4:]}" and key not in run.out
    assert finding["blocking"] and document["summary"]["blocking"] == 1


def test_the_documented_json_example_validates() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    docs = Path(__file__).parents[1] / "docs"
    example = (docs / "json-report.md").read_text().split("```json\n", 1)[1].split("```", 1)[0]
    jsonschema.validate(json.loads(example), json.loads((docs / "json-report.schema.json").read_text()))


def test_fingerprint_ignores_line_numbers(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    target = tmp_path / "a.env"
    target.write_text(f"IMIN_API_KEY={key}\n")
    before = json.loads(keyguard("scan", target, "--format", "json").out)["findings"][0]
    target.write_text("# moved\n" * 50 + f"IMIN_API_KEY={key}\n")
    after = json.loads(keyguard("scan", target, "--format", "json").out)["findings"][0]
    assert after["line"] == 51 and after["fingerprint"] == before["fingerprint"]


def test_output_file_is_written_whole(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    (tmp_path / "a.env").write_text(f"IMIN_API_KEY={key}\n")
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    run = keyguard("scan", tmp_path / "a.env", "--format", "json", "--output", report)
    assert run.code == 1 and run.out == ""
    assert json.loads(report.read_text())["summary"]["findings"] == 1
    assert os.stat(report).st_mode & 0o077 == 0
    assert [p.name for p in report.parent.iterdir()] == ["report.json"]


def test_gitignored_files_are_skipped_in_a_work_tree(keyguard: Keyguard, tmp_path: Path,
                                                     key: str) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.env").write_text(f"IMIN_API_KEY={key}\n")
    (tmp_path / "debug.log").write_text(f"X-API-KEY: {key}\n")
    (tmp_path / "keep.log").write_text(f"X-API-KEY: {key}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("secret.env\n")
    (tmp_path / "sub" / "secret.env").write_text(f"IMIN_API_KEY={key}\n")
    run = keyguard("scan", tmp_path)
    assert run.code == 1
    assert "keep.log" in run.out
    assert "out.env" not in run.out and "debug.log" not in run.out and "secret.env" not in run.out
    assert keyguard("scan", tmp_path / "sub").out.count("secret.env") == 0
    assert "debug.log" in keyguard("scan", tmp_path / "debug.log").out  # named: scanned
    assert "secret.env" in keyguard("scan", tmp_path, "--no-ignore").out


def test_quiet_still_writes_the_report_file(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    # -q silences stdout only: a CI job uploads the file, and an old one must not stay behind
    target = tmp_path / "src"
    target.mkdir()
    (target / "k.env").write_text(f"IMIN_API_KEY={key}\n")
    report = tmp_path / "report.json"
    assert keyguard("scan", target, "-q", "--format", "json", "-o", report).code == 1
    (target / "k.env").unlink()
    run = keyguard("scan", target, "-q", "--format", "json", "-o", report)
    assert run.code == 0 and run.out == ""
    assert json.loads(report.read_text())["findings"] == []
    assert keyguard("scan", target, "-q", "--format", "junit", "-o", tmp_path / "j.xml").code == 0
    assert "<testcase" in (tmp_path / "j.xml").read_text()
    assert keyguard("scan", target, "-q").out == ""


def test_git_decides_what_is_ignored(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    # Tracked files are scanned though a pattern matches them (a force-added .env is
    # committed); core.excludesFile applies as .gitignore does; a nested repository's own
    # .gitignore applies inside it; GIT_DIR naming another repository changes none of it.
    repo = Repo(tmp_path / "repo")
    repo.write(".gitignore", ".env\nbuild/\n")
    repo.write(".env", f"IMIN_API_KEY={key}\n")
    repo.write("build/kept.env", f"IMIN_API_KEY={key}\n")
    repo.write("build/out.env", f"IMIN_API_KEY={key}\n")
    repo.stage(".gitignore")
    repo.git("add", "-f", ".env", "build/kept.env")
    repo.write("mine/local.env", f"IMIN_API_KEY={key}\n")
    (tmp_path / "excludes").write_text("mine/\n")
    repo.git("config", "core.excludesFile", str(tmp_path / "excludes"))
    nested = Repo(tmp_path / "repo" / "vendor" / "lib")
    nested.write(".gitignore", "*.log\n")
    nested.write("debug.log", f"X-API-KEY: {key}\n")
    nested.write("app.env", f"IMIN_API_KEY={key}\n")
    other = Repo(tmp_path / "other")
    for env in ({}, {"GIT_DIR": str(other.path / ".git")}):
        run = repo.keyguard("scan", "--format", "json", env=env)
        assert run.code == 1, run.err
        paths = sorted(f["path"] for f in json.loads(run.out)["findings"])
        assert paths == [".env", "build/kept.env", "vendor/lib/app.env"], (env, paths)


def test_a_symlinked_gitignore_git_refuses_ignores_nothing(keyguard: Keyguard, tmp_path: Path,
                                                          key: str) -> None:
    # git does not follow a .gitignore that is a symlink (2.32+); the walk once did
    repo = Repo(tmp_path)
    repo.write("shared", "*.txt\n")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / ".gitignore").symlink_to("../shared")
    repo.write("s/secret.txt", f"IMIN_API_KEY={key}\n")
    run = repo.keyguard("scan")
    assert run.code == 1 and "s/secret.txt" in run.out


def test_a_named_directory_is_scanned_though_ignored(keyguard: Keyguard, tmp_path: Path,
                                                     key: str) -> None:
    repo = Repo(tmp_path)
    repo.write(".gitignore", "node_modules/\n")
    repo.write("node_modules/pkg/config.env", f"IMIN_API_KEY={key}\n")
    assert repo.keyguard("scan").code == 0
    run = repo.keyguard("scan", "node_modules")
    assert run.code == 1 and "node_modules/pkg/config.env" in run.out


def test_a_directory_inside_an_ignored_one_is_scanned_quietly(keyguard: Keyguard, tmp_path: Path,
                                                              key: str) -> None:
    # git's ls-files fails inside an ignored directory: that is no reason for a warning
    repo = Repo(tmp_path)
    repo.write(".gitignore", "secrets/\n")
    repo.write("secrets/sub/a.env", f"IMIN_API_KEY={key}\n")
    run = repo.keyguard("scan", "secrets/sub")
    assert run.code == 1 and "secrets/sub/a.env" in run.out and "warning" not in run.err, run.err


def test_an_ignored_symlink_to_a_directory_stays_ignored_when_followed(keyguard: Keyguard,
                                                                       tmp_path: Path, key: str) -> None:
    repo = Repo(tmp_path)
    repo.write("real/a.env", f"IMIN_API_KEY={key}\n")
    (tmp_path / "cache").symlink_to("real")
    repo.write(".gitignore", "real/\ncache\n")
    run = repo.keyguard("scan", "--follow-symlinks")
    assert run.code == 0 and "a.env" not in run.out, run.out


def test_when_git_cannot_list_ignored_files_everything_is_scanned(keyguard: Keyguard, tmp_path: Path,
                                                                   key: str) -> None:
    # a .git file naming a git directory that is gone: a moved worktree, a broken submodule
    (tmp_path / ".git").write_text("gitdir: /nonexistent/keyguard-test/.git\n")
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "debug.log").write_text(f"X-API-KEY: {key}\n")
    run = keyguard("scan", tmp_path)
    assert run.code == 1 and "debug.log" in run.out
    assert "cannot ask git what .gitignore excludes" in run.err and "scanning every file" in run.err


def test_gitignore_lines_pathspec_rejects_do_not_stop_the_walk(keyguard: Keyguard, tmp_path: Path,
                                                                 key: str) -> None:
    # `foo\\` matches nothing in git; the others still apply
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("foo\\\nbuild/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.env").write_text(f"IMIN_API_KEY={key}\n")
    (tmp_path / "foo").write_text(f"IMIN_API_KEY={key}\n")
    run = keyguard("scan", tmp_path)
    assert run.code == 1, run.err
    assert "foo" in run.out and "out.env" not in run.out


def test_utf16_with_bom_is_decoded(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    (tmp_path / "win.ps1").write_bytes(f"$h = @{{ 'X-API-KEY' = '{key}' }}\r\n".encode("utf-16"))
    run = keyguard("scan", tmp_path)
    assert run.code == 1 and "win.ps1:1:" in run.out


def test_invalid_utf8_is_replaced_not_fatal(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    (tmp_path / "mixed.txt").write_bytes(b"caf\xe9 \xff\n" + f"IMIN_API_KEY={key}\n".encode())
    assert keyguard("scan", tmp_path).code == 1


# Bad input: the documented exit code and one clean line, never a traceback.

def test_missing_path_is_a_usage_error(keyguard: Keyguard, tmp_path: Path) -> None:
    run = keyguard("scan", tmp_path / "nope")
    assert run.code == 2 and "no such file or directory" in run.err
    assert_one_clean_line(run.err)


def test_unreadable_directory_is_an_incomplete_scan(tmp_path: Path, key: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (tmp_path / "ok.env").write_text(f"IMIN_API_KEY={key}\n")
    (locked / "hidden.env").write_text("nothing\n")
    locked.chmod(0)
    try:
        done = keyguard_process("scan", ".", cwd=tmp_path, obey_permissions=True)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 4, done.stderr
    err = done.stderr.decode()
    assert "cannot read locked: permission denied" in err
    assert_one_clean_line(err)
    assert b"scan incomplete" in done.stdout and b"ok.env" in done.stdout  # the rest still scanned


@pytest.mark.parametrize("options", [[], ["--min-confidence", "medium"]], ids=["plain", "click"])
@pytest.mark.parametrize("name", ["locked.env", "locked"])
def test_a_named_unreadable_path_is_an_incomplete_scan(repo: Repo, key: str, name: str,
                                                         options: list[str]) -> None:
    """A file or directory named on the command line that cannot be read: exit 4 and one
    line, the other paths still scanned, with or without click (which refused an unreadable
    path as a usage error; git could not be started in a directory it cannot enter: exit 5)."""
    repo.write("ok.env", f"IMIN_API_KEY={key}\n")
    locked = repo.write("locked/hidden.env", "nothing\n").parent if name == "locked" else \
        repo.write("locked.env", "nothing\n")
    locked.chmod(0)
    try:
        done = keyguard_process("scan", *options, name, "ok.env", cwd=repo.path, obey_permissions=True)
    finally:
        locked.chmod(0o755 if name == "locked" else 0o644)
    assert done.returncode == 4, done.stderr
    err = done.stderr.decode()
    assert f"cannot read {name}: permission denied" in err
    assert_one_clean_line(err)
    assert b"ok.env:1:14" in done.stdout


def test_binary_file_is_skipped_with_a_message(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    target = tmp_path / "blob.bin"
    target.write_bytes(b"\x00\x01\x02" + f"IMIN_API_KEY={key}".encode())
    run = keyguard("scan", target)
    assert run.code == 0 and "skipped" in run.err and "binary" in run.err
    assert_one_clean_line(run.err)


def test_file_over_the_size_cap_is_skipped(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.write(f"IMIN_API_KEY={key}\n".encode())
        for _ in range(50):
            handle.write(b"an ordinary line of text\n" * ((1 << 20) // 25))
    run = keyguard("scan", big)
    assert run.code == 0 and "over the size cap" in run.err
    assert_one_clean_line(run.err)
    assert keyguard("scan", big, "--max-file-size", "60M").code == 1
    walked = keyguard("scan", tmp_path, "--verbose")
    assert "1 skipped" in walked.out and "big.txt: over the size cap" in walked.out


def test_bad_size_is_a_usage_error(keyguard: Keyguard, tmp_path: Path) -> None:
    run = keyguard("scan", tmp_path, "--max-file-size", "lots")
    assert run.code == 2 and "--max-file-size" in run.err
    assert_one_clean_line(run.err)


def test_symlink_loops(keyguard: Keyguard, tmp_path: Path, key: str) -> None:
    (tmp_path / "a.env").write_text(f"IMIN_API_KEY={key}\n")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "up").symlink_to(tmp_path)
    walked = keyguard("scan", tmp_path, "--verbose")
    assert walked.code == 1 and "symlink" in walked.out and walked.err == ""
    followed = keyguard("scan", tmp_path, "--follow-symlinks", "--verbose")
    assert followed.code == 4 and "up: symlink loop" in followed.out and "loop1" in followed.err
    named = keyguard("scan", tmp_path / "loop1")
    assert named.code == 4 and "symlink loop" in named.err
    assert_one_clean_line(named.err)


@pytest.mark.parametrize("name", ["evil\nname.env", "evil\x1b[31mred\x1b[0m.env", "bell\x07.env"])
def test_hostile_file_names_are_neutralised(keyguard: Keyguard, tmp_path: Path, key: str,
                                            name: str) -> None:
    (tmp_path / name).write_text(f"IMIN_API_KEY={key}\n")
    for output_format in ("text", "json"):
        run = keyguard("scan", tmp_path, "--format", output_format)
        assert run.code == 1
        assert "\x1b" not in run.out and "\x07" not in run.out
        assert "evil\nname" not in run.out
    assert "\\x1b[31m" in keyguard("scan", tmp_path).out or "\\x" in keyguard("scan", tmp_path).out


def test_fifo_does_not_hang(keyguard: Keyguard, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    run = keyguard("scan", tmp_path, "--verbose")
    assert run.code == 0 and "pipe: not a regular file" in run.out


def test_a_named_pipe_or_device_is_read_as_standard_input_is(tmp_path: Path) -> None:
    """`keyguard scan <(command)`, /dev/stdin, a FIFO given by name: the user asked for its
    content (a FIFO found while walking is skipped: above)."""
    os.mkfifo(tmp_path / "pipe")
    writer = subprocess.Popen(["sh", "-c", f"printf 'IMIN_API_KEY={ISSUE_KEY}\\n' > pipe"], cwd=tmp_path)
    named = keyguard_process("scan", "pipe", cwd=tmp_path)
    writer.wait(timeout=60)
    assert named.returncode == 1 and b"pipe:1:14  hex32-key (high)" in named.stdout, named
    piped = keyguard_process("scan", "/dev/stdin", stdin=f"IMIN_API_KEY={ISSUE_KEY}\n".encode())
    assert piped.returncode == 1 and b"/dev/stdin:1:14  hex32-key (high)" in piped.stdout, piped
    empty = keyguard_process("scan", "/dev/null")
    assert empty.returncode == 0 and b"1 file scanned" in empty.stdout


def test_closed_standard_input_is_exit_4() -> None:
    done = subprocess.run(["sh", "-c", f'"{sys.executable}" -m keyguard scan - <&-'], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 4, done.stderr
    assert_one_clean_line(done.stderr)
    assert "cannot read <stdin>: standard input is closed" in done.stderr


def test_help_and_version(keyguard: Keyguard) -> None:
    assert keyguard("--version").out.startswith("keyguard, version ")
    for command in ("scan", "rules"):
        run = keyguard(command, "--help")
        assert run.code == 0 and "Usage: keyguard" in run.out


def test_unknown_option_is_a_usage_error(keyguard: Keyguard) -> None:
    run = keyguard("scan", "--frobnicate")
    assert run.code == 2 and "--frobnicate" in run.err


def test_rules_lists_both_rules(keyguard: Keyguard) -> None:
    run = keyguard("rules")
    assert run.code == 0 and "x-api-key:" in run.out and "hex32-key:" in run.out


def run_on_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run keyguard with stdout on a pseudo-terminal, as a person at a shell would."""
    leader, follower = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "keyguard", *args], stdout=follower,
                          stderr=subprocess.PIPE, env={**os.environ, **env}, check=False, timeout=60)
    os.close(follower)
    assert done.returncode == 1
    return drain_terminal(leader)


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path: Path, key: str) -> None:
    (tmp_path / "a.env").write_text(f"IMIN_API_KEY={key}\n")
    assert "\x1b[" in run_on_terminal(["scan", str(tmp_path)], {})
    assert "\x1b[" not in run_on_terminal(["scan", str(tmp_path)], {"NO_COLOR": "1"})
    assert "\x1b[" not in run_on_terminal(["scan", str(tmp_path), "--no-color"], {})
    piped = keyguard_process("scan", str(tmp_path))
    assert b"\x1b[" not in piped.stdout


@pytest.mark.parametrize("command", ["scan", "history", "audit"])
def test_jobs_are_at_most_four_per_core(command: str) -> None:
    """-j 3000 once forked 3,000 workers (each with its own git): 22 s for a tiny history, and
    Ctrl-C then hung. The option is capped."""
    import click

    from keyguard.cli.commands import cli
    from keyguard.workers import default_jobs

    subcommand = cli.get_command(click.Context(cli), command)
    assert subcommand is not None
    assert subcommand.make_context(command, ["-j", "3000"]).params["jobs"] == 4 * default_jobs()
    assert subcommand.make_context(command, ["-j", "1"]).params["jobs"] == 1


def test_a_plain_scan_does_not_load_click(repo: Repo) -> None:
    """`keyguard scan [PATH...]` with no option but -q, -v or --no-color runs without click
    (~15 ms of a scan's start-up); an option sends it through click, with the same result."""
    repo.write("app.env", f"IMIN_API_KEY={fake_key('plain')}\n")
    repo.write("data.bin", "\0binary\n")  # a skipped file, listed with -v
    probe = ("import sys; from keyguard.cli import main; code = main(sys.argv[1:]); "
             "print('click' in sys.modules, code)")
    for flags in ([], ["-v", "--no-color"], ["--quiet", "-q", "--verbose"]):
        runs = [subprocess.run([sys.executable, "-c", probe, "scan", *flags, ".", *more],
                               cwd=repo.path, capture_output=True, text=True, check=False)
                for more in ([], ["--min-confidence", "medium"])]
        assert [run.stdout.splitlines()[-1] for run in runs] == ["False 1", "True 1"], flags
        reports = [re.sub(r"; [0-9.]+ s$", "", run.stdout, flags=re.M).splitlines()[:-1] for run in runs]
        assert reports[0] == reports[1] and runs[0].stderr == runs[1].stderr, flags
        assert ("data.bin" in runs[0].stdout) == ("-v" in flags or "--verbose" in flags)
        assert "app.env:1:14  hex32-key (high)" in runs[0].stdout


def test_a_plain_scan_has_the_defaults_click_would_give() -> None:
    from keyguard.cli import _PLAIN_FLAGS
    from keyguard.cli.common import REPORT_DEFAULTS
    from keyguard.cli.files import run_scan
    from keyguard.cli.scanning import scan

    settings = {name: parameter.default for name, parameter in inspect.signature(run_scan).parameters.items()
                if parameter.kind is parameter.KEYWORD_ONLY}
    params = {name: value for name, value in scan.make_context("scan", []).params.items() if name != "paths"}
    assert params == {**REPORT_DEFAULTS, **settings}
    for flag, name in _PLAIN_FLAGS.items():
        assert scan.make_context("scan", [flag]).params[name] is True
