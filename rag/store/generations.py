"""Generations: which segments make the live index, what they were built with, and the lock.

    CURRENT          the name of the live generation, replaced atomically
    gen-<id>.json    a generation: format, model, index settings, splitter, the corpus
                     folder it indexes, its segments in order and every article's hash
    .lock            held while a process opens, builds or updates the index

A new generation is written whole, then CURRENT is pointed at it, and only then are
the older generations and the segments no generation uses deleted: a crash at any
moment leaves a sound index live.

An index serves one corpus folder: `check_corpus` refuses to open it for another, so
that one corpus is never re-embedded over another's index.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.config import IndexSettings
from rag.errors import ForeignIndexError, IndexCorruptError, RagError
from rag.store.files import fsync_dir, write_synced
from rag.store.index import Index
from rag.store.segment import Segment
from rag.store.segment_files import FORMAT_VERSION, READABLE, load_segment

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
LOCK = ".lock"
LOCK_TIMEOUT_S = 900
_GENERATION = re.compile(r"gen-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\.json")


def publish(index_dir: Path, manifest: dict) -> dict:
    """Write a generation file and make it live; returns the manifest with its name."""
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
    manifest = {**manifest, "generation": name}
    tmp = index_dir / f".tmp-{uuid.uuid4().hex}"
    write_synced(tmp, json.dumps(manifest, indent=1).encode("utf-8"))
    os.rename(tmp, index_dir / name)
    pointer = index_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    write_synced(pointer, name.encode("utf-8"))
    os.replace(pointer, index_dir / CURRENT)
    fsync_dir(index_dir)
    keep = {name} | {s["name"] for s in manifest["segments"]}
    _remove_stale(index_dir, keep)
    return manifest


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    """Delete what the live generation does not use: older generations, segments, leftovers."""
    for path in index_dir.iterdir():
        if path.name in keep or path.name in (CURRENT, LOCK):
            continue
        if path.name.startswith(("gen-", "seg-", ".tmp-", f".{CURRENT}.")):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def live_generation(index_dir: Path) -> str | None:
    """The name CURRENT holds, None without one; IndexCorruptError if it is not a generation."""
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{pointer} is unreadable: {exc}") from exc
    if (index_dir / name).is_dir() and name.startswith("gen-") and "/" not in name:
        raise IndexCorruptError(
            f"{name} is an index of an older format; this version reads format {FORMAT_VERSION}"
        )
    if not _GENERATION.fullmatch(name) or not (index_dir / name).is_file():
        raise IndexCorruptError(f"{pointer} names {name!r}, which is not a generation")
    return name


def load(index_dir: Path) -> Index | None:
    """The live generation, fully checked; None when there is none; IndexCorruptError if bad."""
    name = live_generation(index_dir)
    if name is None:
        return None
    try:
        manifest = json.loads((index_dir / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"generation {name} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") not in READABLE:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexCorruptError(
            f"index format {found!r}, this version reads {', '.join(map(str, READABLE))}"
        )
    try:
        dim = int(manifest["model"]["dim"])
        segments = [load_segment(index_dir, entry, dim) for entry in manifest["segments"]]
        index = Index(segments, manifest, dim)
        if index.generation != name:
            raise IndexCorruptError(f"{name} says it is generation {index.generation!r}")
        return index
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
        # RuntimeError: what FAISS raises for a file it cannot deserialise.
        raise IndexCorruptError(f"{name} cannot be read: {exc}") from exc


def peek(index_dir: Path, name: str) -> dict | None:
    """A generation's manifest as saved, unchecked; None when it cannot be read (`load`
    then says why)."""
    try:
        manifest = json.loads((index_dir / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def corpus_entry(index_dir: Path, corpus_dir: Path) -> dict:
    """How a manifest names its corpus folder: its resolved absolute path, and the same
    path relative to the index folder (so that a project moved whole keeps its index)."""
    corpus = corpus_dir.resolve()
    try:
        relative: str | None = Path(os.path.relpath(corpus, index_dir.resolve())).as_posix()
    except ValueError:  # another drive
        relative = None
    return {"path": str(corpus), "from_index": relative}


def check_corpus(
    index_dir: Path, manifest: dict, corpus_dir: Path, sources: Sequence[str] | None
) -> None:
    """ForeignIndexError unless the index in `index_dir` may serve `corpus_dir`.

    It may when it records the same folder: the same resolved path, or the same path
    relative to the index folder (the two moved together). An index of an earlier
    version, which records no folder, may when it holds no article or shares one with
    the corpus (`sources`, its articles' paths; None: not known, allowed); the next
    write records the folder.
    """
    wanted = corpus_entry(index_dir, corpus_dir)
    recorded = manifest.get("corpus")
    fix = (
        f"give another index folder for {corpus_dir} (--index-dir or RAG_INDEX_DIR; "
        f"without one, each corpus folder gets its own), or delete {index_dir} to rebuild "
        "it for this corpus"
    )
    if (index_dir / "uploads").is_dir() and any((index_dir / "uploads").iterdir()):
        fix += " (its uploads/ would go too)"
    if isinstance(recorded, dict):
        same_path = recorded.get("path") == wanted["path"]
        moved = (
            wanted["from_index"] is not None and recorded.get("from_index") == wanted["from_index"]
        )
        if not (same_path or moved):
            raise ForeignIndexError(
                f"{index_dir} holds the index of the corpus folder {recorded.get('path')}, "
                f"not of {wanted['path']}; {fix}"
            )
        return
    documents = manifest.get("documents")
    if sources is None or not isinstance(documents, dict) or not documents:
        return
    if not set(documents) & set(sources):
        raise ForeignIndexError(
            f"{index_dir} holds an index made by an earlier version, which does not record "
            f"its corpus folder, and none of its {len(documents)} articles is in "
            f"{wanted['path']}; {fix}"
        )


def manifest_of(
    model: dict,
    settings: IndexSettings,
    splitter: str,
    segments: Sequence[Segment],
    corpus: dict | None = None,
) -> dict:
    """A generation's record: `model` is the embedder's identity (name, weights hash, dim);
    `corpus` is `corpus_entry` of the folder indexed (None: not recorded)."""
    return {
        "format": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": model,
        "index_settings": settings.as_dict(),
        "splitter": splitter,
        **({"corpus": corpus} if corpus is not None else {}),
        "segments": [s.entry for s in segments],
        "documents": {
            source: {
                "sha256": sha256,
                "title": title,
                "sentences": int(sentences),
                "passages": int(passages),
                "segment": s.name,
            }
            for s in segments
            for source, sha256, title, sentences, passages in zip(
                s.records.sources,
                s.records.sha256,
                s.records.titles,
                np.bincount(s.sentence_doc, minlength=len(s.records)).tolist(),
                np.bincount(s.passage_doc, minlength=len(s.records)).tolist(),
                strict=True,
            )
        },
    }


def mismatch(
    manifest: dict, model_name: str, weights_sha256: str, settings: IndexSettings, splitter: str
) -> str | None:
    """Why a saved generation cannot serve this run (another model, settings or splitter)."""
    model = manifest.get("model", {})
    if model.get("weights_sha256") != weights_sha256:
        return (
            f"it was built with model {model.get('name')!r} "
            f"(weights {str(model.get('weights_sha256'))[:12]}), "
            f"this run uses {model_name!r} (weights {weights_sha256[:12]})"
        )
    if manifest.get("index_settings") != settings.as_dict():
        return (
            f"it was built with settings {manifest.get('index_settings')}, "
            f"this run uses {settings.as_dict()}"
        )
    if manifest.get("splitter") != splitter:
        return f"it was split by {manifest.get('splitter')!r}, this version splits by {splitter}"
    return None


@contextmanager
def locked(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock; a RagError naming the lock if it stays taken."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK), timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout as exc:
        raise RagError(
            f"another process has held the index lock {index_dir / LOCK} for "
            f"{LOCK_TIMEOUT_S} s; is a build stuck?"
        ) from exc
    try:
        yield
    finally:
        lock.release()
