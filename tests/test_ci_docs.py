"""The GitHub workflow and GitLab job of docs/ci.md, replayed against a real repository."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.conftest import Repo, fake_key

ROOT = Path(__file__).parents[1]
KEY = fake_key("ci-docs")


def documented_yaml() -> list[dict]:
    text = (ROOT / "docs/ci.md").read_text()
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def keyguard_commands(lines: list[str]) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in lines if line.startswith("keyguard ")]


@pytest.fixture
def pushed_leak(repo: Repo, tmp_path: Path) -> tuple[Repo, str, str]:
    remote = tmp_path / "remote.git"
    repo.git("init", "-q", "--bare", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.write("README.md", "hello\n")
    repo.stage()
    base = repo.commit("base")
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("client.sh", f"curl -H 'X-API-KEY: {KEY}' https://x\n")
    repo.stage()
    return repo, base, repo.commit("leak")


def test_github_workflow(pushed_leak: tuple[Repo, str, str]) -> None:
    repo, base, head = pushed_leak
    workflow = next(doc for doc in documented_yaml() if "jobs" in doc)
    steps = workflow["jobs"]["secrets"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    [command] = keyguard_commands([s["run"] for s in steps if "run" in s])
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    event = repo.path.parent / "event.json"
    event.write_text(json.dumps({"before": base, "after": head, "repository": {"default_branch": "main"}}))
    env = {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": "push",
           "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": head}
    run = repo.keyguard(*command, env=env)
    assert run.code == 1 and run.out.startswith("::error file=client.sh,line=1,col=21,")
    sarif = json.loads((repo.path / upload["with"]["sarif_file"]).read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "x-api-key"
    assert KEY not in run.out + run.err + json.dumps(sarif)
    assert (repo.path / "keyguard-junit.xml").exists()


def test_gitlab_job(pushed_leak: tuple[Repo, str, str]) -> None:
    repo, base, head = pushed_leak
    job = next(doc for doc in documented_yaml() if "keyguard" in doc)["keyguard"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    [command] = keyguard_commands(job["script"])
    env = {"GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
           "CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_COMMIT_SHA": head, "CI_DEFAULT_BRANCH": "main"}
    run = repo.keyguard(*command, env=env)
    assert run.code == 1
    report = json.loads((repo.path / job["artifacts"]["reports"]["secret_detection"]).read_text())
    [vulnerability] = report["vulnerabilities"]
    assert vulnerability["location"]["commit"]["sha"] == head
    assert (repo.path / job["artifacts"]["reports"]["junit"]).exists()
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "fixtures/schemas/gitlab-secret-detection-report-format.json").read_text())
    jsonschema.validate(report, schema)


def test_pre_commit_config_names_the_manifest_hooks() -> None:
    manifest = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    config = next(doc for doc in documented_yaml() if "repos" in doc)
    assert {hook["id"] for hook in config["repos"][0]["hooks"]} == manifest
