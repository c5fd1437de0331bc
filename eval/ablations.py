"""Ablations: the engine with its stages added one at a time, each scored on its own threshold.

Each configuration is a set of changes to the default `Settings`. It runs with
abstention off; its threshold is then calibrated on the dev split and applied to every
split, so configurations are compared at the same false-abstain budget. A change to
what is indexed (passages embedded whole) gets a throwaway index.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from eval.calibration import apply_threshold, calibrate
from eval.rows import Row
from eval.scoring import Figures, figures, run
from rag import Assistant

# Stages added one at a time, down to the default; the last two rows vary the default.
_BARE = {"speaker": 0.0, "related_terms": 0.0, "answer_type": 0.0}
ABLATIONS: dict[str, dict] = {
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
}


def ablation(assistant: Assistant, rows: Sequence[Row], changes: dict) -> dict[str, Figures]:
    settings = assistant.settings
    weights = replace(settings.weights, **changes.get("weights", {}))
    confidence = settings.confidence
    if weights.answer_type == 0:  # the stage is both a ranking and an abstention feature
        confidence = replace(confidence, answer_type=0.0)
    extra = {
        k: v for k, v in changes.items() if k not in ("retrieval", "weights", "passage_vectors")
    }
    index_settings = settings.index
    if "passage_vectors" in changes:  # a change to what is indexed: a throwaway index
        index_settings = replace(index_settings, passage_vectors=changes["passage_vectors"])
    with tempfile.TemporaryDirectory() as tmp:
        variant = Assistant(
            assistant.corpus_dir,
            assistant.index_dir if index_settings == settings.index else Path(tmp),
            replace(
                settings,
                index=index_settings,
                retrieval=changes["retrieval"],
                weights=weights,
                confidence=confidence,
                abstain_below=-1.0,
                **extra,
            ),
            embedder=assistant.embedder,
        )
        raw = run(variant, rows)
    threshold = calibrate([r for r in raw if r.split == "dev"])
    results = apply_threshold(raw, threshold)
    out = {
        s: figures([r for r in results if r.split == s]) for s in sorted({r.split for r in results})
    }
    out["threshold"] = threshold  # type: ignore[assignment]
    return out
