"""Workflow logs: the versioned event format, writing, reading and aggregating it into metrics."""
