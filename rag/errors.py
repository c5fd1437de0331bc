"""The engine's exceptions: each names the problem and, where there is one, the fix.

The CLI turns them into one line and an exit code, the UI into a `gr.Error`.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class for every error the engine raises on purpose."""


class CorpusError(RagError):
    """The corpus folder is missing, unreadable, or an article cannot be accepted."""


class IndexCorruptError(RagError):
    """A saved index is garbled, truncated or was built differently; it gets rebuilt."""


class ModelError(RagError):
    """The embedding model cannot be found or loaded."""


class ForeignIndexError(RagError):
    """The index folder holds the index of another corpus folder; it is left untouched."""


class IndexNotReady(RagError):
    """The corpus is still being indexed for the first time; nothing can be answered yet."""
