"""The exception tree: every expected failure is a PatternbotError with a message fit for a user."""

from __future__ import annotations


class PatternbotError(Exception):
    """An expected failure: the CLI prints it on one line and exits 1."""


class UsageError(PatternbotError):
    """The command line or its arguments are wrong: exit 2."""


class ConfigError(PatternbotError):
    """`patternbot.yaml` or an environment override holds a bad value."""


class KnowledgeBaseError(PatternbotError):
    """The knowledge base cannot be used as it is (for example it does not validate)."""


class LogFormatError(PatternbotError):
    """A workflow log line was rejected and `--strict` makes that fatal."""


class IndexUnavailableError(PatternbotError):
    """Qdrant could not be opened or answered with an error."""


class EmbeddingError(PatternbotError):
    """The embedding model is missing, corrupt or failed to run."""


class DraftingError(PatternbotError):
    """The Messages API failed; callers fall back to deterministic drafts."""


class PlatformError(PatternbotError):
    """git or the code-hosting platform failed."""
