"""Errors shared by the services (the web layer maps them to friendly pages)."""

from __future__ import annotations


class ParticipantNotFound(LookupError):
    """No participant with this code or id."""
