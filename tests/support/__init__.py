"""Helpers shared by the Python test suites (not a test module)."""
