"""framelab CLI commands (data)."""

COMMANDS: list = []
