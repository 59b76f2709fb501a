"""`keyguard audit` over several real repositories: entries, flags, locations, reports."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Repo, fake_key

SHARED = fake_key("audit-shared")
BUNDLED = fake_key("audit-bundle")
DANGLING = fake_key("audit-dangling")
ROOT = Path(__file__).parents[1]


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """alpha, beta, gamma share one key; web has one only in a bundle; lost has a dangling blob."""
    alpha, beta, gamma = (Repo(tmp_path / name) for name in ("alpha", "beta", "gamma"))
    alpha.write("server/config.py", f'IMIN_API_KEY = "{SHARED}"\n')
    alpha.stage()
    alpha.commit("alpha uses the key")
    beta.write("jobs/sync.env", f"IMIN_API_KEY={SHARED}\n")
    beta.stage()
    beta.commit("beta too")
    beta.write("jobs/sync.env", "IMIN_API_KEY=\n")
    beta.stage()
    beta.commit("beta removes it")
    gamma.write("services/billing/settings.yaml", f"imin_api_key: {SHARED}\n")
    gamma.stage()
    gamma.commit("gamma too")
    web = Repo(tmp_path / "web")
    web.write("src/app.ts", "fetch(url, { headers: { 'X-API-KEY': process.env.KEY } })\n")
    web.write("dist/app.min.js", f'fetch(u,{{headers:{{"X-API-KEY":"{BUNDLED}"}}}});\n')
    web.stage()
    web.commit("build")
    lost = Repo(tmp_path / "lost")
    lost.write("README.md", "nothing\n")
    lost.stage()
    lost.commit("start")
    blob = lost.path / "stray.txt"
    blob.write_text(f"IMIN_API_KEY={DANGLING}\n")
    lost.git("hash-object", "-w", "stray.txt")  # an object no commit reaches
    blob.unlink()
    (tmp_path / "repos.txt").write_text("# the estate\nalpha\nbeta\ngamma\nweb\nlost\n")
    return tmp_path


def audit(estate: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keyguard", "audit", "--repos-file", "repos.txt",
                           "--include-unreachable", *args], cwd=estate, capture_output=True,
                          text=True, check=False, timeout=300)


def test_entries_flags_and_locations(estate: Path) -> None:
    done = audit(estate, "--format", "json", "--show-secrets")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [r["name"] for r in report["repositories"]] == ["alpha", "beta", "gamma", "web", "lost"]
    assert all(r["complete"] for r in report["repositories"])
    by_secret = {s["secret"]: s for s in report["secrets"]}
    assert set(by_secret) == {SHARED, BUNDLED, DANGLING}

    shared = by_secret[SHARED]
    assert shared["shared"] and shared["services"] == ["alpha", "beta", "gamma:billing"]
    where = {(loc["repository"], loc["path"], loc["at_head"]) for loc in shared["locations"]}
    assert where == {("alpha", "server/config.py", True), ("beta", "jobs/sync.env", False),
                     ("gamma", "services/billing/settings.yaml", True)}
    assert all(loc["commit"] and loc["author"] == "Test Author" and loc["date"].startswith("2026-01-01")
               for loc in shared["locations"])
    assert shared["live_at_head"] and not shared["client_side"]
    assert shared["first_appeared"].startswith("2026-01-01")
    steps = " ".join(shared["checklist"])
    assert "one key per service" in steps and "alpha: server/config.py (still at HEAD)" in steps
    assert "It stays readable in history at beta: jobs/sync.env" in steps

    bundled = by_secret[BUNDLED]
    assert bundled["client_side"] and not bundled["shared"]
    assert [loc["path"] for loc in bundled["locations"]] == ["dist/app.min.js"]
    assert "client-side code (dist/app.min.js)" in " ".join(bundled["checklist"])

    dangling = by_secret[DANGLING]
    [location] = dangling["locations"]
    assert location["repository"] == "lost" and location["path"].startswith("(unreachable blob) ")
    assert location["commit"] is None and not location["at_head"]


def test_text_report_is_redacted_and_has_checklists(estate: Path) -> None:
    done = audit(estate)
    assert done.returncode == 1
    assert "3 distinct secrets" in done.stdout and "rotation checklist:" in done.stdout
    assert "[SHARED: alpha, beta, gamma:billing]" in done.stdout and "[CLIENT-SIDE]" in done.stdout
    assert not any(key in done.stdout for key in (SHARED, BUNDLED, DANGLING))


def test_a_repository_that_cannot_be_read_is_reported_not_dropped(estate: Path) -> None:
    (estate / "repos.txt").write_text("alpha\nnot-a-repo\n")
    (estate / "not-a-repo").mkdir()
    done = audit(estate, "--format", "json")
    assert done.returncode == 4
    repositories = {r["name"]: r for r in json.loads(done.stdout)["repositories"]}
    assert not repositories["not-a-repo"]["complete"] and "not a git repository" in (
        repositories["not-a-repo"]["error"] or "")
    assert "not scanned: not-a-repo" in done.stderr


def test_mirrors_are_audited_and_a_repository_named_twice_once(estate: Path) -> None:
    """`git clone --mirror` (bare) is how an estate is gathered; naming a repository again, or
    by a subdirectory, must not make its keys look shared with itself."""
    subprocess.run(["git", "clone", "-q", "--mirror", "beta", "beta-mirror.git"], cwd=estate, check=True)
    (estate / "repos.txt").write_text("alpha\nalpha/server\n./alpha\nbeta-mirror.git\n")
    done = audit(estate, "--format", "json", "--show-secrets")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [r["name"] for r in report["repositories"]] == ["alpha", "beta-mirror.git"]
    assert all(r["complete"] for r in report["repositories"])
    [shared] = report["secrets"]
    where = {(loc["repository"], loc["path"]) for loc in shared["locations"]}
    assert where == {("alpha", "server/config.py"), ("beta-mirror.git", "jobs/sync.env")}


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_html_report_renders_in_headless_chromium(estate: Path, tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        if os.environ.get("KEYGUARD_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    report = tmp_path / "audit.html"
    done = audit(estate, "--format", "html", "--output", str(report))
    assert done.returncode == 1 and report.exists()
    html = report.read_text()
    assert not any(key in html for key in (SHARED, BUNDLED, DANGLING))
    assert "http://" not in html and "https://" not in html  # self-contained: nothing to fetch
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*flags, "--dump-dom", report.as_uri()], capture_output=True, text=True,
                         check=False, timeout=120)
    assert "<table id=\"locations\">" in dom.stdout
    assert dom.stdout.count("<tr>") == 1 + 5  # header, then one row per location
    for chart in ("chart-time", "chart-repositories", "chart-authors"):
        assert f'id="{chart}"' in dom.stdout
    assert dom.stdout.count("<rect") >= 3
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "audit-report.png"
    subprocess.run([*flags, "--window-size=1280,1600", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, check=False, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_a_key_in_a_tag_message_names_the_whole_tag(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "tagged")
    repo.write("README.md", "hello\n")
    repo.stage()
    repo.commit("start")
    repo.git("tag", "-a", "release-2026.01", "-m", f"release notes\nIMIN_API_KEY={fake_key('audit-tag')}")
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "tagged"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "tag refs/tags/release-2026.01 by Test Author" in done.stdout


def test_html_chart_labels_are_cut_before_escaping(repo: Repo) -> None:
    repo.write("k.py", f'API_KEY = "{fake_key("html label")}"\n')
    repo.stage()
    subprocess.run(["git", "commit", "-q", "--no-verify", "-m", "key"], cwd=repo.path, check=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "A" * 26 + "&Co"})
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", str(repo.path), "--format", "html"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 1, done.stderr
    labels = [part.split("</text>")[0] for part in done.stdout.split('font-size="12">')[1:]]
    assert "A" * 26 + "&amp;C" in labels  # cut at 28 characters of the name, then escaped


def test_first_appearance_compares_instants_across_time_zones(tmp_path: Path) -> None:
    key = fake_key("time zones")
    for name, date in (("alpha", "2024-01-01T10:00:00+05:00"), ("beta", "2024-01-01T01:00:00-08:00")):
        repo = Repo(tmp_path / name)  # alpha at 05:00 UTC, beta at 09:00 UTC
        repo.write("k.py", f'API_KEY = "{key}"\n')
        repo.stage()
        subprocess.run(["git", "commit", "-q", "--no-verify", "-m", "key"], cwd=repo.path, check=True,
                       env={**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "alpha", "beta", "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    [secret] = json.loads(done.stdout)["secrets"]
    assert (secret["first_appeared"], secret["last_appeared"]) == (
        "2024-01-01T10:00:00+05:00", "2024-01-01T01:00:00-08:00")
    assert [loc["repository"] for loc in secret["locations"]] == ["alpha", "beta"]


def test_credentials_in_a_clone_url_are_not_reported(tmp_path: Path) -> None:
    url = "https://user:tok3n-not-to-show@127.0.0.1:9/org/repo.git"
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", url, "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 4 and "tok3n" not in done.stdout + done.stderr
    assert json.loads(done.stdout)["repositories"][0]["path"] == "https://127.0.0.1:9/org/repo.git"


def test_bare_mirror_and_cloned_repositories_use_the_config_at_head(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "gamma")
    repo.write("fixtures/fake.env", f"IMIN_API_KEY={fake_key('fixture')}\n")
    repo.write(".keyguard.toml", '[[allow]]\npaths = ["fixtures/"]\nreason = "fake keys"\n')
    repo.stage()
    repo.commit("fixtures")
    for flag in ("--bare", "--mirror"):
        subprocess.run(["git", "clone", "-q", flag, str(repo.path), str(tmp_path / f"gamma{flag}.git")],
                       check=True)
    for location in ("gamma", "gamma--bare.git", "gamma--mirror.git", repo.path.as_uri()):
        done = subprocess.run([sys.executable, "-m", "keyguard", "audit", location, "--format", "json"],
                              cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
        assert done.returncode == 0 and json.loads(done.stdout)["secrets"] == [], (location, done.stderr)


def test_an_invalid_config_at_head_is_named_as_such(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "delta")
    repo.write(".keyguard.toml", 'blocking-confidence = "severe"\n')
    repo.stage()
    repo.commit("config")
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(tmp_path / "delta.git")], check=True)
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "delta.git"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 4
    assert "not scanned: delta.git: HEAD:.keyguard.toml: 'blocking-confidence' must be" in done.stderr


def test_a_key_held_encoded_at_head_is_at_head(tmp_path: Path) -> None:
    key = fake_key("k8s secret")
    repo = Repo(tmp_path / "k8s")
    encoded = base64.b64encode(key.encode()).decode()
    repo.write("secret.yaml", f"apiVersion: v1\nkind: Secret\ndata:\n  IMIN_API_KEY: {encoded}\n")
    repo.stage()
    repo.commit("secret")
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "k8s", "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    [secret] = json.loads(done.stdout)["secrets"]
    assert [loc["at_head"] for loc in secret["locations"]] == [True]
