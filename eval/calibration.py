"""Abstention thresholds, calibrated on dev results and applied to any split.

The engine refuses in two places: when the best evidence on the topic is under
`Settings.abstain_below`, and, for "What did X say…", when X's own words are under
`Settings.speaker_below` (then it says X is not quoted on it). To compare
configurations fairly, each gets its own pair, found on the dev splits from results
produced with abstention off, then applied to every split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from eval.scoring import RowResult

MAX_FALSE_ABSTAIN = 0.05  # the goal the eval issue sets; thresholds respect it on dev


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where the engine refuses: the topic's evidence, and the asked person's own."""

    topic: float
    speaker: float

    def __str__(self) -> str:
        return f"{self.topic:g} / {self.speaker:g}"


def _cuts(values: np.ndarray) -> np.ndarray:
    """Candidate thresholds for these scores: just under the lowest (refuse nothing for
    it) and halfway between each two neighbours (a margin on both sides)."""
    distinct = np.unique(values[~np.isnan(values)])
    if not len(distinct):
        return np.array([0.0])
    # Scores have four decimals; cuts get five, so that one between two scores 0.0001
    # apart still falls between them.
    return np.round(np.concatenate([[distinct[0] - 1e-4], (distinct[1:] + distinct[:-1]) / 2]), 5)


def calibrate(
    results: Sequence[RowResult], max_false_abstain: float = MAX_FALSE_ABSTAIN
) -> Thresholds:
    """The pair of thresholds that refuses the most unanswerable rows while refusing at
    most `max_false_abstain` of the answerable ones, on the given (dev) results.

    Refusing a question the articles answer costs more than quoting near misses, so the
    false-abstain budget is a hard limit; among pairs refusing as many near misses, those
    refusing fewest answerable rows. Many pairs then do exactly the same on these rows:
    the topic threshold is the middle cut of the longest run of such cuts, and the
    speaker's the middle cut of its run there, away from the rows either side. A row refused
    whatever the thresholds (a person no article names) counts as refused under all.
    """
    if not results:
        return Thresholds(0.0, 0.0)
    topic = np.array([r.confidence for r in results], dtype=np.float64)
    own = np.array(
        [np.nan if r.speaker_confidence is None else r.speaker_confidence for r in results],
        dtype=np.float64,
    )
    answerable = np.array([r.answerable for r in results])
    fixed = np.array([r.abstained for r in results])
    n_answerable, n_unanswerable = max(1, answerable.sum()), max(1, (~answerable).sum())
    topic_cuts, speaker_cuts = _cuts(topic), _cuts(own)
    by_own = own[:, None] < speaker_cuts[None, :]  # NaN compares false: no person asked
    recall = np.zeros((len(topic_cuts), len(speaker_cuts)))
    false = np.zeros_like(recall)
    for i, t in enumerate(topic_cuts):
        refused = fixed[:, None] | (topic < t)[:, None] | by_own
        false[i] = refused[answerable].sum(0) / n_answerable
        recall[i] = refused[~answerable].sum(0) / n_unanswerable
    ok = false <= max_false_abstain + 1e-9
    if not ok.any():  # it refuses too many answerable rows whatever the thresholds
        return Thresholds(round(float(topic.min()) - 1e-4, 4), -1e-4)
    best_recall = recall[ok].max()
    ok &= recall == best_recall
    ok &= false == false[ok].min()
    i = _middle(np.asarray(ok.any(1)))
    j = _middle(np.asarray(ok[i]))
    return Thresholds(float(topic_cuts[i]), float(speaker_cuts[j]))


def _middle(mask: np.ndarray) -> int:
    """The middle index of the longest run of True in mask (which holds one)."""
    best, start = (0, 0), None
    for k, on in enumerate([*mask.tolist(), False]):
        if on and start is None:
            start = k
        elif not on and start is not None:
            best = max(best, (k - start, -start))
            start = None
    length, first = best[0], -best[1]
    return first + (length - 1) // 2


def apply_threshold(results: Sequence[RowResult], thresholds: Thresholds) -> list[RowResult]:
    """Results as they would be had the assistant refused below these thresholds."""
    out = []
    for r in results:
        own_low = r.speaker_confidence is not None and r.speaker_confidence < thresholds.speaker
        if r.abstained or not (r.confidence < thresholds.topic or own_low):
            out.append(r)
        else:
            out.append(
                replace(
                    r,
                    abstained=True,
                    rank=None,
                    char_f1=0.0,
                    source_hit3=False,
                    quotes=0,
                    quote_chars=(),
                )
            )
    return out
