"""The `framelab` command: each feature area registers its commands from framelab.commands."""

from __future__ import annotations

from typing import Any

import click

from framelab.commands import data, power, privacy, report, security, survey, users


class _Group(click.Group):
    """Turns a missing or wrong key (text key, pseudonym key file) into a one-line error.

    Any command may reach a key deep inside a service (an export decrypting free text, an
    export or a report computing pseudonyms); the operator needs the variable to set, not
    a traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        from framelab.crypto import TextKeyError
        from framelab.services.pseudonyms import PseudonymKeyError

        try:
            return super().invoke(ctx)
        except (TextKeyError, PseudonymKeyError) as error:
            raise click.ClickException(str(error)) from None


@click.group(
    cls=_Group, help="framelab: message-framing experiments (studies, survey app, reports)."
)
def main() -> None:
    """Entry point of the `framelab` console script."""


for _module in (data, survey, report, users, security, privacy, power):
    for _command in _module.COMMANDS:
        main.add_command(_command)
