"""The options of the commands that report findings, declared to click (defaults: REPORT_DEFAULTS)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

from keyguard.cli.common import REPORT_DEFAULTS
from keyguard.reporters import FORMATS


def config_options(command: Callable[..., int]) -> Callable[..., int]:
    options = [
        click.option("--config", "config_path", type=click.Path(dir_okay=False),
                     help="Configuration file (default: .keyguard.toml or pyproject.toml "
                          "at the repository root)."),
        click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
                     help="Baseline file (default: .keyguard-baseline.json at the repository root, "
                          "or the config's 'baseline')."),
    ]
    return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)


def report_options(command: Callable[..., int]) -> Callable[..., int]:
    """Options shared by every command that reports findings."""
    options = [
        click.option("--format", "format_name", type=click.Choice(sorted(FORMATS)),
                     default=REPORT_DEFAULTS["format_name"], show_default=True, help="Report format."),
        click.option("--output", "-o", type=click.Path(dir_okay=False),
                     help="Write the report to this file (atomically) instead of stdout."),
        click.option("--report", "reports", multiple=True, metavar="FORMAT=PATH",
                     callback=_check_reports,
                     help="Also write a report in FORMAT to PATH; may be repeated "
                          "(e.g. --report sarif=keyguard.sarif --report junit=keyguard.xml)."),
        click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]),
                     default=REPORT_DEFAULTS["min_confidence"], show_default=True,
                     help="Report findings at or above this confidence. Findings that block "
                          "(medium and high, or the config's blocking-confidence) are always "
                          "reported: no option hides what blocks."),
        click.option("--show-secrets", is_flag=True, help="Print keys in full (default: redacted)."),
        click.option("--show-suppressed", is_flag=True,
                     help="Also list findings that allowlists, markers or the baseline suppressed."),
        click.option("--explain", is_flag=True, help="Show the signals behind each finding."),
        click.option("--verify", is_flag=True,
                     help="Ask each key's API whether it is live (network: see docs/verify.md)."),
        click.option("--only-live", is_flag=True,
                     help="With --verify: report only keys that are live (the exit code still "
                          "counts every blocking finding)."),
        click.option("--quiet", "-q", is_flag=True,
                     help="Print nothing when nothing is found (report files are still written)."),
        click.option("--verbose", "-v", is_flag=True, help="List skipped files."),
        click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR set)."),
    ]
    return config_options(functools.reduce(lambda cmd, option: option(cmd), reversed(options), command))


def _check_reports(context: click.Context, parameter: click.Parameter,
                   values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    reports = []
    for value in values:
        name, _, path = value.partition("=")
        if name not in FORMATS or not path:
            raise click.BadParameter(f"{value!r}: expected FORMAT=PATH, FORMAT one of "
                                     f"{', '.join(sorted(FORMATS))}")
        reports.append((name, path))
    return tuple(reports)


def jobs_option(help_text: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """`--jobs/-j N`: at most four processes per core (more only thrash, and thousands exhaust
    the system: each worker is a process with its own git)."""
    def at_most(context: click.Context, parameter: click.Parameter, value: int | None) -> int | None:
        from keyguard.workers import default_jobs

        return None if value is None else min(value, 4 * default_jobs())

    return click.option("--jobs", "-j", type=click.IntRange(min=1), callback=at_most,
                        help=f"{help_text} At most 4 per core.")
