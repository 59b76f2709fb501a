"""The fast history path (new lines only, several processes) finds what scanning every file
version whole, in one process, finds."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from keyguard import blobscan, git
from keyguard.blobscan import _tasks, path_groups
from keyguard.config import load_config
from keyguard.errors import GitError
from keyguard.history import scan_history
from keyguard.scan import Policy
from keyguard.sources.history import plan_history
from tests.conftest import Repo, fake_key

FIXTURES = Path(__file__).parents[1] / "fixtures" / "corpus"


def findings(repo: Repo, jobs: int, revisions: tuple[str, ...] = ()) -> list[tuple]:
    config = load_config(None, str(repo.path), datetime.date(2026, 1, 1))
    result = scan_history(revisions, [], Policy(config=config, base=str(repo.path)), 10 << 20,
                          cwd=str(repo.path), jobs=jobs)
    return sorted((f.rule_id, f.path, f.secret, f.line, f.column, f.confidence, f.origin)
                  for f in result.findings)


def test_fast_path_equals_reference_on_an_evolving_corpus(repo: Repo) -> None:
    shutil.copytree(FIXTURES, repo.path / "corpus")
    # Both big files' changed middles exceed blobscan._WALK_FROM, so their edits are walked.
    big = [f"ordinary line {n}, request_id={fake_key(f'rid{n}')}" for n in range(5000)]
    repo.write("logs/access.log", "\n".join(big))
    plain = [f"2024-01-{n % 28 + 1:02d},row-{n},Porto,{n * 7}" for n in range(9000)]  # nothing to find
    repo.write("data/ledger.csv", "\n".join(plain))
    # Edited 1,400 lines apart: a changed middle of ~80 KB, between blobscan._SMALL_CHANGE and
    # _WALK_FROM, so its lines get the line-set diff.
    medium = [f"item {n}, request_id={fake_key(f'mid{n}')}" for n in range(2000)]
    repo.write("data/items.txt", "\n".join(medium))
    repo.stage()
    repo.commit("corpus and a big log")
    for n in range(6):  # edit the big file: a key appears on a new line, then another in a record
        big.insert(100 * n, f"IMIN_API_KEY={fake_key(f'edit{n}')}" if n % 2 else
                   f'{{"name": "X-API-KEY",\n "value": "{fake_key(f"rec{n}")}"}}')
        big[2000 + n] = "changed " + big[2000 + n]
        repo.write("logs/access.log", "\n".join(big))
        # edited at both ends, so the changed middle is the whole file; a key in it every other time
        plain[0], plain[-1] = f"edit {n}", f"edit {n}"
        plain[4500 + n] = f"IMIN_API_KEY={fake_key(f'csv{n}')}" if n % 2 else f"row {n} edited"
        repo.write("data/ledger.csv", "\n".join(plain))
        medium[100], medium[1500] = f"edit {n}", f"edit {n}"
        medium[800 + n] = f"IMIN_API_KEY={fake_key(f'items{n}')}" if n % 2 else f"item {n} edited"
        repo.write("data/items.txt", "\n".join(medium))
        repo.write("corpus/positive/.env", (FIXTURES / "positive/.env").read_text() + f"\n# edit {n}\n")
        repo.stage()
        repo.commit(f"edit {n}")
    reference = findings(repo, jobs=0)
    assert findings(repo, jobs=1) == reference
    assert findings(repo, jobs=2) == reference
    assert sum(1 for f in reference if f[1] == "logs/access.log") == 6
    assert sum(1 for f in reference if f[1] == "data/ledger.csv") == 3
    assert sum(1 for f in reference if f[1] == "data/items.txt") == 3
    assert len(reference) > 150


def test_one_reader_serves_many_tasks_read_to_their_last_object(repo: Repo) -> None:
    """Each task reads its versions with read_many and stops after the last one, leaving the
    generator at its last answer. Closing it then must not end the shared git process."""
    shas = []
    for n in range(3):
        repo.write(f"f{n}.txt", f"version {n}\n")
        shas.append(git.run(["hash-object", "-w", f"f{n}.txt"], cwd=str(repo.path)).decode().strip())
    with git.ObjectReader(str(repo.path)) as objects:
        for _ in range(2000):  # the writer thread outliving the last answer is a race: try often
            contents = objects.read_many(shas)
            assert [next(contents)[1] for _ in shas] == [f"version {n}\n".encode() for n in range(3)]
            contents.close()


def test_long_paths_cut_into_runs_for_workers_find_what_the_reference_finds(repo: Repo) -> None:
    """400 versions of one log: more than a worker's share, so it is cut into runs, each diffed
    against the version before it. Some versions also appear at a second path (scanned whole,
    so they lead no run) and one is binary."""
    lines: list[str] = []
    stream = []
    for n in range(400):
        lines.append(f"{n} GET /v1/orders request_id={fake_key(f'req{n}')}")
        if n % 37 == 5:
            lines.append(f"IMIN_API_KEY={fake_key(f'key{n}')}")
        if n % 50 == 7:
            lines = [line for line in lines if "IMIN" not in line]  # keys removed again
        content = ("\n".join(lines) + "\n").encode()
        if n == 200:
            content = b"\x00binary" + content
        files = [("logs/app.log", content)] + ([("logs/copy.log", content)] if n % 2 else [])
        stream.append(f"commit refs/heads/main\ncommitter A <a@example.com> {1_700_000_000 + n} +0000\n"
                      f"data 6\nv{n:04d}\n".encode())
        for path, data in files:
            stream.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    repo.path.mkdir(parents=True, exist_ok=True)
    git.run(["init", "-q", "-b", "main"], cwd=str(repo.path))
    git.run(["fast-import", "--quiet"], cwd=str(repo.path), input=b"".join(stream))

    plan = plan_history([], [], cwd=str(repo.path), sizes=True)  # asked while the log is read
    groups = path_groups(plan.blobs)
    sizes = git.object_sizes([sha for group in groups for sha, _ in group], str(repo.path))
    assert plan.sizes == sizes and len(sizes) == len(plan.blobs)
    last = git.run(["rev-parse", "main:logs/app.log"], cwd=str(repo.path)).decode().strip()
    assert sizes[last] == len(content)
    log = next(group for group in groups if group[0][1][0].path == "logs/app.log")
    position = {sha: k for k, (sha, _) in enumerate(log)}
    runs = sorted((position[group[0][0]], lead, group) for _, task in _tasks(groups, sizes, 2)
                  for lead, group in task if group[0][0] in position)
    assert [sha for _, _, group in runs for sha, _ in group] == [sha for sha, _ in log]
    for start, lead, _ in runs:  # led by the version before, unless that one is scanned whole
        assert lead == (log[start - 1][0] if start and len(log[start - 1][1]) == 1 else None)
    assert len(runs) > 10 and any(lead for _, lead, _ in runs) and any(not lead for k, lead, _ in runs if k)

    reference = findings(repo, jobs=0)
    assert findings(repo, jobs=2) == reference  # all refs: workers forked before the plan
    assert findings(repo, jobs=2, revisions=("main",)) == reference  # a range: forked after it
    assert sum(1 for f in reference if f[1] == "logs/app.log" and f[0] == "hex32-key") >= 10


def test_a_renamed_record_is_seen_past_a_long_line_of_wide_characters(repo: Repo) -> None:
    # The edit is 1,000 bytes but 250 characters above the key: within what rules read, so the
    # window around it must reach the key (a margin in characters, not bytes).
    key = fake_key("wide")
    record = '{{"name": "{}",\n "note": "' + "\U0001F511" * 250 + '",\n "value": "' + key + '"}}\n'
    repo.write("config/record.json", "[\n" + record.format("request_id"))  # an id: low
    repo.stage()
    repo.commit("a record")
    repo.write("config/record.json", "[\n" + record.format("imin_api_key"))
    repo.stage()
    renamed = repo.commit("the record renamed")
    found = findings(repo, jobs=1)
    assert found == findings(repo, jobs=0)
    assert [(f[2], f[6].commit) for f in found] == [(key, renamed)]


def test_sizes_asked_outside_a_repository_fail_with_gits_message(tmp_path: Path) -> None:
    with git.SizeReader(str(tmp_path)) as reader:
        for _ in range(20_000):  # more than a pipe holds: git has stopped reading long before
            reader.ask("0" * 40)
        with pytest.raises(GitError, match=r"cat-file failed: .*not a git repository"):
            reader.sizes()


def test_large_paths_go_whole_to_one_worker_first(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths with a large version form one task, first, read with a larger delta cache (others
    with a smaller one); unless they cost more than one worker's part."""
    monkeypatch.setattr(blobscan, "_LARGE", 1_000)  # bytes, for a test-sized repository
    rows = {"big/a.log": [], "big/b.jsonl": []}
    for n in range(30):
        for path, lines in rows.items():
            lines.append(f'{{"n": {n}, "request_id": "{fake_key(f"{path}{n}")}"}}')
            if n % 10 == 3:
                lines.append(f"IMIN_API_KEY={fake_key(f'{path}key{n}')}")
            repo.write(path, "\n".join(lines) + "\n")
        for k in range(3):
            repo.write(f"src/m{(3 * n + k) % 45}.py", f'VERSION = {n}\napi_key = "{fake_key(f"m{n}{k}")}"\n')
        repo.stage()
        repo.commit(f"change {n}")
    plan = plan_history([], [], cwd=str(repo.path), sizes=True)
    assert plan.sizes is not None
    groups = path_groups(plan.blobs)
    tasks = _tasks(groups, plan.sizes, 2)
    cache, lane = tasks[0]
    assert cache == blobscan._LANE_CACHE_MIB and all(lead is None for lead, _ in lane)
    assert sorted(group[0][1][0].path for _, group in lane) == ["big/a.log", "big/b.jsonl"]
    assert sum(len(group) for _, group in lane) == 60  # whole paths
    assert {cache for cache, _ in tasks[1:]} == {blobscan._OTHERS_CACHE_MIB}
    reference = findings(repo, jobs=0)
    assert findings(repo, jobs=2) == reference
    assert sum(1 for f in reference if f[1].startswith("big/")) == 6
    monkeypatch.setattr(blobscan, "_LARGE", 10)  # every path large: more than a worker's part
    assert {cache for cache, _ in _tasks(groups, plan.sizes, 2)} == {blobscan._CACHE_MIB}
