"""The command line: the only package that prints, reads the environment and picks exit codes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from keyguard import __version__
from keyguard.cli.common import EXIT_CLEAN, EXIT_INTERNAL, EXIT_INTERRUPTED, error
from keyguard.errors import KeyguardError, UsageError
from keyguard.terminal import neutralise

# Each command is imported when it runs: the pre-commit hook loads `staged` and nothing else.
COMMANDS = {
    "scan": "keyguard.cli.scanning:scan",
    "staged": "keyguard.cli.scanning:staged",
    "history": "keyguard.cli.scanning:history",
    "pre-push": "keyguard.cli.scanning:pre_push",
    "ci": "keyguard.cli.scanning:ci",
    "audit": "keyguard.cli.audit:audit",
    "install": "keyguard.cli.setup:install",
    "baseline": "keyguard.cli.setup:baseline",
    "allow": "keyguard.cli.setup:allow",
    "config": "keyguard.cli.setup:config",
    "rules": "keyguard.cli.setup:rules",
}


class _Commands(click.Group):
    def list_commands(self, context: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, context: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


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
        import traceback  # only a crash pays for it

        traceback.print_exc()
        error(f"internal error in keyguard {__version__}; the scan did not finish. "
              "Please report it with the traceback above.")
        return EXIT_INTERNAL
    return result if isinstance(result, int) else EXIT_CLEAN


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keyguard")
def cli() -> None:
    """Find imin API keys (X-API-KEY values and 32-hex keys) before they leak."""

