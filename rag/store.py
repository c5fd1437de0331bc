"""The saved index: articles in segments, each with its vectors in FAISS and its term counts.

Layout of the index folder:

    CURRENT              the name of the live generation, replaced atomically
    gen-<id>.json        a generation: format, model, settings, and its segments in order
    seg-<id>/            a segment, never changed once written: segment.json (checksums),
                         documents.json, sentence and passage vectors (.npy), term counts
                         (.npz) and, when approximate, the FAISS indexes (.faiss)
    .lock                held while a process opens, builds or updates the index

A change writes one new segment (the new and changed articles, plus the unchanged
articles of any segment that lost one, whose vectors are reused) and a new generation
that lists it after the segments left as they were; the previous generation's files
stay until CURRENT names the new one, so a crash at any moment leaves a sound index
live. Adding an article to a large index therefore embeds and writes that article
alone. Small segments are merged once there are more than MAX_SEGMENTS.

Every file is checked against its SHA-256 on load: a garbled, truncated or mismatched
index is reported and rebuilt, and an unchanged article is never re-embedded. The
FAISS type follows each segment's size: exact inner product below 50k vectors
(rebuilt from the vectors on load), HNSW up to 500k, and above that IVF with 48-byte
product-quantised codes whose candidates are re-scored exactly (both saved). Vectors
are memory-mapped, not read into memory: an approximate segment touches only the rows
of the candidates it returns, so a million passages fit in a few hundred MB.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np
from scipy import sparse

from rag.analysis.registry import ArticlePerson, People
from rag.analysis.speakers import attribute
from rag.config import IndexSettings
from rag.embedding import Embedder
from rag.errors import IndexCorruptError, RagError
from rag.lexical import BM25, TermCounts
from rag.text import fold, split_sentences, tokenize
from rag.types import Document, Sentence, SyncReport

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
CURRENT = "CURRENT"
LOCK = ".lock"
LOCK_TIMEOUT_S = 900
SPLITTER = "syntok+rules-3, people-2, speakers-3"  # change it when splitting or attribution changes
MAX_SEGMENTS = 8
_FILES = ("documents.json", "sentence_vectors.npy", "passage_vectors.npy", "sentence_terms.npz")
_GENERATION = re.compile(r"gen-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\.json")
_SEGMENT = re.compile(r"seg-[0-9a-f]{16}")
# Exact search while it is fast enough, approximate after; bench/scale.py measured the
# figures behind these bounds (exact p50 15 ms at 100k vectors, 150 ms at 1M).
HNSW_FROM = 50_000
IVF_FROM = 500_000
PQ_BYTES = 48  # code size of a vector in the largest segments (raw: 1,536 bytes)
# A PQ search proposes RERANK × k candidates (at least 200), re-scored exactly: at 1M
# vectors recall@10 goes from 0.81 (4 × k) to 0.98 for 0.1 ms more (bench/scale.py).
RERANK = 20
_SEED = 1234


def index_type(n: int) -> str:
    """The FAISS index kind for n vectors: "flat-ip", "hnsw32" or "ivf-pq48"."""
    if n < HNSW_FROM:
        return "flat-ip"
    return "hnsw32" if n < IVF_FROM else "ivf-pq48"


def build_faiss(vectors: np.ndarray, kind: str):  # noqa: ANN201 - faiss has no type hints
    """A FAISS inner-product index of `kind` holding `vectors` (unit rows)."""
    import faiss

    dim = vectors.shape[1]
    if kind == "flat-ip":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw32":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    elif kind == "ivf-pq48":
        # 48 bytes a vector; searches re-score their candidates exactly (search_vectors).
        n = len(vectors)
        nlist = int(min(4096, max(1, min(4 * np.sqrt(n), n // 39))))
        nbits = 8 if n >= 256 * 39 else 4  # k-means needs points enough for its centroids
        index = faiss.IndexIVFPQ(
            faiss.IndexFlatIP(dim), dim, nlist, PQ_BYTES, nbits, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(_SEED)
        sample = vectors[np.sort(rng.choice(n, min(n, 200_000), replace=False))]
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    else:
        raise IndexCorruptError(f"unknown FAISS index type {kind!r}")
    index.add(vectors)
    _tune(index, kind)
    return index


def _tune(index, kind: str) -> None:  # noqa: ANN001
    """Search-time parameters; measured in bench/scale.py (recall@10 ≥ 0.98)."""
    if kind == "hnsw32":
        index.hnsw.efSearch = 64
    elif kind == "ivf-pq48":
        index.nprobe = 48


def search_vectors(
    built, kind: str, vectors: np.ndarray, queries: np.ndarray, k: int
) -> np.ndarray:  # noqa: ANN001
    """Ids of the k nearest rows per query (-1 where fewer), best first.

    A compressed (PQ) index only proposes candidates, RERANK times k of them; their
    exact cosines, read from the memory-mapped vectors, decide. Others answer directly.
    """
    k = min(k, built.ntotal)
    if kind != "ivf-pq48":
        return built.search(queries, k)[1]
    _, proposed = built.search(queries, min(built.ntotal, max(200, RERANK * k)))
    out = np.full((len(queries), k), -1, dtype=np.int64)
    for row, ids in enumerate(proposed):
        ids = np.sort(ids[ids >= 0])  # in file order: fewer pages touched
        exact = np.asarray(vectors[ids], dtype=np.float32) @ queries[row]
        best = np.argsort(-exact, kind="stable")[:k]
        out[row, : len(best)] = ids[best]
    return out


@dataclass(frozen=True, slots=True)
class DocRecord:
    """An article as indexed: its sentences and its passages (sentence ranges [a, b))."""

    document: Document
    sentences: tuple[Sentence, ...]
    passages: tuple[tuple[int, int], ...]
    people: tuple[ArticlePerson, ...] = ()  # whom the article names, as it names them

    def sentence_text(self, i: int) -> str:
        s = self.sentences[i]
        return self.document.text[s.start : s.end]

    def passage_text(self, p: int) -> str:
        a, b = self.passages[p]
        return " ".join(self.sentence_text(i) for i in range(a, b))


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
    """An article's sentences with their speakers, its people and its passages."""
    spans = split_sentences(document.text)
    attributed, people, _ = attribute(document.text, spans)
    sentences = tuple(
        replace(s, speaker=who, speech=mode)
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


class Segment:
    """Articles indexed and saved together: records, vectors, FAISS, term counts. Immutable."""

    def __init__(
        self,
        name: str,
        records: Sequence[DocRecord],
        sentence_vectors: np.ndarray,
        passage_vectors: np.ndarray,
        sentence_terms: TermCounts,
        *,
        dim: int,
        kinds: dict[str, str] | None = None,
        prebuilt: dict | None = None,
    ) -> None:
        self.name = name
        self.records = tuple(records)
        self.sentence_vectors = sentence_vectors
        self.passage_vectors = passage_vectors
        self.sentence_terms = sentence_terms
        self.entry: dict = {}  # its line in the generation manifest, set once saved
        s_doc, s_local, p_doc, p_first, p_last, heading = [], [], [], [], [], []
        offset = 0
        for r, record in enumerate(self.records):
            n = len(record.sentences)
            s_doc += [r] * n
            s_local += range(n)
            heading += (s.kind != "body" for s in record.sentences)
            for a, b in record.passages:
                p_doc.append(r)
                p_first.append(offset + a)
                p_last.append(offset + b)
            offset += n
        self.sentence_doc = np.asarray(s_doc, dtype=np.int32)
        self.sentence_local = np.asarray(s_local, dtype=np.int32)
        self.sentence_is_heading = np.asarray(heading, dtype=bool)
        self.passage_doc = np.asarray(p_doc, dtype=np.int32)
        self.passage_first = np.asarray(p_first, dtype=np.int32)
        self.passage_last = np.asarray(p_last, dtype=np.int32)
        for what, vectors, n in (
            ("sentence", sentence_vectors, offset),
            ("passage", passage_vectors, len(p_doc)),
        ):
            if vectors.ndim != 2 or vectors.shape != (n, dim) or vectors.dtype != np.float32:
                raise IndexCorruptError(
                    f"segment {name}: {what} vectors have shape {vectors.shape}, not ({n}, {dim})"
                )
        if sentence_terms.rows.shape[0] != offset:
            raise IndexCorruptError(
                f"segment {name}: term counts for {sentence_terms.rows.shape[0]} sentences, "
                f"not {offset}"
            )
        # Passage × sentence membership: passage term counts, and the passages of a sentence.
        lengths = self.passage_last - self.passage_first
        members = sparse.csr_matrix(
            (
                np.ones(int(lengths.sum()), dtype=np.int32),
                np.concatenate([np.arange(a, b) for a, b in zip(p_first, p_last, strict=True)])
                if p_first
                else np.zeros(0, dtype=np.int32),
                np.concatenate([[0], np.cumsum(lengths)]),
            ),
            shape=(len(p_doc), offset),
        )
        self.passage_terms = sentence_terms.combine(members)
        holders = members.tocsc()
        self.holder_ptr = holders.indptr.astype(np.int64)
        self.holder_ids = holders.indices.astype(np.int32)
        self.kinds = dict(kinds or {})
        prebuilt = prebuilt or {}
        for which, vectors in (("sentences", sentence_vectors), ("passages", passage_vectors)):
            kind = self.kinds.setdefault(which, index_type(len(vectors)))
            built = prebuilt.get(which)
            if built is None:
                built = build_faiss(np.ascontiguousarray(vectors), kind)
            elif built.ntotal != len(vectors) or built.d != dim:
                raise IndexCorruptError(
                    f"segment {name}: {which}.faiss holds {built.ntotal} vectors, "
                    f"not {len(vectors)}"
                )
            setattr(self, f"{which[:-1]}_faiss", built)

    @property
    def sentences(self) -> int:
        return len(self.sentence_doc)

    @property
    def passages(self) -> int:
        return len(self.passage_doc)

    def rows_of(self, r: int) -> tuple[slice, slice]:
        """The sentence and passage rows of record r."""
        s = slice(*np.searchsorted(self.sentence_doc, [r, r + 1]))
        p = slice(*np.searchsorted(self.passage_doc, [r, r + 1]))
        return s, p


class Rows:
    """Vectors of several segments, read as one array of rows (without copying them)."""

    def __init__(self, parts: Sequence[np.ndarray], dim: int) -> None:
        self.parts = tuple(parts)
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])
        self.shape = (int(self.offsets[-1]), dim)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:  # noqa: ANN001
        if not self.parts:
            return np.zeros(self.shape, dtype=dtype or self.dtype)
        return np.concatenate([np.asarray(p) for p in self.parts]).astype(dtype or self.dtype)

    def __getitem__(self, key: int | slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            key = np.arange(*key.indices(self.shape[0]))
        ids = np.asarray(key, dtype=np.int64)
        if len(self.parts) == 1:
            return np.asarray(self.parts[0][ids])
        which = np.searchsorted(self.offsets, ids, side="right") - 1
        if ids.ndim == 0:
            return np.asarray(self.parts[int(which)][int(ids - self.offsets[which])])
        out = np.empty((len(ids), self.shape[1]), dtype=self.dtype)
        for part in np.unique(which):
            mask = which == part
            out[mask] = self.parts[part][ids[mask] - self.offsets[part]]
        return out


class Index:
    """An opened index: its segments laid end to end under global sentence and passage ids.

    Immutable once built; searches read it from many threads. Adding articles makes a
    new Index over the same segments plus a new one, which costs arrays of ids, not
    vectors.
    """

    def __init__(self, segments: Sequence[Segment], manifest: dict, dim: int) -> None:
        self.segments = tuple(segments)
        self.manifest = manifest
        self.generation: str | None = manifest.get("generation")
        s_off = np.cumsum([0] + [s.sentences for s in self.segments])
        p_off = np.cumsum([0] + [s.passages for s in self.segments])
        r_off = np.cumsum([0] + [len(s.records) for s in self.segments])
        self.offsets = {"sentences": s_off, "passages": p_off}
        self.records = tuple(r for s in self.segments for r in s.records)

        def joined(name: str, add: np.ndarray | None = None, dtype: type = np.int32) -> np.ndarray:
            parts = [
                getattr(s, name) + (0 if add is None else add[i])
                for i, s in enumerate(self.segments)
            ]
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        self.sentence_doc = joined("sentence_doc", r_off)
        self.sentence_local = joined("sentence_local")
        self.sentence_is_heading = joined("sentence_is_heading", dtype=bool)
        self.passage_doc = joined("passage_doc", r_off)
        self.passage_first = joined("passage_first", s_off)
        self.passage_last = joined("passage_last", s_off)
        self.holder_ids = joined("holder_ids", p_off)
        counts = [np.diff(s.holder_ptr) for s in self.segments]
        self.holder_ptr = (
            np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64)
            if counts
            else np.zeros(1, np.int64)
        )
        self.sentence_vectors = Rows([s.sentence_vectors for s in self.segments], dim)
        self.passage_vectors = Rows([s.passage_vectors for s in self.segments], dim)
        self.bm25_sentences = BM25([s.sentence_terms for s in self.segments])
        self.bm25_passages = BM25([s.passage_terms for s in self.segments])
        self._by_source = {r.document.source: i for i, r in enumerate(self.records)}

    @cached_property
    def people(self) -> People:
        """Everyone the articles name, one person per full name (built on first use)."""
        return People(
            (
                r.document.source,
                r.people,
                Counter(s.speaker for s in r.sentences if s.speaker),
            )
            for r in self.records
        )

    def speaker(self, g: int) -> str | None:
        """The corpus-wide name of whoever sentence g is attributed to."""
        record, local = self.place(g)
        who = record.sentences[local].speaker
        return None if who is None else self.people.canonical(record.document.source, who)

    @property
    def size(self) -> int:
        return len(self.sentence_doc)

    @property
    def passages(self) -> int:
        return len(self.passage_doc)

    def place(self, g: int) -> tuple[DocRecord, int]:
        """The article record holding sentence g, and g's number within that article."""
        return self.records[self.sentence_doc[g]], int(self.sentence_local[g])

    def sentence_text(self, g: int) -> str:
        record, local = self.place(g)
        return record.sentence_text(local)

    def record(self, source: str) -> DocRecord | None:
        i = self._by_source.get(source)
        return None if i is None else self.records[i]

    def holders(self, g: int) -> np.ndarray:
        """Global ids of the passages holding sentence g."""
        return self.holder_ids[self.holder_ptr[g] : self.holder_ptr[g + 1]]

    def _terms(self, which: str, i: int) -> set[str]:
        """The distinct terms of global sentence or passage i, from its segment's counts."""
        offsets = self.offsets[which]
        s = int(np.searchsorted(offsets, i, side="right")) - 1
        return getattr(self.segments[s], f"{which[:-1]}_terms").terms(i - int(offsets[s]))

    def sentence_terms(self, g: int) -> set[str]:
        """The distinct terms of sentence g."""
        return self._terms("sentences", g)

    def passage_terms(self, p: int) -> set[str]:
        """The distinct terms of passage p."""
        return self._terms("passages", p)

    def idf(self, term: str) -> float:
        """Rarity of a term over the sentences (1.0 for a term no sentence holds)."""
        df = self.bm25_sentences.df(term)
        return float(np.log(1 + self.size / (df + 0.5))) if df else 1.0

    def nearest(self, which: str, queries: np.ndarray, k: int) -> np.ndarray:
        """Global ids of the k nearest "sentences" or "passages" per query row (-1: none)."""
        offsets = self.offsets[which]
        ids = []
        for s, offset in zip(self.segments, offsets, strict=False):
            built = getattr(s, f"{which[:-1]}_faiss")
            if built.ntotal == 0:
                continue
            vectors = getattr(s, f"{which[:-1]}_vectors")
            found = search_vectors(built, s.kinds[which], vectors, queries, k)
            ids.append(np.where(found >= 0, found + offset, -1))
        if not ids:
            return np.full((len(queries), 0), -1, dtype=np.int64)
        if len(ids) == 1:
            return ids[0]
        # Merge by exact cosine (every segment's candidates are scored alike).
        merged = np.concatenate(ids, axis=1)
        rows = getattr(self, f"{which[:-1]}_vectors")  # the segments' vectors, end to end
        exact = np.full(merged.shape, -np.inf, dtype=np.float32)
        for r, row in enumerate(merged):
            ok = row >= 0
            exact[r, ok] = rows[row[ok]] @ queries[r]
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(merged, order, axis=1)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _synced(path: Path) -> Iterator[BinaryIO]:
    """A new file to write; flushed and fsynced to disk when the block ends."""
    with path.open("wb") as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def _write(path: Path, data: bytes) -> None:
    with _synced(path) as fh:
        fh.write(data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with _synced(path) as fh:
        np.save(fh, array, allow_pickle=False)


def _write_segment(index_dir: Path, segment: Segment) -> dict:
    """Save a segment into its own folder (written aside, then renamed); its manifest entry."""
    import faiss

    tmp = index_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    documents = [
        {
            "source": r.document.source,
            "title": r.document.title,
            "sha256": r.document.sha256,
            "text": r.document.text,
            "sentences": [
                [s.start, s.end, s.kind, s.paragraph, s.group, s.speaker, s.speech]
                for s in r.sentences
            ],
            "passages": [list(p) for p in r.passages],
            "people": [p.to_list() for p in r.people],
        }
        for r in segment.records
    ]
    _write(tmp / "documents.json", json.dumps(documents, ensure_ascii=False).encode("utf-8"))
    _save_npy(tmp / "sentence_vectors.npy", np.asarray(segment.sentence_vectors))
    _save_npy(tmp / "passage_vectors.npy", np.asarray(segment.passage_vectors))
    with _synced(tmp / "sentence_terms.npz") as fh:
        np.savez(fh, **segment.sentence_terms.to_arrays())
    names = list(_FILES)
    for which in ("sentences", "passages"):
        if segment.kinds[which] != "flat-ip":  # flat is rebuilt from the vectors in a blink
            built = getattr(segment, f"{which[:-1]}_faiss")
            _write(tmp / f"{which}.faiss", faiss.serialize_index(built).tobytes())
            names.append(f"{which}.faiss")
    meta = {
        "format": FORMAT_VERSION,
        "sentences": segment.sentences,
        "passages": segment.passages,
        "index_type": segment.kinds,
        "files": {
            name: {"sha256": _sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
            for name in names
        },
    }
    data = json.dumps(meta, indent=1).encode("utf-8")
    _write(tmp / "segment.json", data)
    _fsync_dir(tmp)
    os.rename(tmp, index_dir / segment.name)
    return _entry(segment, hashlib.sha256(data).hexdigest())


def _entry(segment: Segment, sha256: str) -> dict:
    return {
        "name": segment.name,
        "sha256": sha256,
        "sentences": segment.sentences,
        "passages": segment.passages,
        "index_type": segment.kinds,
    }


def _load_segment(index_dir: Path, entry: dict, dim: int) -> Segment:
    name = entry["name"]
    if not isinstance(name, str) or not _SEGMENT.fullmatch(name):
        raise IndexCorruptError(f"the generation names {name!r}, which is not a segment")
    folder = index_dir / name
    try:
        data = (folder / "segment.json").read_bytes()
    except OSError as exc:
        raise IndexCorruptError(f"segment {name} is missing or unreadable: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise IndexCorruptError(f"segment.json of {name} does not match its checksum (garbled)")
    meta = json.loads(data)
    kinds = meta["index_type"]
    for file_name, expected in meta["files"].items():
        path = folder / file_name
        if not path.is_file():
            raise IndexCorruptError(f"{name}/{file_name} is missing")
        if path.stat().st_size != expected["bytes"]:
            raise IndexCorruptError(
                f"{name}/{file_name} has {path.stat().st_size} bytes, the manifest says "
                f"{expected['bytes']} (truncated?)"
            )
        if _sha256_file(path) != expected["sha256"]:
            raise IndexCorruptError(f"{name}/{file_name} does not match its checksum (garbled)")
    wanted = set(_FILES) | {
        f"{w}.faiss" for w in ("sentences", "passages") if kinds[w] != "flat-ip"
    }
    if missing := wanted - set(meta["files"]):
        raise IndexCorruptError(f"segment {name} lacks {', '.join(sorted(missing))}")
    documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
    records = tuple(_record(d) for d in documents)
    with np.load(folder / "sentence_terms.npz", allow_pickle=False) as arrays:
        terms = TermCounts.from_arrays(dict(arrays), int(meta["sentences"]))
    prebuilt = {}
    for which in ("sentences", "passages"):
        if kinds[which] != "flat-ip":
            import faiss

            raw = np.frombuffer((folder / f"{which}.faiss").read_bytes(), dtype=np.uint8)
            prebuilt[which] = faiss.deserialize_index(raw)
            _tune(prebuilt[which], kinds[which])
    segment = Segment(
        name,
        records,
        np.load(folder / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False),
        np.load(folder / "passage_vectors.npy", mmap_mode="r", allow_pickle=False),
        terms,
        dim=dim,
        kinds=kinds,
        prebuilt=prebuilt,
    )
    segment.entry = dict(entry)
    return segment


def _publish(index_dir: Path, manifest: dict) -> dict:
    """Write a generation file and make it live; returns the manifest with its name."""
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
    manifest = {**manifest, "generation": name}
    tmp = index_dir / f".tmp-{uuid.uuid4().hex}"
    _write(tmp, json.dumps(manifest, indent=1).encode("utf-8"))
    os.rename(tmp, index_dir / name)
    pointer = index_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    _write(pointer, name.encode("utf-8"))
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
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
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexCorruptError(f"index format {found!r}, this version reads {FORMAT_VERSION}")
    try:
        dim = int(manifest["model"]["dim"])
        segments = [_load_segment(index_dir, entry, dim) for entry in manifest["segments"]]
        index = Index(segments, manifest, dim)
        if index.generation != name:
            raise IndexCorruptError(f"{name} says it is generation {index.generation!r}")
        return index
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
        # RuntimeError: what FAISS raises for a file it cannot deserialise.
        raise IndexCorruptError(f"{name} cannot be read: {exc}") from exc


def _record(d: dict) -> DocRecord:
    text = d["text"]
    document = Document(d["source"], d["title"], text, d["sha256"])
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != document.sha256:
        raise IndexCorruptError(f"stored text of {document.source} does not match its hash")
    sentences = tuple(
        Sentence(int(a), int(b), str(k), int(p), int(g), who, mode)
        for a, b, k, p, g, who, mode in d["sentences"]
    )
    for s in sentences:
        if not 0 <= s.start < s.end <= len(text):
            raise IndexCorruptError(f"sentence span {s.start}:{s.end} outside {document.source}")
    passages = tuple((int(a), int(b)) for a, b in d["passages"])
    for a, b in passages:
        if not 0 <= a < b <= len(sentences):
            raise IndexCorruptError(f"passage {a}:{b} outside {document.source}")
    try:
        people = tuple(ArticlePerson.from_list(p) for p in d.get("people", ()))
    except (TypeError, ValueError) as exc:
        raise IndexCorruptError(f"people of {document.source} cannot be read: {exc}") from exc
    return DocRecord(document, sentences, passages, people)


# --- Opening with an update ----------------------------------------------------------------


def _manifest(embedder: Embedder, settings: IndexSettings, segments: Sequence[Segment]) -> dict:
    return {
        "format": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": embedder.identity(),
        "index_settings": settings.as_dict(),
        "splitter": SPLITTER,
        "segments": [s.entry for s in segments],
        "documents": {
            r.document.source: {
                "sha256": r.document.sha256,
                "title": r.document.title,
                "sentences": len(r.sentences),
                "passages": len(r.passages),
                "segment": s.name,
            }
            for s in segments
            for r in s.records
        },
    }


def _mismatch(manifest: dict, embedder: Embedder, settings: IndexSettings) -> str | None:
    model = manifest.get("model", {})
    if model.get("weights_sha256") != embedder.weights_sha256:
        return (
            f"it was built with model {model.get('name')!r} "
            f"(weights {str(model.get('weights_sha256'))[:12]}), "
            f"this run uses {embedder.name!r} (weights {embedder.weights_sha256[:12]})"
        )
    if manifest.get("index_settings") != settings.as_dict():
        return (
            f"it was built with settings {manifest.get('index_settings')}, "
            f"this run uses {settings.as_dict()}"
        )
    if manifest.get("splitter") != SPLITTER:
        return f"it was split by {manifest.get('splitter')!r}, this version splits by {SPLITTER}"
    return None


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
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
    with _locked(index_dir):
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
    with _locked(index_dir):
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
    reason = _mismatch(old.manifest, embedder, settings)
    if (
        reason
        and old.manifest.get("splitter") != SPLITTER
        and not _mismatch({**old.manifest, "splitter": SPLITTER}, embedder, settings)
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
    progress: bool,
) -> tuple[Index, SyncReport]:
    where: dict[str, tuple[int, int]] = {}  # source -> (segment, record within it)
    if old is not None:
        for si, segment in enumerate(old.segments):
            for ri, record in enumerate(segment.records):
                where[record.document.source] = (si, ri)

    reanalyse = old is not None and rebuilt_because is not None

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
    if old is not None and not (added or updated or removed or reanalyse):
        return old, SyncReport(**report_args)

    # Segments that lost no article stay as they are, but for merging the smallest when
    # there would be too many; every other article goes into one new segment.
    keep: list[int] = []
    if old is not None and not reanalyse:
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
            record = segment.records[ri]
            if reanalyse:
                again = analyse(d, settings, embedder)
                spans = [(x.start, x.end) for x in again.sentences]
                if spans != [(x.start, x.end) for x in record.sentences] or (
                    again.passages != record.passages
                ):
                    records.append(again)
                    sentence_parts.append(None)
                    passage_parts.append(None)
                    fresh.append(len(records) - 1)
                    continue
                record = again
            s, p = segment.rows_of(ri)
            records.append(record)
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
        segment.entry = _write_segment(index_dir, segment)
        segments.append(segment)
    manifest = _publish(index_dir, _manifest(embedder, settings, segments))
    report_args.update(embedded_sentences=n_sent, embedded_passages=n_pass)
    return Index(segments, manifest, embedder.dim), SyncReport(**report_args)


def mean_vectors(sentence_vectors: np.ndarray, passages: Sequence[tuple[int, int]]) -> np.ndarray:
    """Per passage [a, b): the mean of its sentences' vectors, scaled to unit length."""
    dim = sentence_vectors.shape[1]
    if not passages:
        return np.zeros((0, dim), dtype=np.float32)
    out = np.stack([sentence_vectors[a:b].mean(axis=0) for a, b in passages])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norms, 1e-12)).astype(np.float32)


def new_segment(
    records: Sequence[DocRecord],
    sentence_vectors: Sequence[np.ndarray],
    passage_vectors: Sequence[np.ndarray],
    dim: int,
) -> Segment:
    """A segment of analysed articles with their vectors (one array per article)."""

    def stacked(parts: Sequence[np.ndarray]) -> np.ndarray:
        out = np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)
        out = np.ascontiguousarray(out, dtype=np.float32)
        if not np.isfinite(out).all():
            raise RagError("the model gave vectors holding NaN or infinity")
        return out

    terms = TermCounts.count(
        [tokenize(r.sentence_text(i)) for r in records for i in range(len(r.sentences))]
    )
    return Segment(
        f"seg-{uuid.uuid4().hex[:16]}",
        records,
        stacked(sentence_vectors),
        stacked(passage_vectors),
        terms,
        dim=dim,
    )


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
    with _locked(index_dir):
        segment = new_segment(records, [sentence_vectors], [passage_vectors], embedder.dim)
        segment.entry = _write_segment(index_dir, segment)
        manifest = _publish(index_dir, _manifest(embedder, settings, [segment]))
        return Index([segment], manifest, embedder.dim)
