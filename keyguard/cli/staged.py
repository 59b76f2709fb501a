"""`keyguard staged`, the pre-commit hook: no click, so that the hook starts fast.

keyguard/cli/__init__.py runs it directly for `keyguard staged [PATH...]` (how pre-commit and the
installed hook call it), also with -q, -v or --no-color; with other options, click parses them
and calls the same function.
"""

from __future__ import annotations

import os
import time

from keyguard import git
from keyguard.cli.common import EXIT_FINDINGS, error, finish, load_policy, timed
from keyguard.errors import UsageError
from keyguard.scan import scan_items
from keyguard.sources.staged import read_staged

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any


def run_staged(paths: tuple[str, ...], report: dict[str, Any]) -> int:
    started = time.perf_counter()
    root, merge_head = git.toplevel_and_git_path("MERGE_HEAD")
    policy = load_policy(report, base=root)
    wanted = tuple(_from_top(path, root) for path in paths)
    result = scan_items(read_staged(wanted, policy.config.max_file_size, merge_head), policy)
    code = finish(timed(result, started), report, config=policy.config, gate=True)
    if code == EXIT_FINDINGS:
        error("commit blocked. Remove the key (see fix above), or skip this check once with "
              "`git commit --no-verify` (pre-commit: SKIP=keyguard git commit).")
    return code


def _from_top(path: str, root: str) -> str:
    """A PATH argument from the top level. pre-commit passes file names after `--`: one that
    looks like an option and names no file was meant as one (in the hook's `args:`), and
    would otherwise narrow the scan to nothing."""
    if path.startswith("-") and not os.path.lexists(path):
        raise UsageError(f"no such file: {path!r} (options go before `--`; with pre-commit, "
                         "put settings in .keyguard.toml: `args:` come after it)")
    # git's top level has its symlinks resolved, so the path's are too; but not the path's own
    # when it is a symlink: the commit records the link
    absolute = os.path.abspath(path)
    directory, name = os.path.split(absolute)
    resolved = (os.path.join(os.path.realpath(directory), name) if os.path.islink(absolute)
                else os.path.realpath(absolute))
    relative = os.path.relpath(resolved, root)
    if relative == ".." or relative.startswith(".." + os.sep):
        raise UsageError(f"not in the repository at {root}: {path!r}")
    return relative.replace(os.sep, "/")
