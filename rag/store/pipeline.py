"""Indexing: articles → sentences and speakers → passages → vectors → a segment, made live.

The one part of the store that runs the analysis (`rag.text` splits sentences,
`rag.analysis` finds people and attributes speech) and the embedder. `sync` brings the index in line
with a folder's articles, `add` takes new articles into the live index without
reading the folder, `write` saves vectors computed elsewhere. Each embeds only the
articles that changed and writes them as one new segment; the segments that lost no
article stay as they are, and past MAX_SEGMENTS the smallest are merged into the new
one (their vectors reused). Given the corpus folder, each refuses an index that belongs
to another one (`generations.check_corpus`) and records the folder in what it writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import cast

import numpy as np
from tqdm import tqdm

from rag.analysis.registry import ArticlePerson
from rag.analysis.speakers import attribute
from rag.config import IndexSettings
from rag.embedding import Embedder
from rag.errors import IndexCorruptError
from rag.store.generations import (
    check_corpus,
    corpus_entry,
    live_generation,
    load,
    locked,
    manifest_of,
    mismatch,
    peek,
    publish,
)
from rag.store.index import Index
from rag.store.records import DocRecord
from rag.store.segment import mean_vectors, new_segment
from rag.store.segment_files import FORMAT_VERSION, write_segment
from rag.text import fold, split_sentences
from rag.types import Document, Progress, Speech, SyncReport

log = logging.getLogger(__name__)

# Change it when splitting or attribution changes: indexes made otherwise are analysed again.
SPLITTER = "syntok+rules-3, people-26, speakers-21"
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
    """An article read for indexing: its sentences, each with its speaker, its passages,
    and the people it names (those told as people, or who speak)."""
    spans = split_sentences(document.text)
    attributed, people, _ = attribute(document.text, spans)
    sentences = tuple(
        replace(s, speaker=who, speech=cast("Speech | None", mode))
        for s, (who, mode) in zip(spans, attributed, strict=True)
    )
    texts = [document.text[s.start : s.end] for s in sentences]
    passages = split_passages(texts, settings, embedder.count_tokens)
    named = tuple(
        ArticlePerson(p.name, p.gender, tuple(sorted(p.forms)), tuple(sorted(p.roles)))
        for p in people
        if p.evidence or any(s.speaker == p.name for s in sentences)
    )
    return DocRecord(document, sentences, passages, named)


def sync(
    index_dir: Path,
    documents: Sequence[Document],
    embedder: Embedder,
    settings: IndexSettings,
    *,
    skipped: Sequence[tuple[str, str]] = (),
    progress: bool = False,
    current: Index | None = None,
    corpus: Path | None = None,
    listener: Listener | None = None,
) -> tuple[Index, SyncReport]:
    """Open the index, bringing it in line with `documents`; embed only what changed.

    `current`, an index this process already holds, is used instead of reading the
    saved one when it is still the live generation. `corpus`, the folder the documents
    come from: ForeignIndexError if the index is another folder's; None checks nothing.
    With `progress`, bars on stderr count the work; `listener` is told of it as it goes.
    """
    embedder.preload()  # the encoder loads while the index is read
    with locked(index_dir):
        sources = [d.source for d in documents]
        old, because = _open(index_dir, embedder, settings, current, corpus, sources)
        entry = corpus_entry(index_dir, corpus) if corpus is not None else None
        shown = _Shown(progress, listener)
        return _update(
            index_dir, old, because, documents, embedder, settings, skipped, shown, entry
        )


def open_live(
    index_dir: Path, embedder: Embedder, settings: IndexSettings, corpus: Path | None = None
) -> Index | None:
    """The saved index as it is, without reading the corpus folder, if it can answer.

    None when there is none, it is damaged, or it was built with another model or other
    index settings (its vectors would not fit the questions'). An index whose articles
    are only to be analysed again still answers. ForeignIndexError as `sync`.
    """
    with locked(index_dir):
        old, _ = _open(index_dir, embedder, settings, None, corpus, None)
    return old  # `_open` gives an index only when its vectors serve (at most re-analysed)


def add(
    index_dir: Path,
    documents: Sequence[Document],
    embedder: Embedder,
    settings: IndexSettings,
    *,
    current: Index | None = None,
    corpus: Path | None = None,
) -> tuple[Index, SyncReport] | None:
    """Index new or changed articles into the live index without reading the corpus folder.

    Embeds and writes these articles alone. None when the live index cannot take them
    (missing, damaged, built otherwise, or not yet recording `corpus`): then sync the
    whole folder. ForeignIndexError if it is another corpus folder's index.
    """
    with locked(index_dir):
        old, because = _open(index_dir, embedder, settings, current, corpus, None)
        if old is None or because:
            return None
        entry = corpus_entry(index_dir, corpus) if corpus is not None else None
        if entry is not None and "corpus" not in old.manifest:
            return None
        given = {d.source for d in documents}
        kept = [source for source, _ in old.hashes() if source not in given]
        return _update(index_dir, old, None, documents, embedder, settings, (), _QUIET, entry, kept)


def _open(
    index_dir: Path,
    embedder: Embedder,
    settings: IndexSettings,
    current: Index | None,
    corpus: Path | None,
    sources: Sequence[str] | None,
) -> tuple[Index | None, str | None]:
    """The live index (`current` if still live) and, when it cannot serve, why not.

    ForeignIndexError, before anything is read further, when it is another corpus's.
    """
    try:
        name = live_generation(index_dir)
        if name is None:
            return None, None
        live = current is not None and current.generation == name
        if corpus is not None:
            manifest = current.manifest if live and current is not None else peek(index_dir, name)
            if manifest is not None:  # unreadable: `load` says so, and it is rebuilt
                check_corpus(index_dir, manifest, corpus, sources)
        old = current if live and current is not None else load(index_dir)
        if old is None:  # CURRENT went away between the two reads
            return None, None
    except IndexCorruptError as exc:
        because = f"the saved index is unusable: {exc}"
        log.warning("rebuilding the index: %s", because)
        return None, because
    reason = mismatch(old.manifest, embedder.name, embedder.weights_sha256, settings, SPLITTER)
    if reason and not mismatch(
        {**old.manifest, "splitter": SPLITTER},
        embedder.name,
        embedder.weights_sha256,
        settings,
        SPLITTER,
    ):
        # Only the analysis changed: every article is read again, and its vectors are
        # kept wherever its sentences and passages come out the same.
        log.warning("analysing the articles again: %s", reason)
        return old, f"the articles are analysed again: {reason}"
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
    shown: _Shown,
    corpus: dict | None,
    kept: Sequence[str] = (),
) -> tuple[Index, SyncReport]:
    """Make `documents`, with the articles of `old` named in `kept` as they are, the
    live index: what changed goes into one new segment.

    `corpus` is recorded in the new generation; an index of an earlier version that
    records none gets a generation of its own segments that does.
    """
    where = _places(old)
    given = {d.source: d for d in documents}
    sources = [d.source for d in documents]
    if kept:  # in corpus order, as a sync gives them
        sources = sorted({*sources, *kept}, key=lambda s: PurePosixPath(s).parts)
    changed = {d.source for d in documents if not _unchanged(old, where, d)}
    report = SyncReport(
        added=tuple(s for s in given if s not in where),
        updated=tuple(s for s in given if s in where and s in changed),
        removed=tuple(sorted(set(where) - set(sources))),
        skipped=tuple(skipped),
        rebuilt_because=rebuilt_because,
        documents=len(sources),
    )
    reanalyse = old is not None and rebuilt_because is not None
    # Segments of an earlier format are written anew, their vectors kept.
    legacy = (
        set()
        if old is None
        else {i for i, s in enumerate(old.segments) if s.format not in (None, FORMAT_VERSION)}
    )
    if old is None or reanalyse:
        keep: list[int] = []
    elif not (report.added or report.updated or report.removed or legacy):
        if corpus is None or "corpus" in old.manifest:
            return old, report
        manifest = manifest_of(embedder.identity(), settings, SPLITTER, old.segments, corpus)
        return Index(old.segments, publish(index_dir, manifest), embedder.dim), report
    else:
        dirty = {where[s][0] for s in report.updated + report.removed} | legacy
        keep = _segments_kept(old, dirty)
    # Every article not in a kept segment goes into the new one: analysed and embedded if
    # new or changed, else moved with its vectors.
    records: list[DocRecord] = []
    moved: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # record -> its vectors, reused
    bar = _Meter(
        "analysing articles",
        len(documents) if old is None or reanalyse else len(changed),
        "article",
        shown,
    )
    for source in sources:
        d = given.get(source)
        if d is not None and (old is None or source in changed):
            records.append(analyse(d, settings, embedder))
            bar.update()
            continue
        assert old is not None  # what is neither new nor changed is in the old index
        si, ri = where[source]
        if si in keep:
            continue
        record = old.segments[si].records[ri]
        if reanalyse and d is not None:
            again = analyse(d, settings, embedder)
            bar.update()
            if not _same_rows(record, again):
                records.append(again)  # its sentences or passages moved: embedded anew
                continue
            record = again
        moved[len(records)] = old.segments[si].vectors_of(ri)
        records.append(record)
    bar.close()
    fresh = [r for i, r in enumerate(records) if i not in moved]
    embedded = iter(_embed(fresh, embedder, settings, shown))
    vectors = [moved[i] if i in moved else next(embedded) for i in range(len(records))]

    segments = [old.segments[i] for i in keep] if old is not None else []
    if records:
        segment = new_segment(
            records, [s for s, _ in vectors], [p for _, p in vectors], embedder.dim
        )
        segment.entry = write_segment(index_dir, segment)
        segments.append(segment)
    manifest = publish(
        index_dir, manifest_of(embedder.identity(), settings, SPLITTER, segments, corpus)
    )
    whole = settings.passage_vectors == "embedded"
    report = replace(
        report,
        embedded_sentences=sum(len(r.sentences) for r in fresh),
        embedded_passages=sum(len(r.passages) for r in fresh) if whole else 0,
    )
    return Index(segments, manifest, embedder.dim), report


Listener = Callable[[Progress], None]


class _Shown:
    """Where progress goes: bars on stderr (`bars`), a listener, both or neither."""

    def __init__(self, bars: bool, listener: Listener | None) -> None:
        self.bars = bars
        self.listener = listener


_QUIET = _Shown(False, None)


class _Meter:
    """One stage's count: a bar on stderr saying what it counts, and the listener told
    (at most five times a second, and at the start and the end)."""

    def __init__(self, stage: str, total: int, unit: str, shown: _Shown) -> None:
        self.stage, self.total, self.done = stage, total, 0
        self.listener = shown.listener if total else None
        self.bar = tqdm(
            total=total, desc=stage, unit=f" {unit}s", disable=not shown.bars or not total
        )
        self.started = self._told = time.perf_counter()
        self._tell(force=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        self.bar.update(n)
        self._tell(force=self.done >= self.total)

    def _tell(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.listener is not None and (force or now - self._told >= 0.2):
            self._told = now
            self.listener(Progress(self.stage, self.done, self.total, now - self.started))

    def close(self) -> None:
        self.bar.close()


def _same_rows(a: DocRecord, b: DocRecord) -> bool:
    """Whether two analyses of an article have the same sentence spans and passages, so
    that the vectors of one serve the other."""
    spans = [(s.start, s.end) for s in a.sentences]
    return spans == [(s.start, s.end) for s in b.sentences] and a.passages == b.passages


def _places(index: Index | None) -> dict[str, tuple[int, int]]:
    """Where each article of an index stands: source -> (segment, record within it)."""
    where: dict[str, tuple[int, int]] = {}
    if index is not None:
        for si, segment in enumerate(index.segments):
            for ri, source in enumerate(segment.records.sources):
                where[source] = (si, ri)
    return where


def _unchanged(old: Index | None, where: dict[str, tuple[int, int]], d: Document) -> bool:
    hit = where.get(d.source)
    if old is None or hit is None:
        return False
    return old.segments[hit[0]].records.sha256[hit[1]] == d.sha256


def _segments_kept(old: Index, dirty: set[int]) -> list[int]:
    """The segments that lost no article, less the smallest while there would be too many."""
    keep = [i for i in range(len(old.segments)) if i not in dirty]
    while len(keep) >= MAX_SEGMENTS:
        keep.remove(min(keep, key=lambda i: old.segments[i].sentences))
    return keep


def _embed(
    records: Sequence[DocRecord], embedder: Embedder, settings: IndexSettings, shown: _Shown
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sentence and passage vectors of each record, from one call of the model.

    A passage's vector is the mean of its sentences' unless the settings ask for
    passages embedded whole.
    """
    whole = settings.passage_vectors == "embedded"
    texts: list[str] = []
    for r in records:
        texts += [fold(r.sentence_text(j)) for j in range(len(r.sentences))]
        if whole:
            texts += [fold(r.passage_text(p)) for p in range(len(r.passages))]
    meter = _Meter(
        "embedding sentences and passages" if whole else "embedding sentences",
        len(texts),
        "text",
        shown,
    )
    vectors = embedder.encode(texts, done=meter.update)
    meter.close()
    out = []
    at = 0
    for r in records:
        ns = len(r.sentences)
        npas = len(r.passages) if whole else 0
        sentences = vectors[at : at + ns]
        passages = (
            vectors[at + ns : at + ns + npas] if whole else mean_vectors(sentences, r.passages)
        )
        out.append((sentences, passages))
        at += ns + npas
    return out


def write(
    index_dir: Path,
    records: Sequence[DocRecord],
    sentence_vectors: np.ndarray,
    passage_vectors: np.ndarray,
    embedder: Embedder,
    settings: IndexSettings,
    *,
    corpus: Path | None = None,
) -> Index:
    """Save analysed articles with vectors computed elsewhere as the live index.

    For importing an embedded corpus and for benchmarks (bench/grow.py); the vectors
    must be the model's, row for row, or answers will be wrong. `corpus`, the folder
    the articles are read from, is recorded (None: the first to open it claims it).
    """
    with locked(index_dir):
        segment = new_segment(records, [sentence_vectors], [passage_vectors], embedder.dim)
        segment.entry = write_segment(index_dir, segment)
        entry = corpus_entry(index_dir, corpus) if corpus is not None else None
        manifest = publish(
            index_dir, manifest_of(embedder.identity(), settings, SPLITTER, [segment], entry)
        )
        return Index([segment], manifest, embedder.dim)
