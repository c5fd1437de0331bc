"""Articles indexed together, in memory: their records, vectors, FAISS indexes and term counts.

A DocRecord is one article as analysed (its sentences and passage windows); a Segment
holds several, with one row per sentence and per passage, and never changes once
made. How segments are saved is `segment_files`; how they are read as one index is
`index`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import sparse

from rag.analysis.registry import ArticlePerson
from rag.errors import IndexCorruptError, RagError
from rag.lexical import TermCounts
from rag.store.faiss_index import FaissKind, build_faiss, index_type
from rag.text import tokenize
from rag.types import Document, Sentence

if TYPE_CHECKING:
    import faiss

RowKind = Literal["sentences", "passages"]  # the two kinds of row a segment holds
ROW_KINDS: tuple[RowKind, ...] = ("sentences", "passages")


@dataclass(frozen=True, slots=True)
class DocRecord:
    """An article as indexed: its sentences, its passages (sentence ranges [a, b)) and
    the people it names."""

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
        kinds: dict[RowKind, FaissKind] | None = None,
        prebuilt: dict[RowKind, faiss.Index] | None = None,
    ) -> None:
        self.name = name
        self.records = tuple(records)
        self.sentence_vectors = sentence_vectors
        self.passage_vectors = passage_vectors
        self.sentence_terms = sentence_terms
        self.entry: dict = {}  # its line in the generation manifest, set once saved
        s_doc: list[int] = []
        s_local: list[int] = []
        p_doc: list[int] = []
        p_first: list[int] = []
        p_last: list[int] = []
        heading: list[bool] = []
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
        self.sentence_is_heading = np.asarray(heading, dtype=np.bool_)
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
        self.kinds: dict[RowKind, FaissKind] = dict(kinds or {})
        self.faiss: dict[RowKind, faiss.Index] = {}
        prebuilt = prebuilt or {}
        for which in ROW_KINDS:
            vectors = self.vectors(which)
            kind = self.kinds.setdefault(which, index_type(len(vectors)))
            built = prebuilt.get(which)
            if built is None:
                built = build_faiss(np.ascontiguousarray(vectors), kind)
            elif built.ntotal != len(vectors) or built.d != dim:
                raise IndexCorruptError(
                    f"segment {name}: {which}.faiss holds {built.ntotal} vectors, "
                    f"not {len(vectors)}"
                )
            self.faiss[which] = built

    @property
    def sentences(self) -> int:
        return len(self.sentence_doc)

    @property
    def passages(self) -> int:
        return len(self.passage_doc)

    def vectors(self, which: RowKind) -> np.ndarray:
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
