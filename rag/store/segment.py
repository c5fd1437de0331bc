"""Articles indexed together, in memory: their records, vectors, FAISS indexes and term counts.

A DocRecord is one article as analysed (its sentences and passage windows); a Segment
holds several, kept compactly as `Records` (arrays, one row per sentence and per
passage), and never changes once made. How segments are saved is `segment_files`; how they are read as one index is
`index`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import sparse

from rag.errors import IndexCorruptError, RagError
from rag.lexical import TermCounts
from rag.store.faiss_index import FaissKind, build_faiss, index_type
from rag.store.files import StoredRows
from rag.store.records import BODY, DocRecord, Records
from rag.text import tokenize

if TYPE_CHECKING:
    import faiss

Vectors = np.ndarray | StoredRows  # in memory, or read from a saved file as asked for
RowKind = Literal["sentences", "passages"]  # the two kinds of row a segment holds
ROW_KINDS: tuple[RowKind, ...] = ("sentences", "passages")


def _membership(first: np.ndarray, last: np.ndarray, sentences: int) -> sparse.csr_matrix:
    """Passages × sentences, 1 where the passage [first, last) holds the sentence."""
    lengths = (last - first).astype(np.int64)
    total = int(lengths.sum())
    starts = np.cumsum(lengths) - lengths
    columns = np.arange(total) - np.repeat(starts, lengths) + np.repeat(first, lengths)
    return sparse.csr_matrix(
        (
            np.ones(total, dtype=np.int32),
            columns.astype(np.int32),
            np.concatenate([[0], np.cumsum(lengths)]),
        ),
        shape=(len(first), sentences),
    )


class Segment:
    """Articles indexed and saved together: records, vectors, FAISS, term counts. Immutable."""

    def __init__(
        self,
        name: str,
        records: Records | Sequence[DocRecord],
        sentence_vectors: Vectors,
        passage_vectors: Vectors,
        sentence_terms: TermCounts,
        *,
        dim: int,
        kinds: dict[RowKind, FaissKind] | None = None,
        prebuilt: dict[RowKind, faiss.Index] | None = None,
        passage_terms: TermCounts | None = None,
        format: int | None = None,
    ) -> None:
        self.name = name
        self.records = records if isinstance(records, Records) else Records.pack(records)
        self.format = format  # the format it was saved in (None: not saved yet)
        self.sentence_vectors = sentence_vectors
        self.passage_vectors = passage_vectors
        self.sentence_terms = sentence_terms
        self.entry: dict = {}  # its line in the generation manifest, set once saved
        rows, spans = self.records.sentences, self.records.passages
        self.sentence_doc = np.ascontiguousarray(rows["doc"], dtype=np.int32)
        self.sentence_local = np.ascontiguousarray(rows["local"], dtype=np.int32)
        self.sentence_is_heading = np.asarray(rows["kind"]) != BODY
        self.passage_doc = np.ascontiguousarray(spans["doc"], dtype=np.int32)
        self.passage_first = np.ascontiguousarray(spans["first"], dtype=np.int32)
        self.passage_last = np.ascontiguousarray(spans["last"], dtype=np.int32)
        self._check(dim)
        # Passage × sentence membership: passage term counts, and the passages of a sentence.
        members = _membership(self.passage_first, self.passage_last, self.sentences)
        if passage_terms is None:
            passage_terms = sentence_terms.combine(members)
        self.passage_terms = passage_terms
        holders = members.tocsc()
        self.holder_ptr = holders.indptr.astype(np.int64)
        self.holder_ids = holders.indices.astype(np.int32)
        self.kinds: dict[RowKind, FaissKind] = dict(kinds or {})
        self.faiss: dict[RowKind, faiss.Index] = {}
        for which in ROW_KINDS:
            self.faiss[which] = self._faiss(which, (prebuilt or {}).get(which), dim)

    def _check(self, dim: int) -> None:
        """IndexCorruptError unless there is a vector and a term count for every row."""
        for what, vectors, n in (
            ("sentence", self.sentence_vectors, self.sentences),
            ("passage", self.passage_vectors, self.passages),
        ):
            if vectors.ndim != 2 or vectors.shape != (n, dim) or vectors.dtype != np.float32:
                raise IndexCorruptError(
                    f"segment {self.name}: {what} vectors have shape {vectors.shape}, "
                    f"not ({n}, {dim})"
                )
        counted = self.sentence_terms.texts
        if counted != self.sentences:
            raise IndexCorruptError(
                f"segment {self.name}: term counts for {counted} sentences, not {self.sentences}"
            )

    def _faiss(self, which: RowKind, built: faiss.Index | None, dim: int) -> faiss.Index:
        """The FAISS index of one kind of row: the one loaded, checked, or one built now."""
        vectors = self.vectors(which)
        kind = self.kinds.setdefault(which, index_type(len(vectors)))
        if built is None:
            return build_faiss(np.ascontiguousarray(vectors), kind)
        if built.ntotal != len(vectors) or built.d != dim:
            raise IndexCorruptError(
                f"segment {self.name}: {which}.faiss holds {built.ntotal} vectors, "
                f"not {len(vectors)}"
            )
        return built

    @property
    def sentences(self) -> int:
        return len(self.sentence_doc)

    @property
    def passages(self) -> int:
        return len(self.passage_doc)

    def vectors(self, which: RowKind) -> Vectors:
        return self.sentence_vectors if which == "sentences" else self.passage_vectors

    def terms(self, which: RowKind) -> TermCounts:
        return self.sentence_terms if which == "sentences" else self.passage_terms

    def vectors_of(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """The sentence and passage vectors of record r, read into memory."""
        s = slice(*np.searchsorted(self.sentence_doc, [r, r + 1]))
        p = slice(*np.searchsorted(self.passage_doc, [r, r + 1]))
        return np.asarray(self.sentence_vectors[s]), np.asarray(self.passage_vectors[p])


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
