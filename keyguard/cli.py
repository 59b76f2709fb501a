"""The command line: the only module that prints, reads the environment and picks exit codes."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from keyguard import __version__, git
from keyguard import install as hook_files
from keyguard.config import Config, find_config, load_config
from keyguard.detect import RULES
from keyguard.errors import KeyguardError, UsageError
from keyguard.history import scan_history
from keyguard.model import Blob, Confidence, ScanError, ScanResult, Skipped
from keyguard.reporters import FORMATS, ReportOptions
from keyguard.scan import Policy, scan_items
from keyguard.sources.ci import detect_range, range_revisions
from keyguard.sources.files import WalkOptions, read_paths, read_stream
from keyguard.sources.push import RefUpdate, parse_pre_push, push_revisions
from keyguard.sources.staged import read_staged
from keyguard.terminal import neutralise

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 4, 5, 130
_SIZE = re.compile(r"(?i)(\d+)\s*([kmg]i?b?|b)?")
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def run() -> None:
    sys.exit(main(sys.argv[1:]))


def main(argv: Sequence[str] | None = None) -> int:
    """Every outcome maps to an exit code here, so a crash can never look like a clean scan."""
    try:
        result = cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="keyguard",
                          standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except click.ClickException as e:
        _error(neutralise(e.format_message()))
        return UsageError.exit_code
    except KeyguardError as e:
        _error(neutralise(str(e)))
        return e.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except Exception:  # the one place that turns a crash into exit code 5
        traceback.print_exc()
        _error(f"internal error in keyguard {__version__}; the scan did not finish. "
               "Please report it with the traceback above.")
        return EXIT_INTERNAL
    return result if isinstance(result, int) else EXIT_CLEAN


def _error(message: str) -> None:
    click.echo(f"keyguard: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keyguard")
def cli() -> None:
    """Find imin API keys (X-API-KEY values and 32-hex keys) before they leak."""


def report_options(command: Callable[..., int]) -> Callable[..., int]:
    """Options shared by every command that reports findings."""
    options = [
        click.option("--format", "format_name", type=click.Choice(sorted(FORMATS)),
                     default="text", show_default=True, help="Report format."),
        click.option("--output", "-o", type=click.Path(dir_okay=False),
                     help="Write the report to this file (atomically) instead of stdout."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False),
                     help="Configuration file (default: .keyguard.toml or pyproject.toml "
                          "at the repository root)."),
        click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]),
                     default="medium", show_default=True,
                     help="Report findings at or above this confidence. Medium and high block."),
        click.option("--show-secrets", is_flag=True, help="Print keys in full (default: redacted)."),
        click.option("--explain", is_flag=True, help="Show the signals behind each finding."),
        click.option("--quiet", "-q", is_flag=True, help="Print nothing when nothing is found."),
        click.option("--verbose", "-v", is_flag=True, help="List skipped files."),
        click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR set)."),
    ]
    return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--stdin-name", default="<stdin>", show_default=True,
              help="Path to report for '-' (standard input).")
@click.option("--max-file-size", metavar="SIZE",
              help="Skip files larger than this (e.g. 500k, 10M; default 10M or the config's).")
@click.option("--follow-symlinks", is_flag=True, help="Follow symlinks found while walking.")
@click.option("--no-ignore", is_flag=True, help="Scan files that .gitignore excludes too.")
@report_options
def scan(paths: tuple[str, ...], stdin_name: str, max_file_size: str | None,
         follow_symlinks: bool, no_ignore: bool, **report: Any) -> int:
    """Scan files and directories (default: .); '-' reads standard input.

    Inside a git work tree, files that .gitignore excludes are skipped unless named.
    """
    config = _load_config(report["config_path"])
    limit = _parse_size(max_file_size) if max_file_size else config.max_file_size
    walk = WalkOptions(max_file_size=limit, follow_symlinks=follow_symlinks,
                       use_gitignore=not no_ignore)
    named = {os.path.normpath(p) for p in paths} | {stdin_name}
    items = _items(paths or (".",), stdin_name, walk)
    return _scan_and_report(items, config, report, named)


def _items(paths: tuple[str, ...], stdin_name: str,
           walk: WalkOptions) -> Iterator[Blob | Skipped | ScanError]:
    files = [p for p in paths if p != "-"]
    if "-" in paths:
        yield read_stream(sys.stdin.buffer, stdin_name, walk.max_file_size)
    if files:
        yield from read_paths(files, walk)


def _scan_and_report(items: Iterator[Blob | Skipped | ScanError], config: Config,
                     report: dict[str, Any], named: set[str], base: str = ".") -> int:
    started = time.perf_counter()
    policy = Policy(config=config, report_at=Confidence.parse(report["min_confidence"]),
                    base=base)
    result = scan_items(items, RULES, policy)
    return _finish(dataclasses.replace(result, seconds=time.perf_counter() - started), report, named)


def _finish(result: ScanResult, report: dict[str, Any], named: set[str]) -> int:
    """Report the result and choose the exit code: incomplete (4) over findings (1)."""
    for error in result.errors:
        _error(f"cannot read {neutralise(error.path)}: {error.message}")
    for skipped in result.skipped:
        if skipped.path in named:  # the user asked for this file by name: say why it was not
            _error(f"skipped {neutralise(skipped.path)}: {skipped.reason}")
    _emit(result, report)
    if not result.complete:
        return EXIT_INCOMPLETE
    return EXIT_FINDINGS if result.blocking else EXIT_CLEAN


def _emit(result: ScanResult, report: dict[str, Any]) -> None:
    output = report["output"]
    color = (not report["no_color"] and "NO_COLOR" not in os.environ and output is None
             and sys.stdout.isatty())
    options = ReportOptions(show_secrets=report["show_secrets"], explain=report["explain"],
                            color=color, verbose=report["verbose"])
    if report["quiet"] and not result.findings and result.complete:
        return
    text = FORMATS[report["format_name"]](result, options)
    if output is None:
        click.echo(text, nl=False, color=color)
    else:
        _write_atomically(output, text)


def _write_atomically(path: str, text: str) -> None:
    """Readers see the old file or the whole new one, never half a report; mode 0600."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".keyguard-", suffix=".tmp")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from e
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _load_config(config_path: str | None) -> Config:
    if config_path is not None:
        if not os.path.isfile(config_path):
            raise UsageError(f"--config: no such file: {config_path!r}")
        return load_config(config_path, os.path.dirname(os.path.abspath(config_path)))
    root, found = find_config(os.getcwd())
    return load_config(found, root)


def _parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if not match or int(match[1]) <= 0:
        raise UsageError(f"--max-file-size: not a size: {text!r} (examples: 500k, 10M, 1048576)")
    unit = (match[2] or "").lower()[:1]
    return int(match[1]) * _UNITS[unit]


@cli.command()
@click.argument("paths", nargs=-1)
@report_options
def staged(paths: tuple[str, ...], **report: Any) -> int:
    """Scan what the next commit will record (the index): the pre-commit hook.

    Only keys on lines this commit adds or changes block; PATHS limit the scan to those paths.
    """
    config = _load_config(report["config_path"])
    root = git.toplevel()
    code = _scan_and_report(read_staged(paths, config.max_file_size), config, report, set(), root)
    if code == EXIT_FINDINGS:
        _error("commit blocked. Remove the key (see fix above), or skip this check once with "
               "`git commit --no-verify` (pre-commit: SKIP=keyguard git commit).")
    return code


@cli.command()
@click.argument("revisions", nargs=-1)
@click.option("--since", metavar="DATE", help="Only commits more recent than DATE (git's formats).")
@click.option("--until", metavar="DATE", help="Only commits older than DATE.")
@click.option("--max-file-size", metavar="SIZE", help="Skip file versions larger than this (default 10M).")
@report_options
def history(revisions: tuple[str, ...], since: str | None, until: str | None,
            max_file_size: str | None, **report: Any) -> int:
    """Scan commits: all refs by default, or REVISIONS such as origin/main..HEAD.

    Each file version is scanned once; each finding names the commit that first brought the
    secret to that path. Commit messages and annotated tag messages are scanned too.
    """
    for revision in revisions:
        if revision.startswith("-"):
            raise UsageError(f"not a revision: {revision!r} (options go before revisions)")
    filters = [f"--since={since}"] * bool(since) + [f"--until={until}"] * bool(until)
    return _history_and_report(list(revisions), filters, max_file_size, report)


def _history_and_report(revisions: list[str], filters: list[str], max_file_size: str | None,
                        report: dict[str, Any]) -> int:
    config = _load_config(report["config_path"])
    limit = _parse_size(max_file_size) if max_file_size else config.max_file_size
    root = git.toplevel()
    policy = Policy(config=config, report_at=Confidence.parse(report["min_confidence"]), base=root)
    started = time.perf_counter()
    result = scan_history(revisions, filters, RULES, policy, limit, cwd=root)
    return _finish(dataclasses.replace(result, seconds=time.perf_counter() - started), report, set())


@cli.command("pre-push")
@click.argument("remote", required=False)
@click.argument("url", required=False)
@report_options
def pre_push(remote: str | None, url: str | None, **report: Any) -> int:
    """Scan every commit a push would send: the pre-push hook.

    Reads git's pre-push input on stdin, or pre-commit's PRE_COMMIT_FROM_REF and
    PRE_COMMIT_TO_REF. A new branch sends the commits no remote-tracking ref has.
    """
    to_ref = os.environ.get("PRE_COMMIT_TO_REF")
    if to_ref:
        from_ref = os.environ.get("PRE_COMMIT_FROM_REF") or None
        updates = [RefUpdate(to_ref, None if from_ref is None or git.is_null_sha(from_ref) else from_ref)]
    else:
        updates = parse_pre_push(sys.stdin.read())
    revisions = push_revisions(updates)
    code = _history_and_report(revisions, [], None, report) if revisions else _nothing(report)
    if code == EXIT_FINDINGS:
        _error("push blocked. Remove the key from these commits (rewrite them; rotate the key), "
               "or skip this check once with `git push --no-verify`.")
    return code


@cli.command("ci")
@click.option("--base", metavar="REV", help="Scan the commits since REV (REV..HEAD) instead of "
              "reading the range from GitHub Actions or GitLab CI.")
@report_options
def ci(base: str | None, **report: Any) -> int:
    """Scan the commits under test in CI: the push, pull request or merge request range."""
    if report["show_secrets"]:
        raise UsageError("--show-secrets is refused in CI: keys never go into a build log")
    ci_range = detect_range(os.environ, base)
    root = git.toplevel()
    return _history_and_report(range_revisions(ci_range, root), [], None, report)


@cli.command()
@click.option("--hook", "hooks", type=click.Choice(["pre-commit", "pre-push"]), multiple=True,
              help="Which hook (default: both). May be repeated.")
@click.option("--uninstall", is_flag=True, help="Remove keyguard's hooks, restoring earlier ones.")
def install(hooks: tuple[str, ...], uninstall: bool) -> int:
    """Install native git hooks that run keyguard (respects core.hooksPath).

    An existing hook is kept and runs first; installing twice changes nothing.
    """
    for hook in hooks or ("pre-commit", "pre-push"):
        click.echo(neutralise(hook_files.uninstall(hook) if uninstall else hook_files.install(hook)))
    return EXIT_CLEAN


def _nothing(report: dict[str, Any]) -> int:
    return _finish(ScanResult(findings=(), scanned=0, unit="commit"), report, set())


@cli.command()
def rules() -> int:
    """List the rules, how they grade confidence, and their examples."""
    for rule in RULES:
        click.echo(f"{rule.id}: {rule.name}\n  {rule.description}\n  confidence: {rule.confidences}")
        click.echo("  examples:")
        for example in rule.examples:
            click.echo(f"    {neutralise(example)}")
        click.echo("  not findings:")
        for counterexample in rule.counterexamples:
            click.echo(f"    {neutralise(counterexample)}")
        click.echo("")
    return EXIT_CLEAN
