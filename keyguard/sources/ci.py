"""The commits under test in a CI run, from the variables GitHub Actions and GitLab CI set."""

from __future__ import annotations

import json
from collections.abc import Mapping

from keyguard import git
from keyguard.errors import GitError, UsageError
from keyguard.record import Record

_FETCH_MORE = ("fetch more history: actions/checkout with `fetch-depth: 0`, GitLab CI with "
               "`GIT_DEPTH: 0`, or `git fetch --unshallow`")


class CiRange(Record, kw_only=False):
    head: str
    base: str | None  # None: commits not on `default_branch`
    default_branch: str | None = None
    source: str = ""  # where the range came from, for the report
    branch: str | None = None  # the branch pushed, on a first push


def detect_range(env: Mapping[str, str], base: str | None) -> CiRange:
    if base:
        return CiRange(head=env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA") or "HEAD",
                       base=base, source="--base")
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env)
    raise UsageError("not in GitHub Actions or GitLab CI: give the range with --base REV")


def _github(env: Mapping[str, str]) -> CiRange:
    event = _event(env.get("GITHUB_EVENT_PATH", ""))
    default = (event.get("repository") or {}).get("default_branch")
    if "pull_request" in event:
        try:
            head, base = event["pull_request"]["head"]["sha"], event["pull_request"]["base"]["sha"]
        except (KeyError, TypeError) as e:
            raise UsageError("GITHUB_EVENT_PATH: the pull request event has no "
                             "pull_request.head.sha or pull_request.base.sha") from e
        return CiRange(head=head, base=base, source="GitHub pull request")
    head = event.get("after") or env.get("GITHUB_SHA") or "HEAD"
    before = event.get("before")
    if before and not git.is_null_sha(before):
        return CiRange(head=head, base=before, source="GitHub push")
    branch = str(event.get("ref") or "").removeprefix("refs/heads/") or None
    return CiRange(head=head, base=None, default_branch=default, source="GitHub first push",
                   branch=branch)


def _event(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError) as e:
        raise UsageError(f"GITHUB_EVENT_PATH: cannot read the event file {path!r}: {e}") from e
    if not isinstance(event, dict):
        raise UsageError(f"GITHUB_EVENT_PATH: {path!r} is not a JSON object")
    return event


def _gitlab(env: Mapping[str, str]) -> CiRange:
    head = env.get("CI_COMMIT_SHA") or "HEAD"
    if env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        return CiRange(head=head, base=env["CI_MERGE_REQUEST_DIFF_BASE_SHA"],
                       source="GitLab merge request")
    before = env.get("CI_COMMIT_BEFORE_SHA", "")
    if before and not git.is_null_sha(before):
        return CiRange(head=head, base=before, source="GitLab push")
    return CiRange(head=head, base=None, default_branch=env.get("CI_DEFAULT_BRANCH"),
                   source="GitLab first push", branch=env.get("CI_COMMIT_BRANCH"))


def range_revisions(ci_range: CiRange, cwd: str | None = None) -> list[str]:
    """Revisions for the range, after checking that the clone holds what they name."""
    _require(ci_range.head, cwd)
    if ci_range.base is not None:
        _require(ci_range.base, cwd)
        return [ci_range.head, "^" + ci_range.base]
    default = ci_range.default_branch
    if default == ci_range.branch:  # the default branch's own first push: it is all new
        default = None
    for ref in (f"refs/remotes/origin/{default}", default) if default else ():
        if git.has_commit(ref, cwd):
            return [ci_range.head, "^" + ref]
    return [ci_range.head]  # no default branch to compare with: every commit of the branch


def _require(revision: str, cwd: str | None) -> None:
    if git.has_commit(revision, cwd):
        return
    if git.shallow_boundary(cwd):
        raise GitError(f"commit {revision} is not in this shallow clone; {_FETCH_MORE}")
    raise GitError(f"commit {revision} is not in this repository (fetch it first)")
