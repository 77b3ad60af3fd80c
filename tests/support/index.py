"""Test fixtures for index (registered in tests/conftest.py)."""
