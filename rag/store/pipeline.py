"""Indexing: articles → sentences and speakers → passages → vectors → a segment, made live.

The one part of the store that runs the analysis (`rag.text` splits sentences,
`rag.speakers` attributes them) and the embedder. `sync` brings the index in line
with a folder's articles, `add` takes new articles into the live index without
reading the folder, `write` saves vectors computed elsewhere. Each embeds only the
articles that changed and writes them as one new segment; the segments that lost no
article stay as they are, and past MAX_SEGMENTS the smallest are merged into the new
one (their vectors reused).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from rag.config import IndexSettings
from rag.embedding import Embedder
from rag.errors import IndexCorruptError
from rag.speakers import attribute
from rag.store.generations import live_generation, load, locked, manifest_of, mismatch, publish
from rag.store.index import Index
from rag.store.segment import DocRecord, mean_vectors, new_segment
from rag.store.segment_files import write_segment
from rag.text import fold, split_sentences
from rag.types import Document, SyncReport

log = logging.getLogger(__name__)

SPLITTER = "syntok+rules-1, speakers-1"  # change it when splitting or attribution changes
MAX_SEGMENTS = 8


def split_passages(
    record_sentences: Sequence[str], settings: IndexSettings, count_tokens: Callable[[str], int]
) -> tuple[tuple[int, int], ...]:
    """Windows of consecutive sentences, each within the model's token budget."""
    n = len(record_sentences)
    windows: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end = start + 1
        while end < min(n, start + settings.passage_sentences):
            text = " ".join(record_sentences[start : end + 1])
            if count_tokens(text) > settings.passage_max_tokens:
                break
            end += 1
        windows.append((start, end))
        if end >= n:
            break
        start = min(start + settings.passage_stride, end)
    return tuple(windows)


def analyse(document: Document, settings: IndexSettings, embedder: Embedder) -> DocRecord:
    """An article read for indexing: its sentences, each with its speaker, and its passages."""
    spans = split_sentences(document.text)
    sentences = tuple(
        replace(s, speaker=who, speech=mode)
        for s, (who, mode) in zip(spans, attribute(document.text, spans), strict=True)
    )
    texts = [document.text[s.start : s.end] for s in sentences]
    passages = split_passages(texts, settings, embedder.count_tokens)
    return DocRecord(document, sentences, passages)


def sync(
    index_dir: Path,
    documents: Sequence[Document],
    embedder: Embedder,
    settings: IndexSettings,
    *,
    skipped: Sequence[tuple[str, str]] = (),
    progress: bool = False,
    current: Index | None = None,
) -> tuple[Index, SyncReport]:
    """Open the index, bringing it in line with `documents`; embed only what changed.

    `current`, an index this process already holds, is used instead of reading the
    saved one when it is still the live generation.
    """
    with locked(index_dir):
        old, because = _open(index_dir, embedder, settings, current)
        return _update(index_dir, old, because, documents, embedder, settings, skipped, progress)


def add(
    index_dir: Path,
    documents: Sequence[Document],
    embedder: Embedder,
    settings: IndexSettings,
    *,
    current: Index | None = None,
) -> tuple[Index, SyncReport] | None:
    """Index new or changed articles into the live index without reading the corpus folder.

    Embeds and writes these articles alone. None when the live index cannot take them
    (missing, damaged, or built otherwise): then sync the whole folder.
    """
    with locked(index_dir):
        old, because = _open(index_dir, embedder, settings, current)
        if old is None or because:
            return None
        wanted = {r.document.source: r.document for r in old.records}
        wanted.update((d.source, d) for d in documents)
        ordered = sorted(wanted.values(), key=lambda d: PurePosixPath(d.source).parts)
        return _update(index_dir, old, None, ordered, embedder, settings, (), False)


def _open(
    index_dir: Path, embedder: Embedder, settings: IndexSettings, current: Index | None
) -> tuple[Index | None, str | None]:
    """The live index (`current` if still live) and, when it cannot serve, why not."""
    try:
        name = live_generation(index_dir)
        if name is None:
            return None, None
        old = current if current is not None and current.generation == name else load(index_dir)
    except IndexCorruptError as exc:
        because = f"the saved index is unusable: {exc}"
        log.warning("rebuilding the index: %s", because)
        return None, because
    reason = mismatch(old.manifest, embedder.name, embedder.weights_sha256, settings, SPLITTER)
    if reason:
        because = f"the saved index does not fit: {reason}"
        log.warning("rebuilding the index: %s", because)
        return None, because
    return old, None


def _update(
    index_dir: Path,
    old: Index | None,
    rebuilt_because: str | None,
    documents: Sequence[Document],
    embedder: Embedder,
    settings: IndexSettings,
    skipped: Sequence[tuple[str, str]],
    progress: bool,
) -> tuple[Index, SyncReport]:
    where: dict[str, tuple[int, int]] = {}  # source -> (segment, record within it)
    if old is not None:
        for si, segment in enumerate(old.segments):
            for ri, record in enumerate(segment.records):
                where[record.document.source] = (si, ri)

    def unchanged(d: Document) -> bool:
        hit = where.get(d.source)
        return hit is not None and old.segments[hit[0]].records[hit[1]].document.sha256 == d.sha256

    added = [d.source for d in documents if d.source not in where]
    updated = [d.source for d in documents if d.source in where and not unchanged(d)]
    removed = sorted(set(where) - {d.source for d in documents})
    report_args = dict(
        added=tuple(added),
        updated=tuple(updated),
        removed=tuple(removed),
        skipped=tuple(skipped),
        rebuilt_because=rebuilt_because,
        documents=len(documents),
    )
    if old is not None and not (added or updated or removed):
        return old, SyncReport(**report_args)

    # Segments that lost no article stay as they are, but for merging the smallest when
    # there would be too many; every other article goes into one new segment.
    keep: list[int] = []
    if old is not None:
        dirty = {where[s][0] for s in updated + removed}
        keep = [i for i in range(len(old.segments)) if i not in dirty]
        while len(keep) >= MAX_SEGMENTS:
            keep.remove(min(keep, key=lambda i: old.segments[i].sentences))
    records: list[DocRecord] = []
    sentence_parts: list[np.ndarray | None] = []
    passage_parts: list[np.ndarray | None] = []
    fresh: list[int] = []
    for d in documents:
        if unchanged(d):
            si, ri = where[d.source]
            if si in keep:
                continue
            segment = old.segments[si]
            s, p = segment.rows_of(ri)
            records.append(segment.records[ri])
            sentence_parts.append(np.asarray(segment.sentence_vectors[s]))
            passage_parts.append(np.asarray(segment.passage_vectors[p]))
        else:
            records.append(analyse(d, settings, embedder))
            sentence_parts.append(None)
            passage_parts.append(None)
            fresh.append(len(records) - 1)

    whole = settings.passage_vectors == "embedded"
    texts: list[str] = []
    for i in fresh:
        r = records[i]
        texts += [fold(r.sentence_text(j)) for j in range(len(r.sentences))]
        if whole:
            texts += [fold(r.passage_text(p)) for p in range(len(r.passages))]
    vectors = embedder.encode(texts, progress=progress) if texts else None
    at = n_sent = n_pass = 0
    for i in fresh:
        ns = len(records[i].sentences)
        npas = len(records[i].passages) if whole else 0
        sentence_parts[i] = vectors[at : at + ns]
        passage_parts[i] = (
            vectors[at + ns : at + ns + npas]
            if whole
            else mean_vectors(sentence_parts[i], records[i].passages)
        )
        at += ns + npas
        n_sent += ns
        n_pass += npas

    segments = [old.segments[i] for i in keep] if old is not None else []
    if records:
        segment = new_segment(records, sentence_parts, passage_parts, embedder.dim)
        segment.entry = write_segment(index_dir, segment)
        segments.append(segment)
    manifest = publish(index_dir, manifest_of(embedder.identity(), settings, SPLITTER, segments))
    report_args.update(embedded_sentences=n_sent, embedded_passages=n_pass)
    return Index(segments, manifest, embedder.dim), SyncReport(**report_args)


def write(
    index_dir: Path,
    records: Sequence[DocRecord],
    sentence_vectors: np.ndarray,
    passage_vectors: np.ndarray,
    embedder: Embedder,
    settings: IndexSettings,
) -> Index:
    """Save analysed articles with vectors computed elsewhere as the live index.

    For importing an embedded corpus and for benchmarks (bench/grow.py); the vectors
    must be the model's, row for row, or answers will be wrong.
    """
    with locked(index_dir):
        segment = new_segment(records, [sentence_vectors], [passage_vectors], embedder.dim)
        segment.entry = write_segment(index_dir, segment)
        manifest = publish(
            index_dir, manifest_of(embedder.identity(), settings, SPLITTER, [segment])
        )
        return Index([segment], manifest, embedder.dim)
