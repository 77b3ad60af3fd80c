"""Test fixtures for learning (registered in tests/conftest.py)."""
