"""CLI command modules; each exposes COMMANDS, a list of click commands."""
