"""Scoring answers: one row's result, and the figures of many rows.

A row is answered when one of its answer strings (normalised like the engine's
matching) stands inside a returned quote; its rank is that quote's. Gold places are
the row's own span and its `also` spans (other places that answer). Every quote is
checked verbatim against the corpus file it cites.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.rows import Row
from rag import Answer, Assistant, normalize


@dataclass(frozen=True, slots=True)
class RowResult:
    id: str
    kind: str
    split: str
    answerable: bool
    abstained: bool
    rank: int | None  # 1-based rank of the first quote holding an answer
    char_f1: float
    source_hit3: bool
    verbatim: bool
    quotes: int
    quote_chars: tuple[int, ...]
    latency_ms: float
    confidence: float
    speaker_expected: str | None = None
    speaker_first: str | None = None  # speaker of the first quote
    speaker_confidence: float | None = None  # the asked person's own evidence, if any


@dataclass(frozen=True, slots=True)
class Figures:
    rows: int
    answerable: int
    hit1: float
    hit3: float
    mrr: float
    char_f1: float
    source_recall3: float
    abstain_precision: float
    abstain_recall: float
    false_abstain: float
    verbatim: float
    quotes_per_answer: float
    median_quote_chars: float
    p50_ms: float
    p95_ms: float
    first_quote_speaker: float  # share of answered person-questions whose first quote is theirs
    speaker_rows: int


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def score_row(
    row: Row,
    answer: Answer,
    corpus_dir: Path,
    latency_ms: float,
    speaker: tuple[str, ...] | None = None,
) -> RowResult:
    """One answer scored against its row. `speaker`: the corpus's names for the row's
    labelled speaker (`Assistant.resolve_person`), so that "Sir Tom Ray" as labelled is
    the engine's "Tom Ray"; by default the label as written."""
    rank = None
    first = answer.quotes[0].speaker if answer.quotes else None
    all_answers = [normalize(a) for g in row.golds for a in g.answers]
    for i, q in enumerate(answer.quotes, 1):
        text = normalize(q.text)
        if any(a and a in text for a in all_answers):
            rank = i
            break
    best_f1 = 0.0
    sources3: set[str] = set()
    for q in answer.quotes[:3]:
        for c in (q.citation, *q.also):
            sources3.add(c.source)
            for g in row.golds:
                if g.source != c.source:
                    continue
                inter = _overlap(c.start, c.end, g.start, g.end)
                if inter:
                    p, r = inter / (c.end - c.start), inter / (g.end - g.start)
                    best_f1 = max(best_f1, 2 * p * r / (p + r))
    verbatim = True
    for q in answer.quotes:
        for c in (q.citation, *q.also):
            text = (corpus_dir / c.source).read_text(encoding="utf-8")
            if c == q.citation and text[q.start : q.end] != q.text:
                verbatim = False
            if not 0 <= c.start < c.end <= len(text):
                verbatim = False
    return RowResult(
        id=row.id,
        kind=row.kind,
        split=row.split,
        answerable=row.answerable,
        abstained=answer.abstained or answer.speaker_found is False,
        rank=rank,
        char_f1=round(best_f1, 4),
        source_hit3=any(g.source in sources3 for g in row.golds),
        verbatim=verbatim,
        quotes=len(answer.quotes),
        quote_chars=tuple(len(q.text) for q in answer.quotes),
        latency_ms=round(latency_ms, 3),
        confidence=answer.confidence,
        speaker_expected=_expected(row.speaker, speaker, first),
        speaker_first=first,
        speaker_confidence=answer.speaker_confidence,
    )


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 3)


def figures(results: Sequence[RowResult]) -> Figures:
    ans = [r for r in results if r.answerable]
    una = [r for r in results if not r.answerable]
    abstained = [r for r in results if r.abstained]
    answered = [r for r in results if not r.abstained]
    chars = [c for r in answered for c in r.quote_chars]
    latencies = [r.latency_ms for r in results]
    asked = [r for r in ans if r.speaker_expected and not r.abstained]
    return Figures(
        rows=len(results),
        answerable=len(ans),
        hit1=_mean(r.rank == 1 for r in ans),
        hit3=_mean(r.rank is not None and r.rank <= 3 for r in ans),
        mrr=_mean(1 / r.rank if r.rank else 0.0 for r in ans),
        char_f1=_mean(r.char_f1 for r in ans),
        source_recall3=_mean(r.source_hit3 for r in ans),
        abstain_precision=_mean(not r.answerable for r in abstained) if abstained else 1.0,
        abstain_recall=_mean(r.abstained for r in una) if una else 1.0,
        false_abstain=_mean(r.abstained for r in ans),
        verbatim=_mean(r.verbatim for r in results),
        quotes_per_answer=_mean(r.quotes for r in answered),
        median_quote_chars=float(statistics.median(chars)) if chars else 0.0,
        p50_ms=_percentile(latencies, 0.5),
        p95_ms=_percentile(latencies, 0.95),
        first_quote_speaker=_mean(r.speaker_first == r.speaker_expected for r in asked),
        speaker_rows=len(asked),
    )


def _expected(label: str | None, names: tuple[str, ...] | None, first: str | None) -> str | None:
    """The labelled speaker by the corpus's name for them: the first quote's speaker
    (`first`) when the label may mean them, else the label's likeliest person, else the
    label itself."""
    if label is None or not names:
        return label
    return first if first in names else names[0]


def run(assistant: Assistant, rows: Sequence[Row]) -> list[RowResult]:
    """Ask every row's question once and score the answer."""
    results = []
    for row in rows:
        t0 = time.perf_counter()
        answer = assistant.ask(row.question)
        latency = (time.perf_counter() - t0) * 1000
        names = assistant.resolve_person(row.speaker) if row.speaker else None
        results.append(score_row(row, answer, assistant.corpus_dir, latency, names))
    return results
