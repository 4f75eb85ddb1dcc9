"""framelab CLI commands (report)."""

COMMANDS: list = []
