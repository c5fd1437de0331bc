"""rag: question answering over news articles with verbatim, cited quotes only.

from rag import Assistant
answer = Assistant(corpus_dir="seeds").ask("What did the minister say about the budget?")
"""

from rag.assistant import Assistant
from rag.config import Confidence, IndexSettings, Settings, Weights
from rag.corpus import default_index_dir
from rag.embedding import Embedder
from rag.errors import (
    CorpusError,
    ForeignIndexError,
    IndexCorruptError,
    IndexNotReady,
    ModelError,
    RagError,
)
from rag.text import normalize
from rag.types import Answer, Citation, Document, Progress, Quote, Sentence, SyncReport

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "Confidence",
    "CorpusError",
    "Document",
    "Embedder",
    "ForeignIndexError",
    "IndexCorruptError",
    "IndexNotReady",
    "IndexSettings",
    "ModelError",
    "Progress",
    "Quote",
    "RagError",
    "Sentence",
    "Settings",
    "SyncReport",
    "Weights",
    "default_index_dir",
    "normalize",
]
