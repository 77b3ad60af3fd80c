"""Workflow logs: the versioned event format, writing it, reading it and aggregating it into metrics."""
