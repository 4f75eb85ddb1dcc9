"""The `framelab` command: each feature area registers its commands from framelab.commands."""

from __future__ import annotations

from typing import Any

import click

from framelab.commands import data, power, privacy, report, security, survey, users


def _setting_error(error: Exception) -> bool:
    """A key or setting the operator must fix: the message names it and says what to do."""
    from framelab.config import InsecureConfiguration
    from framelab.crypto import TextKeyError
    from framelab.services.pseudonyms import PseudonymKeyError

    if isinstance(error, TextKeyError | PseudonymKeyError | InsecureConfiguration):
        return True
    # framelab.config names the variable first: "FRAMELAB_ENV: 'x' is not an environment ..."
    return type(error) is ValueError and str(error).startswith("FRAMELAB_")


class _Group(click.Group):
    """Turns a missing or wrong key or setting into a one-line error, not a traceback.

    Any command may reach a key deep inside a service (an export decrypting free text,
    bots computing panel pseudonyms, an app refusing a weak secret key); the operator
    needs the variable to set, not a traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            if _setting_error(error):
                raise click.ClickException(str(error)) from None
            raise


@click.group(
    cls=_Group, help="framelab: message-framing experiments (studies, survey app, reports)."
)
def main() -> None:
    """Entry point of the `framelab` console script."""


for _module in (data, survey, report, users, security, privacy, power):
    for _command in _module.COMMANDS:
        main.add_command(_command)
