"""Hybrid retrieval: score sentences from dense and BM25 evidence, at sentence and passage level.

Works on vectors and token lists only (no model here), so it is testable with arrays.
Candidates are the union of each retriever's top hits; each candidate sentence then
gets four features: its own cosine, the best cosine of a passage holding it, and the
same two for BM25 (saturated to [0, 1) so that scores mean the same across
questions, which abstention needs). The mode picks how they are fused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.config import Confidence, Settings
from rag.query import AnswerType, has_answer_type
from rag.store import Index
from rag.text import normalize

RRF_K = 60


@dataclass(frozen=True, slots=True)
class Hits:
    """Candidate sentences (global ids), best first, with their fused score and features."""

    ids: np.ndarray
    scores: np.ndarray
    dense: np.ndarray  # cosine of the sentence itself
    lexical: np.ndarray  # saturated BM25 of the sentence itself

    def __len__(self) -> int:
        return len(self.ids)


EMPTY = Hits(*(np.zeros(0, dtype=t) for t in (np.int64, np.float32, np.float32, np.float32)))


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
    """Candidate sentences by dense and BM25 retrieval (and `also`, e.g. the sentences
    of the person asked about), scored by fusing their features; best first."""
    n = index.size
    if n == 0:
        return EMPTY
    k = min(settings.candidates, n)
    # One query vector, or several whose cosines are averaged (topic, and person + topic).
    q = np.ascontiguousarray(query_vector.reshape(-1, query_vector.shape[-1]), dtype=np.float32)
    mode = settings.retrieval
    use_dense = mode != "lexical"
    use_lexical = mode != "dense"

    candidates: set[int] = set()
    lists: list[np.ndarray] = []
    if use_dense:
        s_ids = index.nearest("sentences", q, k)
        p_ids = index.nearest("passages", q, min(k, index.passages))
        candidates.update(int(i) for i in s_ids.ravel() if i >= 0)
        for p in p_ids.ravel():
            if p >= 0:
                candidates.update(_members(index, p))
        s_ids, p_ids = s_ids[0][s_ids[0] >= 0], p_ids[0][p_ids[0] >= 0]
        lists += [s_ids, p_ids]
    sat = settings.weights.lexical_saturation
    tokens, token_weights = expand(index, query_tokens, settings.weights.related_terms)
    lex_s = index.bm25_sentences.scores(tokens, token_weights)
    lex_p = index.bm25_passages.scores(tokens, token_weights)
    if use_lexical:
        top_s = _top(lex_s, k)
        top_s = top_s[lex_s[top_s] > 0]
        top_p = _top(lex_p, k)
        top_p = top_p[lex_p[top_p] > 0]
        candidates.update(int(i) for i in top_s)
        for p in top_p:
            candidates.update(_members(index, p))
        lists += [top_s, top_p]
    candidates.update(int(g) for g in also)
    if not candidates:
        return EMPTY

    ids = np.fromiter(sorted(candidates), dtype=np.int64)
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
    lexical_s = lex_s[ids] / (lex_s[ids] + sat)
    lexical_p = lexical_p / (lexical_p + sat)

    w = settings.weights
    if mode == "hybrid":
        scores = (
            w.dense_sentence * dense_s
            + w.dense_passage * dense_p
            + w.lexical_sentence * lexical_s
            + w.lexical_passage * lexical_p
        )
    elif mode == "dense":
        scores = (w.dense_sentence * dense_s + w.dense_passage * dense_p) / (
            w.dense_sentence + w.dense_passage
        )
    elif mode == "lexical":
        scores = (w.lexical_sentence * lexical_s + w.lexical_passage * lexical_p) / (
            w.lexical_sentence + w.lexical_passage
        )
    else:  # hybrid-rrf: reciprocal rank fusion of the four ranked lists, over sentences
        scores = np.zeros(len(ids), dtype=np.float64)
        position = {int(g): row for row, g in enumerate(ids)}
        for which, ranked in enumerate(lists):
            for rank, item in enumerate(ranked):
                passage_list = which % 2 == 1
                members = _members(index, item) if passage_list else (int(item),)
                for g in members:
                    scores[position[g]] += 1.0 / (RRF_K + rank + 1)
        scores = scores * (RRF_K + 1) / 4  # 1.0 for a sentence first in all four lists
    if w.heading:
        scores = scores - w.heading * index.sentence_is_heading[ids]
    order = np.argsort(-scores, kind="stable")
    return Hits(
        ids[order],
        np.asarray(scores[order], dtype=np.float32),
        np.asarray(dense_s[order], dtype=np.float32),
        np.asarray(lexical_s[order], dtype=np.float32),
    )


_PRONOUN_START = re.compile(r"^\W*(?:he|she|they|his|her|their)\b", re.IGNORECASE)


def spoken_by(index: Index, ids: np.ndarray, names: set[str]) -> np.ndarray:
    """Per sentence: is it attributed (at index time) to one of the people `names`?"""
    return np.fromiter((index.speaker(int(g)) in names for g in ids), dtype=bool, count=len(ids))


def speaker_present(index: Index, ids: np.ndarray, forms: tuple[str, ...]) -> np.ndarray:
    """Per sentence: is the person named in it, in its quotation, or just before a pronoun?

    For names the corpus never gives a person (a firm, a club): "It warned that…" after
    a sentence naming Orchard Bank counts as the bank's, and so does every sentence of a
    quotation whose first or last sentence names it.
    """
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b")
    out = np.zeros(len(ids), dtype=bool)
    for row, g in enumerate(ids):
        record, local = index.place(int(g))
        me = record.sentences[local]
        related = [local] + [i for i, s in enumerate(record.sentences) if s.group == me.group]
        text = record.sentence_text(local)
        if _PRONOUN_START.match(text) and local > 0:
            related.append(local - 1)
        out[row] = any(pattern.search(normalize(record.sentence_text(i))) for i in set(related))
    return out


def typed(index: Index, ids: np.ndarray, wanted: AnswerType) -> np.ndarray:
    """Per sentence: could it hold the answer wanted (a date, a duration, a sum…)?"""
    return np.fromiter(
        (has_answer_type(index.sentence_text(int(g)), wanted) for g in ids),
        dtype=bool,
        count=len(ids),
    )


def boost(hits: Hits, mask: np.ndarray, amount: float) -> Hits:
    """Hits re-ranked with `amount` added where `mask` holds."""
    scores = hits.scores + amount * mask.astype(np.float32)
    order = np.argsort(-scores, kind="stable")
    return Hits(hits.ids[order], scores[order], hits.dense[order], hits.lexical[order])


CONFIDENCE_DEPTH = 10  # how many of the best hits may carry the evidence
PREFIX = 5  # a topic term matches a word sharing its first letters ("pray", "prayers")


def _present_in(tokens: set[str]) -> Callable[[str], bool]:
    """A test for "term is in tokens, or shares its first PREFIX letters with one of them".

    A term of four letters or more matches a token starting with its first five letters
    (its whole self when shorter), and a token of four letters or more whose first five
    letters start the term. Worked out from the tokens' heads once, not token by token.
    """
    heads = {t[:PREFIX] for t in tokens if len(t) >= PREFIX}
    heads_short = {t[: PREFIX - 1] for t in tokens if len(t) >= PREFIX - 1}
    short = {t for t in tokens if len(t) == PREFIX - 1}

    def present(term: str) -> bool:
        if term in tokens:
            return True
        if len(term) < PREFIX - 1:
            return False
        if len(term) == PREFIX - 1:
            return term in heads_short
        return term[:PREFIX] in heads or term[: PREFIX - 1] in short

    return present


def coverage(index: Index, g: int, terms: set[str], own: bool = False) -> tuple[float, float]:
    """Topic terms found in a passage holding sentence g (in g itself if `own`):
    (IDF-weighted share, plain share)."""
    if not terms:
        return 0.0, 0.0
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values())
    best = (0.0, 0.0)
    places = (
        [index.sentence_terms(g)]
        if own
        else [index.passage_terms(int(p)) for p in index.holders(g)]
    )
    # A term the corpus never uses counts where a spelling of it a letter or two apart
    # stands ("Kharkov" for "Kharkiv"), as in BM25.
    forms = {t: [t, *index.bm25_sentences.spelled_alike(t)] for t in terms}
    for tokens in places:
        test = _present_in(tokens)
        present = [t for t in terms if any(test(f) for f in forms[t])]
        share = (sum(idf[t] for t in present) / total, len(present) / len(terms))
        best = max(best, share)
    return best


def topic_cosines(index: Index, hits: Hits, topic_vector: np.ndarray) -> np.ndarray:
    """Cosine of the first hits to the topic alone (the ranking vector may add the person)."""
    head = hits.ids[:CONFIDENCE_DEPTH]
    return index.sentence_vectors[head] @ topic_vector.astype(np.float32)


def evidence(
    index: Index,
    hits: Hits,
    terms: set[str],
    weights: Confidence,
    dense: np.ndarray | None = None,
    lacking: np.ndarray | None = None,
    own: bool = False,
) -> np.ndarray:
    """How well each of the first hits supports an answer on the topic.

    A weighted sum of the hit's cosine to the topic (`dense`, else the ranking cosine)
    and the topic's coverage by its passage (by the sentence alone if `own`), less a
    penalty where `lacking` holds (the question wants a date or a quantity and the hit
    has none).
    """
    rows = min(CONFIDENCE_DEPTH, len(hits))
    values = np.zeros(rows, dtype=np.float64)
    if lacking is not None:
        values -= weights.answer_type * lacking[:rows]
    for row in range(rows):
        weighted, plain = coverage(index, int(hits.ids[row]), terms, own)
        cosine = float(hits.dense[row] if dense is None else dense[row])
        values[row] += (
            weights.dense * cosine + weights.coverage * weighted + weights.fraction * plain
        )
    return values


def confidence(values: np.ndarray, allowed: np.ndarray | None = None) -> float:
    """The best evidence, among the hits `allowed` (the named person's sentences) if given.

    Rounded as `Answer.confidence` reports it, so that the report and the decision agree.
    """
    if allowed is not None:
        values = values[allowed[: len(values)]]
    return round(float(values.max(initial=0.0)), 4)
