"""framelab CLI commands (users)."""

COMMANDS: list = []
