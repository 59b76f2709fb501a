"""The fast history path (new lines only, several processes) finds what scanning every file
version whole, in one process, finds."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

from keyguard import git
from keyguard.config import load_config
from keyguard.history import scan_history
from keyguard.scan import Policy
from tests.conftest import Repo, fake_key

FIXTURES = Path(__file__).parents[1] / "fixtures" / "corpus"


def findings(repo: Repo, jobs: int) -> list[tuple]:
    config = load_config(None, str(repo.path), datetime.date(2026, 1, 1))
    result = scan_history([], [], Policy(config=config, base=str(repo.path)), 10 << 20,
                          cwd=str(repo.path), jobs=jobs)
    return sorted((f.rule_id, f.path, f.secret, f.line, f.column, f.confidence, f.origin)
                  for f in result.findings)


def test_fast_path_equals_reference_on_an_evolving_corpus(repo: Repo) -> None:
    shutil.copytree(FIXTURES, repo.path / "corpus")
    big = [f"ordinary line {n}, request_id={fake_key(f'rid{n}')}" for n in range(3000)]
    repo.write("logs/access.log", "\n".join(big))
    plain = [f"2024-01-{n % 28 + 1:02d},row-{n},Porto,{n * 7}" for n in range(3000)]  # nothing to find
    repo.write("data/ledger.csv", "\n".join(plain))
    repo.stage()
    repo.commit("corpus and a big log")
    for n in range(6):  # edit the big file: a key appears on a new line, then another in a record
        big.insert(100 * n, f"IMIN_API_KEY={fake_key(f'edit{n}')}" if n % 2 else
                   f'{{"name": "X-API-KEY",\n "value": "{fake_key(f"rec{n}")}"}}')
        big[2000 + n] = "changed " + big[2000 + n]
        repo.write("logs/access.log", "\n".join(big))
        # edited at both ends, so the changed middle is the whole file; a key in it every other time
        plain[0], plain[-1] = f"edit {n}", f"edit {n}"
        plain[1500 + n] = f"IMIN_API_KEY={fake_key(f'csv{n}')}" if n % 2 else f"row {n} edited"
        repo.write("data/ledger.csv", "\n".join(plain))
        repo.write("corpus/positive/.env", (FIXTURES / "positive/.env").read_text() + f"\n# edit {n}\n")
        repo.stage()
        repo.commit(f"edit {n}")
    reference = findings(repo, jobs=0)
    assert findings(repo, jobs=1) == reference
    assert findings(repo, jobs=2) == reference
    assert sum(1 for f in reference if f[1] == "logs/access.log") == 6
    assert sum(1 for f in reference if f[1] == "data/ledger.csv") == 3
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
