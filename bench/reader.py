"""Figures for the reading model (`rag.reader`), printed and written to bench/RESULTS.md.

    python bench/reader.py --append [--data ../shared/qadata]

Why these: the reader must tell a sentence that answers a question from one on its topic,
and say when nothing answers. So: on the eight held-out SQuAD titles, sentence-level ROC
AUC (answering vs other sentences of the paragraph) and, on SQuAD 2.0's held-out
questions, answerable vs unanswerable from the best sentence's score (ROC AUC and best
accuracy). On WikiQA test, never trained on, the published measures: MAP and MRR over the
questions with a correct sentence, and answer triggering (Yang et al. 2015: a question is
answered when its best sentence scores over a threshold chosen on WikiQA dev, and counts
as correct only if that sentence is labelled correct). The installed bi-encoder's cosine
is scored the same way beside it. Then the cost: `score` for one question and 20 news
sentences, and what cutting the pair to fewer word pieces does to speed and held-out AUC.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.timing import write_results  # noqa: E402
from rag.embedding import Embedder  # noqa: E402
from rag.reader import Reader  # noqa: E402
from rag.text import split_sentences  # noqa: E402
from reader import data as d  # noqa: E402

Scorer = Callable[[str, Sequence[str]], np.ndarray]
LATENCY_QUESTION = "What did Rutte say about China?"
LATENCY_RUNS = 30


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def best_accuracy(labels: Sequence[int], scores: Sequence[float]) -> tuple[float, float]:
    """The best accuracy of `score > t` over all thresholds t, and that t."""
    y = np.asarray(labels)[np.argsort(scores)]
    s = np.sort(np.asarray(scores))
    # Threshold below item i: items < i are "no", items >= i are "yes".
    negatives_below = np.concatenate([[0], np.cumsum(y == 0)])
    positives_above = y.sum() - np.concatenate([[0], np.cumsum(y == 1)])
    correct = negatives_below + positives_above
    i = int(np.argmax(correct))
    threshold = -np.inf if i == 0 else float(s[i - 1])
    return float(correct[i] / len(y)), threshold


def cosine_scorer(embedder: Embedder) -> Scorer:
    cache: dict[str, np.ndarray] = {}

    def vectors(texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in cache]
        if new:
            for t, v in zip(new, embedder.encode_queries(new), strict=True):
                cache[t] = v
        return np.stack([cache[t] for t in texts])

    def score(question: str, sentences: Sequence[str]) -> np.ndarray:
        return vectors(list(sentences)) @ vectors([question])[0]

    return score


def per_question(scorer: Scorer, questions: Sequence) -> list[np.ndarray]:
    return [scorer(q.text, list(q.sentences)) for q in questions]


FUSION_WEIGHTS = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0)


def fused_scorer(reader: Scorer, cosine: Scorer, weight: float) -> Scorer:
    """The reader's logit plus `weight` times the bi-encoder's cosine: the two read
    differently (one the pair together, one each side alone), so their sum may rank
    better than either."""

    def score(question: str, sentences: Sequence[str]) -> np.ndarray:
        p = np.clip(reader(question, sentences), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p)) + weight * cosine(question, sentences)

    return score


def fusion_weight(reader: Scorer, cosine: Scorer, dev: list[d.WikiQAQuestion]) -> float:
    """The cosine weight with the best WikiQA dev MAP (dev is judged on, like the
    triggering threshold; test never chooses anything)."""
    return max(
        FUSION_WEIGHTS,
        key=lambda w: wikiqa_ranking(dev, per_question(fused_scorer(reader, cosine, w), dev))[
            "map"
        ],
    )


def cut_scorer(full: Scorer, short: Reader) -> Scorer:
    """`short.score`, computed only where the cut can change the pair (it reaches
    `short.max_length` word pieces); a shorter pair is the same for both readers, so the
    full-length score (cached) stands."""

    def score(question: str, sentences: Sequence[str]) -> np.ndarray:
        out = full(question, sentences).copy()
        pieces = short.pieces(question, sentences)
        long = [i for i, n in enumerate(pieces) if n >= short.max_length]
        if long:
            out[long] = short.score(question, [sentences[i] for i in long])
        return out

    return score


def squad_figures(questions: list[d.Question], scores: list[np.ndarray]) -> dict[str, Any]:
    labels, flat = [], []
    for q, s in zip(questions, scores, strict=True):
        for label, value in zip(q.labels, s, strict=True):
            if label is not None:
                labels.append(label)
                flat.append(float(value))
    by_id = {q.qid: (q, s) for q, s in zip(questions, scores, strict=True)}
    return {"sentence_auc": roc_auc(labels, flat), "pairs": len(labels), "by_id": by_id}


def squad2_figures(squad2: list[d.Question], by_id: dict) -> dict[str, Any]:
    """Answerable vs not from the best sentence; SQuAD 2.0's answerable questions are SQuAD
    1.1's (same ids, same paragraphs for these titles), so their scores are reused."""
    labels, best = [], []
    for q in squad2:
        known, scores = by_id[q.qid]
        assert known.sentences == q.sentences
        labels.append(int(q.answerable))
        best.append(float(scores.max()))
    accuracy, threshold = best_accuracy(labels, best)
    return {
        "auc": roc_auc(labels, best),
        "accuracy": accuracy,
        "threshold": threshold,
        "base_rate": max(np.mean(labels), 1 - np.mean(labels)),
        "questions": len(labels),
    }


def wikiqa_ranking(questions: list[d.WikiQAQuestion], scores: list[np.ndarray]) -> dict:
    ap, rr = [], []
    for q, s in zip(questions, scores, strict=True):
        labels = np.asarray(q.labels)[np.argsort(-s, kind="stable")]
        if not labels.any():
            continue
        hits = np.flatnonzero(labels)
        ap.append(float(np.mean([(k + 1) / (rank + 1) for k, rank in enumerate(hits)])))
        rr.append(1.0 / (hits[0] + 1))
    return {"map": float(np.mean(ap)), "mrr": float(np.mean(rr)), "questions": len(ap)}


def triggering(
    questions: list[d.WikiQAQuestion], scores: list[np.ndarray], threshold: float
) -> dict[str, float]:
    answered = correct = 0
    with_answer = sum(1 for q in questions if any(q.labels))
    for q, s in zip(questions, scores, strict=True):
        top = int(np.argmax(s))
        if s[top] > threshold:
            answered += 1
            correct += q.labels[top]
    precision = correct / answered if answered else 0.0
    recall = correct / with_answer
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "threshold": threshold}


def dev_threshold(questions: list[d.WikiQAQuestion], scores: list[np.ndarray]) -> float:
    """The threshold on the best sentence's score with the highest triggering F1 on dev."""
    candidates = sorted({float(s.max()) for s in scores})
    candidates = [candidates[0] - 1.0, *candidates]
    return max(candidates, key=lambda t: triggering(questions, scores, t)["f1"])


def latency(reader: Reader, sentences: list[str]) -> tuple[float, float]:
    reader.score(LATENCY_QUESTION, sentences)
    times = []
    for _ in range(LATENCY_RUNS):
        reader.clear_cache()  # a cached pair is not read again: time the reading
        t = time.perf_counter()
        reader.score(LATENCY_QUESTION, sentences)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def news_sentences(count: int = 20) -> list[str]:
    """The first `count` body sentences of the seed articles, in order."""
    out: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [text[s.start : s.end] for s in split_sentences(text) if s.kind == "body"]
        if len(out) >= count:
            break
    return out[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / d.DEFAULT_DATA)
    parser.add_argument("--weights", type=Path, default=None, help="default: the shipped file")
    parser.add_argument(
        "--short", type=int, default=64, help="a shorter pair length to measure, word pieces"
    )
    parser.add_argument(
        "--squad-questions", type=int, default=0, help="a seeded sample of held-out questions"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the bi-encoder row")
    parser.add_argument("--append", action="store_true", help="write into bench/RESULTS.md")
    args = parser.parse_args()

    reader = Reader.load(args.weights)
    short = Reader.load(args.weights, max_length=args.short)
    cosine = cosine_scorer(Embedder())

    _, held = d.split(d.squad_questions(args.data), d.HELD_OUT_TITLES)
    _, held2 = d.split(d.squad2_questions(args.data), d.HELD_OUT_TITLES)
    if args.squad_questions:
        rng = np.random.default_rng(0)
        kept = {held[i].qid for i in rng.choice(len(held), args.squad_questions, replace=False)}
        held = [q for q in held if q.qid in kept]
        held2 = [q for q in held2 if q.qid in kept]
    wiki_dev = d.load_wikiqa(args.data / "wikiqa" / "WikiQA-dev.tsv")
    wiki_test = d.load_wikiqa(args.data / "wikiqa" / "WikiQA-test.tsv")

    rows: dict[str, dict] = {}
    started = time.time()
    cache: dict[tuple[str, str], float] = {}

    def cached(question: str, sentences: Sequence[str]) -> np.ndarray:
        missing = [s for s in dict.fromkeys(sentences) if (question, s) not in cache]
        if missing:
            for s, value in zip(missing, reader.score(question, missing), strict=True):
                cache[question, s] = float(value)
        return np.array([cache[question, s] for s in sentences], dtype=np.float32)

    scorers = [
        ("bi-encoder cosine (installed MiniLM)", cosine),
        (f"reader, pairs cut at {reader.max_length} word pieces", cached),
        (f"reader, pairs cut at {short.max_length} word pieces", cut_scorer(cached, short)),
    ]
    if not args.no_baseline:
        weight = fusion_weight(cached, cosine, wiki_dev)
        scorers.append(
            (
                f"reader logit + {weight:g} x cosine (weight: best WikiQA dev MAP)",
                fused_scorer(cached, cosine, weight),
            )
        )
    for name, scorer in scorers[args.no_baseline :]:
        squad = squad_figures(held, per_question(scorer, held))
        squad2 = squad2_figures(held2, squad.pop("by_id"))
        dev_scores = per_question(scorer, wiki_dev)
        test_scores = per_question(scorer, wiki_test)
        threshold = dev_threshold(wiki_dev, dev_scores)
        rows[name] = {
            **{f"squad_{k}": v for k, v in squad.items()},
            **{f"squad2_{k}": v for k, v in squad2.items()},
            **wikiqa_ranking(wiki_test, test_scores),
            **triggering(wiki_test, test_scores, threshold),
            "dev_f1": triggering(wiki_dev, dev_scores, threshold)["f1"],
        }
        print(f"{name}: {rows[name]} ({time.time() - started:.0f} s)", flush=True)

    sentences = news_sentences()
    pieces = reader.pieces(LATENCY_QUESTION, sentences)
    timing = {
        reader.max_length: latency(reader, sentences),
        short.max_length: latency(short, sentences),
    }

    first = rows[next(iter(rows))]
    lines = [
        "## Reading model (`python bench/reader.py`)",
        "",
        f"Weights `rag/weights/reader.safetensors` (SHA-256 `{reader.sha256[:16]}…`). "
        f"Held out: {len(d.HELD_OUT_TITLES)} SQuAD titles ({', '.join(d.HELD_OUT_TITLES)}): "
        f"{first['squad_pairs']:,} labelled sentence pairs of {len(held):,} questions, "
        f"{first['squad2_questions']:,} SQuAD 2.0 questions. WikiQA test: {first['questions']} questions with a correct "
        "sentence (MAP, MRR), all 633 for answer triggering, threshold chosen on WikiQA dev "
        "(best dev F1). WikiQA is judged only, never trained on.",
        "",
        "| scorer | SQuAD sentence AUC | SQuAD 2.0 answerable AUC | best accuracy (at) | "
        "WikiQA MAP | MRR | triggering P | R | F1 | threshold (dev F1) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['squad_sentence_auc']:.3f} | {r['squad2_auc']:.3f} | "
            f"{r['squad2_accuracy']:.3f} ({r['squad2_threshold']:.3f}) | {r['map']:.3f} | {r['mrr']:.3f} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
            f"{r['threshold']:.3f} ({r['dev_f1']:.3f}) |"
        )
    lines += [
        "| published: CNN-Cnt (Yang et al. 2015) | | | | 0.652 | 0.665 | | | ≈ 0.32 | |",
        "",
        f"SQuAD 2.0 held-out base rate (always the larger class): {first['squad2_base_rate']:.3f}. "
        "Targets: WikiQA MAP ≥ 0.80, triggering F1 ≥ 0.45.",
        "",
        f"`Reader.score`, one question and {len(sentences)} news sentences from `seeds/` "
        f"({int(np.mean(pieces))} word pieces each on average, {max(pieces)} at most), "
        f"{LATENCY_RUNS} runs, {platform.machine()}, {os.cpu_count()} cores, shared with other work:",
        "",
        "| pair cut at | p50 | p95 |",
        "|---|---|---|",
    ]
    lines += [
        f"| {n} word pieces | {p50:.1f} ms | {p95:.1f} ms |" for n, (p50, p95) in timing.items()
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.append:
        write_results(text)


if __name__ == "__main__":
    main()
