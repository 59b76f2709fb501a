"""`keyguard audit`: every ref, tag and commit of one or many repositories, one entry per key."""

from __future__ import annotations

import datetime
import multiprocessing
import os
from typing import Any

import click

from keyguard.audit import Repository, audit_repository, collect, repository_name
from keyguard.cli.common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    error,
    progress_display,
    size_option,
    write_atomically,
)
from keyguard.config import find_config, load_config
from keyguard.errors import ConfigError, GitError, UsageError
from keyguard.model import Confidence, Finding
from keyguard.scan import Policy
from keyguard.terminal import neutralise

_RENDERERS = {"text": "keyguard.reporters.audit_text", "json": "keyguard.reporters.audit_json",
              "html": "keyguard.reporters.audit_html"}


@click.command()
@click.argument("repositories", nargs=-1, type=click.Path())
@click.option("--repos-file", type=click.Path(dir_okay=False),
              help="A file with one repository path per line.")
@click.option("--include-unreachable", is_flag=True,
              help="Also scan blobs no commit reaches (dangling, reflog-only).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Processes (default: all cores).")
@click.option("--format", "format_name", type=click.Choice(sorted(_RENDERERS)), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here (atomically).")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="low",
              show_default=True, help="Report secrets at or above this confidence.")
@click.option("--max-file-size", metavar="SIZE", help="Skip file versions larger than this (default 10M).")
@click.option("--show-secrets", is_flag=True, help="Print keys in full (default: redacted).")
def audit(repositories: tuple[str, ...], repos_file: str | None, include_unreachable: bool,
          jobs: int | None, format_name: str, output: str | None, min_confidence: str,
          max_file_size: str | None, show_secrets: bool) -> int:
    """Audit whole histories: one entry per distinct key across REPOSITORIES, with every place
    it has been, whether it is still at HEAD, client-side and shared-key flags, and a rotation
    checklist. HTML, JSON or text."""
    from keyguard.blobscan import default_jobs

    paths = list(repositories) + _read_repos_file(repos_file)
    if not paths:
        raise UsageError("name at least one repository (or --repos-file)")
    taken: set[str] = set()
    tasks = [(repository_name(os.path.abspath(p), taken), p) for p in paths]
    settings = (Confidence.parse(min_confidence), max_file_size, include_unreachable)
    cores = jobs or default_jobs()
    results = _run(tasks, settings, cores)
    scanned = {name: (root, findings) for name, (root, findings, problem) in results.items() if not problem}
    repos = [Repository(name=name, path=path, error=results[name][2]) for name, path in tasks]
    secrets = collect(scanned)
    report = _renderer(format_name)(secrets, repos, show_secrets)
    if output:
        write_atomically(output, report, mode=0o600)
    else:
        click.echo(report, nl=False)
    for repository in repos:
        if repository.error:
            error(f"not scanned: {repository.name}: {neutralise(repository.error)}")
    if any(r.error for r in repos):
        return EXIT_INCOMPLETE
    return EXIT_FINDINGS if any(s.confidence >= Confidence.MEDIUM and s.label is None
                                for s in secrets) else EXIT_CLEAN


Settings = tuple[Confidence, "str | None", bool]
Outcome = tuple[str, list[Finding], "str | None"]  # root, findings, why it was not scanned


def _run(tasks: list[tuple[str, str]], settings: Settings, cores: int) -> dict[str, Outcome]:
    """Repositories side by side when there are several, else one with all cores inside."""
    if len(tasks) > 1 and cores > 1:
        with multiprocessing.get_context("fork").Pool(cores) as pool:
            outcomes = pool.starmap(_audit_one, [(path, settings, 1, False) for _, path in tasks])
        return {name: outcome for (name, _), outcome in zip(tasks, outcomes, strict=True)}
    return {name: _audit_one(path, settings, cores, True) for name, path in tasks}


def _audit_one(path: str, settings: Settings, jobs: int, show_progress: bool) -> Outcome:
    report_at, max_file_size, include_unreachable = settings
    try:
        if not os.path.isdir(path):
            raise UsageError(f"no such directory: {path}")
        root, found = find_config(path)
        config = load_config(found, root, datetime.date.today())
        policy = Policy(config=config, report_at=report_at, base=root)
        limit = size_option(max_file_size, config.max_file_size)
        progress = progress_display() if show_progress else None
        return root, audit_repository(path, policy, limit, jobs, include_unreachable, progress), None
    except (GitError, ConfigError, UsageError) as e:
        return path, [], str(e).splitlines()[0]


def _read_repos_file(path: str | None) -> list[str]:
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except OSError as e:
        raise UsageError(f"--repos-file: cannot read {path}: {e.strerror}") from e
    return [line for line in lines if line and not line.startswith("#")]


def _renderer(name: str) -> Any:
    import importlib

    return importlib.import_module(_RENDERERS[name]).render
