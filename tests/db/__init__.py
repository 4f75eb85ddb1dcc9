"""Tests for framelab's db layer."""
