"""The live index: its segments laid end to end under global sentence and passage ids.

What retrieval and quoting read: records by sentence id, vectors as one array of rows
(`Rows`, without copying the segments' arrays or reading their files whole), BM25 with corpus-wide
statistics, and the nearest rows by FAISS, merged across segments by exact cosine.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from rag.analysis.registry import People
from rag.lexical import BM25
from rag.store.faiss_index import search_vectors
from rag.store.records import DocRecord, Records, RecordSequence
from rag.store.segment import RowKind, Segment, Vectors
from rag.types import Document

UTTERANCE_REACH = 4  # sentences each way that `Index.utterance` looks for the same speaker


class _Chained(RecordSequence):
    """The records of several segments as one sequence (each read back on demand)."""

    def __init__(self, parts: Sequence[Records], offsets: np.ndarray) -> None:
        self.parts = tuple(parts)
        self.offsets = offsets

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _locate(self, i: int) -> tuple[Records, int]:
        """The segment's records holding article i, and i's number there."""
        part = int(np.searchsorted(self.offsets, i, side="right")) - 1
        return self.parts[part], i - int(self.offsets[part])

    def _item(self, i: int) -> DocRecord:
        records, r = self._locate(i)
        return records[r]

    def document(self, i: int) -> Document:
        """Article i without its sentences."""
        records, r = self._locate(i)
        return records.document(r)

    def __iter__(self) -> Iterator[DocRecord]:
        for part in self.parts:
            yield from part


class Rows:
    """Vectors of several segments, read as one array of rows (without copying them)."""

    def __init__(self, parts: Sequence[Vectors], dim: int) -> None:
        self.parts = tuple(parts)
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])
        self.shape = (int(self.offsets[-1]), dim)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
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
        self.offsets = {"sentences": s_off, "passages": p_off, "records": r_off}
        self.records = _Chained([s.records for s in self.segments], r_off)

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
        self._lazy = threading.Lock()  # built on first use, from any thread: once
        self._people: People | None = None
        self._spoken_ids: dict[str, np.ndarray] | None = None
        self._by_source = {
            source: int(r_off[i]) + r
            for i, s in enumerate(self.segments)
            for r, source in enumerate(s.records.sources)
        }

    @property
    def people(self) -> People:
        """Everyone the articles name, one person per full name (built on first use)."""
        if self._people is None:
            with self._lazy:
                if self._people is None:
                    self._people = self._read_people()
        return self._people

    def warm(self) -> None:
        """Build now what the first question would otherwise wait for: the people, and
        which sentences are whose."""
        assert self._spoken is not None

    def _read_people(self) -> People:

        def articles() -> Iterator[tuple[str, Sequence, Counter]]:
            for s in self.segments:
                said: dict[int, Counter] = {}
                for doc, who, ids in s.records.spoken():
                    said.setdefault(doc, Counter())[who] = len(ids)
                for r, (source, named) in enumerate(
                    zip(s.records.sources, s.records.people, strict=True)
                ):
                    yield source, named, said.get(r, Counter())

        return People(articles())

    @property
    def _spoken(self) -> dict[str, np.ndarray]:
        """Per corpus-wide name, the global ids of the sentences attributed to them."""
        if self._spoken_ids is None:
            people = self.people
            with self._lazy:
                if self._spoken_ids is None:
                    self._spoken_ids = self._read_spoken(people)
        return self._spoken_ids

    def _read_spoken(self, people: People) -> dict[str, np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {}
        for s, offset in zip(self.segments, self.offsets["sentences"], strict=False):
            for doc, who, ids in s.records.spoken():
                name = people.canonical(s.records.sources[doc], who)
                parts.setdefault(name, []).append(ids + int(offset))
        return {name: np.sort(np.concatenate(p)) for name, p in parts.items()}

    def spoken_by(self, names: Iterable[str]) -> list[int]:
        """The sentences attributed to any of these people (corpus-wide names)."""
        found = [self._spoken[n] for n in set(names) if n in self._spoken]
        return np.unique(np.concatenate(found)).tolist() if found else []

    def _local(self, g: int) -> tuple[Segment, int]:
        """The segment holding sentence g, and g's number within it."""
        offsets = self.offsets["sentences"]
        i = int(np.searchsorted(offsets, g, side="right")) - 1
        return self.segments[i], int(g - offsets[i])

    def speaker(self, g: int) -> str | None:
        """The corpus-wide name of whoever sentence g is attributed to."""
        segment, local = self._local(g)
        who = segment.records.speaker(local)
        if who is None:
            return None
        source = segment.records.sources[int(segment.sentence_doc[local])]
        return self.people.canonical(source, who)

    def utterance(self, g: int, reach: int = UTTERANCE_REACH) -> range:
        """Sentence g with its neighbours in the same article attributed to the same
        speaker (up to `reach` each way): one person's words, told in several sentences
        ('Hale said: "A. B. C."'), whose topic may stand in any of them."""
        segment, local = self._local(g)
        who = segment.records.speaker(local)
        if who is None:
            return range(g, g + 1)
        doc = segment.sentence_doc[local]
        last = len(segment.sentence_doc) - 1

        def same(k: int) -> bool:
            return segment.sentence_doc[k] == doc and segment.records.speaker(k) == who

        first = local
        while first > 0 and local - first < reach and same(first - 1):
            first -= 1
        end = local
        while end < last and end - local < reach and same(end + 1):
            end += 1
        return range(g - (local - first), g + (end - local) + 1)

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
        segment, local = self._local(g)
        return segment.records.sentence_text(local)

    def hashes(self) -> Iterator[tuple[str, str]]:
        """(source, text hash) of every article, in index order."""
        for s in self.segments:
            yield from zip(s.records.sources, s.records.sha256, strict=True)

    def document(self, source: str) -> Document | None:
        """One article without its sentences; None if the index does not hold it."""
        i = self._by_source.get(source)
        return None if i is None else self.records.document(i)

    def documents(self) -> Iterator[Document]:
        """Every article (source, title, text, hash) in index order, without its sentences."""
        for s in self.segments:
            for r in range(len(s.records)):
                yield s.records.document(r)

    def record(self, source: str) -> DocRecord | None:
        i = self._by_source.get(source)
        return None if i is None else self.records[i]

    def holders(self, g: int) -> np.ndarray:
        """Global ids of the passages holding sentence g."""
        return self.holder_ids[self.holder_ptr[g] : self.holder_ptr[g + 1]]

    def sentence_terms(self, g: int) -> set[str]:
        """The distinct terms of sentence g."""
        segment, local = self._local(g)
        return segment.sentence_terms.terms(local)

    def passage_terms(self, p: int) -> set[str]:
        """The distinct terms of passage p: its sentences' (passages keep postings only)."""
        first, last = int(self.passage_first[p]), int(self.passage_last[p])
        return set().union(*(self.sentence_terms(g) for g in range(first, last)))

    def idf(self, term: str) -> float:
        """Rarity of a term over the sentences (1.0 for a term no sentence holds)."""
        df = self.bm25_sentences.df(term)
        return float(np.log(1 + self.size / (df + 0.5))) if df else 1.0

    def vectors(self, which: RowKind) -> Rows:
        """The segments' sentence or passage vectors, end to end."""
        return self.sentence_vectors if which == "sentences" else self.passage_vectors

    def nearest(self, which: RowKind, queries: np.ndarray, k: int) -> np.ndarray:
        """Global ids of the k nearest "sentences" or "passages" per query row (-1: none)."""
        offsets = self.offsets[which]
        ids = []
        for s, offset in zip(self.segments, offsets, strict=False):
            built = s.faiss[which]
            if built.ntotal == 0:
                continue
            found = search_vectors(built, s.kinds[which], s.vectors(which), queries, k)
            ids.append(np.where(found >= 0, found + offset, -1))
        if not ids:
            return np.full((len(queries), 0), -1, dtype=np.int64)
        if len(ids) == 1:
            return ids[0]
        # Merge by exact cosine (every segment's candidates are scored alike).
        merged = np.concatenate(ids, axis=1)
        rows = self.vectors(which)
        exact = np.full(merged.shape, -np.inf, dtype=np.float32)
        for r, row in enumerate(merged):
            ok = row >= 0
            exact[r, ok] = rows[row[ok]] @ queries[r]
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(merged, order, axis=1)
