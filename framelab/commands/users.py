"""framelab CLI commands (users): `create-user` and `reset-password`."""

from __future__ import annotations

import sys

import click

from framelab import clock


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("create-user")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (one line) instead of prompting.",
)
@click.option("--admin", is_flag=True, help="Make the account a site admin (owner of every study).")
@click.option(
    "--can-create-studies",
    is_flag=True,
    help="Allow the account to create studies (admins always may).",
)
@click.option(
    "--temporary",
    is_flag=True,
    help="The password is temporary: the account must choose its own at first sign-in.",
)
def create_user_command(
    email: str, password_stdin: bool, admin: bool, can_create_studies: bool, temporary: bool
) -> None:
    """Create a studio account on the configured database (FRAMELAB_DATABASE_URL).

    Passwords need at least 12 characters and must not be common passwords.
    """
    from framelab.config import database_url_from_env
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services.accounts import AccountError, create_user

    password = _read_password(password_stdin)
    engine = make_engine(database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            account = create_user(
                session,
                email,
                password,
                is_admin=admin,
                can_create_studies=can_create_studies,
                temporary=temporary,
                now=clock.now(),
            )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    kind = "admin account" if account.is_admin else "account"
    click.echo(f"created {kind} {account.email} (id {account.id})")


@click.command("reset-password")
@click.argument("email")
@click.option(
    "--base-url",
    default="",
    help="The studio's address, e.g. https://survey.example.org (the link is printed under it).",
)
@click.option(
    "--remove-two-factor",
    is_flag=True,
    help="Also remove the account's second factor (a lost phone).",
)
def reset_password_command(email: str, base_url: str, remove_two_factor: bool) -> None:
    """Print a one-time password reset link for an account (valid 24 hours, used once).

    For a locked-out site admin; other accounts get links on the studio's Accounts page.
    Every session of the account ends when the new password is set.
    """
    from framelab.config import database_url_from_env
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services import signin, two_factor
    from framelab.services.accounts import AccountError, account_by_email

    engine = make_engine(database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            account = account_by_email(session, email)
            if account is None:
                raise click.ClickException(f"email: no account for {email.strip().lower()!r}")
            if remove_two_factor:
                two_factor.remove(session, account.id)
                click.echo(f"removed the second factor of {account.email}")
            token = signin.issue_reset_link(
                session, account.id, issued_by="command line", now=clock.now()
            )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(f"one-time reset link for {account.email} (valid 24 hours, works once):")
    click.echo(f"{base_url.rstrip('/')}/studio/reset/{token}")


COMMANDS: list = [create_user_command, reset_password_command]
