"""Test fixtures for logs (registered in tests/conftest.py)."""
