"""`keyguard audit --scheduler`: a real Dask cluster (scheduler and two worker processes on
loopback) gives the same report as the local run, and a lost repository is never dropped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Repo, fake_key

distributed = pytest.importorskip("distributed")

SHARED = fake_key("dask-shared")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local.scheduler_address


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    lines = []
    for n in range(4):
        repo = Repo(tmp_path / f"repo{n}")
        repo.write("app/settings.py", f'API_KEY = "{fake_key(f"dask-{n}")}"\n')
        repo.write("deploy/.env", f"IMIN_API_KEY={SHARED}\n" if n % 2 else "DEBUG=1\n")
        repo.stage()
        repo.commit("code")
        repo.write("app/settings.py", "API_KEY = os.environ['IMIN_API_KEY']\n")
        repo.stage()
        repo.commit("key moved out")
        lines.append(str(repo.path) if n < 3 else repo.path.as_uri())  # the last one is cloned
    (tmp_path / "repos.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


def audit(estate: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keyguard", "audit", "--repos-file", "repos.txt",
                           "--format", "json", *args], cwd=estate, capture_output=True, text=True,
                          check=False, timeout=300)


def normalised(report: dict) -> list:
    return sorted((s["secret_sha256"], s["confidence"], s["shared"], s["client_side"],
                   sorted((loc["repository"], loc["path"], loc["at_head"], loc["commit"])
                          for loc in s["locations"])) for s in report["secrets"])


def test_same_findings_on_the_cluster_as_locally(estate: Path, cluster: str) -> None:
    local = audit(estate)
    remote = audit(estate, "--scheduler", cluster)
    assert local.returncode == remote.returncode == 1, remote.stderr
    local_report, remote_report = json.loads(local.stdout), json.loads(remote.stdout)
    assert normalised(remote_report) == normalised(local_report)
    assert len(remote_report["secrets"]) == 5  # four per-repository keys and the shared one
    shared = next(s for s in remote_report["secrets"] if s["shared"])
    assert {loc["repository"] for loc in shared["locations"]} == {"repo1", "repo3"}
    assert SHARED not in remote.stdout  # only redacted values and hashes travel back


def test_environment_variable_names_the_scheduler(estate: Path, cluster: str) -> None:
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "--repos-file", "repos.txt",
                           "--format", "json"], cwd=estate, capture_output=True, text=True, check=False,
                          timeout=300, env={**__import__("os").environ, "KEYGUARD_SCHEDULER": cluster})
    assert done.returncode == 1 and len(json.loads(done.stdout)["secrets"]) == 5


def test_a_repository_that_fails_is_retried_then_reported(estate: Path, cluster: str) -> None:
    (estate / "broken").mkdir()
    (estate / "repos.txt").write_text((estate / "repos.txt").read_text() + f"{estate / 'broken'}\n")
    done = audit(estate, "--scheduler", cluster)
    assert done.returncode == 4
    repositories = {r["name"]: r for r in json.loads(done.stdout)["repositories"]}
    assert not repositories["broken"]["complete"]
    assert "not a git repository" in repositories["broken"]["error"]
    assert "not scanned: broken" in done.stderr
    assert sum(r["complete"] for r in repositories.values()) == 4
    local = {r["name"]: r for r in json.loads(audit(estate).stdout)["repositories"]}
    assert repositories["broken"]["error"] == local["broken"]["error"]  # the same words


def test_a_malformed_scheduler_address_is_a_usage_error(estate: Path) -> None:
    for address in ("bogus", "tcp://127.0.0.1:notaport"):
        done = audit(estate, "--scheduler", address)
        assert done.returncode == 2 and "not a scheduler address" in done.stderr, done.stderr


def test_unreachable_scheduler_is_exit_4(estate: Path) -> None:
    done = audit(estate, "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 4 and "cannot reach the Dask scheduler" in done.stderr


def test_a_scheduler_without_workers_ends_the_audit_incomplete(estate: Path) -> None:
    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as empty:  # any free port: no warning
        done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "--repos-file", "repos.txt",
                               "--format", "json", "--scheduler", empty.scheduler_address],
                              cwd=estate, capture_output=True, text=True, check=False, timeout=120,
                              env={**os.environ, "KEYGUARD_DASK_NO_WORKERS_WAIT": "3"})
    assert done.returncode == 4, done.stderr
    repositories = json.loads(done.stdout)["repositories"]
    assert len(repositories) == 4 and not any(r["complete"] for r in repositories)
    assert "the Dask scheduler had no workers for 3 s" in done.stderr
