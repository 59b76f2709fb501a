"""Commands that scan: files, the index, history, a push, a CI range."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

import click

from keyguard import git
from keyguard.cli.common import (
    EXIT_FINDINGS,
    error,
    finish,
    load_policy,
    progress_display,
    size_option,
    timed,
)
from keyguard.cli.files import run_scan
from keyguard.cli.options import jobs_option, report_options
from keyguard.cli.staged import run_staged
from keyguard.errors import UsageError
from keyguard.model import ScanResult

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

    from keyguard.history import Progress

# Sources are imported by the commands that read them: `staged` (the hook) loads no other.


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(readable=False))  # unreadable: exit 4, the rest scanned
@click.option("--stdin-name", default="<stdin>", show_default=True,
              help="Path to report for '-' (standard input).")
@click.option("--max-file-size", metavar="SIZE",
              help="Skip files larger than this (e.g. 500k, 10M; default 10M or the config's).")
@click.option("--follow-symlinks", is_flag=True, help="Follow symlinks found while walking.")
@click.option("--no-ignore", is_flag=True, help="Scan files that .gitignore excludes too.")
@jobs_option("Processes to scan with (default: all cores; a small scan uses one).")
@report_options
def scan(paths: tuple[str, ...], stdin_name: str, max_file_size: str | None,
         follow_symlinks: bool, no_ignore: bool, jobs: int | None, **report: Any) -> int:
    """Scan files and directories (default: .); '-' reads standard input.

    Inside a git work tree, files that .gitignore excludes are skipped unless named, and paths
    are reported from the repository root.
    """
    return run_scan(paths, report, stdin_name=stdin_name, max_file_size=max_file_size,
                    follow_symlinks=follow_symlinks, no_ignore=no_ignore, jobs=jobs)


@click.command()
@click.argument("paths", nargs=-1)
@report_options
def staged(paths: tuple[str, ...], **report: Any) -> int:
    """Scan what the next commit will record (the index): the pre-commit hook.

    Only keys on lines this commit adds or changes block; PATHS limit the scan to those paths.
    """
    return run_staged(paths, report)


@click.command()
@click.argument("revisions", nargs=-1)
@click.option("--since", metavar="DATE", help="Only commits more recent than DATE (git's formats).")
@click.option("--until", metavar="DATE", help="Only commits older than DATE.")
@click.option("--max-file-size", metavar="SIZE", help="Skip file versions larger than this (default 10M).")
@jobs_option("Processes to scan with (default: all cores).")
@report_options
def history(revisions: tuple[str, ...], since: str | None, until: str | None,
            max_file_size: str | None, jobs: int | None, **report: Any) -> int:
    """Scan commits: all refs by default, or REVISIONS such as origin/main..HEAD.

    Each file version is scanned once; each finding names the commit that first brought the
    secret to that path. Commit messages and annotated tag messages are scanned too.
    """
    for revision in revisions:
        if revision.startswith("-"):
            raise UsageError(f"not a revision: {revision!r} (options go before revisions)")
    filters = [f"--since={since}"] * bool(since) + [f"--until={until}"] * bool(until)
    return _history(list(revisions), filters, max_file_size, report, progress=progress_display(),
                    jobs=jobs)


def _history(revisions: list[str], filters: list[str], max_file_size: str | None,
             report: dict[str, Any], progress: Progress | None = None, jobs: int | None = None,
             root: str | None = None, tags: Sequence[tuple[str, str]] = (), gate: bool = False) -> int:
    from keyguard.history import scan_history
    from keyguard.workers import default_jobs

    started = time.perf_counter()
    root = root or git.repository_dir()  # a bare repository (a mirror, a server) too
    policy = load_policy(report, base=root)
    limit = size_option(max_file_size, policy.config.max_file_size)
    result = scan_history(revisions, filters, policy, limit, cwd=root, progress=progress,
                          jobs=jobs or default_jobs(), tags=tags)
    return finish(timed(result, started), report, config=policy.config, gate=gate)


@click.command("pre-push")
@click.argument("remote", required=False)
@click.argument("url", required=False)
@report_options
def pre_push(remote: str | None, url: str | None, **report: Any) -> int:
    """Scan every commit a push would send: the pre-push hook.

    Reads git's pre-push input on stdin, or pre-commit's PRE_COMMIT_FROM_REF and
    PRE_COMMIT_TO_REF (PRE_COMMIT_LOCAL_BRANCH alone on a first push). A new branch sends
    the commits that no remote-tracking ref of REMOTE has.
    """
    from keyguard.sources.push import RefUpdate, parse_pre_push, push_revisions, pushed_objects

    to_ref = os.environ.get("PRE_COMMIT_TO_REF")
    local_branch = os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "")
    remote = remote or os.environ.get("PRE_COMMIT_REMOTE_NAME")
    if to_ref:
        from_ref = os.environ.get("PRE_COMMIT_FROM_REF") or None
        if from_ref is not None and remote and git.is_remote(remote) \
                and not git.pushes_where_it_fetches(remote):
            # for a new branch pre-commit derives FROM_REF from the remote's tracking refs,
            # which say nothing about where a push goes elsewhere: all of TO_REF is read (to a
            # URL, FROM_REF is the tip git found there, or absent)
            from_ref = None
        updates = [RefUpdate(to_ref, None if from_ref is None or git.is_null_sha(from_ref) else from_ref,
                             local_branch)]
    elif local_branch and os.environ.get("PRE_COMMIT"):
        # pre-commit gives no refs when the push reaches a root commit (a new repository's
        # first push): the branch's commits that no remote-tracking ref has
        updates = [RefUpdate(local_branch, None, local_branch)]
    else:
        updates = parse_pre_push(sys.stdin.read())
    revisions = push_revisions(updates, remote)
    if revisions:
        code = _history(revisions, [], None, report, tags=pushed_objects(updates), gate=True)
    else:
        code = finish(ScanResult(findings=(), scanned=0, unit="commit"), report)
    if code == EXIT_FINDINGS:
        error("push blocked. Remove the key from these commits (rewrite them; rotate the key), "
              "or skip this check once with `git push --no-verify`.")
    return code


@click.command("ci")
@click.option("--base", metavar="REV", help="Scan the commits since REV (REV..HEAD) instead of "
              "reading the range from GitHub Actions or GitLab CI.")
@report_options
def ci(base: str | None, **report: Any) -> int:
    """Scan the commits under test in CI: the push, pull request or merge request range."""
    from keyguard.sources.ci import detect_range, range_revisions

    if report["show_secrets"]:
        raise UsageError("--show-secrets is refused in CI: keys never go into a build log")
    ci_range = detect_range(os.environ, base)
    root = git.toplevel()
    return _history(range_revisions(ci_range, root), [], None, report, root=root, gate=True)
