"""Configuration: where it is found, what it holds, and how each mistake is reported."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, fake_key

KEY = fake_key("config")


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("fixtures/fake.env", f"IMIN_API_KEY={KEY}\n")
    repo.write("src/app.py", "print('hello')\n")
    return repo


def test_found_from_the_repository_root_whatever_the_directory(project: Repo) -> None:
    project.write(".keyguard.toml", '[[allow]]\npaths = ["fixtures/"]\nreason = "fake keys"\n')
    sub = Repo.__new__(Repo)
    sub.path = project.path / "src"
    run = sub.keyguard("scan", str(project.path))
    assert run.code == 0 and "1 suppressed" in run.out
    assert project.keyguard("scan", "fixtures", "--show-suppressed").out.count(
        "by .keyguard.toml: [[allow]] #1: fake keys") == 1


def test_pyproject_section(project: Repo) -> None:
    project.write("pyproject.toml",
                  '[project]\nname = "x"\n\n[[tool.keyguard.allow]]\npaths = ["*.env"]\nreason = "fake"\n')
    assert project.keyguard("scan").code == 0


def test_found_in_a_worktree_and_a_submodule(project: Repo, tmp_path) -> None:
    project.write(".keyguard.toml", '[[allow]]\npaths = ["fixtures/"]\nreason = "fake keys"\n')
    project.stage()
    project.commit("base")
    worktree = tmp_path / "worktree"
    project.git("worktree", "add", "-q", str(worktree))
    in_worktree = Repo.__new__(Repo)
    in_worktree.path = worktree / "src"
    assert in_worktree.keyguard("scan", "..").code == 0  # .git is a file in a worktree
    outer = Repo(tmp_path / "outer")
    outer.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(project.path), "sub")
    in_submodule = Repo.__new__(Repo)
    in_submodule.path = outer.path / "sub" / "src"
    assert in_submodule.keyguard("scan", "..").code == 0


def test_config_option_overrides(project: Repo) -> None:
    project.write("other.toml", '[[allow]]\npaths = ["fixtures/**"]\nreason = "fake keys"\n')
    assert project.keyguard("scan").code == 1
    assert project.keyguard("scan", "--config", "other.toml").code == 0
    missing = project.keyguard("scan", "--config", "missing.toml")
    assert missing.code == 2 and "--config" in missing.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[allow]]\npahts = ["x"]\nreason = "r"\n',
         ".keyguard.toml: [[allow]] #1: unknown key 'pahts' (did you mean 'paths'?)"),
        ('[[allow]]\npaths = ["x"]\n', ".keyguard.toml: [[allow]] #1: 'reason' is required"),
        ('[[allow]]\npaths = "x"\nreason = "r"\n',
         ".keyguard.toml: [[allow]] #1: 'paths' must be a non-empty list of strings"),
        ('[[allow]]\nregexes = ["(unclosed"]\nreason = "r"\n',
         ".keyguard.toml: [[allow]] #1: 'regexes': invalid regex '(unclosed': missing )"),
        ('[[allow]]\nregexes = ["(?<=x)y"]\nreason = "r"\n', "no look-around"),
        ('[[allow]]\nsecrets = ["' + KEY + '"]\nreason = "r"\n',
         "'secrets' holds hashes, never keys"),
        ('[[allow]]\npaths = ["x"]\nexpires = "soon"\nreason = "r"\n',
         "[[allow]] #1: 'expires' must be a date like 2027-01-31"),
        ('[[allow]]\nreason = "r"\n', "[[allow]] #1: needs at least one of paths, regexes"),
        ('[[allow]]\npaths = ["x"]\nexpires = 2020-01-01T10:00:00\nreason = "r"\n',
         "'expires' must be a date like 2027-01-31, not 2020-01-01T10:00:00"),
        ('[[allow]]\npaths = ["x"]\nrules = ["hex32_key"]\nreason = "r"\n',
         "[[allow]] #1: 'rules': no rule 'hex32_key' (rules: x-api-key, hex32-key)"),
        ("baseline = '../outside.json'\n", "'baseline' must be a path inside the repository"),
        ("max-file-size = -1\n", "'max-file-size': not a size"),
        ("blocking-confidence = 'severe'\n", "'blocking-confidence' must be low, medium or high"),
        ("allow = [\n", ".keyguard.toml: invalid TOML"),
        ("max_file_size = 1\n", "unknown key 'max_file_size' (did you mean 'max-file-size'?)"),
        ("allow-markers = ['nosec']\n", "'allow-markers' may list 'gitleaks:allow'"),
        ('[[rules]]\nid = "x-api-key"\nregex = "k=(\\\\w+)"\n',
         "[[rules]] #1: 'id' 'x-api-key' is already a rule"),
        ('[[rules]]\nid = "acme"\nregex = "acme_(?P<secret>[a-z0-9]{20})"\nexamples = ["acme_short"]\n',
         "[[rules]] #1: example does not match: 'acme_short'"),
        ('[[rules]]\nid = "acme"\nregex = "acme_(?P<secret>[a-z0-9]{5})"\ncounterexamples = ["acme_12345"]\n',
         "[[rules]] #1: counterexample matches: 'acme_12345'"),
        ('[[rules]]\nid = "acme"\nregex = "acme_(?P<secret>[a-z0-9]{5})"\ndescription = 5\n',
         "[[rules]] #1: 'description' must be a string"),
    ],
)
def test_each_mistake_is_exit_3_with_file_entry_and_key(project: Repo, content: str, message: str) -> None:
    project.write(".keyguard.toml", content)
    for command in (["config", "check"], ["scan"], ["staged"], ["history"]):
        run = project.keyguard(*command)
        assert run.code == 3 and message in run.err, (command, run.err)
        assert "Traceback" not in run.err


@pytest.mark.parametrize(("name", "content", "message"), [
    (".keyguard.toml", b"\xff\xfeb\x00l\x00",
     ".keyguard.toml: not UTF-8 text, as TOML must be (byte 1: b'\\xff')"),
    ("pyproject.toml", b"[tool]\nkeyguard = 5\n", "pyproject.toml: 'tool.keyguard' must be a table"),
    ("pyproject.toml", b"[tool]\nkeyguard = { blocking-confidence = 'severe' }\n",
     "pyproject.toml: 'blocking-confidence' must be low, medium or high"),
    ("pyproject.toml", b"tool.keyguard.max_file_size = 1\n", "pyproject.toml: unknown key 'max_file_size'"),
    # quoted keys and inline tables are the same table to TOML
    ("pyproject.toml", b'[tool."keyguard"]\nblocking-confidence = "bogus"\n',
     "pyproject.toml: 'blocking-confidence' must be low, medium or high"),
    ("pyproject.toml", b'["tool".keyguard]\nblocking-confidence = "bogus"\n',
     "pyproject.toml: 'blocking-confidence' must be low, medium or high"),
    ("pyproject.toml", b'tool = {keyguard = {blocking-confidence = "bogus"}}\n',
     "pyproject.toml: 'blocking-confidence' must be low, medium or high"),
])
def test_unreadable_and_misplaced_configuration(project: Repo, name: str, content: bytes,
                                                message: str) -> None:
    (project.path / name).write_bytes(content)
    run = project.keyguard("config", "check")
    lines = run.err.strip().splitlines()
    assert run.code == 3 and len(lines) == 1 and lines[0].startswith(f"keyguard: {message}"), run.err


def test_every_problem_is_reported_not_just_the_first(project: Repo) -> None:
    project.write(".keyguard.toml", '[[allow]]\npahts = ["x"]\n\n[[allow]]\npaths = 3\nreason = "r"\n')
    run = project.keyguard("config", "check")
    assert run.code == 3
    assert "#1: unknown key 'pahts'" in run.err and "#1: 'reason' is required" in run.err
    assert "#2: 'paths' must be" in run.err
    assert all(line.startswith("keyguard: .keyguard.toml: ") for line in run.err.splitlines())


def test_config_check_on_a_valid_config(project: Repo) -> None:
    project.write(".keyguard.toml", '[[allow]]\npaths = ["fixtures/"]\nreason = "fake keys"\n\n'
                  '[[rules]]\nid = "acme"\nregex = "acme_(?P<secret>[a-z0-9]{20})"\n'
                  'examples = ["acme_0123456789abcdefghij"]\n')
    run = project.keyguard("config", "check")
    assert run.code == 0 and "valid (1 allow entries, 1 custom rules)" in run.out


def test_config_check_lists_every_problem_of_config_and_baseline(project: Repo) -> None:
    project.write(".keyguard.toml", '[[allow]]\npaths = ["[z-a]"]\nreason = "bad"\n\n'
                  '[[allow]]\npaths = ["ok/"]\nregexes = ["(?=x)"]\nreason = "r"\nrules = ["nope"]\n\n'
                  '[[allow]]\npaths = ["a\\\\"]\nexpires = 2020-01-01\nreason = "expired, still checked"\n')
    project.write(".keyguard-baseline.json",
                  '{"keyguard_baseline": 1, "findings": [{"fingerprint": "x"}, {"fingerprint": "y"}]}')
    run = project.keyguard("config", "check")
    assert run.code == 3
    assert [line.split(": ")[2] for line in run.err.splitlines()] == [
        "[[allow]] #1", "[[allow]] #2", "[[allow]] #2", "[[allow]] #3", "findings #1", "findings #2"]
    assert "invalid regex" in run.err and "no rule 'nope'" in run.err  # both of entry #2


@pytest.mark.parametrize("entry", [
    '[[allow]]\npaths = ["x"]\nexpires = 2020-01-01\nreason = "old key {k} rotated"\n',  # a warning
    '[[allow]]\npaths = ["x"]\nexpires = 2020-01-01\nreason = "old key {k16} {k16b}"\n',  # in halves
    '[[allow]]\nregexes = ["^{k}(?!x)"]\nreason = "r"\n',  # an error quoting the pattern
    '[[rules]]\nid = "acme"\nregex = "acme_(?P<secret>[a-z0-9]{{24}})"\nexamples = ["X-ACME: {k}"]\n',
])
def test_messages_quoting_the_configuration_redact_keys(project: Repo, entry: str) -> None:
    key = fake_key("pasted in a config")
    project.write(".keyguard.toml", entry.format(k=key, k16=key[:16], k16b=key[16:]))
    for command in (("scan",), ("staged",), ("config", "check")):
        run = project.keyguard(*command)
        assert run.err and key[:16] not in run.err and key[16:] not in run.err, (command, run.err)
