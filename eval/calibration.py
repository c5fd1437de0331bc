"""Abstention thresholds, calibrated on dev results and applied to any split.

The engine abstains when its confidence is under `Settings.abstain_below`. To compare
configurations fairly, each gets its own threshold, found on the dev split from results
produced with abstention off, then applied to every split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from eval.scoring import RowResult

MAX_FALSE_ABSTAIN = 0.05  # the goal the eval issue sets; thresholds respect it on dev


def calibrate(results: Sequence[RowResult], max_false_abstain: float = MAX_FALSE_ABSTAIN) -> float:
    """The highest abstention threshold that abstains on at most this share of answerable rows.

    Refusing a question the articles answer costs more than quoting near misses, so the
    threshold keeps the false-abstain rate within `max_false_abstain` on the given (dev)
    results, produced with abstention off, and then refuses as many unanswerable rows as
    it can. It sits halfway between the last answerable row it keeps and the nearest row
    below, for a margin.
    """
    kept = sorted(r.confidence for r in results if r.answerable)
    if not kept:
        return 0.0
    allowed = int(max_false_abstain * len(kept) + 1e-9)  # answerable rows it may refuse
    top = kept[min(allowed, len(kept) - 1)]
    below = [r.confidence for r in results if r.confidence < top]
    return round((top + max(below)) / 2 if below else top - 1e-4, 4)


def apply_threshold(results: Sequence[RowResult], threshold: float) -> list[RowResult]:
    """Results as they would be had the assistant abstained below `threshold`."""
    out = []
    for r in results:
        if r.abstained or r.confidence >= threshold:
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
