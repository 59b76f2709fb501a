"""Hostile repositories and inputs: nothing runs, nothing is misparsed, nothing escapes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from keyguard.model import Blob, Candidate, Confidence, Finding
from tests.conftest import Repo, fake_key

KEY = fake_key("hostile")


def test_repository_config_cannot_make_keyguard_run_anything(repo: Repo, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ncat \"$1\" 2>/dev/null\nexit 0\n")
    evil.chmod(0o755)
    for key, value in (("core.fsmonitor", str(evil)), ("diff.external", str(evil)),
                       ("diff.evil.textconv", str(evil)), ("filter.evil.clean", str(evil)),
                       ("filter.evil.smudge", str(evil)), ("log.showSignature", "true"),
                       ("gpg.program", str(evil)), ("core.pager", str(evil)),
                       ("core.hooksPath", str(tmp_path / "hooks"))):
        repo.git("config", key, value)
    repo.write(".gitattributes", "*.env diff=evil filter=evil\n")
    repo.write("a.env", "IMIN_API_KEY=\n")
    repo.stage()
    repo.git("-c", "core.fsmonitor=false", "-c", "filter.evil.clean=cat", "commit", "-q", "--no-verify",
             "-m", "base")
    marker.unlink(missing_ok=True)
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.git("-c", "core.fsmonitor=false", "-c", "filter.evil.clean=cat", "add", "a.env")
    head = repo.git("rev-parse", "HEAD").strip()
    for command, stdin in ((["scan"], ""), (["staged"], ""), (["history"], ""),
                           (["pre-push"], f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"),
                           (["ci", "--base", "HEAD~0"], ""), (["config", "check"], ""),
                           (["baseline"], "")):
        run = repo.keyguard(*command, input=stdin)
        assert run.code in (0, 1), (command, run.err)
    assert not marker.exists(), marker.read_text()


def test_option_like_file_names_are_data(repo: Repo) -> None:
    for name in ("--output=pwned", "-rf", "--format=json"):
        repo.write(name, f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    run = repo.keyguard("staged")
    assert run.code == 1
    assert all(f"{name}:1:14" in run.out for name in ("--output=pwned", "-rf", "--format=json"))
    assert not (repo.path / "pwned").exists()
    repo.commit("odd names")
    assert repo.keyguard("history").out.count(":1:14  hex32-key") == 3


def test_invalid_utf8_and_escape_sequences_in_names_and_messages(repo: Repo) -> None:
    name = os.fsdecode(b"bad\xff\x1b[2J.env")
    (repo.path / name).write_bytes(f"IMIN_API_KEY={KEY}\n".encode())
    repo.stage()
    staged = repo.keyguard("staged")
    assert staged.code == 1 and "bad\\xff\\x1b[2J.env" in staged.out
    repo.commit(f"\x1b]0;owned\x07 X-API-KEY: {fake_key('message')}")
    for command in (["history"], ["scan"], ["history", "--format", "github"]):
        run = repo.keyguard(*command)
        assert "\x1b" not in run.out + run.err and "\x07" not in run.out + run.err, command


def test_very_long_line(tmp_path: Path, repo: Repo) -> None:
    line = "x" * (10 << 20) + f" api_key={KEY} " + "y" * (10 << 20)
    repo.write("minified.js", line)
    run = repo.keyguard("scan", "--max-file-size", "30M")
    assert run.code == 1 and "minified.js:1:10485770" in run.out
    assert len(max(run.out.splitlines(), key=len)) < 400  # the excerpt is clipped


def test_deep_directory_tree(repo: Repo) -> None:
    deep = repo.path.joinpath(*["d"] * 300)
    deep.mkdir(parents=True)
    (deep / "a.env").write_text(f"IMIN_API_KEY={KEY}\n")
    run = repo.keyguard("scan")
    assert run.code == 1 and "/d/a.env:1:14" in run.out


def test_a_path_too_deep_to_name_is_an_error_not_a_crash(repo: Repo) -> None:
    """Nested directories whose path is longer than PATH_MAX: what lies past it cannot be read
    (exit 4); the rest of the scan still counts."""
    repo.write("top.env", f"IMIN_API_KEY={KEY}\n")
    parent = os.open(repo.path, os.O_RDONLY)
    for _ in range(25):  # each level from the last: 25 x 201 characters, past PATH_MAX (4096)
        os.mkdir("d" * 200, dir_fd=parent)
        child = os.open("d" * 200, os.O_RDONLY, dir_fd=parent)
        os.close(parent)
        parent = child
    os.close(parent)
    run = repo.keyguard("scan")
    assert run.code == 4 and "top.env:1:14" in run.out, run.err
    assert "Traceback" not in run.err and "file name too long" in run.err
    # baseline needs every file: incomplete, exit 4, nothing written; allow only names them
    run = repo.keyguard("baseline")
    assert run.code == 4 and "baseline not written" in run.err and "cannot read dddd" in run.err
    assert not (repo.path / ".keyguard-baseline.json").exists()
    run = repo.keyguard("allow", "0123456789abcdef", "--reason", "r")
    assert run.code == 0 and "warning: cannot read dddd" in run.err


def _seconds(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """keyguard run with a deadline far above its time: quadratic work would not meet it."""
    return subprocess.run([sys.executable, "-m", "keyguard", *args], cwd=repo.path, capture_output=True,
                          text=True, check=False, timeout=60)


def test_crafted_lines_cost_linear_time(repo: Repo) -> None:
    """Inputs that once took minutes on one line (the x-api-key rule read to the line's end
    after each name; excerpts replaced every other key on the line for each key): each now
    takes about a second, where the deadline is a minute."""
    repo.write("names.txt", "x-api-key:" * 100_000 + "\n")  # 1 MB: ~8 minutes before
    repo.write("map.json", "{" + ",".join(f'"c{n}":"{fake_key(str(n))}"' for n in range(2000)) + "}\n")
    run = _seconds(repo, "scan", "-q", "names.txt")
    assert run.returncode == 0, run.stderr
    run = _seconds(repo, "scan", "map.json", "--format", "json")  # 2 minutes before
    assert run.returncode == 1 and len(json.loads(run.stdout)["findings"]) == 2000


def test_one_huge_line_is_scanned_once_with_the_right_lines(repo: Repo) -> None:
    """A file over 1 MiB is scanned in slices of lines; one 3 MB line is owned by one slice
    (the others, inside it, have no line to scan), and the lines after it keep their numbers."""
    ids = ",".join(f"item{n}" for n in range(300_000))  # 3.3 MB of one line, no key in it
    repo.write("bundle.js", f'api_key = "{KEY}"\n{ids} token={KEY}\n' + "line\n" * 50_000
               + f"IMIN_API_KEY={KEY}")  # an unended last line
    repo.write("only.js", f"{ids} token={KEY}")  # one unended line
    from keyguard.filescan import PART
    from keyguard.sources.files import Region, read_region

    size = (repo.path / "only.js").stat().st_size
    regions = [read_region(str(repo.path / "only.js"), 10 << 20, start, start + PART, 4096)
               for start in range(0, size, PART)]
    assert [len(r.data) for r in regions if isinstance(r, Region)] == [size] + [0] * (len(regions) - 1)
    for jobs in ("1", "2"):
        run = _seconds(repo, "scan", "-j", jobs, "bundle.js", "only.js")
        lines = [line.split("  ")[0] for line in run.stdout.splitlines() if "hex32-key" in line]
        column = len(ids) + 8
        assert lines == ["bundle.js:1:12", f"bundle.js:2:{column}", "bundle.js:50003:14",
                         f"only.js:1:{column}"], run.stdout


def test_a_line_of_percent_escapes_takes_bounded_memory(repo: Repo) -> None:
    """A minified line of 5 MB of escapes: Python's unquote held a string per escape (~440 MB);
    decoded 64 KiB at a time, the scan stays small."""
    repo.write("escapes.txt", "%41" * 1_666_666 + "\n")
    command = [sys.executable, "-m", "keyguard", "scan", "-q", "-j", "1", "escapes.txt"]
    process = subprocess.Popen(command, cwd=repo.path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert usage.ru_maxrss < 200 << 10, usage.ru_maxrss  # kilobytes: ~55 MB here


def test_base64_bombs_are_bounded(repo: Repo) -> None:
    nested = f"IMIN_API_KEY={KEY}".encode()
    for _ in range(8):
        nested = base64.b64encode(nested)
    repo.write("nested.yaml", f"data: {nested.decode()}\n")
    repo.write("big.txt", base64.b64encode(os.urandom(6 << 20)).decode() + "\n")
    repo.write("one.yaml", f"IMIN_API_KEY: {base64.b64encode(KEY.encode()).decode()}\n")
    run = repo.keyguard("scan")
    assert run.code == 1 and "one.yaml:1:15" in run.out  # one level is decoded, not eight
    assert "nested.yaml" not in run.out


def test_two_hooks_and_baseline_writers_at_once(repo: Repo) -> None:
    repo.write("a.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.keyguard("baseline")
    for n in range(20):
        repo.write(f"f{n}.env", f"IMIN_TOKEN={fake_key(str(n))}\n")
    results: list[int] = []

    def run(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "keyguard", *args], cwd=repo.path,
                              capture_output=True, check=False)
        results.append(done.returncode)

    threads = [threading.Thread(target=run, args=args) for args in
               [("staged",), ("staged",), ("baseline", "--update"), ("baseline", "--update"),
                ("allow", "0123456789abcdef", "--reason", "x")]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 0, 0]
    document = json.loads((repo.path / ".keyguard-baseline.json").read_text())  # whole, valid
    assert document["keyguard_baseline"] == 1 and len(document["findings"]) >= 1
    assert not list(repo.path.glob(".keyguard-*.tmp"))


def test_secrets_stay_out_of_reprs() -> None:
    values = [Finding(rule_id="r", path="p", secret=KEY, line=1, column=1, confidence=Confidence.HIGH,
                      blocking=True, excerpt=f"x={KEY}"),
              Candidate(rule_id="r", secret=KEY, line=1, column=1, confidence=Confidence.HIGH),
              Blob(path="p", text=f"x={KEY}")]
    assert all(KEY not in repr(value) for value in values)
