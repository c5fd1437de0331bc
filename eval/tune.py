"""Grid search of the fusion and confidence weights on the dev splits; no test split is read.

    python eval/tune.py                # prints the best configurations, best first
    python eval/tune.py --confidence   # stage 2 only, with the fusion weights as they are
    python eval/tune.py --reader       # stage 3 only: the reading model's weights, and
                                       # its re-ranking's hit@3 per corpus and kind

The dev rows of every corpus present (eval/corpora.py) are pooled. Stage 1 ranks
fusion weights by dev MRR (then hit@3) with abstention off. Stage 2, with the best
fusion, calibrates the pair of thresholds (topic, asked person's words) for each set
of confidence weights (at most 5% false abstains on dev) and ranks them by the
abstention recall it reaches, then hit@3, then how well the topic's confidence separates
answerable from unanswerable rows over all thresholds (ROC AUC), which rests on every
dev row rather than the few near the threshold.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import roc_auc_score  # noqa: E402

from eval.calibration import Thresholds, apply_threshold, calibrate  # noqa: E402
from eval.corpora import present  # noqa: E402
from eval.rows import Row, load_rows  # noqa: E402
from eval.scoring import Figures, RowResult, figures, run  # noqa: E402
from rag import Assistant, Confidence, Embedder, Settings, Weights  # noqa: E402

FUSION = {
    "dense_sentence": [0.1, 0.2, 0.3],
    "dense_passage": [0.0, 0.1, 0.2],
    "lexical_sentence": [0.1, 0.2, 0.3],
    "lexical_passage": [0.0, 0.1],
    "lexical_saturation": [3.0, 6.0, 12.0],
    # Searched before on the seeds alone (0, 0.05, 0.1 and 0, 0.05); now set on their own
    # runs: the speaker's from 0.1 to 1.0 (pooled dev), the headline's as it was.
    "speaker": [1.0],
    "heading": [0.05],
}
CONFIDENCE = {
    "dense": [0.4, 0.6, 0.8, 1.0],
    "coverage": [0.0, 0.2, 0.4],
    "fraction": [0.0, 0.2, 0.4],
}

Bases = Mapping[str, Assistant]  # corpus -> its assistant, abstention off
DevRows = Mapping[str, Sequence[Row]]  # corpus -> its dev rows


def _variant(base: Assistant, **changes: Any) -> Assistant:
    settings = replace(base.settings, **changes)
    reader = base.reader if settings.reader else None  # one model, its cache shared
    # The base has just brought the index up to date: a variant that answers differently
    # but indexes the same opens it as it is, without reading the corpus folder again.
    return Assistant(
        base.corpus_dir,
        base.index_dir,
        settings,
        embedder=base.embedder,
        reader=reader,
        build=settings.index != base.settings.index,
    )


def _run(bases: Bases, rows: DevRows, **changes: Any) -> list[RowResult]:
    """Every corpus's dev rows, answered with these changes to the settings."""
    return [r for name, base in bases.items() for r in run(_variant(base, **changes), rows[name])]


def main() -> None:
    found, skipped = present()
    for name, why in skipped.items():
        print(f"{name}: skipped, {why}")
    bases: dict[str, Assistant] = {}
    rows: dict[str, list[Row]] = {}
    embedder: Embedder | None = None
    for c in found:
        base = Assistant(
            ROOT / c.corpus_dir,
            ROOT / c.index_dir,
            Settings(abstain_below=-1.0, speaker_below=-1.0),
            embedder=embedder,
        )
        embedder = base.embedder
        bases[c.name] = base
        rows[c.name] = [r for r in load_rows(ROOT / c.qa) if r.split == "dev"]
    print(", ".join(f"{name}: {len(r)} dev rows" for name, r in rows.items()))
    if "--reader" in sys.argv[1:]:
        reranking(bases, rows)
        reading(bases, rows)
        return
    if "--confidence" not in sys.argv[1:]:
        fusion(bases, rows)
    confidence(bases, rows)


def fusion(bases: Bases, rows: DevRows) -> None:
    scored = []
    keys = list(FUSION)
    for values in itertools.product(*(FUSION[k] for k in keys)):
        weights = Weights(**dict(zip(keys, values, strict=True)))
        f = figures(_run(bases, rows, weights=weights))
        scored.append((f.mrr, f.hit3, f.hit1, weights))
    scored.sort(key=lambda x: x[:3], reverse=True)
    print("Stage 1, fusion (dev, abstention off):")
    for mrr, hit3, hit1, weights in scored[:8]:
        print(f"  MRR {mrr:.4f} hit@3 {hit3:.4f} hit@1 {hit1:.4f} {weights}")
    now = next(iter(bases.values())).settings.weights
    current = next((s for s in scored if s[3] == now), None)
    if current is None:
        print(f"  current: not in the grid ({now})")
    else:
        rank = scored.index(current) + 1
        print(f"  current: MRR {current[0]:.4f} hit@3 {current[1]:.4f}, rank {rank}")


def confidence(bases: Bases, rows: DevRows) -> None:
    print("Stage 2, confidence (dev, with the current fusion):")
    found = []
    keys = list(CONFIDENCE)
    for values in itertools.product(*(CONFIDENCE[k] for k in keys)):
        conf = Confidence(**dict(zip(keys, values, strict=True)))
        f, threshold, auc = _at_threshold(_run(bases, rows, confidence=conf))
        found.append((f.abstain_recall, f.hit3, auc, threshold, conf, f))
    found.sort(key=lambda x: x[:3], reverse=True)
    for recall, hit3, auc, threshold, conf, f in found[:8]:
        print(
            f"  abstention recall {recall:.4f} hit@3 {hit3:.4f} (false abstain "
            f"{f.false_abstain:.4f}) AUC {auc:.4f} threshold {threshold} {conf}"
        )


READER: dict[str, list[float]] = {
    "ranking": [0.0, 0.2, 0.4],  # Weights.reader
    "evidence": [0.0, 0.3, 0.6, 1.0],  # Confidence.reader
    "depth": [8],  # Settings.reader_depth
}


def reading(bases: Bases, rows: DevRows) -> None:
    """Stage 3: the reading model on, its weight in the ranking and in the evidence.

    Ranked like stage 2 (abstention recall at <= 5% false abstains on dev, then hit@3,
    then AUC); the reader off is printed first, to compare.
    """
    print("Stage 3, reading model (dev, with the current fusion and confidence):")
    base = next(iter(bases.values())).settings
    raw = _run(bases, rows)
    off = _stage3_row(raw)
    print(f"  reader off: {off[-1]}")
    found = []
    for ranking, weight, depth in itertools.product(*READER.values()):
        raw = _run(
            bases,
            rows,
            reader=True,
            reader_depth=int(depth),
            weights=replace(base.weights, reader=ranking),
            confidence=replace(base.confidence, reader=weight),
        )
        found.append((*_stage3_row(raw), f"ranking {ranking} evidence {weight} depth {depth}"))
    found.sort(key=lambda x: x[:3], reverse=True)
    for *_, line, setting in found[:10]:
        print(f"  {setting}: {line}")


RERANKING = [(0.3, 8), (1.0, 8), (1.0, 20)]  # (Weights.reader, Settings.reader_depth)


def reranking(bases: Bases, rows: DevRows) -> None:
    """The reading model as a ranker alone: hit@3 of the answerable dev rows per corpus
    and kind, reader off and on (abstention off, so that only the order counts)."""
    print("Re-ranking by the reading model (answerable dev rows, hit@3 by corpus / kind):")
    base = next(iter(bases.values())).settings
    for weight, depth in [(0.0, 0), *RERANKING]:
        changes: dict[str, Any] = {}
        if depth:
            changes = {
                "reader": True,
                "reader_depth": depth,
                "weights": replace(base.weights, reader=weight),
            }
        cells = []
        for name, assistant in bases.items():
            results = [r for r in run(_variant(assistant, **changes), rows[name]) if r.answerable]
            for kind in sorted({r.kind for r in results}):
                of_kind = [r for r in results if r.kind == kind]
                cells.append(f"{name} {kind} {figures(of_kind).hit3:.3f} ({len(of_kind)})")
        label = f"ranking {weight} depth {depth}" if depth else "reader off"
        print(f"  {label}: " + "; ".join(cells))


def _at_threshold(raw: Sequence[RowResult]) -> tuple[Figures, Thresholds, float]:
    """Figures at the thresholds calibrated on these rows, the thresholds, and the ROC
    AUC of their topic confidence (answerable vs not) over all thresholds."""
    threshold = calibrate(raw)
    auc = roc_auc_score([r.answerable for r in raw], [r.confidence for r in raw])
    return figures(apply_threshold(raw, threshold)), threshold, float(auc)


def _stage3_row(raw: Sequence[RowResult]) -> tuple[float, float, float, str]:
    f, threshold, auc = _at_threshold(raw)
    line = (
        f"abstention recall {f.abstain_recall:.4f} hit@3 {f.hit3:.4f} MRR {f.mrr:.4f} (false "
        f"abstain {f.false_abstain:.4f}) AUC {auc:.4f} threshold {threshold}"
    )
    return f.abstain_recall, f.hit3, auc, line


if __name__ == "__main__":
    main()
