"""Configuration: `.keyguard.toml` or `[tool.keyguard]` in pyproject.toml at the repository root.

Every key is checked: a typo is an error naming file, entry and key, never silently ignored.
"""

from __future__ import annotations

import datetime
import functools
import os
import sys
from collections.abc import Callable

from keyguard.allowlist import ALLOW_KEYS, AllowEntry, parse_allow
from keyguard.baseline import DEFAULT_NAME as DEFAULT_BASELINE
from keyguard.custom_rules import RULE_KEYS, parse_rule
from keyguard.detect import RULES, Rule
from keyguard.errors import ConfigError
from keyguard.lazyre import lazy
from keyguard.model import Confidence
from keyguard.record import Record
from keyguard.verify_config import IMIN, VERIFY_KEYS, VerifyEntry, parse_verify
from keyguard.worktree import repository_root

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any, TypeVar
    T = TypeVar("T")

CONFIG_NAME = ".keyguard.toml"
DEFAULT_MAX_FILE_SIZE = 10 << 20
INLINE_MARKER = "keyguard:allow"
OTHER_MARKERS = ("gitleaks:allow", "pragma: allowlist secret")  # opt-in, for teams migrating
_TOP_KEYS = ("blocking-confidence", "max-file-size", "baseline", "allow-markers", "allow", "rules",
             "verify", "verify-by-default")
_SIZE = lazy(r"(?i)(\d+)\s*([kmg]i?b?|b)?")
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


class Config(Record):
    root: str  # the repository root: paths in findings, allowlists and baselines are relative to it
    source: str | None = None
    allow: tuple[AllowEntry, ...] = ()
    rules: tuple[Rule, ...] = RULES  # built-in rules, then custom ones
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    block_at: Confidence = Confidence.MEDIUM
    baseline: str = DEFAULT_BASELINE  # relative to root
    markers: tuple[str, ...] = (INLINE_MARKER,)
    warnings: tuple[str, ...] = ()  # expired allow entries: said, not applied
    verify: tuple[VerifyEntry, ...] = (IMIN,)  # where --verify may send a key
    verify_by_default: bool = False  # verify without --verify, hooks included


def find_config(start: str) -> tuple[str, str | None]:
    """The repository root above `start` (or `start` itself) and its config file, if any."""
    root = repository_root(start) or os.path.abspath(start)
    for name in (CONFIG_NAME, "pyproject.toml"):
        candidate = os.path.join(root, name)
        if os.path.isfile(candidate) and (name == CONFIG_NAME or has_tool_section(candidate)):
            return root, candidate
    return root, None


def load_config(path: str | None, root: str, today: datetime.date, compile_paths: bool = False,
                label: str | None = None, content: bytes | None = None) -> Config:
    """The configuration, or ConfigError listing every problem, one per line, each starting
    with `label` (the path by default). [[allow]] paths are compiled when a finding first needs
    them, or now with `compile_paths`. `content` is the file's, when read elsewhere (HEAD)."""
    if path is None:
        return Config(root=root)
    label = label or _label(path)
    table = _read_table(path, label, content)
    problems: list[str] = []
    _check_keys(table, _TOP_KEYS, label, problems)
    rules = _rules(table.get("rules", []), label, problems)
    known = tuple(rule.id for rule in RULES + rules)
    allow = _entries(table.get("allow", []), "allow", ALLOW_KEYS,
                     functools.partial(parse_allow, known_rules=known, compile_paths=compile_paths),
                     label, problems)
    verify = _entries(table.get("verify", []), "verify", VERIFY_KEYS,
                      functools.partial(parse_verify, known_rules=known), label, problems)
    settings = _settings(table, label, problems)
    if problems:
        raise ConfigError("\n".join(problems))
    active = tuple(e for e in allow if e.expires is None or e.expires >= today)
    warnings = tuple(f"{e.where}: expired on {e.expires}, no longer applied (reason was: {e.reason})"
                     for e in allow if e not in active)
    return Config(root=root, source=path, allow=active, rules=RULES + rules, warnings=warnings,
                  verify=(*verify, IMIN), **settings)


def _settings(table: dict[str, Any], label: str, problems: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if "max-file-size" in table:
        try:
            settings["max_file_size"] = parse_size(str(table["max-file-size"]))
        except ValueError as e:
            problems.append(f"{label}: 'max-file-size': {e}")
    grade = table.get("blocking-confidence", "medium")
    if grade in ("low", "medium", "high"):
        settings["block_at"] = Confidence.parse(grade)
    else:
        problems.append(f"{label}: 'blocking-confidence' must be low, medium or high, not {grade!r}")
    baseline = table.get("baseline", DEFAULT_BASELINE)
    inside = isinstance(baseline, str) and baseline and not os.path.isabs(baseline)
    if inside and (normal := os.path.normpath(baseline)) != ".." and not normal.startswith("../"):
        settings["baseline"] = baseline
    else:
        problems.append(f"{label}: 'baseline' must be a path inside the repository, relative to its root")
    by_default = table.get("verify-by-default", False)
    if isinstance(by_default, bool):
        settings["verify_by_default"] = by_default
    else:
        problems.append(f"{label}: 'verify-by-default' must be true or false")
    markers = table.get("allow-markers", [])
    if isinstance(markers, list) and all(m in OTHER_MARKERS for m in markers):
        settings["markers"] = (INLINE_MARKER, *markers)
    else:
        problems.append(f"{label}: 'allow-markers' may list {', '.join(map(repr, OTHER_MARKERS))}")
    return settings


def _entries(value: object, key: str, known: tuple[str, ...], parse: Callable[..., T | None],
             label: str, problems: list[str]) -> tuple[T, ...]:
    """Each `[[key]]` table checked for unknown keys, then parsed; problems name the entry."""
    parsed = []
    for number, raw in enumerate(_tables(value, key, label, problems), 1):
        where = f"{label}: [[{key}]] #{number}"
        _check_keys(raw, known, where, problems)
        entry = parse(raw, where, problems)
        if entry is not None:
            parsed.append(entry)
    return tuple(parsed)


def _rules(value: object, label: str, problems: list[str]) -> tuple[Rule, ...]:
    taken = {rule.id for rule in RULES}

    def parse(raw: dict[str, Any], where: str, problems: list[str]) -> Rule | None:
        rule = parse_rule(raw, where, taken, problems)
        if rule is not None:
            taken.add(rule.id)
        return rule

    return _entries(value, "rules", RULE_KEYS, parse, label, problems)


def _tables(value: object, key: str, label: str, problems: list[str]) -> list[dict[str, Any]]:
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value
    problems.append(f"{label}: '{key}' must be an array of tables ([[{key}]])")
    return []


def _check_keys(table: dict[str, Any], known: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in known:
            import difflib  # only a mistake pays for it

            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"
            problems.append(f"{where}: unknown key '{key}'{hint}")


def parse_size(text: str) -> int:
    """`10M`, `500k`, `1048576`: bytes."""
    match = _SIZE.fullmatch(text.strip())
    if not match or int(match[1]) <= 0:
        raise ValueError(f"not a size: {text!r} (examples: 500k, 10M, 1048576)")
    size = int(match[1]) * _UNITS[(match[2] or "").lower()[:1]]
    if size > _LARGEST:
        raise ValueError(f"too large: {text!r} (at most 1024G)")
    return size


_LARGEST = 1 << 40  # files are read whole: more than any machine holds, less than reads accept


def _label(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _read_table(path: str, label: str, content: bytes | None = None) -> dict[str, Any]:
    tomllib = _toml()
    try:
        if content is None:
            with open(path, "rb") as handle:
                content = handle.read()
        data = tomllib.loads(content.decode("utf-8"))
    except OSError as e:
        raise ConfigError(f"{label}: cannot read: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{label}: invalid TOML: {e}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{label}: not UTF-8 text, as TOML must be (byte {e.start + 1}: "
                          f"{e.object[e.start:e.start + 1]!r})") from e
    if os.path.basename(path) == "pyproject.toml":
        tool = data.get("tool", {})
        section = tool.get("keyguard", {}) if isinstance(tool, dict) else {}
        if not isinstance(section, dict):
            raise ConfigError(f"{label}: 'tool.keyguard' must be a table ([tool.keyguard])")
        return section
    return data


def _toml() -> Any:
    if sys.version_info >= (3, 11):  # imported here: most hooks run without a config file
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def has_tool_section(pyproject: str) -> bool:
    """Textual, so that a broken pyproject.toml with a keyguard section is reported, not skipped:
    `[tool.keyguard]`, `keyguard = ...` under `[tool]`, or a dotted `tool.keyguard.x = ...`."""
    try:
        with open(pyproject, encoding="utf-8", errors="replace") as handle:
            return tool_section_in(handle.read())
    except OSError:
        return False


def tool_section_in(text: str) -> bool:
    """Whether a pyproject.toml's text holds a keyguard section (has_tool_section)."""
    if _TOOL_SECTION.search(text):
        return True
    if "keyguard" not in text:
        return False
    # quoted keys (`[tool."keyguard"]`) and inline tables (`tool = {keyguard = {...}}`):
    # TOML itself says, when the file parses
    try:
        tool = _toml().loads(text).get("tool")
    except ValueError:  # TOMLDecodeError
        return False
    return isinstance(tool, dict) and "keyguard" in tool


_TOOL_SECTION = lazy(r"(?m)^\s*(?:\[\[?\s*tool\s*\.\s*keyguard\b|(?:tool\s*\.\s*)?keyguard\s*[.=])")
