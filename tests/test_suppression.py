"""Allowlists, inline markers, baselines and custom rules: each works, each failure is precise."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import Repo, fake_key

KEY = fake_key("suppress")
OTHER = fake_key("suppress-other")


@pytest.fixture
def leaky(repo: Repo) -> Repo:
    repo.write("app/settings.py", f'API_KEY = "{KEY}"\n')
    repo.write("tests/test_api.py", f'TOKEN = "{OTHER}"\n')
    return repo


def allow(repo: Repo, entry: str) -> None:
    repo.write(".keyguard.toml", f"[[allow]]\n{entry}\nreason = \"test data\"\n")


def blocking_paths(repo: Repo, *args: str) -> set[str]:
    run = repo.keyguard("scan", "--format", "json", *args)
    assert run.code in (0, 1), run.err
    return {f["path"] for f in json.loads(run.out)["findings"] if f["blocking"]}


def test_each_allowlist_kind(leaky: Repo) -> None:
    both = {"app/settings.py", "tests/test_api.py"}
    assert blocking_paths(leaky) == both
    allow(leaky, 'paths = ["tests/"]')
    assert blocking_paths(leaky) == {"app/settings.py"}
    allow(leaky, f'regexes = ["^{OTHER[:6]}"]')
    assert blocking_paths(leaky) == {"app/settings.py"}
    allow(leaky, 'regexes = ["^TOKEN ="]\nregex-target = "line"')
    assert blocking_paths(leaky) == {"app/settings.py"}
    allow(leaky, f'secrets = ["sha256:{hashlib.sha256(KEY.encode()).hexdigest()}"]')
    assert blocking_paths(leaky) == {"tests/test_api.py"}
    allow(leaky, 'paths = ["**"]\nrules = ["x-api-key"]')  # scoped to another rule
    assert blocking_paths(leaky) == both
    allow(leaky, 'paths = ["tests/"]\nregexes = ["^nomatch"]')  # all criteria must hold
    assert blocking_paths(leaky) == both


def test_invalid_path_pattern_is_a_configuration_error(leaky: Repo) -> None:
    # compiled only when a finding needs it (start-up), but never ignored: exit 3, one line
    leaky.write(".keyguard.toml", '[[allow]]\npaths = ["tests/", "a\\\\"]\nreason = "r"\n\n'
                '[[allow]]\npaths = ["[z-a]"]\nreason = "r"\n')
    for command in (("scan",), ("scan", "-j", "2"), ("staged",)):
        leaky.stage()
        run = leaky.keyguard(*command)
        assert run.code == 3 and "Traceback" not in run.err, (command, run.err)
        assert run.err.startswith("keyguard: .keyguard.toml: [[allow]] #1: 'paths': invalid pattern 'a\\\\'")
    run = leaky.keyguard("config", "check")
    assert run.code == 3 and run.err.splitlines() == [
        "keyguard: .keyguard.toml: [[allow]] #1: 'paths': invalid pattern 'a\\\\': "
        "Escape character found with no next character to escape: 'a\\\\'",
        "keyguard: .keyguard.toml: [[allow]] #2: 'paths': invalid pattern '[z-a]': bad character range z-a"]
    leaky.write(".keyguard.toml", '[[allow]]\npaths = ["tests/", "app/"]\nreason = "r"\n')
    assert leaky.keyguard("config", "check").code == 0 and blocking_paths(leaky) == set()


def test_allowlisted_secret_does_not_hide_another_on_the_same_line(leaky: Repo) -> None:
    allow(leaky, f'secrets = ["sha256:{hashlib.sha256(KEY.encode()).hexdigest()}"]')
    leaky.write("app/settings.py", f'API_KEY = "{OTHER}"\n')
    assert "app/settings.py" in blocking_paths(leaky)


def test_expired_entry_stops_applying_and_warns(leaky: Repo) -> None:
    allow(leaky, 'paths = ["tests/"]\nexpires = 2020-01-01')
    run = leaky.keyguard("scan")
    assert run.code == 1 and "tests/test_api.py" in run.out
    assert "warning: .keyguard.toml: [[allow]] #1: expired on 2020-01-01" in run.err
    allow(leaky, 'paths = ["tests/"]\nexpires = 2999-01-01')
    assert "tests/test_api.py" not in leaky.keyguard("scan").out


def test_commit_entries_apply_to_history(leaky: Repo) -> None:
    leaky.stage()
    commit = leaky.commit("leak")
    allow(leaky, f'commits = ["{commit[:10]}"]')
    assert leaky.keyguard("history").code == 0
    assert leaky.keyguard("scan").code == 1  # files have no commit


def test_inline_markers(leaky: Repo) -> None:
    leaky.write("app/settings.py", f'API_KEY = "{KEY}"  # keyguard:allow: sandbox key\n')
    leaky.write("tests/test_api.py", f'TOKEN = "{OTHER}"  # gitleaks:allow\n')
    assert blocking_paths(leaky) == {"tests/test_api.py"}  # other tools' markers are opt-in
    leaky.write(".keyguard.toml", 'allow-markers = ["gitleaks:allow", "pragma: allowlist secret"]\n')
    assert blocking_paths(leaky) == set()


def test_show_suppressed_says_why(leaky: Repo) -> None:
    allow(leaky, 'paths = ["tests/"]')
    run = leaky.keyguard("scan", "--show-suppressed")
    assert "suppressed tests/test_api.py:1:10  hex32-key (high)" in run.out
    assert "by .keyguard.toml: [[allow]] #1: test data" in run.out and OTHER not in run.out


# Baselines

def baseline_file(repo: Repo) -> dict:
    return json.loads((repo.path / ".keyguard-baseline.json").read_text())


def test_baseline_suppresses_and_survives_moving_lines(leaky: Repo) -> None:
    assert leaky.keyguard("baseline").code == 0
    document = baseline_file(leaky)
    assert document["keyguard_baseline"] == 1
    assert [e["path"] for e in document["findings"]] == ["app/settings.py", "tests/test_api.py"]
    text = (leaky.path / ".keyguard-baseline.json").read_text()
    assert KEY not in text and OTHER not in text and '"line"' not in text
    assert leaky.keyguard("scan").code == 0
    leaky.write("app/settings.py", "import os\n" * 50 + f'API_KEY = "{KEY}"\n')  # 50 lines down
    assert leaky.keyguard("scan").code == 0
    leaky.write("app/settings.py", "import os\n" * 50 + f'API_KEY = "{fake_key("new")}"\n')
    run = leaky.keyguard("scan")
    assert run.code == 1 and "app/settings.py:51:" in run.out  # another key on that line is new


def test_baseline_also_applies_to_staged_and_history(leaky: Repo) -> None:
    assert leaky.keyguard("baseline").code == 0
    leaky.stage()
    assert leaky.keyguard("staged").code == 0
    leaky.commit("baselined")
    assert leaky.keyguard("history").code == 0


def test_baseline_is_written_only_when_asked(leaky: Repo) -> None:
    assert leaky.keyguard("baseline").code == 0
    path = leaky.path / ".keyguard-baseline.json"
    before = (path.read_text(), os.stat(path).st_mtime_ns)
    time.sleep(0.01)
    leaky.write("new.env", f"IMIN_TOKEN={fake_key('later')}\n")
    leaky.stage()
    for command in (["scan"], ["staged"], ["history"]):
        leaky.keyguard(*command)
    assert (path.read_text(), os.stat(path).st_mtime_ns) == before
    again = leaky.keyguard("baseline")
    assert again.code == 2 and "--update" in again.err


def test_baseline_update_and_prune(leaky: Repo) -> None:
    assert leaky.keyguard("baseline").code == 0
    leaky.write("new.env", f"IMIN_TOKEN={fake_key('later')}\n")
    run = leaky.keyguard("baseline", "--update")
    assert run.code == 0 and "3 entries (1 added, 0 pruned)" in run.out
    (leaky.path / "tests/test_api.py").unlink()
    run = leaky.keyguard("baseline", "--prune")
    assert run.code == 0 and "2 entries (0 added, 1 pruned)" in run.out
    assert {e["path"] for e in baseline_file(leaky)["findings"]} == {"app/settings.py", "new.env"}
    assert (leaky.path / ".keyguard-baseline.json").read_text().endswith("}\n")


ENTRY = ('{"fingerprint": "0123456789abcdef", "rule_id": "hex32-key", "path": "a.env", '
         '"status": "accepted", "reason": "r"}')


def baseline_of(*entries: str) -> str:
    return '{"keyguard_baseline": 1, "findings": [' + ", ".join(entries) + "]}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", ".keyguard-baseline.json: not a keyguard baseline (invalid JSON"),
        ('{"findings": []}', "not a keyguard baseline (no 'keyguard_baseline' version)"),
        ('{"keyguard_baseline": 9, "findings": []}', "written by a newer keyguard (baseline version 9"),
        ('{"keyguard_baseline": 1, "findings": [{"fingerprint": "x"}]}', "findings #1: needs string fields"),
        ('{"keyguard_baseline": true, "findings": []}', "no 'keyguard_baseline' version"),
        ('{"keyguard_baseline": 0, "findings": []}', "no 'keyguard_baseline' version"),
        ('{"keyguard_baseline": 1, "findings": [], "generated": "today"}', "unknown key 'generated'"),
        (baseline_of(ENTRY[:-1] + ', "line": 3}'), "findings #1: unknown key 'line'"),
        (baseline_of(ENTRY, ENTRY), "findings #2: fingerprint 0123456789abcdef is listed twice"),
        (baseline_of(ENTRY.replace("accepted", "bogus")),
         "findings #1: 'status' must be accepted or allowed, not 'bogus'"),
        (baseline_of(ENTRY.replace("0123", "WXYZ")),
         "findings #1: 'fingerprint' must be 16 hex digits"),
    ],
)
def test_broken_baseline_is_exit_3(leaky: Repo, content: str, message: str) -> None:
    leaky.write(".keyguard-baseline.json", content)
    for command in (["scan"], ["config", "check"], ["baseline", "--update"]):
        run = leaky.keyguard(*command)
        assert run.code == 3 and message in run.err, (command, run.err)
    assert (leaky.path / ".keyguard-baseline.json").read_text() == content  # never rewritten


def test_a_symlinked_baseline_stays_a_link(leaky: Repo) -> None:
    """A team keeping the baseline elsewhere and linking it: the target is updated, the link kept."""
    (leaky.path / "shared").mkdir()
    (leaky.path / "shared/baseline.json").write_text('{"keyguard_baseline": 1, "findings": []}\n')
    os.chmod(leaky.path / "shared/baseline.json", 0o640)
    (leaky.path / ".keyguard-baseline.json").symlink_to("shared/baseline.json")
    assert leaky.keyguard("baseline", "--update").code == 0
    assert (leaky.path / ".keyguard-baseline.json").is_symlink()
    assert len(json.loads((leaky.path / "shared/baseline.json").read_text())["findings"]) == 2
    assert os.stat(leaky.path / "shared/baseline.json").st_mode & 0o777 == 0o640  # as the user set it


def test_each_report_needs_its_own_file(leaky: Repo) -> None:
    run = leaky.keyguard("scan", "-o", "r.json", "--report", "sarif=./r.json")
    assert run.code == 2 and "two reports would go to one file" in run.err
    assert not (leaky.path / "r.json").exists()


def test_baseline_option(leaky: Repo) -> None:
    assert leaky.keyguard("baseline", "--baseline", "ci/accepted.json").code == 0
    assert leaky.keyguard("scan").code == 1
    assert leaky.keyguard("scan", "--baseline", "ci/accepted.json").code == 0
    assert leaky.keyguard("scan", "--baseline", "ci/missing.json").code == 2


def test_hook_message_prints_the_allow_command_that_works(leaky: Repo) -> None:
    leaky.stage("app/settings.py")
    run = leaky.keyguard("staged")
    assert run.code == 1
    command = next(line for line in run.out.splitlines() if "keyguard allow" in line)
    fingerprint = command.split("keyguard allow ")[1].split()[0]
    done = leaky.keyguard("allow", fingerprint, "--reason", "sandbox key, revoked")
    assert done.code == 0 and "hex32-key in app/settings.py" in done.out
    assert leaky.keyguard("staged").code == 0
    [entry] = baseline_file(leaky)["findings"]
    assert entry == {"fingerprint": fingerprint, "rule_id": "hex32-key", "path": "app/settings.py",
                     "status": "allowed", "reason": "sandbox key, revoked"}
    assert leaky.keyguard("allow", "nothex", "--reason", "x").code == 2
    pasted = leaky.keyguard("allow", KEY, "--reason", "x")  # the key instead of its fingerprint
    assert pasted.code == 2 and KEY not in pasted.err and f"{KEY[:4]}…{KEY[-4:]}" in pasted.err


# Custom rules

def test_custom_rule_finds_its_secret(repo: Repo) -> None:
    repo.write(".keyguard.toml", '[[rules]]\nid = "acme-token"\n'
               'regex = "acme_(?P<secret>[a-z0-9]{24})"\nkeywords = ["acme_"]\nconfidence = "high"\n'
               'examples = ["acme_0123456789abcdefghijklmn"]  # keyguard:allow (fake)\n'
               'counterexamples = ["acme_short"]\n')
    repo.write("a.txt", "token: acme_zyxwvutsrqponmlkjihgfedc\n")
    run = repo.keyguard("scan", "--show-secrets")
    assert run.code == 1 and "a.txt:1:13  acme-token (high)  zyxwvutsrqponmlkjihgfedc" in run.out
    assert ".keyguard.toml" not in run.out  # its example is marked
    assert "acme-token" in repo.keyguard("rules").out


def test_catastrophic_backtracking_pattern_cannot_hang_the_scan(repo: Repo) -> None:
    repo.write(".keyguard.toml", '[[rules]]\nid = "evil"\nregex = "(a+)+$"\n')
    repo.write("a.txt", "a" * 50 + "!\n")
    started = time.monotonic()
    run = repo.keyguard("scan")
    assert time.monotonic() - started < 10  # Python's re would need ~2^50 steps
    assert run.code == 0, run.err


def test_what_blocks_is_always_reported(leaky: Repo) -> None:
    # a bare 32-hex literal is low; blocking-confidence = "low" makes it block, and it must
    # then be shown although --min-confidence is medium by default
    leaky.write("notes.txt", fake_key("bare") + "\n")
    assert "notes.txt" not in blocking_paths(leaky)
    leaky.write(".keyguard.toml", 'blocking-confidence = "low"\n')
    assert "notes.txt" in blocking_paths(leaky)
    leaky.stage("notes.txt")
    assert leaky.keyguard("staged").code == 1
    # --min-confidence high cannot hide a medium finding that blocks
    leaky.write(".keyguard.toml", "")
    leaky.write("a.http", "X-API-KEY: sk_live_" + fake_key("medium")[:20] + "\n")  # medium: not 32-hex
    run = leaky.keyguard("scan", "--min-confidence", "high", "a.http")
    assert run.code == 1 and "a.http:1" in run.out


def test_excerpts_redact_secrets_graded_below_what_is_reported(leaky: Repo) -> None:
    token = "acme_" + "q7w8e9r1t2y3u4i5o6p7a8s9"
    leaky.write(".keyguard.toml", '[[rules]]\nid = "acme-token"\nregex = "acme_(?P<secret>[a-z0-9]{24})"\n'
                'confidence = "low"\ndescription = "ACME"\n'
                'examples = ["acme_0123456789abcdefghijklmn"]  # keyguard:allow\n')
    leaky.write("app/settings.py", f'API_KEY = "{KEY}"; ACME = "{token}"\n')
    for fmt in ("text", "json", "junit", "gitlab", "sarif"):
        run = leaky.keyguard("scan", "--format", fmt, "app/settings.py")
        assert run.code == 1 and token[5:15] not in run.out, fmt


def test_an_empty_baseline_is_not_overwritten_without_update(repo: Repo) -> None:
    repo.write("a.py", "x = 1\n")
    assert repo.keyguard("baseline").code == 0  # no findings: an empty baseline
    repo.write("a.py", f'API_KEY = "{KEY}"\n')
    again = repo.keyguard("baseline")
    assert again.code == 2 and "--update" in again.err
    assert repo.keyguard("scan").code == 1  # the new key still blocks


def test_allowlisted_paths_never_match_outside_the_repository(leaky: Repo, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "fixtures"
    elsewhere.mkdir(parents=True)
    (elsewhere / "prod.py").write_text(f'API_KEY = "{KEY}"\n')
    for pattern in ("fixtures/", "**/prod.py", "prod.py"):
        allow(leaky, f'paths = ["{pattern}"]')
        for target in (str(elsewhere.parent), os.path.relpath(elsewhere.parent, leaky.path)):
            run = leaky.keyguard("scan", target)
            assert run.code == 1 and "prod.py" in run.out, (pattern, target)


def test_unwritable_report_or_oversized_cap_is_a_usage_error(leaky: Repo) -> None:
    (leaky.path / "out").mkdir()
    run = leaky.keyguard("scan", "--report", "json=out", "app/settings.py")
    assert run.code == 2 and run.err == "keyguard: cannot write out: Is a directory\n"
    run = leaky.keyguard("scan", "--max-file-size", "9223372036854775807", "app")
    assert run.code == 2 and "too large" in run.err and "Traceback" not in run.err
    leaky.write(".keyguard.toml", 'max-file-size = "999999999999G"\n')
    run = leaky.keyguard("config", "check")
    assert run.code == 3 and "too large" in run.err
    leaky.write(".keyguard.toml", 'max-file-size = "1024G"\n')  # the largest: files read in pieces
    assert leaky.keyguard("scan", "app").code == 1


def test_baseline_named_with_two_dots_is_inside_and_allow_never_echoes_a_value(leaky: Repo) -> None:
    leaky.write(".keyguard.toml", 'baseline = "..team-baseline.json"\n')
    assert leaky.keyguard("baseline").code == 0 and (leaky.path / "..team-baseline.json").exists()
    leaky.write(".keyguard.toml", 'baseline = "../outside.json"\n')
    assert leaky.keyguard("config", "check").code == 3
    run = leaky.keyguard("allow", "Pq7Wx2Rt9Zk4Lm8", "--reason", "pasted a short key")
    assert run.code == 2 and "Pq7Wx2Rt9Zk4Lm8" not in run.err and "not a fingerprint" in run.err
