"""Ablations: the engine with its stages added one at a time, each scored at its own threshold.

Each configuration is a set of changes to the default `Settings`. It runs on every
corpus with abstention off; one pair of thresholds (the topic's, the asked person's) is
then calibrated on the dev splits of all those corpora together and applied to every
split of each, so that configurations
are compared at the same false-abstain budget. A change to what is indexed (passages
embedded whole) gets an index of its own, kept under the corpus's index folder
(`variants/`) so that later runs reuse it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from eval.calibration import Thresholds, apply_threshold, calibrate
from eval.rows import Row
from eval.scoring import Figures, RowResult, figures, run
from rag import Assistant

# Stages added one at a time, down to the default; the last two rows vary the default.
_BARE = {"speaker": 0.0, "related_terms": 0.0, "answer_type": 0.0}
ABLATIONS: dict[str, dict[str, Any]] = {
    "lexical (BM25 only)": {"retrieval": "lexical", "weights": _BARE, "dense_without_names": False},
    "dense (FAISS only)": {"retrieval": "dense", "weights": _BARE, "dense_without_names": False},
    "hybrid, reciprocal rank fusion": {
        "retrieval": "hybrid-rrf",
        "weights": _BARE,
        "dense_without_names": False,
    },
    "hybrid, score fusion": {"retrieval": "hybrid", "weights": _BARE, "dense_without_names": False},
    "+ speaker preference": {
        "retrieval": "hybrid",
        "weights": {"related_terms": 0.0, "answer_type": 0.0},
        "dense_without_names": False,
    },
    "+ related word forms in BM25": {
        "retrieval": "hybrid",
        "weights": {"answer_type": 0.0},
        "dense_without_names": False,
    },
    "+ answer types": {"retrieval": "hybrid", "dense_without_names": False},
    "+ names left out of the dense query (the default)": {"retrieval": "hybrid"},
    "… + a person named anywhere": {"retrieval": "hybrid", "person_from_mention": True},
    "… passages embedded whole": {"retrieval": "hybrid", "passage_vectors": "embedded"},
    "… + the reading model": {"retrieval": "hybrid", "reader": True},
}
DEFAULT = "+ names left out of the dense query (the default)"


@dataclass(frozen=True, slots=True)
class Ablation:
    """One configuration on one corpus, at the thresholds calibrated for it."""

    threshold: Thresholds  # calibrated on the dev splits of every corpus scored together
    by_split: dict[str, Figures]


def ablation(
    assistants: Mapping[str, Assistant], rows: Mapping[str, Sequence[Row]], changes: dict[str, Any]
) -> dict[str, Ablation]:
    """One configuration on every corpus (by name), at one pair of thresholds calibrated on all dev rows."""
    raw = {
        name: run(variant(assistant, changes), rows[name]) for name, assistant in assistants.items()
    }
    threshold = calibrate([r for results in raw.values() for r in results if r.split == "dev"])
    return {
        name: Ablation(threshold, _by_split(apply_threshold(results, threshold)))
        for name, results in raw.items()
    }


def variant(assistant: Assistant, changes: dict[str, Any]) -> Assistant:
    """The assistant with a configuration's changes and abstention off."""
    settings = assistant.settings
    weights = replace(settings.weights, **changes.get("weights", {}))
    confidence = settings.confidence
    if weights.answer_type == 0:  # the stage is both a ranking and an abstention feature
        confidence = replace(confidence, answer_type=0.0)
    extra = {
        k: v for k, v in changes.items() if k not in ("retrieval", "weights", "passage_vectors")
    }
    index_settings, index_dir = settings.index, assistant.index_dir
    if "passage_vectors" in changes:  # a change to what is indexed: an index of its own
        index_settings = replace(index_settings, passage_vectors=changes["passage_vectors"])
        index_dir = assistant.index_dir / "variants" / f"passages-{changes['passage_vectors']}"
    return Assistant(
        assistant.corpus_dir,
        index_dir,
        replace(
            settings,
            index=index_settings,
            retrieval=changes["retrieval"],
            weights=weights,
            confidence=confidence,
            abstain_below=-1.0,
            speaker_below=-1.0,
            **extra,
        ),
        embedder=assistant.embedder,
        reader=assistant.reader if changes.get("reader") else None,  # one model, one cache
    )


def _by_split(results: Sequence[RowResult]) -> dict[str, Figures]:
    return {
        s: figures([r for r in results if r.split == s]) for s in sorted({r.split for r in results})
    }
