"""framelab CLI commands (security): `text-key` and `secret-key` print new random keys."""

from __future__ import annotations

import secrets

import click


@click.command("text-key")
def text_key_command() -> None:
    """Print a new key for FRAMELAB_TEXT_KEY (encrypts free-text answers at rest)."""
    from framelab.crypto import generate_text_key

    click.echo(generate_text_key())


@click.command("secret-key")
def secret_key_command() -> None:
    """Print a new random value for FRAMELAB_SECRET_KEY (signs session cookies)."""
    click.echo(secrets.token_urlsafe(48))


COMMANDS = [text_key_command, secret_key_command]
