"""The harness: every corpus present scored in the default configuration and in each ablation.

`evaluate` opens (building or updating) each corpus's index, asks every eval row once,
scores speaker attribution against the labels, and runs the ablations with one pair
of thresholds per configuration calibrated on the dev splits of all the corpora together.
The test splits are never used to choose anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from eval.ablations import ABLATIONS, Ablation, ablation
from eval.attribution import Attribution, attribution
from eval.corpora import ROOT, Corpus
from eval.rows import Row, load_labels, load_rows
from eval.scoring import Figures, RowResult, figures, run
from rag import Assistant, Embedder, Settings


@dataclass(frozen=True, slots=True)
class Report:
    """One corpus: figures per split and per kind, per-row results, ablations, speakers."""

    corpus: str
    overall: Figures
    by_split: dict[str, Figures]
    by_kind: dict[str, dict[str, Figures]]  # split -> kind -> figures
    results: tuple[RowResult, ...]
    ablations: dict[str, Ablation] = field(default_factory=dict)  # configuration -> figures
    attribution: dict[str, Attribution] = field(default_factory=dict)  # "all", then per split
    skipped_files: tuple[tuple[str, str], ...] = ()  # articles not indexed, and why


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A whole run: a report per corpus scored, and why the others were not."""

    settings: dict[str, Any]  # retrieval, abstain_below, speaker_below, model
    reports: dict[str, Report]
    skipped: dict[str, str]  # corpus -> why it was not scored
    calibrated_on: tuple[str, ...]  # the corpora whose dev splits set the ablation thresholds

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)


def report(corpus: str, results: Sequence[RowResult]) -> Report:
    """The default configuration's figures on one corpus."""
    splits = sorted({r.split for r in results})
    kinds = sorted({r.kind for r in results})
    return Report(
        corpus=corpus,
        overall=figures(results),
        by_split={s: figures([r for r in results if r.split == s]) for s in splits},
        by_kind={
            s: {k: figures([r for r in results if r.split == s and r.kind == k]) for k in kinds}
            for s in splits
        },
        results=tuple(results),
    )


def evaluate(
    corpora: Sequence[Corpus],
    skipped: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    ablations: Mapping[str, dict[str, Any]] = ABLATIONS,
    say: Callable[[str], None] = print,
    embedder: Embedder | None = None,
) -> Evaluation:
    """Score each corpus; `skipped` names the corpora left out and why (for the report)."""
    settings = settings or Settings()
    assistants = _open(corpora, settings, say, embedder)
    rows: dict[str, list[Row]] = {c.name: load_rows(ROOT / c.qa) for c in corpora}
    reports = {c.name: report(c.name, run(assistants[c.name], rows[c.name])) for c in corpora}
    varied: dict[str, dict[str, Ablation]] = {}  # configuration -> corpus -> figures
    for name, changes in ablations.items():
        say(f"ablation: {name}")
        varied[name] = ablation(assistants, rows, changes)
    for c in corpora:
        assistant = assistants[c.name]
        speakers = ROOT / c.speakers
        reports[c.name] = replace(
            reports[c.name],
            ablations={name: by_corpus[c.name] for name, by_corpus in varied.items()},
            attribution=attribution(assistant, load_labels(speakers)) if speakers.is_file() else {},
            skipped_files=assistant.report.skipped,
        )
    embedder = next(iter(assistants.values())).embedder if assistants else None
    return Evaluation(
        settings={
            "retrieval": settings.retrieval,
            "abstain_below": settings.abstain_below,
            "speaker_below": settings.speaker_below,
            "model": embedder.name if embedder is not None else settings.model,
        },
        reports=reports,
        skipped=dict(skipped or {}),
        calibrated_on=tuple(n for n, r in rows.items() if any(x.split == "dev" for x in r))
        if ablations
        else (),
    )


def _open(
    corpora: Sequence[Corpus],
    settings: Settings,
    say: Callable[[str], None],
    embedder: Embedder | None,
) -> dict[str, Assistant]:
    """An Assistant per corpus, sharing one model; reports the articles it had to skip."""
    assistants: dict[str, Assistant] = {}
    for c in corpora:
        assistant = Assistant(
            ROOT / c.corpus_dir, ROOT / c.index_dir, settings, progress=True, embedder=embedder
        )
        embedder = assistant.embedder
        for source, why in assistant.report.skipped:
            say(f"{c.name}: skipped {source}: {why}")
        assistants[c.name] = assistant
    return assistants
