"""Scanning files on several processes finds what one process finds, in the same order, with
large files cut into parts."""

from __future__ import annotations

import datetime
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from keyguard import filescan
from keyguard.config import load_config
from keyguard.model import Confidence, ScanError, Unread
from keyguard.scan import Policy, scan_items
from keyguard.sources.files import WalkOptions, read_paths
from tests.conftest import Run, fake_key

FIXTURES = Path(__file__).parents[1] / "fixtures" / "corpus"


def scanned(top: Path, jobs: int) -> tuple[list[tuple], int, list[str]]:
    config = load_config(None, str(top), datetime.date(2026, 1, 1))
    result = scan_items(read_paths([str(top)], WalkOptions(max_file_size=10 << 20)),
                        Policy(config=config, base=str(top)), jobs)
    found = [(f.rule_id, f.path, f.secret, f.line, f.column, f.confidence, f.signals)
             for f in result.findings]
    return found, result.scanned, [s.path for s in result.skipped]


def big_text(lines: int) -> str:
    """Keys in every context rules read, some far from their name, many near part boundaries."""
    far = "\U0001F511" * 300
    contexts = [
        lambda k: f"IMIN_API_KEY={k}",
        lambda k: f"api_key =\n{far} {k}",  # the name 1,200 bytes up, but 300 characters
        lambda k: f'{{"name": "X-API-KEY",\n "value": "{k}"}}',
        lambda k: f"headers = {{\n  'X-API-KEY':\n    '{k}'\n}}",
        lambda k: f"request_id={k} checksum sha256",
        lambda k: f"curl -H 'X-API-KEY: {k}' https://api.example",
    ]
    body = [f"ordinary line {n}, value={n * 7} ünïcode" for n in range(lines)]
    for n in range(0, lines, 37):
        body[n] = contexts[n % len(contexts)](fake_key(f"part{n}"))
    return "\n".join(body)  # no newline at the end: a key on the last line counts too


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers from the first byte, parts of 4 KiB: every boundary case in a small tree."""
    monkeypatch.setattr(filescan, "PARALLEL_FROM", 0)
    monkeypatch.setattr(filescan, "PART", 4 << 10)
    monkeypatch.setattr(filescan, "TASK", 16 << 10)


def test_parts_on_workers_find_what_one_process_finds(tmp_path: Path, small_parts: None) -> None:
    shutil.copytree(FIXTURES, tmp_path / "corpus")
    (tmp_path / "big.txt").write_text(big_text(3000) + f"\nlast_key = {fake_key('last')}")
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + big_text(400).encode())
    (tmp_path / "utf16.txt").write_text(big_text(300), encoding="utf-16")
    os.mkfifo(tmp_path / "fifo")  # found by the walk, skipped by the worker that reads it
    one = scanned(tmp_path, 1)
    assert len(one[0]) > 100 and any(f[1] == "big.txt" and f[2] == fake_key("last") for f in one[0])
    assert one[2] == [str(tmp_path / "fifo")]
    assert scanned(tmp_path, 2) == one


def test_slices_of_a_table_read_its_column_names(tmp_path: Path, small_parts: None) -> None:
    # a later slice does not hold the first line that names the columns: it is read for it
    rows = [f"{n},tenant-{n},,2024-03-01" for n in range(3000)]
    for n in range(7, 3000, 211):
        rows[n] = f'{n},"tenant, {n}",{fake_key(f"row{n}")},2024-03-01'
    (tmp_path / "export.csv").write_bytes(b"\xef\xbb\xbfid,name,api_key,created_at\r\n"
                                          + "\r\n".join(rows).encode())
    one = scanned(tmp_path, 1)
    assert len(one[0]) == 15 and {f[5] for f in one[0]} == {Confidence.HIGH}
    assert scanned(tmp_path, 2) == one


def test_many_answers_in_flight_keep_the_walk_order(tmp_path: Path, small_parts: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filescan, "IN_FLIGHT", 8 << 10)  # answers are awaited while the walk goes on
    for n in range(40):
        (tmp_path / f"f{n:02d}.txt").write_text(big_text(60 + n * 7))
    one = scanned(tmp_path, 1)
    assert [f[1] for f in one[0]] == sorted(f[1] for f in one[0])
    assert scanned(tmp_path, 2) == one


def test_scan_command_on_two_processes(keyguard: Callable[..., Run], tmp_path: Path) -> None:
    # Larger than PARALLEL_FROM and PART as shipped: forked workers, parts of one file.
    (tmp_path / "fixtures.log").write_text(big_text(60_000))
    serial = keyguard("scan", str(tmp_path), "-j", "1", "--format", "json")
    parallel = keyguard("scan", str(tmp_path), "-j", "2", "--format", "json")
    assert serial.code == parallel.code == 1
    found = json.loads(serial.out)["findings"]
    assert len(found) > 1000 and json.loads(parallel.out)["findings"] == found


def test_a_slice_that_starts_at_a_key_has_its_record_name_far_above(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = fake_key("record")
    # `value:` just above the key: its record's name is read up to 300 characters back, here
    # 297 characters but 1,062 bytes, past a line that starts 1,039 bytes up.
    note = "\U0001F511" * 255
    text = ("filler\n" * 500 + f'{{"name": "imin_api_key",\n "n": "{note}",\n"value":\n' + key + "}\n"
            + "filler\n" * 500)
    (tmp_path / "f.json").write_text(text)
    monkeypatch.setattr(filescan, "PARALLEL_FROM", 0)
    monkeypatch.setattr(filescan, "PART", text.encode().index(key.encode()))  # the second slice starts there
    one = scanned(tmp_path, 1)
    line = text[: text.index(key)].count("\n") + 1
    assert [(f[2], f[3], f[5]) for f in one[0]] == [(key, line, Confidence.HIGH)]
    assert scanned(tmp_path, 2) == one


def test_slices_of_two_versions_of_a_file_make_it_an_error() -> None:
    # Each slice reports the size and time of the file it read: a file rewritten between two
    # slices' reads would give findings of neither version.
    file = Unread(path="big.log", size=3 << 20, limit=10 << 20)
    same = filescan._joined(file, [((None, [], []), 10, (3 << 20, 1)), ((None, [], []), 5, (3 << 20, 1))])
    assert same == (None, [], [])
    changed = filescan._joined(file, [((None, [], []), 10, (3 << 20, 1)), ((None, [], []), 5, (3 << 20, 2))])
    assert changed == (ScanError(path="big.log", message="changed while it was being scanned"), [], [])
