"""framelab CLI commands (survey)."""

COMMANDS: list = []
