"""The command line: the only package that prints, reads the environment and picks exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from keyguard import __version__
from keyguard.cli.common import EXIT_CLEAN, EXIT_INTERNAL, EXIT_INTERRUPTED, REPORT_DEFAULTS, error
from keyguard.errors import ConfigError, KeyguardError
from keyguard.model import redact_key_like
from keyguard.terminal import neutralise


def run() -> None:
    code = main(sys.argv[1:])
    # Said (every write is flushed) and cleaned up (workers ended, files closed): leave now,
    # without the interpreter's teardown. It frees every object one by one (~4 ms of a 40 ms
    # hook), and after Ctrl-C could meet a second one, or a pipe the interruption closed, and
    # print a traceback after "interrupted".
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None when closed (`>&-`)
            with contextlib.suppress(OSError):
                stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Every outcome maps to an exit code here, so a crash can never look like a clean scan."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        plain = _plain_form(args)
        if plain is not None and plain[0] == "staged":
            # The hooks' call: run without loading click (a quarter of the hook's start-up);
            # other options go through click below.
            from keyguard.cli.staged import run_staged

            result: object = run_staged(*plain[1:])
        elif plain is not None:  # the same for `keyguard scan [PATH...]` (~15 ms of click)
            from keyguard.cli.files import run_scan

            result = run_scan(*plain[1:])
        else:
            from keyguard.cli.commands import invoke

            result = invoke(args)
    except KeyguardError as e:
        quoted = isinstance(e, ConfigError)  # quotes the configuration, where a key may be pasted
        for line in str(e).splitlines():
            # a baseline's errors name fingerprints, 16 hex digits, as half a key would be
            shown = redact_key_like(line, fingerprints="fingerprint" in line) if quoted else line
            error(neutralise(shown))
        return e.exit_code
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # once is enough: a second Ctrl-C changes nothing
        error("interrupted")
        return EXIT_INTERRUPTED
    except Exception:  # the one place that turns a crash into exit code 5
        import traceback  # only a crash pays for it

        traceback.print_exc()
        error(f"internal error in keyguard {__version__}; the scan did not finish. "
              "Please report it with the traceback above.")
        return EXIT_INTERNAL
    return result if isinstance(result, int) else EXIT_CLEAN


# The flags `keyguard staged` and `keyguard scan` take without click, and the report settings
# they set.
_PLAIN_FLAGS = {"--quiet": "quiet", "-q": "quiet", "--verbose": "verbose", "-v": "verbose",
                "--no-color": "no_color"}


def _plain_form(args: list[str]) -> tuple[str, tuple[str, ...], dict[str, object]] | None:
    """The command, PATHs and report settings of `keyguard staged|scan [PATH...] [-- PATH...]`
    with no option but the flags above; None for click to parse (other options, `-` before
    `--`, --help)."""
    if args[:1] not in (["staged"], ["scan"]):
        return None
    report = dict(REPORT_DEFAULTS)
    paths: list[str] = []
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--":
            paths += rest
        elif arg in _PLAIN_FLAGS:
            report[_PLAIN_FLAGS[arg]] = True
        elif arg.startswith("-"):
            return None
        else:
            paths.append(arg)
    return args[0], tuple(paths), report
