"""The knowledge base: patterns and policies kept as YAML files in git."""
