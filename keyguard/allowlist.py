"""[[allow]] entries: what each one suppresses, and why. Criteria of one entry must all hold."""

from __future__ import annotations

import datetime
import functools

from keyguard import gitignore
from keyguard.detect.linear import compile_linear
from keyguard.errors import ConfigError
from keyguard.lazyre import lazy
from keyguard.model import Finding
from keyguard.record import Record, field

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

ALLOW_KEYS = ("paths", "regexes", "regex-target", "secrets", "commits", "rules", "expires", "reason")
_MATCHERS = ("paths", "regexes", "secrets", "commits")
_SHA256 = lazy(r"sha256:([0-9a-f]{64})")
_COMMIT = lazy(r"[0-9a-f]{7,64}")


class AllowEntry(Record):
    where: str  # `.keyguard.toml: [[allow]] #2`, for messages
    reason: str
    paths: tuple[str, ...] = ()  # gitignore patterns, compiled when a finding first needs them
    regexes: tuple[Any, ...] = field(default=(), repr=False)
    on_line: bool = False  # regexes match the whole line, not the secret
    secrets: frozenset[str] = frozenset()
    commits: tuple[str, ...] = ()
    rules: frozenset[str] | None = None
    expires: datetime.date | None = None

    def covers(self, finding: Finding, line: str) -> bool:
        if self.rules is not None and finding.rule_id not in self.rules:
            return False
        if self.paths and (_outside(finding.path) or not self.path_spec().match_file(finding.path)):
            return False  # patterns are relative to the repository root: nothing outside it matches
        target = line if self.on_line else finding.secret
        if self.regexes and not any(r.search(target) for r in self.regexes):
            return False
        if self.secrets and finding.secret_sha256[7:] not in self.secrets:
            return False
        commit = finding.origin.commit if finding.origin else ""
        return not self.commits or any(commit.startswith(c) for c in self.commits)

    def path_spec(self) -> Any:
        """The compiled `paths`. Loading pathspec and compiling cost ~20 ms, most of a clean
        hook run's start-up, and only findings need them: so they are compiled then (and by
        `keyguard config check`), and an invalid pattern is a configuration error then."""
        return _compiled(self.paths, self.where)


def parse_allow(raw: dict[str, Any], where: str, problems: list[str], known_rules: tuple[str, ...] = (),
                compile_paths: bool = False) -> AllowEntry | None:
    """One [[allow]] table, or None with the reasons appended to `problems`; its paths
    compiled only when asked (`keyguard config check`)."""
    before = len(problems)
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where}: 'reason' is required: say why these findings are allowed")
    if not any(key in raw for key in _MATCHERS):
        problems.append(f"{where}: needs at least one of {', '.join(_MATCHERS)}")
    paths = _strings(raw, "paths", where, problems)
    if compile_paths and paths:
        try:
            _compiled(tuple(paths), where)
        except ConfigError as e:
            problems.append(str(e))
    regexes = tuple(_regex(p, where, problems) for p in _strings(raw, "regexes", where, problems))
    target = raw.get("regex-target", "secret")
    if target not in ("secret", "line"):
        problems.append(f"{where}: 'regex-target' must be \"secret\" or \"line\", not {target!r}")
    secrets = _secrets(_strings(raw, "secrets", where, problems), where, problems)
    commits = _strings(raw, "commits", where, problems)
    for commit in commits:
        if not _COMMIT.fullmatch(commit):
            problems.append(f"{where}: 'commits': {commit!r} is not a commit id (7+ hex digits)")
    rules = _strings(raw, "rules", where, problems) if "rules" in raw else None
    problems += [f"{where}: 'rules': no rule {name!r} (rules: {', '.join(known_rules)})"
                 for name in sorted(rules or ()) if name not in known_rules]
    expires = _date(raw.get("expires"), where, problems)
    if len(problems) > before:
        return None
    return AllowEntry(where=where, reason=str(reason).strip(), paths=tuple(paths),
                      regexes=regexes, on_line=target == "line", secrets=frozenset(secrets),
                      commits=tuple(commits), rules=frozenset(rules) if rules is not None else None,
                      expires=expires)


def _outside(path: str) -> bool:
    """A finding's path outside the repository is kept as given (keyguard/scan.py:
    repository_path): absolute, or climbing out with `..`."""
    return path.startswith(("/", "../")) or path == ".."


@functools.cache
def _compiled(patterns: tuple[str, ...], where: str) -> Any:
    for pattern in patterns:
        if (why := gitignore.problem(pattern)) is not None:
            raise ConfigError(f"{where}: 'paths': invalid pattern {pattern!r}: {why}")
    return gitignore.compiled(patterns)


def _strings(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and (value or key not in raw):
        return value
    problems.append(f"{where}: '{key}' must be a non-empty list of strings")
    return []


def _regex(pattern: str, where: str, problems: list[str]) -> Any:
    try:
        return compile_linear(pattern)
    except ValueError as e:
        problems.append(f"{where}: 'regexes': invalid regex {pattern!r}: {e}")
        return None


def _secrets(values: list[str], where: str, problems: list[str]) -> list[str]:
    digests = []
    for value in values:
        match = _SHA256.fullmatch(value)
        if match:
            digests.append(match[1])
        else:
            problems.append(f"{where}: 'secrets' holds hashes, never keys: expected "
                            "'sha256:<64 hex digits>' (each finding's secret_sha256 in the JSON report)")
    return digests


def _date(value: object, where: str, problems: list[str]) -> datetime.date | None:
    if value is None or (isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    shown = value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else repr(value)
    problems.append(f"{where}: 'expires' must be a date like 2027-01-31, not {shown}")
    return None
