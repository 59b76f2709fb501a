"""`keyguard audit`: every ref, tag and commit of one or many repositories, one entry per key."""

from __future__ import annotations

import importlib
import os

import click

from keyguard import git
from keyguard.audit import AuditSettings, Repository, collect, is_url, repository_name
from keyguard.cli.common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    error,
    progress_display,
    say,
    write_atomically,
)
from keyguard.cli.options import jobs_option
from keyguard.errors import KeyguardError, UsageError
from keyguard.model import Confidence
from keyguard.terminal import neutralise

_RENDERERS = {"text": "keyguard.reporters.audit_text", "json": "keyguard.reporters.audit_json",
              "html": "keyguard.reporters.audit_html"}


@click.command()
@click.argument("repositories", nargs=-1, type=click.Path())
@click.option("--repos-file", type=click.Path(dir_okay=False),
              help="A file with one repository path (or clone URL) per line.")
@click.option("--include-unreachable", is_flag=True,
              help="Also scan blobs no commit reaches (dangling, reflog-only).")
@jobs_option("Processes (default: all cores).")
@click.option("--scheduler", envvar="KEYGUARD_SCHEDULER", metavar="tcp://HOST:PORT",
              help="Run on a Dask cluster (also KEYGUARD_SCHEDULER); see docs/distributed.md.")
@click.option("--format", "format_name", type=click.Choice(sorted(_RENDERERS)), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here (atomically).")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="low",
              show_default=True, help="Report secrets at or above this confidence.")
@click.option("--max-file-size", metavar="SIZE", help="Skip file versions larger than this (default 10M).")
@click.option("--show-secrets", is_flag=True, help="Print keys in full (default: redacted).")
def audit(repositories: tuple[str, ...], repos_file: str | None, include_unreachable: bool,
          jobs: int | None, scheduler: str | None, format_name: str, output: str | None,
          min_confidence: str, max_file_size: str | None, show_secrets: bool) -> int:
    """Audit whole histories: one entry per distinct key across REPOSITORIES, with every place
    it has been, whether it is still at HEAD, client-side and shared-key flags, and a rotation
    checklist. HTML, JSON or text."""
    from keyguard.executors import run_dask, run_local
    from keyguard.workers import default_jobs

    locations = list(dict.fromkeys(map(_repository, list(repositories) + _read_repos_file(repos_file))))
    if not locations:
        raise UsageError("name at least one repository (or --repos-file)")
    taken: set[str] = set()
    tasks = [(repository_name(p, taken), p) for p in locations]
    settings = AuditSettings(report_at=Confidence.parse(min_confidence), max_file_size=max_file_size,
                             include_unreachable=include_unreachable, show_secrets=show_secrets)
    if scheduler:
        outcomes = run_dask(scheduler, tasks, settings)
    else:
        outcomes = run_local(tasks, settings, jobs or default_jobs(), progress_display())
    repos = [Repository(name=o.name, path=_shown(o.location), error=o.error) for o in outcomes]
    secrets = collect([s for o in outcomes for s in o.sightings])
    report = importlib.import_module(_RENDERERS[format_name]).render(secrets, repos)
    if output:
        write_atomically(output, report, mode=0o600)
    else:
        say(report)
    for repository in repos:
        if repository.error:
            error(f"not scanned: {repository.name}: {neutralise(repository.error)}")
    if any(r.error for r in repos):
        return EXIT_INCOMPLETE
    return EXIT_FINDINGS if any(s.confidence >= Confidence.MEDIUM and s.label is None
                                for s in secrets) else EXIT_CLEAN


def _shown(location: str) -> str:
    """A location as reports show it: a URL without the credentials it may carry
    (https://user:token@host/...), which are a secret too."""
    if not is_url(location) or "@" not in location:
        return location
    import urllib.parse

    parts = urllib.parse.urlsplit(location)
    if parts.password is None and not parts.scheme.startswith("http"):
        return location  # ssh://git@host/...: a user name, no secret
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _repository(location: str) -> str:
    """The repository a local path is in (its top, or itself when bare), so that one named
    twice, or by a subdirectory, is audited once and named for what it is; URLs, and paths
    only a cluster's workers can see, as given."""
    if is_url(location) or not os.path.isdir(location):
        return location
    try:
        return git.repository_dir(location)
    except KeyguardError:
        return os.path.abspath(location)  # not a repository: the audit says so


def _read_repos_file(path: str | None) -> list[str]:
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except OSError as e:
        raise UsageError(f"--repos-file: cannot read {path}: {e.strerror}") from e
    return [line for line in lines if line and not line.startswith("#")]
