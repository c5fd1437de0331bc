"""Writing files so that a crash never leaves half of one: each is fsynced, and so is its folder.

Files are written under a temporary name and renamed into place by the callers; a
rename is atomic, and the syncs make it durable.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt


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


def save_arrays(fh: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """Named arrays into one .npz file (uncompressed)."""
    savez: Any = np.savez  # its stubs take the names' arrays for its own keywords
    savez(fh, **arrays)


def save_npy(path: Path, array: np.ndarray) -> None:
    with synced(path) as fh:
        np.save(fh, array, allow_pickle=False)


class StoredRows:
    """The rows of a saved 2-D .npy array, read from the file as they are asked for.

    Not memory-mapped: a mapped file's pages count as the process's resident memory
    once touched, and the kernel maps them in large blocks, so re-scoring a few hundred
    candidates scattered over gigabytes of vectors made most of the file resident. Here
    each run of consecutive rows asked for is one `pread`, and only the rows read are
    held. Indexing takes an int, a slice or an array of ints, as a NumPy array does;
    `np.asarray` reads it whole. The file stays open, so it can be read after it has
    been replaced or removed.
    """

    def __init__(self, path: Path) -> None:
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            self.offset = fh.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"{path.name} holds no C-ordered 2-D array")
        self.path = path
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self.ndim = 2
        self._row = self.shape[1] * self.dtype.itemsize
        if path.stat().st_size < self.offset + self.shape[0] * self._row:
            raise ValueError(f"{path.name} is shorter than its header says")
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, start: int, count: int) -> np.ndarray:
        data = os.pread(self._fd, count * self._row, self.offset + start * self._row)
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])

    def __getitem__(self, key: int | slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.shape[0])
            if step == 1:
                return self._read(start, max(0, stop - start))
            key = np.arange(start, stop, step)
        ids = np.asarray(key, dtype=np.int64)
        if ids.ndim == 0:
            i = int(ids) + (self.shape[0] if ids < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"row {int(ids)} of {self.shape[0]}")
            return self._read(i, 1)[0]
        flat = np.where(ids < 0, ids + self.shape[0], ids).ravel()
        if len(flat) and (flat.min() < 0 or flat.max() >= self.shape[0]):
            raise IndexError(f"rows out of range for {self.shape[0]}")
        wanted, where = np.unique(flat, return_inverse=True)
        out = np.empty((len(wanted), self.shape[1]), dtype=self.dtype)
        breaks = (np.flatnonzero(np.diff(wanted) != 1) + 1).tolist()
        for a, b in zip([0, *breaks], [*breaks, len(wanted)], strict=True):
            if b > a:
                out[a:b] = self._read(int(wanted[a]), b - a)
        return out[where].reshape(*ids.shape, self.shape[1])

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        whole = self._read(0, self.shape[0])
        return whole if dtype is None else whole.astype(dtype)
