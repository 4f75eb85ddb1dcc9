"""framelab CLI commands (users): `create-user EMAIL [--password-stdin] [--admin]`."""

from __future__ import annotations

import sys

import click

from framelab.db.models import utcnow


@click.command("create-user")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (one line) instead of prompting.",
)
@click.option("--admin", is_flag=True, help="Make the account a site admin (owner of every study).")
def create_user_command(email: str, password_stdin: bool, admin: bool) -> None:
    """Create a studio account on the configured database (FRAMELAB_DATABASE_URL)."""
    from framelab.config import database_url_from_env
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services.accounts import AccountError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            account = create_user(session, email, password, is_admin=admin, now=utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    kind = "admin account" if account.is_admin else "account"
    click.echo(f"created {kind} {account.email} (id {account.id})")


COMMANDS: list = [create_user_command]
