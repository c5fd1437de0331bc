"""(question, sentence, answers?) pairs from SQuAD 1.1/2.0 dev and QNLI dev, split by article.

Why by article title: SQuAD 2.0 dev reuses SQuAD 1.1 dev's articles and QNLI dev is built
from SQuAD 1.1 dev, so a split by question would put the same paragraphs on both sides.
Eight fixed titles are held out for the figures (all eight are also in SQuAD 2.0, so the
answerable-vs-unanswerable figure has data); four more of the training titles serve as a
development split for the short runs that choose settings, never for the shipped model.

Labels: the sentence holding an annotated answer span answers (1); the paragraph's other
sentences, and every sentence of an SQuAD 2.0 unanswerable question's paragraph, do not
(0). Training keeps, per question, only the few negatives that share the most words with
it (`pairs(..., negatives=k)`): with a CPU budget of some thousand pairs, on-topic
negatives teach more than the paragraph's unrelated sentences. A non-answering sentence that still contains one of the answer strings is ambiguous
(a date or name repeated) and gets no label: it is left out of training and of figures.
Paragraphs are split with the engine's own splitter, `rag.text.split_sentences`, so the
model sees sentences cut the way it will meet them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.text import normalize, split_sentences, tokenize

DEFAULT_DATA = Path("../shared/qadata")

HELD_OUT_TITLES = (
    "Black_Death",
    "Harvard_University",
    "Oxygen",
    "Packet_switching",
    "Prime_number",
    "Scottish_Parliament",
    "Southern_California",
    "Yuan_dynasty",
)
DEV_TITLES = ("Amazon_rainforest", "Geology", "Pharmacy", "Steam_engine")


@dataclass(frozen=True, slots=True)
class Question:
    """One SQuAD question over its paragraph's sentences; `labels[i]` is 1, 0 or None."""

    qid: str
    title: str
    text: str
    sentences: tuple[str, ...]
    labels: tuple[int | None, ...]
    answerable: bool


@dataclass(frozen=True, slots=True)
class Pair:
    question: str
    sentence: str
    label: int
    title: str


@lru_cache(maxsize=4096)
def _split(context: str) -> tuple[tuple[int, int], ...]:
    return tuple((s.start, s.end) for s in split_sentences(context))


def _labels(
    context: str, spans: Iterable[tuple[int, int]], answers: list[dict]
) -> list[int | None]:
    texts = {normalize(a["text"]) for a in answers if a["text"].strip()}
    out: list[int | None] = []
    for start, end in spans:
        hit = any(
            start < a["answer_start"] + len(a["text"]) and a["answer_start"] < end for a in answers
        )
        if hit:
            out.append(1)
        elif any(t in normalize(context[start:end]) for t in texts):
            out.append(None)
        else:
            out.append(0)
    return out


def load_squad(path: Path) -> Iterator[Question]:
    """Every question of a SQuAD file (1.1 or 2.0) with its paragraph's labelled sentences."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = _split(context)
            sentences = tuple(context[a:b] for a, b in spans)
            for qa in paragraph["qas"]:
                impossible = bool(qa.get("is_impossible", False))
                labels = [0] * len(spans) if impossible else _labels(context, spans, qa["answers"])
                if not impossible and 1 not in labels:
                    continue  # the answer fell in text the splitter dropped
                yield Question(
                    qa["id"],
                    article["title"],
                    qa["question"].strip(),
                    sentences,
                    tuple(labels),
                    not impossible,
                )


def squad_questions(root: Path) -> list[Question]:
    """SQuAD 1.1 dev's questions and SQuAD 2.0 dev's unanswerable ones (its answerable
    ones are SQuAD 1.1's again)."""
    questions = list(load_squad(root / "squad1" / "dev-v1.1.json"))
    questions += [q for q in load_squad(root / "squad2" / "dev-v2.0.json") if not q.answerable]
    return questions


def squad2_questions(root: Path) -> list[Question]:
    """SQuAD 2.0 dev as it stands, answerable and unanswerable, for the question-level figure."""
    return list(load_squad(root / "squad2" / "dev-v2.0.json"))


def _overlap(question: str, sentence: str) -> int:
    return len(set(tokenize(question)) & set(tokenize(sentence)))


def pairs(questions: Iterable[Question], negatives: int | None = None) -> list[Pair]:
    """The labelled (question, sentence) pairs; ambiguous sentences left out.

    With `negatives`, each question keeps its answering sentences and only that many
    others: those sharing the most stemmed content words with the question (ties in
    paragraph order), the on-topic sentences that retrieval would also put forward.
    """
    out = []
    for q in questions:
        labelled = [
            (s, label) for s, label in zip(q.sentences, q.labels, strict=True) if label is not None
        ]
        wrong = [s for s, label in labelled if label == 0]
        if negatives is not None:
            ranked = sorted(range(len(wrong)), key=lambda i: (-_overlap(q.text, wrong[i]), i))
            wrong = [wrong[i] for i in sorted(ranked[:negatives])]
        out += [Pair(q.text, s, 1, q.title) for s, label in labelled if label == 1]
        out += [Pair(q.text, s, 0, q.title) for s in wrong]
    return out


def qnli_pairs(root: Path) -> tuple[list[Pair], int]:
    """QNLI dev rows mapped to their SQuAD article through the question text; rows whose
    question is not found in SQuAD 1.1 dev (or is found under two titles) are dropped,
    since their article, and so their side of the split, is unknown. Returns the pairs and
    the number dropped."""
    titles: dict[str, set[str]] = {}
    for q in load_squad(root / "squad1" / "dev-v1.1.json"):
        titles.setdefault(q.text, set()).add(q.title)
    out: list[Pair] = []
    dropped = 0
    with (root / "qnli" / "dev.tsv").open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        for _, question, sentence, label in rows:
            found = titles.get(question.strip(), set())
            if len(found) != 1:
                dropped += 1
                continue
            out.append(
                Pair(question.strip(), sentence, int(label == "entailment"), next(iter(found)))
            )
    return out, dropped


def split(items: Iterable, held_out: Iterable[str]) -> tuple[list, list]:
    """(kept, held out) by the item's `title`."""
    held = set(held_out)
    kept: list = []
    out: list = []
    for item in items:
        (out if item.title in held else kept).append(item)
    return kept, out


@dataclass(frozen=True, slots=True)
class WikiQAQuestion:
    qid: str
    text: str
    sentences: tuple[str, ...]
    labels: tuple[int, ...]


def load_wikiqa(path: Path) -> list[WikiQAQuestion]:
    """A WikiQA split, questions in file order; for judging only (research licence)."""
    grouped: dict[str, tuple[str, list[str], list[int]]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        at = {name: i for i, name in enumerate(header)}
        for row in rows:
            entry = grouped.setdefault(row[at["QuestionID"]], (row[at["Question"]], [], []))
            entry[1].append(row[at["Sentence"]])
            entry[2].append(int(row[at["Label"]]))
    return [
        WikiQAQuestion(qid, text, tuple(sentences), tuple(labels))
        for qid, (text, sentences, labels) in grouped.items()
    ]
