"""Speaker attribution scored against hand labels (speakers.jsonl), through the public API.

Of the sentences the engine gives a speaker, precision is the share with the right
one; of the labelled sentences that have a speaker, recall is the share the engine
gives rightly; speech accuracy is direct/reported right among those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval.rows import Label
from rag import Assistant, Sentence


@dataclass(frozen=True, slots=True)
class Attribution:
    """Speaker attribution against hand labels."""

    sentences: int
    labelled: int  # sentences the labels give a speaker
    precision: float  # of the sentences the engine attributes, share with the right speaker
    recall: float  # of the labelled sentences, share the engine attributes rightly
    speech_accuracy: float  # direct/reported right, among rightly attributed sentences
    errors: tuple[str, ...]


def attribution(assistant: Assistant, labels: Sequence[Label]) -> Attribution:
    """Score the speakers the index gives the labelled sentences."""
    by_source: dict[str, tuple[Sentence, ...]] = {}
    attributed = right = labelled = speech_right = 0
    errors = []
    for lab in labels:
        if lab.source not in by_source:
            by_source[lab.source] = assistant.sentences(lab.source)
        # The engine's sentence holding the label's start: a splitter change that moves a
        # boundary does not silently unlabel a sentence.
        sentence = next((s for s in by_source[lab.source] if s.start <= lab.start < s.end), None)
        got = sentence.speaker if sentence is not None else None
        labelled += bool(lab.speaker)
        attributed += bool(got)
        # The label names the person as the article does; the engine by the corpus-wide
        # name ("Ana Hallbergh" in one article is "Ana Hallberg" across the corpus).
        same = bool(got and lab.speaker) and (
            got == lab.speaker or got in assistant.resolve_person(lab.speaker or "")
        )
        if sentence is not None and got and same:
            right += 1
            speech_right += sentence.speech == lab.speech
        elif got or lab.speaker:
            errors.append(
                f"{lab.source}:{lab.start}: labelled {lab.speaker}, got {got}: {lab.text[:70]}"
            )
    return Attribution(
        sentences=len(labels),
        labelled=labelled,
        precision=round(right / attributed, 4) if attributed else 0.0,
        recall=round(right / labelled, 4) if labelled else 0.0,
        speech_accuracy=round(speech_right / right, 4) if right else 0.0,
        errors=tuple(errors),
    )
