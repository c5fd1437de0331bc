"""Speaker attribution scored against hand labels (speakers.jsonl), through the public API.

A label counts for the engine's sentence that contains the label's first character,
so a change in where sentences are split moves labels with the text rather than
leaving them unmatched; a label whose start no engine sentence holds (dropped page
furniture, say) counts as given no speaker. Of the labels whose sentence the engine
gives a speaker, precision is the share with the right one; of the labels naming a
speaker, recall is the share given rightly; speech accuracy is direct/reported right
among those; a label naming a person as its article does is right when the engine
gives the corpus-wide name of that person (`Assistant.resolve_person`). Figures are
given per split of the labels and for all together.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace

from eval.rows import Label
from rag import Assistant, Sentence

ALL = "all"
HELD_OUT = "test"  # the split no rule may be written from


@dataclass(frozen=True, slots=True)
class Attribution:
    """Speaker attribution against hand labels."""

    sentences: int  # labels scored
    labelled: int  # labels naming a speaker
    precision: float  # of the labels the engine gives a speaker, share with the right one
    recall: float  # of the labels naming a speaker, share the engine gives rightly
    speech_accuracy: float  # direct/reported right, among rightly attributed labels
    errors: tuple[str, ...]  # disagreements, but none of the test split's
    hidden: int = 0  # the test split's disagreements: counted, never listed


def attribution(assistant: Assistant, labels: Sequence[Label]) -> dict[str, Attribution]:
    """Figures for all labels (under "all"), then for each split the labels carry."""
    match = _Sentences(assistant)
    found = [match.at(lab) for lab in labels]
    splits = sorted({lab.split for lab in labels if lab.split is not None})
    out = {ALL: _score(assistant, labels, found)}
    for split in splits:
        chosen = [i for i, lab in enumerate(labels) if lab.split == split]
        out[split] = _score(assistant, [labels[i] for i in chosen], [found[i] for i in chosen])
    if HELD_OUT in out:
        # A rule written from a test sentence's disagreement would be scored on it: the
        # report counts them and shows none.
        held = len(out[HELD_OUT].errors)
        out[HELD_OUT] = replace(out[HELD_OUT], errors=(), hidden=held)
        shown = tuple(e for s in splits if s != HELD_OUT for e in out[s].errors)
        out[ALL] = replace(out[ALL], errors=shown, hidden=held)
    return out


class _Sentences:
    """The engine's sentences of each labelled article, found by position."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.cache: dict[str, tuple[list[int], tuple[Sentence, ...]]] = {}

    def at(self, label: Label) -> Sentence | None:
        """The sentence of the label's article holding its first character, if any."""
        if label.source not in self.cache:
            try:
                sentences = self.assistant.sentences(label.source)
            except KeyError:  # an article the index does not hold (not UTF-8, say)
                sentences = ()
            self.cache[label.source] = ([s.start for s in sentences], sentences)
        starts, sentences = self.cache[label.source]
        i = bisect.bisect_right(starts, label.start) - 1
        if i >= 0 and label.start < sentences[i].end:
            return sentences[i]
        return None


def _score(
    assistant: Assistant, labels: Sequence[Label], found: Sequence[Sentence | None]
) -> Attribution:
    attributed = right = labelled = speech_right = 0
    errors = []
    for lab, sentence in zip(labels, found, strict=True):
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
