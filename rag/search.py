"""After retrieval: whether the hits carry the topic (evidence, confidence) and whose they are.

Abstention rests on the evidence of the best hits (cosine to the topic, the share of
the topic's words found, less a penalty when a wanted date or quantity is missing);
`spoken_by` and `speaker_present` mark the sentences of the person a question names.
The ranking itself is `rag.retrieval`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from rag.config import Confidence
from rag.retrieval import Hits
from rag.store import Index
from rag.text import normalize

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
    """Topic terms found in a passage holding sentence g (if `own`, in g's utterance:
    its speaker's words around it, `Index.utterance`): (IDF-weighted share, plain share)."""
    if not terms:
        return 0.0, 0.0
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values())
    best = (0.0, 0.0)
    places = (
        [set().union(*(index.sentence_terms(k) for k in index.utterance(g)))]
        if own
        else [index.passage_terms(int(p)) for p in index.holders(g)]
    )
    # A term the corpus never uses counts where a spelling of it a letter or two apart
    # stands ("Lundbey" for "Lundby"), as in BM25.
    forms = {t: [t, *index.bm25_sentences.spelled_alike(t)] for t in terms}
    for tokens in places:
        test = _present_in(tokens)
        present = [t for t in terms if any(test(f) for f in forms[t])]
        share = (sum(idf[t] for t in present) / total, len(present) / len(terms))
        best = max(best, share)
    return best


def unnamed_share(index: Index, hits: Hits, names: frozenset[str]) -> np.ndarray:
    """Per first hit, the share of `names` its article never uses (prefix-matched as
    topic terms are: "Lind's" for "Lind"). Only names some article uses count: one the
    corpus never uses tells no article from another ("the palace" for "Varna")."""
    out = np.zeros(min(CONFIDENCE_DEPTH, len(hits)), dtype=np.float32)
    known = [n for n in names if index.bm25_sentences.df(n)]
    if not known:
        return out
    seen: dict[int, float] = {}
    for row in range(len(out)):
        g = int(hits.ids[row])
        record, local = index.place(g)
        first = g - local
        if first not in seen:
            terms = set().union(
                *(index.sentence_terms(k) for k in range(first, first + len(record.sentences)))
            )
            test = _present_in(terms)
            seen[first] = sum(not test(n) for n in known) / len(known)
        out[row] = seen[first]
    return out


def topic_cosines(index: Index, hits: Hits, topic_vector: np.ndarray) -> np.ndarray:
    """Cosine of the first hits to the topic alone (the ranking vector may add the person)."""
    head = hits.ids[:CONFIDENCE_DEPTH]
    return index.sentence_vectors[head] @ topic_vector.astype(np.float32)


def utterance_cosines(
    index: Index, hits: Hits, topic_vector: np.ndarray, headline: float = 0.0
) -> np.ndarray:
    """Per first hit, the best cosine to the topic over its utterance (`Index.utterance`),
    or `headline` times its article's headline's, if more: a quote is about what its
    story is about ("It's just a fun holiday movie," under a headline naming the film)."""
    topic = topic_vector.astype(np.float32)
    out = np.zeros(min(CONFIDENCE_DEPTH, len(hits)), dtype=np.float32)
    for row in range(len(out)):
        g = int(hits.ids[row])
        span = index.utterance(g)
        out[row] = float((index.sentence_vectors[span.start : span.stop] @ topic).max())
        if not headline:
            continue
        first = g - index.place(g)[1]  # the article's first sentence: its headline, if any
        if index.sentence_is_heading[first]:
            out[row] = max(out[row], headline * float(index.sentence_vectors[first] @ topic))
    return out


def evidence(
    index: Index,
    hits: Hits,
    terms: set[str],
    weights: Confidence,
    dense: np.ndarray | None = None,
    lacking: np.ndarray | None = None,
    read: np.ndarray | None = None,
    own: bool = False,
    unnamed: np.ndarray | None = None,
) -> np.ndarray:
    """How well each of the first hits supports an answer on the topic.

    A weighted sum of the hit's cosine to the topic (`dense`, else the ranking cosine)
    and the topic's coverage by its passage (if `own`, by the speaker's words around the
    hit alone: `Index.utterance`), less a penalty where `lacking` holds (the question
    wants a date or a quantity and the hit has none) and in the share of the question's
    names its article never uses (`unnamed`), plus the reading model's P(answers) where
    it read the hit (`read`).
    """
    rows = min(CONFIDENCE_DEPTH, len(hits))
    values = np.zeros(rows, dtype=np.float64)
    if lacking is not None:
        values -= weights.answer_type * lacking[:rows]
    if read is not None:
        values += weights.reader * read[:rows]
    if unnamed is not None:
        values -= weights.names * unnamed[:rows]
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
