"""SHA-256 of bytes, texts and files: how the engine knows a thing is the one it recorded.

An article is known by the hash of its text, a saved index file by the hash of its
bytes, the model by the hash of its weights file. Files are read in blocks, so a
large one is never held in memory whole.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK_BYTES = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """The hash of a text as UTF-8: an article's identity in the index."""
    return sha256_bytes(text.encode("utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
