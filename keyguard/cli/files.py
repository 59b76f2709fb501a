"""`keyguard scan`'s work, without click: keyguard/cli/__init__.py runs it directly for
`keyguard scan [PATH...]` with no option but a few flags, as it runs the hook; click parses
every other form and calls the same function."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

from keyguard.cli.common import finish, load_policy, size_option, timed, warning
from keyguard.model import Item, ScanError
from keyguard.scan import scan_items

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

    from keyguard.sources.files import WalkOptions


def run_scan(paths: tuple[str, ...], report: dict[str, Any], *, stdin_name: str = "<stdin>",
             max_file_size: str | None = None, follow_symlinks: bool = False,
             no_ignore: bool = False, jobs: int | None = None) -> int:
    from keyguard.sources.files import WalkOptions
    from keyguard.workers import default_jobs

    started = time.perf_counter()
    policy = load_policy(report)
    walk = WalkOptions(max_file_size=size_option(max_file_size, policy.config.max_file_size),
                       follow_symlinks=follow_symlinks, use_gitignore=not no_ignore, warn=warning,
                       meanwhile=_compile_patterns)
    result = scan_items(_items(paths or (".",), stdin_name, walk), policy, jobs or default_jobs())
    named = frozenset({os.path.normpath(p) for p in paths} | {stdin_name})
    return finish(timed(result, started), report, named, policy.config)


def _compile_patterns() -> None:
    """Load RE2 and compile the rules' patterns while git lists the ignored files, rather than
    in each worker at its first file: forked later, the workers inherit them. An error here
    shows again where the patterns are first used."""
    from keyguard.detect.fast import warm

    with contextlib.suppress(Exception):
        warm()


def _items(paths: tuple[str, ...], stdin_name: str,
           walk: WalkOptions) -> Iterator[Item]:
    from keyguard.sources.files import read_paths, read_stream

    files = [p for p in paths if p != "-"]
    if "-" in paths:
        if sys.stdin is None:  # closed by the caller (`<&-`)
            yield ScanError(path=stdin_name, message="standard input is closed")
        else:
            yield read_stream(sys.stdin.buffer, stdin_name, walk.max_file_size)
    if files:
        yield from read_paths(files, walk)
