"""What every command shares: configuration and baseline loading, reporting, exit codes.

No click here: the pre-commit hook runs `staged` without loading it (keyguard/cli/__init__.py);
the options click parses are declared in keyguard/cli/options.py."""

from __future__ import annotations

import contextlib
import datetime
import os
import stat
import sys
import time
from collections.abc import Callable

from keyguard.baseline import Baseline, load_baseline
from keyguard.config import Config, find_config, load_config, parse_size
from keyguard.detect import RULES, Rule
from keyguard.errors import UsageError
from keyguard.model import Confidence, ScanError, ScanResult, redact_key_like
from keyguard.record import replace
from keyguard.reporters import ReportOptions, renderer
from keyguard.scan import Policy
from keyguard.terminal import neutralise

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any, TextIO

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 4, 5, 130

# The report options when none is given; keyguard/cli/options.py declares them to click.
REPORT_DEFAULTS: dict[str, Any] = {
    "format_name": "text", "output": None, "reports": (), "min_confidence": "medium",
    "show_secrets": False, "show_suppressed": False, "explain": False, "verify": False,
    "only_live": False, "quiet": False, "verbose": False, "no_color": False,
    "config_path": None, "baseline_path": None,
}


def error(message: str) -> None:
    """A line on stderr. When stderr is closed or full there is no one to tell: the exit code
    still says what happened (an error raised here would turn any exit code into 1)."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError):
            _write(sys.stderr, f"keyguard: {message}\n")


def warning(message: str) -> None:
    """A warning on stderr: said, the command goes on."""
    error(f"warning: {neutralise(message)}")


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


def load_configuration(config_path: str | None, compile_paths: bool = False) -> Config:
    """The config for the repository the current directory is in; warnings said on stderr."""
    root, found = find_config(os.getcwd())
    if config_path is not None:
        if not os.path.isfile(config_path):
            problem = "not a regular file" if os.path.exists(config_path) else "no such file"
            raise UsageError(f"--config: {problem}: {config_path!r}")
        found = config_path
    config = load_config(found, root, datetime.date.today(), compile_paths)
    for message in config.warnings:
        warning(redact_key_like(message))  # an expired entry's reason may name the key
    return config


def baseline_file(config: Config, baseline_path: str | None) -> str:
    return baseline_path or os.path.join(config.root, config.baseline)


def load_policy(report: dict[str, Any], base: str = ".", config: Config | None = None) -> Policy:
    config = config or load_configuration(report["config_path"])
    path = baseline_file(config, report["baseline_path"])
    if report["baseline_path"] and not os.path.isfile(path):
        raise UsageError(f"--baseline: no such file: {path!r}")
    baseline: Baseline = load_baseline(path, os.path.relpath(path))
    # what blocks is always reported: a lower blocking-confidence lowers the floor, and a
    # higher --min-confidence cannot hide a finding that blocks
    report_at = min(Confidence.parse(report["min_confidence"]), config.block_at)
    return Policy(config=config, report_at=report_at, base=base, baseline=baseline)


def timed(result: ScanResult, started: float) -> ScanResult:
    return replace(result, seconds=time.perf_counter() - started)


def size_option(value: str | None, default: int) -> int:
    if not value:
        return default
    try:
        return parse_size(value)
    except ValueError as e:
        raise UsageError(f"--max-file-size: {e}") from e


def finish(result: ScanResult, report: dict[str, Any], named: frozenset[str] = frozenset(),
           config: Config | None = None, gate: bool = False) -> int:
    """Report the result and choose the exit code: incomplete (4) over findings (1). For a
    `gate` (a hook, CI), a file left unread for its size makes the scan incomplete: a key in
    it would pass."""
    blocking = bool(result.blocking)  # verification and --only-live never lower this
    if config is not None and (report["verify"] or config.verify_by_default):
        shown = _verified(result, config, only_live=report["only_live"], asked=report["verify"])
        hidden = len(result.blocking) - len(shown.blocking)
        if hidden:
            error(f"{hidden} blocking finding{'s' * (hidden != 1)} not shown (--only-live: not "
                  "verified live); they still block")
        result = shown
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    result = replace(
        result, finished_at=now.isoformat(),
        started_at=(now - datetime.timedelta(seconds=round(result.seconds))).isoformat())
    for problem in result.errors:
        error(f"cannot read {neutralise(problem.path)}: {problem.message}")
    unread = [skipped for skipped in result.skipped if gate and skipped.unread_text]
    for skipped in result.skipped:
        if gate and skipped.unread_text:
            error(f"not scanned, {skipped.reason}: {neutralise(skipped.path)}; a key in it would "
                  "pass, so this check fails: raise max-file-size in the configuration to scan it")
        elif skipped.path in named:  # the user asked for this file by name: say why it was not
            error(f"skipped {neutralise(skipped.path)}: {skipped.reason}")
    if unread:
        result = replace(result, errors=(*result.errors, *(ScanError(path=s.path, message=s.reason)
                                                          for s in unread)))
    _emit(result, report, config.rules if config is not None else RULES)
    if not result.complete:
        return EXIT_INCOMPLETE
    return EXIT_FINDINGS if blocking else EXIT_CLEAN


def _verified(result: ScanResult, config: Config, only_live: bool, asked: bool) -> ScanResult:
    """Findings with their verdicts. The configuration's own [[verify]] endpoints are used
    only when --verify is given: a repository's config (a pull request's, in CI) cannot send
    keys to a host of its choosing; verify-by-default asks the built-in imin endpoint only."""
    from keyguard.verify import verify_findings  # the network is loaded only when asked for
    from keyguard.verify_config import IMIN

    entries = config.verify if asked else (IMIN,)
    for host in sorted({_host(e.url) for e in entries if e is not IMIN}):
        error(f"--verify: sending keys to {neutralise(host)}, as the configuration's [[verify]] says")
    verdicts = verify_findings(result.findings, entries)
    findings = tuple(replace(f, verification=str(verdicts[f.secret_sha256]))
                     for f in result.findings)
    if only_live:
        findings = tuple(f for f in findings if (f.verification or "").startswith("live"))
    return replace(result, findings=findings)


def _host(url: str) -> str:
    import urllib.parse

    return urllib.parse.urlsplit(url).netloc


def _emit(result: ScanResult, report: dict[str, Any], rules: tuple[Rule, ...]) -> None:
    output = report["output"]
    color = (not report["no_color"] and "NO_COLOR" not in os.environ and output is None
             and sys.stdout is not None and sys.stdout.isatty())
    options = ReportOptions(show_secrets=report["show_secrets"], explain=report["explain"],
                            color=color, verbose=report["verbose"],
                            show_suppressed=report["show_suppressed"], rules=rules)
    paths = [path for _, path in report["reports"]] + ([output] if output else [])
    if len({os.path.realpath(path) for path in paths}) < len(paths):
        raise UsageError("two reports would go to one file: give each --report and --output its own path")
    for name, path in report["reports"]:
        write_atomically(path, renderer(name)(result, replace(options, color=False)), mode=0o600)
    text = renderer(report["format_name"])(result, options)
    if output is not None:  # a file asked for is written even when quiet: CI reads it
        write_atomically(output, text, mode=0o600)
    elif not (report["quiet"] and not result.findings and result.complete):
        say(text)


def say(text: str, what: str = "the report") -> None:
    """Text on standard output, which may be closed (`>&-`), full (`>/dev/full`), or a pipe
    whose reader stopped (`| head`: what it read is what it wanted)."""
    if sys.stdout is None:
        raise UsageError(f"cannot write {what}: standard output is closed")
    try:
        _write(sys.stdout, text)
    except BrokenPipeError:
        # the interpreter's last flush of what is left must not fail the same way
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as e:
        raise UsageError(f"cannot write {what} to standard output: {e.strerror or e}") from e


def progress_display() -> Callable[[int, int], None] | None:
    """A one-line counter on stderr, for people at a terminal: never in CI logs or pipes."""
    if not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("PRE_COMMIT"):
        return None
    shown = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total:
            _write(sys.stderr, "\r\x1b[K")
        elif now - shown[0] >= 0.1:
            shown[0] = now
            _write(sys.stderr, f"\r\x1b[Kkeyguard: {done:,}/{total:,} file versions")

    return show


def write_atomically(path: str, text: str, mode: int) -> None:
    """Readers see the old file or the whole new one, never half of it."""
    import tempfile  # only commands that write files pay for it
    target = os.path.realpath(path)  # a symlink is kept, and the file it points to replaced
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(os.stat(target).st_mode)  # as the user had it
    directory = os.path.dirname(target)
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".keyguard-", suffix=".tmp")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from e
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as e:
        os.unlink(temporary)
        if isinstance(e, OSError):  # a directory there, a full disk
            raise UsageError(f"cannot write {path}: {e.strerror or e}") from e
        raise
