"""The command line: the only package that prints, reads the environment and picks exit codes."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from keyguard import __version__
from keyguard.cli.common import EXIT_CLEAN, EXIT_INTERNAL, EXIT_INTERRUPTED, error
from keyguard.cli.scanning import ci, history, pre_push, scan, staged
from keyguard.cli.setup import allow, baseline, config, install, rules
from keyguard.errors import KeyguardError, UsageError
from keyguard.terminal import neutralise


def run() -> None:
    sys.exit(main(sys.argv[1:]))


def main(argv: Sequence[str] | None = None) -> int:
    """Every outcome maps to an exit code here, so a crash can never look like a clean scan."""
    try:
        result = cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="keyguard",
                          standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        error("interrupted")
        return EXIT_INTERRUPTED
    except click.ClickException as e:
        error(neutralise(e.format_message()))
        return UsageError.exit_code
    except KeyguardError as e:
        for line in str(e).splitlines():
            error(neutralise(line))
        return e.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except Exception:  # the one place that turns a crash into exit code 5
        traceback.print_exc()
        error(f"internal error in keyguard {__version__}; the scan did not finish. "
              "Please report it with the traceback above.")
        return EXIT_INTERNAL
    return result if isinstance(result, int) else EXIT_CLEAN


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keyguard")
def cli() -> None:
    """Find imin API keys (X-API-KEY values and 32-hex keys) before they leak."""


for command in (scan, staged, history, pre_push, ci, install, baseline, allow, config, rules):
    cli.add_command(command)
