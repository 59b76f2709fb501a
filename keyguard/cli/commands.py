"""The click command group; each command is imported when it runs."""

from __future__ import annotations

import importlib

import click

from keyguard import __version__
from keyguard.cli.common import error
from keyguard.errors import UsageError
from keyguard.terminal import neutralise

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


def invoke(args: list[str]) -> object:
    """Run the command line; click's own outcomes (usage errors, --help, Ctrl-C) as exit codes."""
    try:
        return cli.main(args=args, prog_name="keyguard", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:  # Ctrl-C, which click turns into Abort: said and handled as without click
        raise KeyboardInterrupt from None
    except click.ClickException as e:
        error(neutralise(e.format_message()))
        return UsageError.exit_code


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keyguard")
def cli() -> None:
    """Find imin API keys (X-API-KEY values and 32-hex keys) before they leak."""
