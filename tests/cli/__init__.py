"""Tests for framelab's cli layer."""
