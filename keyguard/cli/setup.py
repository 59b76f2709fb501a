"""Commands that set keyguard up: hooks, baselines, allow entries, configuration, rules."""

from __future__ import annotations

import os
import re

import click

from keyguard import install as hook_files
from keyguard.baseline import Baseline, Entry, accepted, load_baseline, render_baseline
from keyguard.cli.common import (
    EXIT_CLEAN,
    baseline_file,
    error,
    load_configuration,
    say,
    warning,
    write_atomically,
)
from keyguard.cli.options import config_options
from keyguard.config import Config, find_config
from keyguard.detect import RULES
from keyguard.errors import ConfigError, InputError, UsageError
from keyguard.model import Finding, redact
from keyguard.scan import Policy, scan_items
from keyguard.sources.files import WalkOptions, read_paths
from keyguard.terminal import neutralise

_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


@click.command()
@click.option("--hook", "hooks", type=click.Choice(["pre-commit", "pre-push"]), multiple=True,
              help="Which hook (default: both). May be repeated.")
@click.option("--uninstall", is_flag=True, help="Remove keyguard's hooks, restoring earlier ones.")
def install(hooks: tuple[str, ...], uninstall: bool) -> int:
    """Install native git hooks that run keyguard (respects core.hooksPath).

    An existing hook is kept and runs first; installing twice changes nothing.
    """
    for hook in hooks or ("pre-commit", "pre-push"):
        try:
            done = hook_files.uninstall(hook) if uninstall else hook_files.install(hook)
        except OSError as e:  # core.hooksPath names a file, or a place that cannot be written
            where = f"{e.filename}: " if e.filename else ""
            raise UsageError(f"cannot {'remove' if uninstall else 'install'} the {hook} hook: "
                             f"{where}{e.strerror or e}") from e
        say(f"{neutralise(done)}\n", "what was done")
    return EXIT_CLEAN


@click.command()
@click.option("--update", is_flag=True, help="Add today's new findings to the existing baseline.")
@click.option("--prune", is_flag=True, help="Drop entries no longer found in the working tree.")
@click.option("--reason", default="recorded by keyguard baseline", show_default=True,
              help="Reason stored with new entries.")
@config_options
def baseline(update: bool, prune: bool, reason: str, config_path: str | None,
             baseline_path: str | None) -> int:
    """Record the working tree's blocking findings so that only new ones block.

    The file holds fingerprints (rule, path, secret hash), never lines or keys. Only this
    command and `keyguard allow` write it, atomically; hooks never do.
    """
    config = load_configuration(config_path)
    path = baseline_file(config, baseline_path)
    existing = load_baseline(path, _label(path, config.root))
    if os.path.lexists(path) and not (update or prune):  # an empty one too: it says 'none'
        raise UsageError(f"{_label(path, config.root)} exists: --update adds new findings, "
                         "--prune drops entries no longer found")
    found = {f.fingerprint: f for f in _working_tree_findings(config)}
    merged: Baseline = {**accepted(found.values(), reason), **existing}
    if prune:
        merged = {fp: entry for fp, entry in merged.items() if fp in found}
    _write_baseline(path, merged)
    added, dropped = len(merged.keys() - existing.keys()), len(existing.keys() - merged.keys())
    say(f"keyguard: {neutralise(_label(path, config.root))}: {len(merged)} entries "
        f"({added} added, {dropped} pruned)\n", "what was done")
    return EXIT_CLEAN


def _working_tree_findings(config: Config, strict: bool = True) -> list[Finding]:
    """Blocking findings of the repository's files, allowlists applied, the baseline ignored."""
    policy = Policy(config=config, report_at=config.block_at, base=".")
    walk = WalkOptions(max_file_size=config.max_file_size, warn=warning)
    result = scan_items(read_paths([config.root], walk), policy)
    for problem in result.errors:
        prefix = "" if strict else "warning: "
        error(f"{prefix}cannot read {neutralise(_label(problem.path, config.root))}: {problem.message}")
    if result.errors and strict:
        raise InputError("the working tree could not be read completely: baseline not written")
    return list(result.blocking)


@click.command()
@click.argument("fingerprints", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why these findings are not a leak.")
@config_options
def allow(fingerprints: tuple[str, ...], reason: str, config_path: str | None,
          baseline_path: str | None) -> int:
    """Allow findings by FINGERPRINT (printed with each finding), with a reason, in the baseline."""
    for fingerprint in fingerprints:
        if not _FINGERPRINT.fullmatch(fingerprint):
            # never echoed: a key pasted here, even a short one, stays out of the terminal
            raise UsageError(f"not a fingerprint: {redact(fingerprint)} (16 hex digits, as reports print)")
    if not reason.strip():
        raise UsageError("--reason must say why")
    config = load_configuration(config_path)
    path = baseline_file(config, baseline_path)
    entries = load_baseline(path, _label(path, config.root))
    # only to name each fingerprint's rule and path: a file that cannot be read does not stop it
    known = {f.fingerprint: f for f in _working_tree_findings(config, strict=False)}
    said = []
    for fingerprint in fingerprints:
        finding = known.get(fingerprint)
        entries[fingerprint] = Entry(fingerprint=fingerprint, status="allowed", reason=reason.strip(),
                                     rule_id=finding.rule_id if finding else "",
                                     path=neutralise(finding.path) if finding else "")
        where = f" ({finding.rule_id} in {neutralise(finding.path)})" if finding else ""
        said.append(f"keyguard: allowed {fingerprint}{where}: {neutralise(reason.strip())}")
    _write_baseline(path, entries)  # said only once written
    say("".join(f"{line}\n" for line in said), "what was done")
    return EXIT_CLEAN


@click.group()
def config() -> None:
    """Configuration commands."""


@config.command("check")
@config_options
def config_check(config_path: str | None, baseline_path: str | None) -> int:
    """Validate the configuration and the baseline; each problem names file, entry and key."""
    problems = []  # the configuration's and the baseline's, all of them
    try:
        loaded: Config | None = load_configuration(config_path, compile_paths=True)
    except ConfigError as e:
        problems.append(str(e))
        loaded = None
    # the baseline the configuration names, or the default one when it could not be read
    root = loaded.root if loaded is not None else find_config(os.getcwd())[0]
    path = baseline_file(loaded or Config(root=root), baseline_path)
    entries: Baseline = {}
    try:
        entries = load_baseline(path, _label(path, root))
    except ConfigError as e:
        problems.append(str(e))
    if problems or loaded is None:
        raise ConfigError("\n".join(problems))
    source = _label(loaded.source, loaded.root) if loaded.source else "no configuration file"
    custom = len(loaded.rules) - len(RULES)
    say(f"keyguard: {neutralise(source)}: valid ({len(loaded.allow)} allow entries, "
        f"{custom} custom rules); baseline: {len(entries)} entries\n", "the result")
    return EXIT_CLEAN


@click.command()
@config_options
def rules(config_path: str | None, baseline_path: str | None) -> int:
    """List the rules (built-in and configured), their confidence levels and examples."""
    lines = []
    for rule in load_configuration(config_path).rules:
        lines += [f"{rule.id}: {rule.name}", f"  {neutralise(rule.description)}",
                  f"  confidence: {rule.confidences}", "  examples:",
                  *(f"    {neutralise(example)}" for example in rule.examples), "  not findings:",
                  *(f"    {neutralise(counterexample)}" for counterexample in rule.counterexamples), ""]
    say("".join(f"{line}\n" for line in lines), "the rules")
    return EXIT_CLEAN


def _write_baseline(path: str, entries: Baseline) -> None:
    """Committed with the code, so readable like it (0644); its directory made if needed."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomically(path, render_baseline(entries), mode=0o644)


def _label(path: str, root: str) -> str:
    relative = os.path.relpath(path, root)
    return path if relative.startswith("..") else relative
