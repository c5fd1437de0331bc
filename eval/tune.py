"""Grid search of the fusion and confidence weights on the dev split; the test split is never read.

    python eval/tune.py            # prints the best configurations, best first

Stage 1 ranks fusion weights by dev MRR (then hit@3) with abstention off. Stage 2,
with the best fusion, ranks confidence weights by the balanced accuracy of the
abstention threshold calibrated for them on dev.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Assistant, Settings, Weights  # noqa: E402
from rag.config import Confidence  # noqa: E402
from rag.evaluate import apply_threshold, calibrate, figures, load_rows, run  # noqa: E402

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


def _variant(base: Assistant, **changes: object) -> Assistant:
    settings = replace(base.settings, **changes)
    return Assistant(base.corpus_dir, base.index_dir, settings, embedder=base.embedder)


def balanced(results: list) -> float:
    ans = [r for r in results if r.answerable]
    una = [r for r in results if not r.answerable]
    kept = sum(not r.abstained and r.rank is not None and r.rank <= 3 for r in ans) / len(ans)
    refused = sum(r.abstained for r in una) / len(una)
    return (kept + refused) / 2


def main() -> None:
    rows = [r for r in load_rows(ROOT / "eval" / "qa.jsonl") if r.split == "dev"]
    base = Assistant(ROOT / "seeds", ROOT / "index", Settings(abstain_below=-1.0))
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

    print("Stage 2, confidence (dev, with the current fusion):")
    found = []
    keys = list(CONFIDENCE)
    for values in itertools.product(*(CONFIDENCE[k] for k in keys)):
        conf = Confidence(**dict(zip(keys, values, strict=True)))
        raw = run(_variant(base, confidence=conf), rows)
        threshold = calibrate(raw)
        found.append((balanced(apply_threshold(raw, threshold)), threshold, conf))
    found.sort(key=lambda x: x[0], reverse=True)
    for acc, threshold, conf in found[:8]:
        print(f"  balanced accuracy {acc:.4f} threshold {threshold} {conf}")


if __name__ == "__main__":
    main()
