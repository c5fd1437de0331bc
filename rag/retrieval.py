"""Hybrid retrieval: candidate sentences from dense and BM25 retrievers, fused into one ranking.

Works on vectors and token lists only (no model here), so it is testable with arrays.
`search` runs four steps: each retriever proposes its top sentences or passages (a
passage proposes the sentences in it); every candidate sentence gets four features,
its own cosine, the best cosine of a passage holding it, and the same two for BM25
(saturated to [0, 1) so that scores mean the same across questions, which abstention
needs); the features are fused by the mode the settings name; headlines lose a little.
`boost` and `typed` re-rank the hits afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.config import RetrievalMode, Settings, Weights
from rag.query import AnswerType, has_answer_type
from rag.store import Index

RRF_K = 60


@dataclass(frozen=True, slots=True)
class Hits:
    """Candidate sentences (global ids), best first, with their fused score and own cosine."""

    ids: np.ndarray
    scores: np.ndarray
    dense: np.ndarray  # cosine of the sentence itself

    def __len__(self) -> int:
        return len(self.ids)


EMPTY = Hits(*(np.zeros(0, dtype=t) for t in (np.int64, np.float32, np.float32)))


@dataclass(frozen=True, slots=True)
class Ranked:
    """One retriever's list, best first: sentence ids, or passage ids if `passages`."""

    ids: np.ndarray
    passages: bool


@dataclass(frozen=True, slots=True)
class Features:
    """Per candidate sentence: dense and saturated BM25 scores, of it and of its best passage."""

    dense_sentence: np.ndarray
    dense_passage: np.ndarray
    lexical_sentence: np.ndarray
    lexical_passage: np.ndarray


def _top(values: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(values))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]


def _members(index: Index, p: int) -> range:
    """Global ids of the sentences in passage p."""
    return range(int(index.passage_first[p]), int(index.passage_last[p]))


def expand(index: Index, tokens: list[str], weight: float) -> tuple[list[str], list[float]]:
    """The query's terms, plus terms of the same root found in the corpus at `weight`."""
    terms, weights = list(tokens), [1.0] * len(tokens)
    if weight:
        seen = set(tokens)
        for t in tokens:
            for r in index.bm25_sentences.related(t):
                if r not in seen:
                    seen.add(r)
                    terms.append(r)
                    weights.append(weight)
    return terms, weights


def search(
    index: Index,
    query_vector: np.ndarray,
    query_tokens: list[str],
    settings: Settings,
    also: Sequence[int] = (),
) -> Hits:
    """The candidate sentences for a question, best first, scored as `settings` say;
    `also` are candidates whatever their rank (the sentences of the person asked about)."""
    if index.size == 0:
        return EMPTY
    k = min(settings.candidates, index.size)
    # One query vector, or several whose cosines are averaged (topic, and person + topic).
    q = np.ascontiguousarray(query_vector.reshape(-1, query_vector.shape[-1]), dtype=np.float32)
    mode = settings.retrieval
    candidates: set[int] = set()
    lists: list[Ranked] = []
    if mode != "lexical":
        lists += _dense(index, q, k, candidates)
    tokens, token_weights = expand(index, query_tokens, settings.weights.related_terms)
    lex_s = index.bm25_sentences.scores(tokens, token_weights)
    lex_p = index.bm25_passages.scores(tokens, token_weights)
    if mode != "dense":
        lists += _lexical(index, lex_s, lex_p, k, candidates)
    candidates.update(int(g) for g in also)
    if not candidates:
        return EMPTY
    ids = np.fromiter(sorted(candidates), dtype=np.int64)
    features = _features(
        index, ids, q, lex_s, lex_p, settings.weights.lexical_saturation, mode != "lexical"
    )
    scores = _fuse(mode, settings.weights, features, index, ids, lists)
    if settings.weights.heading:
        scores = scores - settings.weights.heading * index.sentence_is_heading[ids]
    order = np.argsort(-scores, kind="stable")
    return Hits(
        ids[order],
        np.asarray(scores[order], dtype=np.float32),
        np.asarray(features.dense_sentence[order], dtype=np.float32),
    )


def _dense(index: Index, q: np.ndarray, k: int, candidates: set[int]) -> list[Ranked]:
    """FAISS's nearest sentences and passages; every query row adds candidates, the first ranks."""
    s_ids = index.nearest("sentences", q, k)
    p_ids = index.nearest("passages", q, min(k, index.passages))
    candidates.update(int(i) for i in s_ids.ravel() if i >= 0)
    for p in p_ids.ravel():
        if p >= 0:
            candidates.update(_members(index, p))
    return [Ranked(s_ids[0][s_ids[0] >= 0], False), Ranked(p_ids[0][p_ids[0] >= 0], True)]


def _lexical(
    index: Index, lex_s: np.ndarray, lex_p: np.ndarray, k: int, candidates: set[int]
) -> list[Ranked]:
    """BM25's best sentences and passages, those that score at all."""
    top_s = _top(lex_s, k)
    top_s = top_s[lex_s[top_s] > 0]
    top_p = _top(lex_p, k)
    top_p = top_p[lex_p[top_p] > 0]
    candidates.update(int(i) for i in top_s)
    for p in top_p:
        candidates.update(_members(index, p))
    return [Ranked(top_s, False), Ranked(top_p, True)]


def _features(
    index: Index,
    ids: np.ndarray,
    q: np.ndarray,
    lex_s: np.ndarray,
    lex_p: np.ndarray,
    saturation: float,
    use_dense: bool,
) -> Features:
    dense_s = (index.sentence_vectors[ids] @ q.T).mean(axis=1)
    holders = [index.holders(int(g)) for g in ids]
    passage_cos: dict[int, float] = {}
    if use_dense:  # the cosine of just the passages that hold a candidate
        wanted = np.unique(np.concatenate(holders)) if holders else np.zeros(0, np.int64)
        cos = (index.passage_vectors[wanted] @ q.T).mean(axis=1)
        passage_cos = dict(zip(wanted.tolist(), cos.tolist(), strict=True))
    dense_p = np.zeros(len(ids), dtype=np.float32)
    lexical_p = np.zeros(len(ids), dtype=np.float32)
    for row, held in enumerate(holders):
        if len(held):
            if passage_cos:
                dense_p[row] = max(passage_cos[int(p)] for p in held)
            lexical_p[row] = lex_p[held].max()
    return Features(
        dense_s,
        dense_p,
        lex_s[ids] / (lex_s[ids] + saturation),
        lexical_p / (lexical_p + saturation),
    )


def _fuse(
    mode: RetrievalMode,
    w: Weights,
    f: Features,
    index: Index,
    ids: np.ndarray,
    lists: list[Ranked],
) -> np.ndarray:
    """One score per candidate: weighted features, or reciprocal rank fusion of the lists."""
    if mode == "hybrid":
        return (
            w.dense_sentence * f.dense_sentence
            + w.dense_passage * f.dense_passage
            + w.lexical_sentence * f.lexical_sentence
            + w.lexical_passage * f.lexical_passage
        )
    if mode == "dense":
        return (w.dense_sentence * f.dense_sentence + w.dense_passage * f.dense_passage) / (
            w.dense_sentence + w.dense_passage
        )
    if mode == "lexical":
        return (w.lexical_sentence * f.lexical_sentence + w.lexical_passage * f.lexical_passage) / (
            w.lexical_sentence + w.lexical_passage
        )
    return _reciprocal_rank(index, ids, lists)


def _reciprocal_rank(index: Index, ids: np.ndarray, lists: list[Ranked]) -> np.ndarray:
    """Reciprocal rank fusion over sentences: 1.0 for a sentence first in all four lists."""
    scores = np.zeros(len(ids), dtype=np.float64)
    position = {int(g): row for row, g in enumerate(ids)}
    for ranked in lists:
        for rank, item in enumerate(ranked.ids):
            members = _members(index, item) if ranked.passages else (int(item),)
            for g in members:
                scores[position[g]] += 1.0 / (RRF_K + rank + 1)
    return scores * (RRF_K + 1) / 4


def boost(hits: Hits, mask: np.ndarray, amount: float) -> Hits:
    """Hits re-ranked with `amount` added where `mask` holds."""
    scores = hits.scores + amount * mask.astype(np.float32)
    order = np.argsort(-scores, kind="stable")
    return Hits(hits.ids[order], scores[order], hits.dense[order])


def typed(index: Index, ids: np.ndarray, wanted: AnswerType) -> np.ndarray:
    """Per sentence: could it hold the answer wanted (a date, a duration, a sum…)?"""
    return np.fromiter(
        (has_answer_type(index.sentence_text(int(g)), wanted) for g in ids),
        dtype=bool,
        count=len(ids),
    )
