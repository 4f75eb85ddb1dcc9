"""framelab CLI commands (security): `text-key` and `secret-key` print new random keys;
`rotate-pseudonym-key` re-keys the stored panel pseudonyms."""

from __future__ import annotations

import secrets
from pathlib import Path

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


@click.command("rotate-pseudonym-key")
@click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default: FRAMELAB_DATABASE_URL, DATABASE_URL, or instance/framelab.sqlite).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The pseudonym key file (default: FRAMELAB_PSEUDONYM_KEY_FILE, or "
    "instance/pseudonym_key).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def rotate_pseudonym_key_command(
    database_url: str | None, key_file: Path | None, yes: bool
) -> None:
    """Add a new key to the pseudonym key chain and re-key every stored panel pseudonym.

    Raw panel ids were never stored, so nothing can be hashed afresh: every stored
    pseudonym p becomes HMAC(new key, p) in one transaction, and the new key is appended
    to the key file (docs/privacy.md). A database dump taken from now on tests a guessed
    panel id only with every key of the chain. Stop the web app first and start it
    again afterwards. Run it again to finish a rotation that was interrupted.
    """
    from framelab import clock
    from framelab.config import database_url_from_env
    from framelab.db.session import make_engine
    from framelab.services.pseudonyms import PseudonymKeyError, key_file_path, rotate

    path = key_file or key_file_path()
    url = database_url or database_url_from_env()
    if not yes:
        click.confirm(
            f"Re-key every panel pseudonym in the database with a new key appended to {path}? "
            "Stop the web app first",
            abort=True,
        )
    engine = make_engine(url)
    try:
        done = rotate(engine, path, now=clock.now())
    except PseudonymKeyError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    if done.resumed:
        click.echo(f"finished an interrupted rotation: {path} now holds {done.keys} keys")
        return
    counts = ", ".join(f"{n} in {table}" for table, n in done.rekeyed.items())
    click.echo(f"re-keyed {counts}; {path} now holds {done.keys} keys. Start the web app again.")


COMMANDS = [text_key_command, secret_key_command, rotate_pseudonym_key_command]
