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
    # Texts × terms, counts; None where only the postings are kept (a passage's terms
    # are its sentences').
    rows: sparse.csr_matrix | None
    # The same by term (postings), and tokens per text: derived from `rows` unless given.
    columns: sparse.csc_matrix | None = field(default=None, repr=False)
    lengths: np.ndarray | None = field(default=None, repr=False)
    lookup: dict[str, int] = field(init=False, repr=False)
    df: np.ndarray = field(init=False, repr=False)  # texts holding each term

    def __post_init__(self) -> None:
        rows, columns = self.rows, self.columns
        if rows is None and (columns is None or self.lengths is None):
            raise ValueError("term counts need their rows, or their postings and lengths")
        shape = rows.shape if rows is not None else columns.shape  # type: ignore[union-attr]
        if shape[1] != len(self.vocab):
            raise ValueError(f"{shape[1]} term columns for {len(self.vocab)} terms")
        object.__setattr__(self, "lookup", {t: i for i, t in enumerate(self.vocab)})
        if columns is None:
            assert rows is not None
            object.__setattr__(self, "columns", rows.tocsc())
        elif columns.shape != shape or (rows is not None and columns.nnz != rows.nnz):
            raise ValueError(f"postings of shape {columns.shape} for {shape}")
        if self.lengths is None:
            assert rows is not None
            counts = rows.data.astype(np.int64)
            row_of = np.repeat(np.arange(shape[0]), np.diff(rows.indptr))
            object.__setattr__(self, "lengths", np.bincount(row_of, counts, minlength=shape[0]))
        elif len(self.lengths) != shape[0]:
            raise ValueError(f"{len(self.lengths)} lengths for {shape[0]} texts")
        object.__setattr__(self, "df", np.diff(self.postings.indptr))

    @property
    def texts(self) -> int:
        return len(self.length)

    @property
    def postings(self) -> sparse.csc_matrix:
        """Texts × terms by term: which texts hold each term, and how often."""
        assert self.columns is not None  # set in __post_init__
        return self.columns

    @property
    def length(self) -> np.ndarray:
        """Tokens per text."""
        assert self.lengths is not None  # set in __post_init__
        return self.lengths

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
        """Postings of texts made of these texts (row i of `groups` marks the members of
        i); their rows are not kept."""
        if self.rows is None:
            raise ValueError("only counts by text can be combined")
        combined = (groups @ self.rows).tocsc()
        return TermCounts(self.vocab, None, combined, groups @ self.length)

    def terms(self, row: int) -> set[str]:
        """The distinct terms of one text."""
        if self.rows is None:
            raise ValueError("these counts keep no rows; a text's terms are its parts'")
        a, b = self.rows.indptr[row], self.rows.indptr[row + 1]
        return {self.vocab[j] for j in self.rows.indices[a:b]}

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The counts as arrays to save: by text, by term, and the texts' lengths."""
        arrays = {
            "vocab": np.asarray(self.vocab, dtype=str),
            "col_indptr": self.postings.indptr.astype(np.int64),
            "col_indices": self.postings.indices.astype(np.int32),
            "col_data": _counts(self.postings.data),
            "lengths": self.length.astype(np.int64),
        }
        if self.rows is not None:
            arrays["indptr"] = self.rows.indptr.astype(np.int64)
            arrays["indices"] = self.rows.indices.astype(np.int32)
            arrays["data"] = _counts(self.rows.data)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_texts: int) -> TermCounts:
        """Counts saved by `to_arrays` (those saved without postings and lengths, by an
        earlier version, have them derived)."""
        vocab = tuple(arrays["vocab"].tolist())
        shape = (n_texts, len(vocab))
        rows = None
        if "indptr" in arrays:
            rows = sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape)
        if "col_indptr" not in arrays:
            return cls(vocab, rows)
        columns = sparse.csc_matrix(
            (arrays["col_data"], arrays["col_indices"], arrays["col_indptr"]), shape
        )
        return cls(vocab, rows, columns, arrays["lengths"])


def _counts(data: np.ndarray) -> np.ndarray:
    """Counts as saved: two bytes each, a count past 65,535 (which BM25 saturates long
    before) kept at that."""
    return np.minimum(data, np.iinfo(np.uint16).max).astype(np.uint16)


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
        self.offsets = np.cumsum([0] + [p.texts for p in self.parts])
        self.size = int(self.offsets[-1])
        total = float(sum(p.length.sum() for p in self.parts))
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
        (two from seven letters on): transliterations and slips ("Lundbey"/"Lundby").
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
                postings = part.postings
                a, b = postings.indptr[j], postings.indptr[j + 1]
                rows = postings.indices[a:b]
                tf = postings.data[a:b].astype(np.float32)
                norm = K1 * ((1 - B) + B * part.length[rows] / self.avg_length)
                out[offset + rows] += idf * tf / (norm.astype(np.float32) + tf)
        return out
