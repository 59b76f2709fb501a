"""Configuration: `.keyguard.toml` or `[tool.keyguard]` in pyproject.toml at the repository root.

Every key is checked: a typo is an error naming file, entry and key, never silently ignored.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import pathspec

from keyguard.errors import ConfigError
from keyguard.model import Confidence
from keyguard.worktree import repository_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = ".keyguard.toml"
DEFAULT_MAX_FILE_SIZE = 10 << 20
_TOP_KEYS = ("allow", "max-file-size")
_ALLOW_KEYS = ("paths", "reason")


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowEntry:
    paths: tuple[str, ...]
    reason: str
    spec: pathspec.GitIgnoreSpec = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    root: str  # allowlist paths are relative to this directory
    source: str | None = None
    allow: tuple[AllowEntry, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    block_at: Confidence = Confidence.MEDIUM

    def allows_path(self, path: str) -> bool:
        """Whether an [[allow]] entry covers `path` (absolute, or relative to the cwd)."""
        relative = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        if relative.startswith("../"):
            return False
        return any(entry.spec.match_file(relative) for entry in self.allow)


def find_config(start: str) -> tuple[str, str | None]:
    """The repository root above `start` (or `start` itself) and its config file, if any."""
    root = repository_root(start) or os.path.abspath(start)
    for name in (CONFIG_NAME, "pyproject.toml"):
        candidate = os.path.join(root, name)
        if os.path.isfile(candidate) and (name == CONFIG_NAME or _has_tool_section(candidate)):
            return root, candidate
    return root, None


def load_config(path: str | None, root: str) -> Config:
    if path is None:
        return Config(root=root)
    table = _read_table(path)
    label = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    _check_keys(table, _TOP_KEYS, label)
    max_size = table.get("max-file-size", DEFAULT_MAX_FILE_SIZE)
    if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size <= 0:
        raise ConfigError(f"{label}: 'max-file-size' must be a positive number of bytes")
    entries = table.get("allow", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{label}: 'allow' must be an array of tables ([[allow]])")
    allow = tuple(_allow_entry(e, f"{label}: [[allow]] #{n}") for n, e in enumerate(entries, 1))
    return Config(root=root, source=path, allow=allow, max_file_size=max_size)


def _read_table(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    if os.path.basename(path) == "pyproject.toml":
        section = data.get("tool", {}).get("keyguard", {})
        return section if isinstance(section, dict) else {}
    return data


def _allow_entry(entry: object, where: str) -> AllowEntry:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    _check_keys(entry, _ALLOW_KEYS, where)
    reason, paths = entry.get("reason"), entry.get("paths")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: 'reason' is required: say why these findings are allowed")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise ConfigError(f"{where}: 'paths' must be a non-empty list of gitignore-style patterns")
    spec = pathspec.GitIgnoreSpec.from_lines(paths)
    return AllowEntry(paths=tuple(paths), reason=reason, spec=spec)


def _check_keys(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")


def _has_tool_section(pyproject: str) -> bool:
    """Textual, so that a broken pyproject.toml with a keyguard section is reported, not skipped."""
    try:
        with open(pyproject, encoding="utf-8", errors="replace") as handle:
            return "[tool.keyguard" in handle.read()
    except OSError:
        return False
