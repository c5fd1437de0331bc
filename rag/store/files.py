"""Writing files so that a crash never leaves half of one: each is fsynced, and so is its folder.

Files are written under a temporary name and renamed into place by the callers; a
rename is atomic, and the syncs make it durable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np


@contextmanager
def synced(path: Path) -> Iterator[BinaryIO]:
    """A new file to write; flushed and fsynced to disk when the block ends."""
    with path.open("wb") as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def write_synced(path: Path, data: bytes) -> None:
    with synced(path) as fh:
        fh.write(data)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_npy(path: Path, array: np.ndarray) -> None:
    with synced(path) as fh:
        np.save(fh, array, allow_pickle=False)
