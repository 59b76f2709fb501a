"""Finding the git work tree a path belongs to, from the filesystem alone (no git process)."""

from __future__ import annotations

import os


def repository_root(path: str) -> str | None:
    """The nearest directory at or above `path` holding `.git` (a directory, or a file in
    worktrees and submodules); None outside any work tree."""
    current = os.path.abspath(path)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
