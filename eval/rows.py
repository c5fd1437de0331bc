"""The eval set: question–answer rows (qa.jsonl) and hand-labelled speakers (speakers.jsonl).

A row asks a question and names where in the corpus it is answered: its gold spans,
each with the answer strings that must stand inside a quote. An unanswerable row has
no gold span. A speaker label gives one sentence of an article (by character span)
the person whose words it reports, and whether directly or reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Gold:
    source: str
    start: int
    end: int
    answers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    question: str
    answers: tuple[str, ...]
    kind: str
    split: str
    golds: tuple[Gold, ...]  # empty for unanswerable rows
    speaker: str | None = None  # whose words the question asks for, when it names a person

    @property
    def answerable(self) -> bool:
        return bool(self.golds)


def load_rows(path: str | Path) -> list[Row]:
    """Read a JSONL eval set; ValueError naming the line for a malformed row."""
    rows = []
    for n, d in _lines(path):
        try:
            golds = [_gold(d)] if d.get("source") else []
            golds += [_gold(extra) for extra in d.get("also", [])]
            rows.append(
                Row(
                    d["id"],
                    d["question"],
                    tuple(d["answers"]),
                    d["kind"],
                    d["split"],
                    tuple(golds),
                    d.get("speaker"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: malformed eval row: {exc}") from exc
    return rows


def _gold(d: dict) -> Gold:
    return Gold(d["source"], int(d["start"]), int(d["end"]), tuple(d["answers"]))


@dataclass(frozen=True, slots=True)
class Label:
    """A sentence labelled by hand: whose words it reports (None: narration), and how."""

    source: str
    start: int
    end: int
    text: str
    speaker: str | None
    speech: str | None
    split: str | None = None


def load_labels(path: str | Path) -> list[Label]:
    """Read speaker labels; ValueError naming the line for a malformed one."""
    labels = []
    for n, d in _lines(path):
        try:
            labels.append(
                Label(
                    d["source"],
                    int(d["start"]),
                    int(d["end"]),
                    d["text"],
                    d["speaker"],
                    d["speech"],
                    d.get("split"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: malformed speaker label: {exc}") from exc
    return labels


def _lines(path: str | Path) -> list[tuple[int, dict]]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: not JSON: {exc}") from exc
    return out
