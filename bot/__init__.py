"""patternbot: deployment patterns and policies that learn from how they are used."""

__version__ = "0.1.0"
