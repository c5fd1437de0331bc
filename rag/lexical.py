"""BM25 over an index made of segments, with corpus-wide statistics.

Each segment keeps the term counts of its texts (a sparse texts × terms matrix over
the segment's own vocabulary), saved with it and never recomputed on load. Scores use
the document frequencies and average length of all segments together, so a corpus
split into segments scores exactly as one built at once, and adding an article only
counts that article's terms.

Scoring is Lucene's BM25 (k1 = 1.5, b = 0.75), the variant bm25s computes; bm25s
itself precomputes every score with the corpus-wide IDF, so it cannot take a new
article without re-indexing the whole corpus, which is why this module exists.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

K1 = 1.5
B = 0.75
RELATED_PREFIX = 5  # terms sharing at least this many first letters (and 3/4 of the shorter)


@dataclass(frozen=True, eq=False)
class TermCounts:
    """How often each term occurs in each text of one segment."""

    vocab: tuple[str, ...]
    rows: sparse.csr_matrix  # texts × terms, counts
    lookup: dict[str, int] = field(init=False, repr=False)
    columns: sparse.csc_matrix = field(init=False, repr=False)
    lengths: np.ndarray = field(init=False, repr=False)  # tokens per text
    df: np.ndarray = field(init=False, repr=False)  # texts holding each term

    def __post_init__(self) -> None:
        if self.rows.shape[1] != len(self.vocab):
            raise ValueError(f"{self.rows.shape[1]} term columns for {len(self.vocab)} terms")
        object.__setattr__(self, "lookup", {t: i for i, t in enumerate(self.vocab)})
        object.__setattr__(self, "columns", self.rows.tocsc())
        object.__setattr__(self, "lengths", np.asarray(self.rows.sum(axis=1)).ravel())
        object.__setattr__(self, "df", np.diff(self.columns.indptr))

    @classmethod
    def count(cls, texts: Sequence[Sequence[str]]) -> TermCounts:
        """Counts of pre-tokenised texts."""
        lookup: dict[str, int] = {}
        indptr: list[int] = [0]
        indices: list[int] = []
        data: list[int] = []
        for tokens in texts:
            counts: dict[int, int] = {}
            for t in tokens:
                j = lookup.setdefault(t, len(lookup))
                counts[j] = counts.get(j, 0) + 1
            indices += counts.keys()
            data += counts.values()
            indptr.append(len(indices))
        rows = sparse.csr_matrix(
            (np.asarray(data, np.int32), np.asarray(indices, np.int32), np.asarray(indptr)),
            shape=(len(texts), len(lookup)),
        )
        return cls(tuple(lookup), rows)

    def combine(self, groups: sparse.csr_matrix) -> TermCounts:
        """Counts of texts made of these texts: row i of `groups` marks the members of i."""
        return TermCounts(self.vocab, (groups @ self.rows).tocsr())

    def terms(self, row: int) -> set[str]:
        """The distinct terms of one text."""
        a, b = self.rows.indptr[row], self.rows.indptr[row + 1]
        return {self.vocab[j] for j in self.rows.indices[a:b]}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "vocab": np.asarray(self.vocab, dtype=str),
            "indptr": self.rows.indptr.astype(np.int64),
            "indices": self.rows.indices.astype(np.int32),
            "data": self.rows.data.astype(np.int32),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_texts: int) -> TermCounts:
        vocab = tuple(str(t) for t in arrays["vocab"])
        rows = sparse.csr_matrix(
            (arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n_texts, len(vocab))
        )
        return cls(vocab, rows)


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 once it is sure to exceed `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


class BM25:
    """Scores of every text of several segments, laid end to end, for a query."""

    def __init__(self, parts: Sequence[TermCounts]) -> None:
        self.parts = tuple(parts)
        self.offsets = np.cumsum([0] + [p.rows.shape[0] for p in self.parts])
        self.size = int(self.offsets[-1])
        total = float(sum(p.lengths.sum() for p in self.parts))
        self.avg_length = total / self.size if self.size else 0.0
        self._alike: dict[str, list[str]] = {}

    def df(self, term: str) -> int:
        """How many texts, over all segments, hold the term."""
        return int(sum(p.df[p.lookup[term]] for p in self.parts if term in p.lookup))

    @cached_property
    def vocabulary(self) -> tuple[str, ...]:
        """Every term of every segment, sorted."""
        return tuple(sorted({t for p in self.parts for t in p.vocab}))

    def related(self, term: str) -> list[str]:
        """Other terms of the corpus from the same root, by shared first letters.

        Stems of one word family do not always meet ("occupied" → occupi, "occupation"
        → occup; "recognising" → recognis, "recognized" → recogn): a term is related
        when the two share RELATED_PREFIX letters and three quarters of the shorter. A
        term the corpus never uses also meets its terms spelled one or two letters apart.
        """
        if len(term) < RELATED_PREFIX:
            return []
        alike = self.spelled_alike(term)
        head = term[:RELATED_PREFIX]
        vocab = self.vocabulary
        found = []
        for t in vocab[bisect.bisect_left(vocab, head) :]:
            if not t.startswith(head):
                break
            shared = len(head)
            while shared < min(len(t), len(term)) and t[shared] == term[shared]:
                shared += 1
            if t != term and shared * 4 >= 3 * min(len(t), len(term)):
                found.append(t)
        return found + [t for t in alike if t not in found]

    def spelled_alike(self, term: str) -> list[str]:
        """For a term the corpus never uses, its terms spelled one or two letters apart
        (two from seven letters on): transliterations and slips ("Kharkov"/"Kharkiv").
        Empty for a term the corpus uses; remembered per term, the index never changing."""
        if term in self._alike:
            return self._alike[term]
        if len(term) < RELATED_PREFIX or self.df(term):
            return []
        limit = 1 if len(term) < 7 else 2
        vocab = self.vocabulary
        found = []
        for t in vocab[bisect.bisect_left(vocab, term[0]) :]:
            if t[0] != term[0]:
                break
            if abs(len(t) - len(term)) <= limit and _edit_distance(t, term, limit) <= limit:
                found.append(t)
        self._alike[term] = found
        return found

    def scores(self, tokens: Sequence[str], weights: Sequence[float] | None = None) -> np.ndarray:
        """BM25 of every text; a term repeated in the query counts each time (as bm25s).

        `weights`, one per token, scale each term's part (1.0 when not given).
        """
        out = np.zeros(self.size, dtype=np.float32)
        if not self.avg_length:
            return out
        for n, term in enumerate(tokens):
            df = self.df(term)
            if not df:
                continue
            idf = np.float32(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))
            if weights is not None:
                idf = idf * np.float32(weights[n])
            for offset, part in zip(self.offsets, self.parts, strict=False):
                j = part.lookup.get(term)
                if j is None:
                    continue
                a, b = part.columns.indptr[j], part.columns.indptr[j + 1]
                rows = part.columns.indices[a:b]
                tf = part.columns.data[a:b].astype(np.float32)
                norm = K1 * ((1 - B) + B * part.lengths[rows] / self.avg_length)
                out[offset + rows] += idf * tf / (norm.astype(np.float32) + tf)
        return out
