"""Native git hooks that run keyguard: installed beside (not over) a hook that was there."""

from __future__ import annotations

import os
import shlex
import stat
import sys

from keyguard import git
from keyguard.errors import UsageError

MARKER = "# installed by `keyguard install`"
CHAINED_SUFFIX = ".keyguard-chained"

_COMMANDS = {"pre-commit": "staged", "pre-push": "pre-push"}
_SKIP = {"pre-commit": "git commit --no-verify", "pre-push": "git push --no-verify"}

_SCRIPT = """#!/bin/sh
{marker}; `keyguard install --uninstall --hook {hook}` removes it.
# A hook that was here before runs first, kept as {hook}{chained}.
# Fails closed: if keyguard is missing or cannot finish, the {action} is blocked.
hook_dir=$(dirname "$0")
{read_input}if [ -x "$hook_dir/{hook}{chained}" ]; then
    {feed}"$hook_dir/{hook}{chained}" "$@" || exit $?
fi
if ! {python} -c "import keyguard" 2>/dev/null; then
    echo "keyguard: not installed for {python}; {action} blocked." >&2
    echo "keyguard: reinstall it and run keyguard install again, or skip once with: {skip}" >&2
    exit 1
fi
{feed}{python} -m keyguard {command} {args}
status=$?
if [ $status -ne 0 ] && [ $status -ne 1 ]; then
    echo "keyguard: the {hook} check did not finish (exit $status); {action} blocked." >&2
    echo "keyguard: fix keyguard ({python} -m keyguard), or skip once with: {skip}" >&2
fi
exit $status
"""


def hooks_directory(cwd: str | None = None) -> str:
    """Where git looks for hooks: core.hooksPath if set, else .git/hooks."""
    path = git.run(["rev-parse", "--git-path", "hooks"], cwd=cwd).decode().rstrip("\n")
    return os.path.join(cwd or os.getcwd(), path)


def hook_script(hook: str) -> str:
    pushing = hook == "pre-push"
    return _SCRIPT.format(
        marker=MARKER, hook=hook, chained=CHAINED_SUFFIX, python=shlex.quote(sys.executable),
        command=_COMMANDS[hook], args='-- "$@"' if pushing else "",
        action="push" if pushing else "commit", skip=_SKIP[hook],
        # git gives pre-push its ref list on stdin: keep it for both hooks
        read_input='input=$(cat)\n' if pushing else "",
        feed='printf \'%s\\n\' "$input" | ' if pushing else "")


def install(hook: str, cwd: str | None = None) -> str:
    """Install the hook; an existing foreign hook is kept and chained. Returns what was done."""
    directory = hooks_directory(cwd)
    os.makedirs(directory, exist_ok=True)
    path, chained = os.path.join(directory, hook), os.path.join(directory, hook + CHAINED_SUFFIX)
    kept = ""
    if os.path.lexists(path) and not is_ours(path):
        if os.path.lexists(chained):
            raise UsageError(f"{path} exists and so does {chained}: move one of them away first")
        os.replace(path, chained)
        kept = f"; the existing hook runs first, kept as {chained}"
    _write_executable(path, hook_script(hook))
    return f"installed {path}{kept}"


def uninstall(hook: str, cwd: str | None = None) -> str:
    directory = hooks_directory(cwd)
    path, chained = os.path.join(directory, hook), os.path.join(directory, hook + CHAINED_SUFFIX)
    if not os.path.lexists(path):
        return f"no {hook} hook installed"
    if not is_ours(path):
        raise UsageError(f"{path} was not installed by keyguard: left as it is")
    if os.path.lexists(chained):
        os.replace(chained, path)
        return f"removed keyguard's {hook} hook; restored the previous one"
    os.unlink(path)
    return f"removed {path}"


def is_ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return MARKER in handle.read(4096)
    except OSError:
        return False


def _write_executable(path: str, text: str) -> None:
    temporary = path + ".keyguard-tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    mode = os.stat(temporary).st_mode
    os.chmod(temporary, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(temporary, path)
