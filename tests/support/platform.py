"""Test fixtures for platform (registered in tests/conftest.py)."""
