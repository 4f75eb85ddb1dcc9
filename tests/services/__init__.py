"""Tests for framelab's services layer."""
