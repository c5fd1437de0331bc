"""Grid search of the fusion and confidence weights on the dev split; the test split is never read.

    python eval/tune.py                # prints the best configurations, best first
    python eval/tune.py --confidence   # stage 2 only, with the fusion weights as they are

Stage 1 ranks fusion weights by dev MRR (then hit@3) with abstention off. Stage 2,
with the best fusion, calibrates a threshold for each set of confidence weights (at
most 5% false abstains on dev) and ranks them by the abstention recall it reaches,
then hit@3, then how well the confidence separates answerable from unanswerable rows
over all thresholds (ROC AUC), which rests on every dev row rather than the few near
the threshold.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import roc_auc_score  # noqa: E402

from eval.calibration import apply_threshold, calibrate  # noqa: E402
from eval.rows import load_rows  # noqa: E402
from eval.scoring import figures, run  # noqa: E402
from rag import Assistant, Confidence, Settings, Weights  # noqa: E402

FUSION = {
    "dense_sentence": [0.3, 0.4, 0.5],
    "dense_passage": [0.0, 0.1, 0.2],
    "lexical_sentence": [0.1, 0.2, 0.3],
    "lexical_passage": [0.0, 0.1],
    "lexical_saturation": [3.0, 6.0, 12.0],
    "speaker": [0.0, 0.05, 0.1],
    "heading": [0.0, 0.05],
}
CONFIDENCE = {
    "dense": [0.4, 0.6, 0.8, 1.0],
    "coverage": [0.0, 0.2, 0.4],
    "fraction": [0.0, 0.2, 0.4],
}


def _variant(base: Assistant, **changes: Any) -> Assistant:
    settings = replace(base.settings, **changes)
    return Assistant(base.corpus_dir, base.index_dir, settings, embedder=base.embedder)


def main() -> None:
    rows = [r for r in load_rows(ROOT / "eval" / "qa.jsonl") if r.split == "dev"]
    base = Assistant(ROOT / "seeds", ROOT / "index", Settings(abstain_below=-1.0))
    if "--confidence" not in sys.argv[1:]:
        fusion(base, rows)
    confidence(base, rows)


def fusion(base: Assistant, rows: list) -> None:
    scored = []
    keys = list(FUSION)
    for values in itertools.product(*(FUSION[k] for k in keys)):
        weights = Weights(**dict(zip(keys, values, strict=True)))
        f = figures(run(_variant(base, weights=weights), rows))
        scored.append((f.mrr, f.hit3, f.hit1, weights))
    scored.sort(key=lambda x: x[:3], reverse=True)
    print("Stage 1, fusion (dev, abstention off):")
    for mrr, hit3, hit1, weights in scored[:8]:
        print(f"  MRR {mrr:.4f} hit@3 {hit3:.4f} hit@1 {hit1:.4f} {weights}")
    current = next(s for s in scored if s[3] == base.settings.weights)
    print(
        f"  current: MRR {current[0]:.4f} hit@3 {current[1]:.4f}, rank {scored.index(current) + 1}"
    )


def confidence(base: Assistant, rows: list) -> None:
    print("Stage 2, confidence (dev, with the current fusion):")
    found = []
    keys = list(CONFIDENCE)
    for values in itertools.product(*(CONFIDENCE[k] for k in keys)):
        conf = Confidence(**dict(zip(keys, values, strict=True)))
        raw = run(_variant(base, confidence=conf), rows)
        threshold = calibrate(raw)
        f = figures(apply_threshold(raw, threshold))
        auc = roc_auc_score([r.answerable for r in raw], [r.confidence for r in raw])
        found.append((f.abstain_recall, f.hit3, auc, threshold, conf, f))
    found.sort(key=lambda x: x[:3], reverse=True)
    for recall, hit3, auc, threshold, conf, f in found[:8]:
        print(
            f"  abstention recall {recall:.4f} hit@3 {hit3:.4f} (false abstain "
            f"{f.false_abstain:.4f}) AUC {auc:.4f} threshold {threshold} {conf}"
        )


if __name__ == "__main__":
    main()
