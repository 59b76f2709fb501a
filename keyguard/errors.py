"""Typed errors, each carrying the exit code DESIGN.md gives it; cli.py maps them once."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import ClassVar


class KeyguardError(Exception):
    exit_code: ClassVar[int] = 2


class UsageError(KeyguardError):
    exit_code = 2


class ConfigError(KeyguardError):
    exit_code = 3


class InputError(KeyguardError):
    """Input could not be read: the scan would be incomplete."""

    exit_code = 4


class GitError(KeyguardError):
    """A git command failed: the scan is incomplete. The message carries git's own words."""

    exit_code = 4
