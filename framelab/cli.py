"""The `framelab` command: each feature area registers its commands from framelab.commands."""

from __future__ import annotations

import click

from framelab.commands import data, privacy, report, security, survey, users


@click.group(help="framelab: message-framing experiments (studies, survey app, reports).")
def main() -> None:
    """Entry point of the `framelab` console script."""


for _module in (data, survey, report, users, security, privacy):
    for _command in _module.COMMANDS:
        main.add_command(_command)
